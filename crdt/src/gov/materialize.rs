//! Folding the governance writes of a causally closed set of changes into a [`GovState`].
//!
//! At a frontier, the visible writes of a register are those in its past that no other write in
//! its past superseded (the maximal ones, as in Automerge's own maps); among concurrent
//! leftovers a removal or revocation wins, otherwise the greatest `(lamport, hash)`. Void
//! changes (see `community::validity`) are left out, which makes the writes they superseded
//! visible again; overridden writes count with their resolved value.

use super::bitset::BitSet;
use super::index::{ExpireKey, GovIndex, Register, Validity, Write, WriteValue};
use super::state::GovState;
use crate::ids::{ChannelId, Hash};
use crate::ledger::bounty::concurrency_rank as bounty_rank;
use crate::market::deal::concurrency_rank;
use crate::model::action::ChannelSettings;
use crate::model::policy::Role;
use qun_identity::{EndorsementBook, MemberId};
use std::collections::{BTreeMap, BTreeSet, HashSet};

#[cfg(any(test, feature = "test-utils"))]
thread_local! {
    /// States materialized on this thread (a deterministic measure of validity work, for tests).
    pub(crate) static MATERIALIZED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

impl GovIndex {
    fn order_key(&self, w: &Write) -> (u64, Hash) {
        self.nodes[w.node as usize].order_key()
    }

    /// The value a write has under `v`.
    fn value<'a>(&'a self, wi: u32, v: &'a Validity) -> &'a WriteValue {
        v.overrides
            .get(&wi)
            .unwrap_or(&self.writes[wi as usize].value)
    }

    /// Indices of the visible writes of a register among `anc`.
    fn visible(&self, list: &[u32], anc: &BitSet, v: &Validity) -> Vec<u32> {
        let present: Vec<u32> = list
            .iter()
            .copied()
            .filter(|w| {
                let n = self.writes[*w as usize].node;
                anc.contains(n) && !v.invalid.contains(n)
            })
            .collect();
        if present.len() <= 1 {
            return present;
        }
        let superseded: HashSet<u32> = present
            .iter()
            .flat_map(|w| self.writes[*w as usize].supersedes.iter().copied())
            .collect();
        present
            .into_iter()
            .filter(|w| !superseded.contains(w))
            .collect()
    }

    /// The greatest visible write by `(lamport, hash)`.
    fn winner(&self, vis: &[u32]) -> Option<u32> {
        vis.iter()
            .copied()
            .max_by_key(|w| self.order_key(&self.writes[*w as usize]))
    }

    /// Distinct members other than `except` with valid governance changes in the causal
    /// future of `node`, within `anc`.
    fn support(&self, node: u32, except: &MemberId, anc: &BitSet, v: &Validity) -> usize {
        let desc = self.descendants(node);
        let members: BTreeSet<MemberId> = desc
            .iter()
            .filter(|i| *i != node && anc.contains(*i) && !v.invalid.contains(*i))
            .filter_map(|i| self.nodes[i as usize].info.as_ref().map(|x| x.member))
            .filter(|m| m != except)
            .collect();
        members.len()
    }

    /// The state at the frontier `{c}`, derived from `prev`, the state (under the same
    /// validity) at `c`'s dependencies, when `c` writes nothing or only market and ledger
    /// registers (`None` otherwise). Every write of those registers in `prev`'s past is in
    /// `c`'s past, so `c` supersedes them all: its value is the register's only visible write,
    /// exactly what `materialize` would pick; a void `c` changes nothing. Trading is most of what a busy
    /// market's governance document holds, so this keeps admitting a trade from folding every
    /// register again.
    pub(super) fn derive_market(&self, c: u32, prev: &GovState, v: &Validity) -> Option<GovState> {
        let node = &self.nodes[c as usize];
        let info = node.info.as_ref()?;
        if info.endorsement.is_some() || info.revokes.is_some() || info.evidence.is_some() {
            return None;
        }
        // Concurrent uses of one bearer invitation are decided by support (members who built
        // on each), which any change can add to: fold everything then.
        if self.by_invitation.values().any(|uses| uses.len() > 1) {
            return None;
        }
        let range = node.writes.clone();
        let writes = &self.writes[range.start as usize..range.end as usize];
        // A change that writes no register (a payment, a pledge, a profile) leaves the
        // state as it was at its dependencies.
        if writes.is_empty() {
            return Some(prev.clone());
        }
        if !writes.iter().all(|w| w.register.is_market()) {
            return None;
        }
        let mut st = prev.clone();
        if v.invalid.contains(c) {
            return Some(st);
        }
        for (k, w) in writes.iter().enumerate() {
            let value = self.value(range.start + k as u32, v);
            let m = &mut st.market;
            let l = &mut st.ledger;
            match (&w.register, value) {
                (Register::LedgerPolicy, WriteValue::LedgerPolicy(p)) => l.policy = Some(p.clone()),
                (Register::Fund(id), WriteValue::Fund(f)) => {
                    l.funds.insert(id.clone(), f.clone());
                }
                (Register::Vote(id, who), WriteValue::Vote(c)) => {
                    l.votes.insert((id.clone(), *who), *c);
                }
                (Register::Bounty(id), WriteValue::Bounty(b)) => {
                    l.bounties.insert(id.clone(), b.clone());
                }
                (Register::VotePolicy, WriteValue::VotePolicy(p)) => l.voting = Some(p.clone()),
                (Register::Motion(id), WriteValue::Motion(x)) => {
                    l.motions.insert(id.clone(), x.clone());
                }
                (Register::Enacted(id), WriteValue::Enacted) => {
                    l.enacted.insert(id.clone());
                }
                (Register::MarketPolicy, WriteValue::MarketPolicy(p)) => m.policy = p.clone(),
                (Register::Listing(id), WriteValue::Listing(l)) => {
                    m.listings.insert(id.clone(), l.clone());
                }
                (Register::ListingHide(id), WriteValue::Hide(h)) => {
                    m.hidden.insert(id.clone(), h.clone());
                }
                (Register::ListingHide(id), _) => {
                    m.hidden.remove(id);
                }
                (Register::Deal(id), WriteValue::Deal(d)) => {
                    m.deals.insert(id.clone(), d.clone());
                }
                (Register::Review(d, r), WriteValue::Review(x)) => {
                    m.reviews.insert((d.clone(), *r), x.clone());
                }
                _ => return None,
            }
        }
        Some(st)
    }

    pub(super) fn materialize(&self, anc: &BitSet, v: &Validity) -> GovState {
        #[cfg(any(test, feature = "test-utils"))]
        MATERIALIZED.with(|c| c.set(c.get() + 1));
        let g = self.genesis.value();
        let mut st = GovState {
            name: g.name.clone(),
            description: g.description.clone(),
            policy: g.policy.clone(),
            members: g.founders.iter().map(|f| (*f, Role::Founder)).collect(),
            requests: BTreeSet::new(),
            removed: BTreeMap::new(),
            removals: BTreeMap::new(),
            devices: BTreeMap::new(),
            revoked: BTreeMap::new(),
            channels: BTreeMap::new(),
            role_defs: BTreeMap::new(),
            hidden: BTreeMap::new(),
            pinned: BTreeSet::new(),
            endorsements: EndorsementBook::new(),
            expired_invitations: BTreeSet::new(),
            used_invitations: BTreeMap::new(),
            market: Default::default(),
            ledger: Default::default(),
        };
        st.channels.insert(
            ChannelId::general(),
            ChannelSettings {
                title: "General".into(),
                description: String::new(),
                announce: false,
                archived: false,
            },
        );
        // Bearer invitations are single-use. Among concurrent admissions that used one nonce,
        // the one more other members built on wins (distinct members with governance changes
        // in its future, within this past), then the later-looking one (greater lamport:
        // backdating a use to before another only lowers it), then the lower hash. A use
        // another admission has in its past already blocked that one at admission.
        let mut uses: BTreeMap<[u8; 16], Vec<(u32, MemberId)>> = BTreeMap::new();
        for (reg, list) in &self.registers {
            let Register::Membership(m) = reg else {
                continue;
            };
            for wi in list {
                let w = &self.writes[*wi as usize];
                if !anc.contains(w.node) || v.invalid.contains(w.node) {
                    continue;
                }
                if let WriteValue::Admit { via: Some(n) } = self.value(*wi, v) {
                    uses.entry(*n).or_default().push((w.node, *m));
                }
            }
        }
        let mut owners: BTreeMap<[u8; 16], MemberId> = BTreeMap::new();
        for (n, list) in uses {
            let best = if list.len() == 1 {
                list.first().map(|(_, m)| *m)
            } else {
                list.iter()
                    .map(|(node, m)| {
                        let support = self.support(*node, m, anc, v);
                        let (lamport, hash) = self.nodes[*node as usize].order_key();
                        ((support, lamport, std::cmp::Reverse(hash)), *m)
                    })
                    .max_by_key(|(k, _)| *k)
                    .map(|(_, m)| m)
            };
            if let Some(m) = best {
                owners.insert(n, m);
            }
        }
        st.used_invitations = owners.clone();

        let mut role_regs: BTreeMap<MemberId, Role> = BTreeMap::new();
        let mut expired_endorsements = BTreeSet::new();
        for (reg, list) in &self.registers {
            let vis = self.visible(list, anc, v);
            if vis.is_empty() {
                continue;
            }
            let won = self.winner(&vis).map(|w| self.value(w, v));
            match reg {
                Register::Policy => {
                    if let Some(WriteValue::Policy(p)) = won {
                        st.policy = p.clone();
                    }
                }
                Register::Meta => {
                    if let Some(WriteValue::Meta { name, description }) = won {
                        st.name = name.clone();
                        st.description = description.clone();
                    }
                }
                Register::Channel(c) => {
                    if let Some(WriteValue::Channel(s)) = won {
                        st.channels.insert(c.clone(), s.clone());
                    }
                }
                Register::RoleDef(n) => {
                    if let Some(WriteValue::RoleDef(p)) = won {
                        st.role_defs.insert(n.clone(), p.clone());
                    }
                }
                Register::Hide(p) => {
                    if let Some(WriteValue::Hide(h)) = won {
                        st.hidden.insert(p.clone(), h.clone());
                    }
                }
                Register::Pin(p) => {
                    if let Some(WriteValue::Pin(true)) = won {
                        st.pinned.insert(p.clone());
                    }
                }
                Register::Expired(k) => match k {
                    ExpireKey::Invitation(m, n) => {
                        st.expired_invitations.insert((*m, *n));
                    }
                    ExpireKey::Endorsement(id) => {
                        expired_endorsements.insert(*id);
                    }
                },
                Register::Device(d) => {
                    // A revocation wins over anything concurrent with it; the device keeps the
                    // newest link in the past, even one a revocation superseded.
                    let revoked = vis
                        .iter()
                        .any(|w| matches!(self.value(*w, v), WriteValue::Revoke));
                    let link = list
                        .iter()
                        .filter(|w| {
                            let n = self.writes[**w as usize].node;
                            anc.contains(n) && !v.invalid.contains(n)
                        })
                        .filter_map(|w| match self.value(*w, v) {
                            WriteValue::Link(l) => {
                                Some((self.order_key(&self.writes[*w as usize]), l))
                            }
                            _ => None,
                        })
                        .max_by_key(|(k, _)| *k)
                        .map(|(_, l)| l.clone());
                    let won_link = match won {
                        Some(WriteValue::Link(l)) => Some(l.clone()),
                        _ => link.clone(),
                    };
                    match (revoked, link, won_link) {
                        (true, Some(l), _) => {
                            st.revoked.insert(*d, l);
                        }
                        (false, Some(_), Some(l)) => {
                            st.devices.insert(*d, l);
                        }
                        _ => {}
                    }
                }
                Register::MarketPolicy => {
                    if let Some(WriteValue::MarketPolicy(p)) = won {
                        st.market.policy = p.clone();
                    }
                }
                Register::Listing(id) => {
                    if let Some(WriteValue::Listing(l)) = won {
                        st.market.listings.insert(id.clone(), l.clone());
                    }
                }
                Register::ListingHide(id) => {
                    if let Some(WriteValue::Hide(h)) = won {
                        st.market.hidden.insert(id.clone(), h.clone());
                    }
                }
                Register::Deal(id) => {
                    // Concurrent steps: the highest-ranking resulting status wins, then the
                    // greatest (lamport, hash) (docs/market.md).
                    let best = vis
                        .iter()
                        .filter_map(|w| match self.value(*w, v) {
                            WriteValue::Deal(d) => Some((
                                (
                                    concurrency_rank(d.status),
                                    self.order_key(&self.writes[*w as usize]),
                                ),
                                d,
                            )),
                            _ => None,
                        })
                        .max_by_key(|(k, _)| *k)
                        .map(|(_, d)| d.clone());
                    if let Some(d) = best {
                        st.market.deals.insert(id.clone(), d);
                    }
                }
                Register::Review(d, m) => {
                    if let Some(WriteValue::Review(r)) = won {
                        st.market.reviews.insert((d.clone(), *m), r.clone());
                    }
                }
                Register::LedgerPolicy => {
                    if let Some(WriteValue::LedgerPolicy(p)) = won {
                        st.ledger.policy = Some(p.clone());
                    }
                }
                Register::Fund(id) => {
                    if let Some(WriteValue::Fund(f)) = won {
                        st.ledger.funds.insert(id.clone(), f.clone());
                    }
                }
                Register::Vote(id, m) => {
                    if let Some(WriteValue::Vote(c)) = won {
                        st.ledger.votes.insert((id.clone(), *m), *c);
                    }
                }
                Register::Bounty(id) => {
                    // Concurrent steps: paid over cancelled over open, then the greatest
                    // (lamport, hash) (docs/ledger.md).
                    let best = vis
                        .iter()
                        .filter_map(|w| match self.value(*w, v) {
                            WriteValue::Bounty(b) => Some((
                                (
                                    bounty_rank(&b.status),
                                    self.order_key(&self.writes[*w as usize]),
                                ),
                                b,
                            )),
                            _ => None,
                        })
                        .max_by_key(|(k, _)| *k)
                        .map(|(_, b)| b.clone());
                    if let Some(b) = best {
                        st.ledger.bounties.insert(id.clone(), b);
                    }
                }
                Register::VotePolicy => {
                    if let Some(WriteValue::VotePolicy(p)) = won {
                        st.ledger.voting = Some(p.clone());
                    }
                }
                Register::Motion(id) => {
                    if let Some(WriteValue::Motion(x)) = won {
                        st.ledger.motions.insert(id.clone(), x.clone());
                    }
                }
                Register::Enacted(id) => {
                    if won.is_some() {
                        st.ledger.enacted.insert(id.clone());
                    }
                }
                Register::Role(m) => {
                    if let Some(WriteValue::Role(r)) = won {
                        role_regs.insert(*m, r.clone());
                    }
                }
                Register::Membership(m) => {
                    if self.genesis.is_founder(m) {
                        continue;
                    }
                    // Removal wins over anything concurrent with it.
                    let removal = vis
                        .iter()
                        .filter(|w| matches!(self.value(**w, v), WriteValue::Remove(_)))
                        .max_by_key(|w| self.order_key(&self.writes[**w as usize]));
                    if let Some(r) = removal {
                        let node = &self.nodes[self.writes[*r as usize].node as usize];
                        let t = node.info.as_ref().map(|i| i.time).unwrap_or_default();
                        st.removed.insert(*m, t);
                        if let WriteValue::Remove(why) = self.value(*r, v) {
                            st.removals.insert(*m, why.clone());
                        }
                        continue;
                    }
                    match won {
                        Some(WriteValue::Admit { via: None }) => {
                            st.members.insert(*m, Role::Member);
                        }
                        Some(WriteValue::Admit { via: Some(n) }) => {
                            if owners.get(n).is_some_and(|o| o == m) {
                                st.members.insert(*m, Role::Member);
                            } else {
                                st.requests.insert(*m);
                            }
                        }
                        Some(WriteValue::Request) => {
                            st.requests.insert(*m);
                        }
                        _ => {}
                    }
                }
            }
        }
        for (i, n) in self.nodes.iter().enumerate() {
            let i = i as u32;
            if !anc.contains(i) || v.invalid.contains(i) {
                continue;
            }
            if let Some(e) = n.info.as_ref().and_then(|x| x.endorsement.as_ref())
                && !expired_endorsements.contains(&e.id())
            {
                st.endorsements.insert(e.clone());
            }
        }
        for (m, r) in role_regs {
            if let Some(slot) = st.members.get_mut(&m)
                && *slot != Role::Founder
            {
                *slot = r;
            }
        }
        st
    }
}
