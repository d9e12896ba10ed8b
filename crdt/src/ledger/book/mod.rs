//! The book: which debits count, and every balance, hold and proposal outcome that follows,
//! folded from the valid governance changes. Pure and order-independent: it reads the set of
//! changes, their causal order and `(lamport, hash)`, never arrival order or clocks (except a
//! close's own claimed time against its proposal's deadline), so every node holding the same
//! changes computes the same book.
//!
//! Rules (docs/ledger.md):
//!
//! 1. **An account's debits form a chain.** A member's debits (payments, escrow payments,
//!    pledges, bounty rewards) must each have the member's previous debit in its causal
//!    past. Two debits of one account neither of which has the other in its past are a
//!    *fork*: both are void, and so is every later debit of the account (it is *frozen*),
//!    until a moderator's `ledger.unfreeze` that has the fork in its past starts a new chain
//!    (debits with the unfreeze in their past are judged among themselves). The two signed
//!    debits are the evidence; every node that holds them sees the same fork.
//! 2. **A debit is judged at its own dependencies**: the author's balance counting every
//!    valid debit and credit in its causal past, minus the amount, must not go below the
//!    credit limit the policy gave the author there. Since the debits of an account form a
//!    chain, every earlier debit is in that past; credits only add; so no balance ends below
//!    its limit once all changes are known, whatever arrives when. A credit whose own debit
//!    becomes void (a fork upstream) is not counted, and what was built on it is judged again
//!    (cascade).
//! 3. **Holds settle by causality.** An escrow payment settles by its deal's state (completed
//!    or released: to the seller; refunded, cancelled or withdrawn: back to the buyer; split:
//!    shared), a pledge by its proposal's close, a bounty's reward by its acceptance or
//!    cancellation. A settlement counts for a later debit only when the hold and the step that
//!    settled it are both in that debit's past.
//!
//! The sum of all balances plus the open holds is exactly zero at every replica (integers).

use super::FundId;
use super::bounty::BountyStatus;
pub use super::entry::{
    Account, Book, FundBook, Hold, HoldFor, LedgerEntry, Movement, PaymentStatus, SEEN_ENOUGH,
    Settlement,
};
use super::fund::FundOutcome;
use super::tally::Tally;
use crate::gov::GovState;
use crate::gov::bitset::BitSet;
use crate::gov::index::{GovIndex, Ix, Register, View, WriteValue};
use crate::ids::Hash;
use crate::market::{DealStatus, Outcome};
use crate::model::action::Action;
use crate::model::genesis::CommunityGenesis;
use forks::forks;
use qun_identity::MemberId;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

mod forks;

/// A debit being judged.
struct Debit {
    node: Ix,
    from: MemberId,
    amount: u64,
    movement: Movement,
    status: PaymentStatus,
}

/// Settlement of a hold per the current state: `(to, amount)` shares and the settling node.
type Shares = (Vec<(MemberId, u64)>, Ix);

struct Fold<'a> {
    ix: &'a mut GovIndex,
    g: &'a CommunityGenesis,
    cur: Arc<GovState>,
    pasts: HashMap<Ix, Arc<BitSet>>,
    debits: Vec<Debit>,
    /// Effective closes per proposal, and the first in `(lamport, hash)` order.
    closes: BTreeMap<FundId, (Vec<Ix>, Ix)>,
    votes: Vec<(Ix, FundId, MemberId, super::Choice)>,
    outcomes: HashMap<FundId, (FundOutcome, Option<Tally>, u64, usize)>,
    limits: HashMap<(Vec<Ix>, MemberId), i128>,
    /// Witnesses (members with the remove permission) and their valid governance changes in
    /// `(lamport, hash)` order.
    witnesses: Vec<(MemberId, Vec<Ix>)>,
    /// How many witnesses make a debit final: more than half.
    quorum: usize,
    /// Witness votes of fork winners: debit index → votes.
    won: HashMap<usize, usize>,
}

impl Fold<'_> {
    fn past(&mut self, i: Ix) -> Arc<BitSet> {
        if let Some(p) = self.pasts.get(&i) {
            return p.clone();
        }
        let p = self.ix.ancestors_ix(&[i]);
        self.pasts.insert(i, p.clone());
        p
    }

    fn key(&self, i: Ix) -> (u64, Hash) {
        self.ix.nodes[i as usize].order_key()
    }

    /// The node whose write is the current value of `reg` (the state's `Arc`).
    fn writer(&self, reg: &Register, is: impl Fn(&WriteValue) -> bool) -> Option<Ix> {
        let v = self.ix.validity();
        self.ix.registers.get(reg)?.iter().rev().find_map(|w| {
            let w = &self.ix.writes[*w as usize];
            (!v.invalid.contains(w.node) && is(&w.value)).then_some(w.node)
        })
    }

    /// How a hold settles now (`None`: still held).
    fn shares(&mut self, d: usize) -> Option<Shares> {
        let (from, amount) = (self.debits[d].from, self.debits[d].amount);
        match self.debits[d].movement.clone() {
            Movement::Pay { to, .. } => Some((vec![(to, amount)], self.debits[d].node)),
            Movement::Escrow { deal, .. } => {
                let st = self.cur.market.deals.get(&deal)?.clone();
                let (buyer, seller) = (st.terms.buyer, st.terms.seller);
                let buyer_part = match (st.status, st.outcome) {
                    (DealStatus::Completed, _) => 0,
                    (DealStatus::Cancelled | DealStatus::Withdrawn, _) => amount,
                    (DealStatus::Resolved, Some(Outcome::Release)) => 0,
                    (DealStatus::Resolved, Some(Outcome::Refund)) => amount,
                    (DealStatus::Resolved, Some(Outcome::Split { buyer_percent })) => {
                        amount * u64::from(buyer_percent) / 100
                    }
                    _ => return None,
                };
                let node = self.writer(
                    &Register::Deal(deal),
                    |w| matches!(w, WriteValue::Deal(x) if Arc::ptr_eq(x, &st)),
                )?;
                let mut s = Vec::new();
                if buyer_part > 0 {
                    s.push((buyer, buyer_part));
                }
                if amount > buyer_part {
                    s.push((seller, amount - buyer_part));
                }
                Some((s, node))
            }
            Movement::Pledge { fund } => {
                let (_, first) = *self.closes.get(&fund)?;
                let (outcome, ..) = self.outcome(&fund)?;
                let to = match outcome {
                    FundOutcome::Funded => self.cur.ledger.funds.get(&fund)?.recipient,
                    _ => from,
                };
                Some((vec![(to, amount)], first))
            }
            Movement::Reward { bounty } => {
                let st = self.cur.ledger.bounties.get(&bounty)?.clone();
                let to = match st.status {
                    BountyStatus::Accepted { claimant } => claimant,
                    BountyStatus::Cancelled => from,
                    BountyStatus::Open => return None,
                };
                let node = self.writer(
                    &Register::Bounty(bounty),
                    |w| matches!(w, WriteValue::Bounty(x) if Arc::ptr_eq(x, &st)),
                )?;
                Some((vec![(to, amount)], node))
            }
        }
    }

    /// A closed proposal's outcome, tally, pledged sum and pledgers (pledges judged already:
    /// they are all in the past of its first close).
    fn outcome(&mut self, fund: &FundId) -> Option<(FundOutcome, Option<Tally>, u64, usize)> {
        if let Some(o) = self.outcomes.get(fund) {
            return Some(o.clone());
        }
        let f = self.cur.ledger.funds.get(fund)?.clone();
        let (closes, first) = self.closes.get(fund)?.clone();
        let pasts: Vec<Arc<BitSet>> = closes.iter().map(|c| self.past(*c)).collect();
        let seen = |i: Ix| pasts.iter().all(|p| p.contains(i));
        let mut pledged = 0u64;
        let mut pledgers = BTreeSet::new();
        for d in &self.debits {
            if d.status == PaymentStatus::Valid
                && matches!(&d.movement, Movement::Pledge { fund: x } if x == fund)
                && seen(d.node)
            {
                pledged = pledged.saturating_add(d.amount);
                pledgers.insert(d.from);
            }
        }
        let tally = f.vote.map(|rule| {
            let mut latest: BTreeMap<MemberId, ((u64, Hash), super::Choice)> = BTreeMap::new();
            for (n, x, m, c) in &self.votes {
                if x == fund && seen(*n) {
                    let k = self.ix.nodes[*n as usize].order_key();
                    let e = latest.entry(*m).or_insert((k, *c));
                    if k > e.0 {
                        *e = (k, *c);
                    }
                }
            }
            let votes = latest.into_iter().map(|(m, (_, c))| (m, c)).collect();
            let st = self.ix.state_at_ix(&[first], View::Resolved);
            Tally::count(self.g, &st, &rule, &votes)
        });
        let outcome = if pledged < f.goal {
            FundOutcome::Failed {
                reason: format!("{pledged} of {} pledged by the close", f.goal),
            }
        } else if tally.as_ref().is_some_and(|t| !t.passed) {
            FundOutcome::Failed {
                reason: "the vote did not pass".into(),
            }
        } else {
            FundOutcome::Funded
        };
        let o = (outcome, tally, pledged, pledgers.len());
        self.outcomes.insert(fund.clone(), o.clone());
        Some(o)
    }

    /// The ledger policy in force over `past` (the visible write of its register there; the
    /// register rule of `gov::materialize`, read without materializing a whole state).
    fn policy_at(&self, past: &BitSet) -> Option<super::LedgerPolicy> {
        let v = self.ix.validity();
        let list = self.ix.registers.get(&Register::LedgerPolicy)?;
        let present: Vec<u32> = list
            .iter()
            .copied()
            .filter(|w| {
                let n = self.ix.writes[*w as usize].node;
                past.contains(n) && !v.invalid.contains(n)
            })
            .collect();
        let superseded: BTreeSet<u32> = present
            .iter()
            .flat_map(|w| self.ix.writes[*w as usize].supersedes.iter().copied())
            .collect();
        present
            .into_iter()
            .filter(|w| !superseded.contains(w))
            .max_by_key(|w| self.key(self.ix.writes[*w as usize].node))
            .and_then(|w| match &self.ix.writes[w as usize].value {
                WriteValue::LedgerPolicy(p) => Some(p.clone()),
                _ => None,
            })
    }

    /// The author's credit limit at a debit's dependencies. A fixed limit is read from the
    /// policy register; a trust-scaled one needs the state there (membership, endorsements).
    fn limit(&mut self, node: Ix, m: MemberId) -> i128 {
        // The debit writes no policy, so its own past reads the same policy as its deps'.
        let past = self.past(node);
        match self.policy_at(&past).map(|p| p.limit) {
            None => 0,
            Some(super::CreditLimit::Fixed { amount }) => i128::from(amount),
            Some(super::CreditLimit::Trust { .. }) => {
                // Standing reads membership, roles and endorsements, which trading never
                // writes: the state at the maximal changes of the past that are not trade has
                // the same standing, and many debits share that frontier (cached).
                let frontier = self.standing_frontier(&past, node);
                if let Some(l) = self.limits.get(&(frontier.clone(), m)) {
                    return *l;
                }
                let st = self.ix.state_at_ix(&frontier, View::Resolved);
                let l = self
                    .policy_at(&past)
                    .map(|p| i128::from(p.limit_of(self.g, &st, &m)))
                    .unwrap_or(0);
                self.limits.insert((frontier, m), l);
                l
            }
        }
    }

    /// The changes of `past` (without `node`) that are not trade and have no child in `past`
    /// that is not trade either: a frontier whose state has every membership, role and
    /// endorsement of `past`.
    fn standing_frontier(&self, past: &BitSet, node: Ix) -> Vec<Ix> {
        let trade = |i: Ix| {
            self.ix.nodes[i as usize]
                .info
                .as_ref()
                .is_some_and(|x| x.action.is_ledger() || x.action.is_market())
        };
        past.iter()
            .filter(|i| *i != node && !trade(*i))
            .filter(|i| {
                !self.ix.nodes[*i as usize]
                    .children
                    .iter()
                    .any(|c| *c != node && past.contains(*c) && !trade(*c))
            })
            .collect()
    }
}

/// Fold the valid governance changes of `ix` into the book.
pub(crate) fn fold(ix: &mut GovIndex, g: &CommunityGenesis) -> Book {
    let v = ix.validity();
    let cur = ix.current(View::Resolved);
    let mut f = Fold {
        ix,
        g,
        cur: cur.clone(),
        pasts: HashMap::new(),
        debits: Vec::new(),
        closes: BTreeMap::new(),
        votes: Vec::new(),
        outcomes: HashMap::new(),
        limits: HashMap::new(),
        witnesses: Vec::new(),
        quorum: 0,
        won: HashMap::new(),
    };
    // Witnesses: the members who may remove members (founders and moderators), now.
    let mut witnesses: Vec<(MemberId, Vec<Ix>)> = Vec::new();
    for m in cur.members.keys() {
        if !cur.can(m, crate::model::policy::Perm::Remove) {
            continue;
        }
        let mut ns: Vec<Ix> =
            f.ix.by_member
                .get(m)
                .map(|list| {
                    list.iter()
                        .copied()
                        .filter(|i| !v.invalid.contains(*i))
                        .collect()
                })
                .unwrap_or_default();
        ns.sort_by_key(|i| f.ix.nodes[*i as usize].order_key());
        witnesses.push((*m, ns));
    }
    f.quorum = if witnesses.is_empty() {
        0
    } else {
        witnesses.len() / 2 + 1
    };
    f.witnesses = witnesses;
    let mut unfreezes: BTreeMap<MemberId, Vec<Ix>> = BTreeMap::new();
    let mut all_closes: BTreeMap<FundId, Vec<Ix>> = BTreeMap::new();
    for i in 1..f.ix.nodes.len() as Ix {
        if v.invalid.contains(i) {
            continue;
        }
        let Some(info) = f.ix.nodes[i as usize].info.as_ref() else {
            continue;
        };
        let from = info.member;
        let (amount, movement) = match &*info.action {
            Action::Pay {
                to,
                amount,
                note,
                deal: None,
            } => (
                *amount,
                Movement::Pay {
                    to: *to,
                    note: note.clone(),
                },
            ),
            Action::Pay {
                to,
                amount,
                note,
                deal: Some(deal),
            } => (
                *amount,
                Movement::Escrow {
                    deal: deal.clone(),
                    to: *to,
                    note: note.clone(),
                },
            ),
            Action::Pledge { fund, amount } => (*amount, Movement::Pledge { fund: fund.clone() }),
            Action::BountyCreate { id, bounty } => {
                (bounty.reward, Movement::Reward { bounty: id.clone() })
            }
            Action::Unfreeze { member } => {
                unfreezes.entry(*member).or_default().push(i);
                continue;
            }
            Action::FundClose { fund } => {
                // Effective when made by the proposal's author or recipient, or by anyone
                // whose clock says the deadline passed.
                let t = info.time;
                if let Some(x) = cur.ledger.funds.get(fund)
                    && (from == fund.author || from == x.recipient || t >= x.deadline)
                {
                    all_closes.entry(fund.clone()).or_default().push(i);
                }
                continue;
            }
            Action::Vote { fund, choice } => {
                f.votes.push((i, fund.clone(), from, *choice));
                continue;
            }
            _ => continue,
        };
        f.debits.push(Debit {
            node: i,
            from,
            amount,
            movement,
            status: PaymentStatus::Valid,
        });
    }
    for (fund, cs) in all_closes {
        let first = cs.iter().copied().min_by_key(|c| f.key(*c));
        if let Some(first) = first {
            f.closes.insert(fund, (cs, first));
        }
    }
    // Judge in (lamport, hash) order: a topological order every node shares.
    f.debits
        .sort_by_key(|d| f.ix.nodes[d.node as usize].order_key());

    // Rule 1: forks, per account, deciding unfreezes in order (effective only with a fork
    // of the account in their past).
    let mut by_account: BTreeMap<MemberId, Vec<usize>> = BTreeMap::new();
    for (k, d) in f.debits.iter().enumerate() {
        by_account.entry(d.from).or_default().push(k);
    }
    let mut frozen_accounts = BTreeSet::new();
    for (m, ds) in &by_account {
        let mut us = unfreezes.get(m).cloned().unwrap_or_default();
        us.sort_by_key(|u| f.key(*u));
        let mut effective = Vec::new();
        for u in us {
            let pu = f.past(u);
            let inside: Vec<usize> = ds
                .iter()
                .copied()
                .filter(|d| pu.contains(f.debits[*d].node))
                .collect();
            if forks(&mut f, &inside, &effective).any {
                effective.push(u);
            }
        }
        let found = forks(&mut f, ds, &effective);
        for d in found.forked {
            f.debits[d].status = PaymentStatus::Forked;
        }
        for d in found.frozen {
            f.debits[d].status = PaymentStatus::Frozen;
        }
        if found.latest {
            frozen_accounts.insert(*m);
        }
    }
    // Pledges every close must have seen.
    for k in 0..f.debits.len() {
        if let Movement::Pledge { fund } = f.debits[k].movement.clone()
            && let Some((cs, _)) = f.closes.get(&fund).cloned()
        {
            let node = f.debits[k].node;
            if cs.iter().any(|c| !f.past(*c).contains(node))
                && f.debits[k].status == PaymentStatus::Valid
            {
                f.debits[k].status = PaymentStatus::AfterClose;
            }
        }
    }
    // Rule 2: each debit at its dependencies, in order. Only debits that touch an account
    // (its own, and those that may credit it) are read to judge it.
    let mut touches: HashMap<MemberId, Vec<usize>> = HashMap::new();
    for k in 0..f.debits.len() {
        let mut who = vec![f.debits[k].from];
        match &f.debits[k].movement {
            Movement::Pay { to, .. } | Movement::Escrow { to, .. } => who.push(*to),
            Movement::Pledge { fund } => {
                if let Some(x) = cur.ledger.funds.get(fund) {
                    who.push(x.recipient);
                }
            }
            Movement::Reward { bounty } => {
                if let Some(BountyStatus::Accepted { claimant }) =
                    cur.ledger.bounties.get(bounty).map(|b| b.status)
                {
                    who.push(claimant);
                }
            }
        }
        who.sort();
        who.dedup();
        for m in who {
            touches.entry(m).or_default().push(k);
        }
    }
    let mut shares: Vec<Option<Option<Shares>>> = vec![None; f.debits.len()];
    for k in 0..f.debits.len() {
        if f.debits[k].status != PaymentStatus::Valid {
            continue;
        }
        let (node, from, amount) = (f.debits[k].node, f.debits[k].from, f.debits[k].amount);
        let past = f.past(node);
        let mut balance: i128 = 0;
        let mine = touches.get(&from).cloned().unwrap_or_default();
        for e in mine.into_iter().take_while(|e| *e < k) {
            if f.debits[e].status != PaymentStatus::Valid || !past.contains(f.debits[e].node) {
                continue;
            }
            if f.debits[e].from == from {
                balance -= i128::from(f.debits[e].amount);
            }
            if shares[e].is_none() {
                shares[e] = Some(f.shares(e));
            }
            if let Some(Some((to_all, by))) = &shares[e]
                && past.contains(*by)
            {
                for (to, a) in to_all {
                    if *to == from {
                        balance += i128::from(*a);
                    }
                }
            }
        }
        let limit = f.limit(node, from);
        if balance - i128::from(amount) < -limit {
            f.debits[k].status = PaymentStatus::OverLimit;
            continue;
        }
        // A bounty funded from a proposal: the proposal closed funded in its past, and the
        // rewards of the valid bounties it funded, this one included, within what it raised.
        if let Movement::Reward { bounty } = f.debits[k].movement.clone()
            && let Some(fund) = cur
                .ledger
                .bounties
                .get(&bounty)
                .and_then(|b| b.bounty.funded_by.clone())
        {
            let closed = f.closes.get(&fund).map(|(_, first)| *first);
            let raised = match (closed, f.outcome(&fund)) {
                (Some(c), Some((FundOutcome::Funded, _, pledged, _))) if past.contains(c) => {
                    Some(pledged)
                }
                _ => None,
            };
            let spent: u64 = (0..k)
                .filter(|e| f.debits[*e].status == PaymentStatus::Valid)
                .filter_map(|e| match &f.debits[e].movement {
                    Movement::Reward { bounty: b } => cur
                        .ledger
                        .bounties
                        .get(b)
                        .filter(|x| x.bounty.funded_by.as_ref() == Some(&fund))
                        .map(|_| f.debits[e].amount),
                    _ => None,
                })
                .sum();
            if raised.is_none_or(|r| spent.saturating_add(amount) > r) {
                f.debits[k].status = PaymentStatus::Unfunded;
            }
        }
    }

    // The book at the heads.
    let mut book = Book::default();
    let policy = cur.ledger.policy.clone();
    let limits = policy
        .as_ref()
        .map(|p| p.limits(g, &cur))
        .unwrap_or_default();
    for m in cur.members.keys() {
        book.accounts.insert(
            *m,
            Account {
                limit: limits.get(m).map(|l| l.0).unwrap_or(0),
                frozen: frozen_accounts.contains(m),
                ..Default::default()
            },
        );
    }
    let mut balances: BTreeMap<MemberId, i128> = BTreeMap::new();
    for k in 0..f.debits.len() {
        let d = &f.debits[k];
        let (node, from, amount, status) = (d.node, d.from, d.amount, d.status);
        let hash = f.ix.nodes[node as usize].hash;
        let seen_by = seen_by(f.ix, node, &from, &v.invalid);
        let confirmations = if status == PaymentStatus::Valid {
            f.confirmations(k)
        } else {
            0
        };
        let time = f.ix.nodes[node as usize]
            .info
            .as_ref()
            .map(|i| i.time)
            .unwrap_or_default();
        book.entries.push(LedgerEntry {
            hash,
            from,
            amount,
            movement: f.debits[k].movement.clone(),
            time,
            status,
            seen_by,
            confirmations,
            settled: f.quorum > 0 && confirmations >= f.quorum,
        });
        if status != PaymentStatus::Valid {
            continue;
        }
        book.volume = book.volume.saturating_add(amount);
        *balances.entry(from).or_default() -= i128::from(amount);
        match f.shares(k) {
            Some((shares, by)) => {
                let is_pay = matches!(f.debits[k].movement, Movement::Pay { .. });
                for (to, a) in shares {
                    *balances.entry(to).or_default() += i128::from(a);
                    if !is_pay {
                        book.settlements.push(Settlement {
                            entry: hash,
                            by: f.ix.nodes[by as usize].hash,
                            to,
                            amount: a,
                        });
                    }
                }
            }
            None => {
                let waits_for = match &f.debits[k].movement {
                    Movement::Escrow { deal, .. } => HoldFor::Deal { deal: deal.clone() },
                    Movement::Pledge { fund } => HoldFor::Fund { fund: fund.clone() },
                    Movement::Reward { bounty } => HoldFor::Bounty {
                        bounty: bounty.clone(),
                    },
                    Movement::Pay { .. } => continue,
                };
                book.holds.push(Hold {
                    entry: hash,
                    from,
                    amount,
                    waits_for,
                });
            }
        }
    }
    for (m, b) in balances {
        let a = book.accounts.entry(m).or_default();
        // Bounded: every amount ≤ MAX_AMOUNT and every debit is backed by a limit.
        a.balance = i64::try_from(b).unwrap_or(if b < 0 { i64::MIN } else { i64::MAX });
    }
    for h in &book.holds {
        let a = book.accounts.entry(h.from).or_default();
        a.held = a.held.saturating_add(h.amount);
    }
    // Proposals.
    let funds: Vec<FundId> = cur.ledger.funds.keys().cloned().collect();
    for id in funds {
        let fb = if f.closes.contains_key(&id) {
            let (outcome, tally, pledged, pledgers) =
                f.outcome(&id).unwrap_or((FundOutcome::Open, None, 0, 0));
            let first = f.closes.get(&id).map(|(_, c)| f.ix.nodes[*c as usize].hash);
            FundBook {
                pledged,
                pledgers,
                outcome,
                tally,
                closed_by: first,
            }
        } else {
            let mut pledged = 0u64;
            let mut pledgers = BTreeSet::new();
            for d in &f.debits {
                if d.status == PaymentStatus::Valid
                    && matches!(&d.movement, Movement::Pledge { fund } if *fund == id)
                {
                    pledged = pledged.saturating_add(d.amount);
                    pledgers.insert(d.from);
                }
            }
            let tally = cur.ledger.funds.get(&id).and_then(|x| x.vote).map(|rule| {
                let votes = cur
                    .ledger
                    .votes
                    .iter()
                    .filter(|((x, _), _)| *x == id)
                    .map(|((_, m), c)| (*m, *c))
                    .collect();
                Tally::count(g, &cur, &rule, &votes)
            });
            FundBook {
                pledged,
                pledgers: pledgers.len(),
                outcome: FundOutcome::Open,
                tally,
                closed_by: None,
            }
        };
        book.funds.insert(id, fb);
    }
    book
}

/// Distinct members other than `except` with valid governance changes after `node`, counted
/// up to [`SEEN_ENOUGH`] (a breadth-first walk of the future that stops there, so an old
/// entry costs a few steps, not the whole document).
fn seen_by(ix: &GovIndex, node: Ix, except: &MemberId, invalid: &BitSet) -> usize {
    let mut seen = BitSet::with_capacity(ix.nodes.len());
    let mut queue = std::collections::VecDeque::from([node]);
    let mut members = BTreeSet::new();
    while let Some(i) = queue.pop_front() {
        if !seen.insert(i) {
            continue;
        }
        if i != node
            && !invalid.contains(i)
            && let Some(m) = ix.nodes[i as usize].info.as_ref().map(|x| x.member)
            && m != *except
        {
            members.insert(m);
            if members.len() >= SEEN_ENOUGH {
                break;
            }
        }
        queue.extend(ix.nodes[i as usize].children.iter().copied());
    }
    members.len()
}
