//! Reads of the ledger for members and the page: the book (cached per heads), a member's
//! statement and history, proposals and bounties.

use super::book::{Account, Book, Hold, LedgerEntry, Movement, PaymentStatus};
use super::fund::{Fund, FundOutcome};
use super::tally::Tally;
use super::{BountyId, BountyState, FundId, LedgerPolicy};
use crate::community::Community;
use crate::ids::Hash;
use qun_identity::{MemberId, Timestamp};
use serde::Serialize;
use std::sync::Arc;

/// One line of a member's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Line {
    /// The debit the line stems from.
    pub entry: Hash,
    /// When its payer says it was made.
    pub time: Timestamp,
    /// + received, − paid or held.
    pub amount: i64,
    /// The other side (payee, payer, or `None` for a hold or a settlement).
    pub counterpart: Option<MemberId>,
    /// What it is, in words.
    pub what: String,
    /// Whether the debit counts.
    pub status: PaymentStatus,
    /// How many other members have built on the debit.
    pub seen_by: usize,
    /// Final: a quorum of witnesses saw it before any conflicting debit.
    pub settled: bool,
}

/// A member's statement.
#[derive(Clone, Debug, Serialize)]
pub struct Statement {
    /// The member.
    pub member: MemberId,
    /// The policy (`None`: the ledger was never turned on).
    pub policy: Option<LedgerPolicy>,
    /// Balance, limit, held, frozen.
    pub account: Account,
    /// What the member may still spend: balance + limit.
    pub available: i64,
    /// Its open holds.
    pub holds: Vec<Hold>,
    /// Its history, newest first.
    pub history: Vec<Line>,
}

/// The community's totals.
#[derive(Clone, Debug, Serialize)]
pub struct Totals {
    /// Valid debits, summed.
    pub volume: u64,
    /// Accounts (current members).
    pub accounts: usize,
    /// Members at (or within 1 of) their limit.
    pub at_limit: Vec<MemberId>,
    /// Money in open holds.
    pub held: u64,
    /// Frozen accounts.
    pub frozen: Vec<MemberId>,
}

/// A proposal with its money and vote.
#[derive(Clone, Debug, Serialize)]
pub struct FundView {
    /// Its id.
    pub id: FundId,
    /// The proposal.
    pub fund: Fund,
    /// Pledged so far (or at the close).
    pub pledged: u64,
    /// Distinct pledgers.
    pub pledgers: usize,
    /// Open, funded or failed.
    pub outcome: FundOutcome,
    /// The vote, if voted.
    pub tally: Option<Tally>,
    /// The tally in words.
    pub tally_words: Option<String>,
}

/// A motion with its vote.
#[derive(Clone, Debug, Serialize)]
pub struct MotionView {
    /// Its id.
    pub id: FundId,
    /// The motion.
    pub motion: super::Motion,
    /// The vote so far (members of the community now, votes known now).
    pub tally: Tally,
    /// The tally in words.
    pub tally_words: String,
    /// Whether it was enacted.
    pub enacted: bool,
}

impl Community {
    /// Every motion with its tally.
    pub fn motions(&mut self) -> Vec<MotionView> {
        let st = self.state();
        let g = self.genesis.clone();
        st.ledger
            .motions
            .iter()
            .map(|(id, m)| {
                let votes = st
                    .ledger
                    .votes
                    .iter()
                    .filter(|((f, _), _)| f == id)
                    .map(|((_, v), c)| (*v, *c))
                    .collect();
                let tally = Tally::count(&g, &st, &m.rule, &votes);
                MotionView {
                    id: id.clone(),
                    motion: (**m).clone(),
                    tally_words: tally.explain(),
                    tally,
                    enacted: st.ledger.enacted.contains(id),
                }
            })
            .collect()
    }

    /// The ledger's book at the current heads (cached until they or the validity change).
    pub fn ledger_book(&mut self) -> Arc<Book> {
        self.ensure_validity();
        let key = (self.index.heads().to_vec(), self.index.validity().version);
        if let Some((k, b)) = &self.book
            && *k == key
        {
            return b.clone();
        }
        let g = self.genesis.clone();
        let b = Arc::new(super::book::fold(&mut self.index, &g));
        self.book = Some((key, b.clone()));
        b
    }

    /// A member's statement.
    pub fn statement(&mut self, m: &MemberId) -> Statement {
        let book = self.ledger_book();
        let st = self.state();
        let account = book.account(m);
        let available = account.balance.saturating_add(account.limit as i64);
        let holds = book
            .holds
            .iter()
            .filter(|h| h.from == *m)
            .cloned()
            .collect();
        let mut history = Vec::new();
        for e in &book.entries {
            history.extend(lines(e, m));
        }
        for s in &book.settlements {
            if s.to == *m
                && let Some(e) = book.entries.iter().find(|e| e.hash == s.entry)
            {
                history.push(Line {
                    entry: e.hash,
                    time: e.time,
                    amount: s.amount as i64,
                    counterpart: None,
                    what: format!("settled: {}", describe(&e.movement)),
                    status: PaymentStatus::Valid,
                    seen_by: e.seen_by,
                    settled: e.settled,
                });
            }
        }
        history.sort_by(|a, b| b.time.cmp(&a.time).then(b.entry.cmp(&a.entry)));
        Statement {
            member: *m,
            policy: st.ledger.policy.clone(),
            account,
            available,
            holds,
            history,
        }
    }

    /// The community's totals.
    pub fn ledger_totals(&mut self) -> Totals {
        let book = self.ledger_book();
        Totals {
            volume: book.volume,
            accounts: book.accounts.len(),
            at_limit: book
                .accounts
                .iter()
                .filter(|(_, a)| a.balance <= -(a.limit as i64) + 1 && a.balance < 0)
                .map(|(m, _)| *m)
                .collect(),
            held: book.holds.iter().map(|h| h.amount).sum(),
            frozen: book
                .accounts
                .iter()
                .filter(|(_, a)| a.frozen)
                .map(|(m, _)| *m)
                .collect(),
        }
    }

    /// Every proposal, newest key order.
    pub fn funds(&mut self) -> Vec<FundView> {
        let book = self.ledger_book();
        let st = self.state();
        st.ledger
            .funds
            .iter()
            .map(|(id, f)| {
                let fb = book.funds.get(id);
                let tally = fb.and_then(|b| b.tally.clone());
                FundView {
                    id: id.clone(),
                    fund: (**f).clone(),
                    pledged: fb.map(|b| b.pledged).unwrap_or(0),
                    pledgers: fb.map(|b| b.pledgers).unwrap_or(0),
                    outcome: fb.map(|b| b.outcome.clone()).unwrap_or(FundOutcome::Open),
                    tally_words: tally.as_ref().map(Tally::explain),
                    tally,
                }
            })
            .collect()
    }

    /// Every bounty.
    pub fn bounties(&mut self) -> Vec<(BountyId, BountyState)> {
        let st = self.state();
        st.ledger
            .bounties
            .iter()
            .map(|(id, b)| (id.clone(), (**b).clone()))
            .collect()
    }
}

/// What a movement is, in words.
pub fn describe(m: &Movement) -> String {
    match m {
        Movement::Pay { note, .. } if note.is_empty() => "payment".into(),
        Movement::Pay { note, .. } => format!("payment: {note}"),
        Movement::Escrow { deal, .. } => format!("escrow for deal {}", deal.key),
        Movement::Pledge { fund } => format!("pledge to {}", fund.key),
        Movement::Reward { bounty } => format!("reward of bounty {}", bounty.key),
    }
}

/// The lines a debit puts in `m`'s history: its debit for the payer, its credit for a
/// direct payee (held money is credited by its settlement).
fn lines(e: &LedgerEntry, m: &MemberId) -> Vec<Line> {
    let mut out = Vec::new();
    let to = match &e.movement {
        Movement::Pay { to, .. } | Movement::Escrow { to, .. } => Some(*to),
        _ => None,
    };
    let line = |amount: i64, counterpart| Line {
        entry: e.hash,
        time: e.time,
        amount,
        counterpart,
        what: describe(&e.movement),
        status: e.status,
        seen_by: e.seen_by,
        settled: e.settled,
    };
    if e.from == *m {
        out.push(line(-(e.amount as i64), to));
    }
    if to == Some(*m) && matches!(e.movement, Movement::Pay { .. }) {
        out.push(line(e.amount as i64, Some(e.from)));
    }
    if to == Some(*m) && matches!(e.movement, Movement::Escrow { .. }) {
        // Shown to the seller as held for it (0 until settled).
        out.push(Line {
            amount: 0,
            what: format!("{} (held until the deal ends)", describe(&e.movement)),
            ..line(0, Some(e.from))
        });
    }
    out
}
