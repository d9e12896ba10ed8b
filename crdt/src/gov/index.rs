//! The governance index: every governance change as a node of the causal DAG, with who made it,
//! what it does and what it writes, evaluated at any frontier (see the module doc of `gov`).
//!
//! Nodes are numbered in the order they were added, which is a topological order (a change is
//! only added once its dependencies are). Node 0 is the document genesis.

use super::bitset::BitSet;
use super::state::{DeviceLink, GovState, HideInfo};
use crate::ids::{ChannelId, DocId, Hash, PostId};
use crate::ledger::{
    BountyId, BountyState, Choice, Fund, FundId, LedgerPolicy, Motion, VotePolicy,
};
use crate::market::{DealId, DealState, Listing, ListingId, MarketPolicy, Review};
use crate::model::action::{Action, ChannelSettings};
use crate::model::cut::Cut;
use crate::model::genesis::CommunityGenesis;
use crate::model::policy::{AdmissionPolicy, Perm, Role};
use qun_identity::{ContentId, DeviceId, Endorsement, MemberId, Signed, Timestamp};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::sync::Arc;

/// How many frontiers' ancestor sets and states to keep.
const CACHE_FRONTIERS: usize = 16;

/// Index of a node (change) of the governance DAG.
pub(crate) type Ix = u32;

/// A governance register: one fact that writes replace.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Register {
    Membership(MemberId),
    Role(MemberId),
    Device(DeviceId),
    Policy,
    Meta,
    Channel(ChannelId),
    RoleDef(String),
    Hide(PostId),
    /// Whether a post is pinned.
    Pin(PostId),
    Expired(ExpireKey),
    /// The market policy.
    MarketPolicy,
    /// A listing (its owner's latest write).
    Listing(ListingId),
    /// A listing's moderation (hide or unhide).
    ListingHide(ListingId),
    /// A deal: each step writes the whole state (see `market::deal::concurrency_rank`).
    Deal(DealId),
    /// A party's review of a deal.
    Review(DealId, MemberId),
    /// The ledger's policy.
    LedgerPolicy,
    /// A crowdfunding proposal (written once).
    Fund(FundId),
    /// A member's vote on a proposal.
    Vote(FundId, MemberId),
    /// A bounty: each step writes the whole state (see `ledger::bounty::concurrency_rank`).
    Bounty(BountyId),
    /// Which governance actions need a vote.
    VotePolicy,
    /// A motion (written once).
    Motion(FundId),
    /// A motion was enacted.
    Enacted(FundId),
}

impl Register {
    /// Whether this is one of the market's or the ledger's registers (trade).
    pub(crate) fn is_market(&self) -> bool {
        matches!(
            self,
            Register::MarketPolicy
                | Register::Listing(_)
                | Register::ListingHide(_)
                | Register::Deal(_)
                | Register::Review(..)
                | Register::LedgerPolicy
                | Register::Fund(_)
                | Register::Vote(..)
                | Register::Bounty(_)
                | Register::VotePolicy
                | Register::Motion(_)
                | Register::Enacted(_)
        )
    }
}

/// Something an expiry action retires (devices expire through their `Device` register).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ExpireKey {
    Invitation(MemberId, [u8; 16]),
    Endorsement(ContentId),
}

/// What a write sets its register to.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum WriteValue {
    /// Asked to join; not admitted by the policy at the request's dependencies.
    Request,
    /// A member from now on: admitted by the policy at the join's dependencies (`via` names
    /// the bearer invitation used, which only one member can own), or by a moderator.
    Admit {
        via: Option<[u8; 16]>,
    },
    /// A removal, by whom and why (shown to members, the removed one included).
    Remove(super::state::HideInfo),
    Leave,
    Role(Role),
    Link(DeviceLink),
    Revoke,
    Policy(AdmissionPolicy),
    Meta {
        name: String,
        description: String,
    },
    Channel(ChannelSettings),
    RoleDef(BTreeSet<Perm>),
    Hide(HideInfo),
    Unhide,
    /// Pinned (true) or not.
    Pin(bool),
    Expired,
    MarketPolicy(MarketPolicy),
    Listing(Arc<Listing>),
    Deal(Arc<DealState>),
    Review(Arc<Review>),
    LedgerPolicy(LedgerPolicy),
    Fund(Arc<Fund>),
    Vote(Choice),
    Bounty(Arc<BountyState>),
    VotePolicy(VotePolicy),
    Motion(Arc<Motion>),
    Enacted,
}

/// Whom a revocation is against.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Target {
    /// Members (a removal or demotion names one; redefining a role names its holders).
    Members(Vec<MemberId>),
    /// One device (revocation, expiry).
    Device(DeviceId),
    /// One invitation of a member: joins that use it.
    Invitation(MemberId, [u8; 16]),
}

/// Which permissions a revocation takes away.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Perms {
    /// Everything (removal, device revocation): every write of the target.
    All,
    /// These permissions: writes that exercise one of them.
    Some(BTreeSet<Perm>),
}

/// A revocation of authority: whom, what, and the target's content writes its author had seen
/// (`None`: it voids no content — a role redefinition, an invitation's expiry).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Revokes {
    pub(crate) target: Target,
    pub(crate) perms: Perms,
    pub(crate) cut: Option<Arc<Cut>>,
    /// It also takes the right to trade (a market policy or role change that excludes the
    /// target): voids the target's concurrent listings, proposals and acceptances.
    pub(crate) trade: bool,
}

/// Who made a change and what it does: what validity needs to judge it again and to find it
/// among a revocation's victims.
#[derive(Clone, Debug)]
pub(crate) struct ChangeInfo {
    pub(crate) device: DeviceId,
    pub(crate) seq: u64,
    /// The member the device acted for at the change's dependencies.
    pub(crate) member: MemberId,
    /// The author's clock (informational: never used for a rule).
    pub(crate) time: Timestamp,
    pub(crate) action: Arc<Action>,
    /// For a join with an invitation: `(inviter, nonce)`.
    pub(crate) invitation: Option<(MemberId, [u8; 16])>,
    pub(crate) revokes: Option<Revokes>,
    pub(crate) endorsement: Option<Signed<Endorsement>>,
    /// For equivocation evidence: the device's writes in this document from this sequence
    /// number on are void.
    pub(crate) evidence: Option<Evidence>,
}

/// What evidence of equivocation names: the document, the device, the sequence number used
/// twice, and the dependencies of both twins (the evidence counts only while they are applied).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Evidence {
    pub(crate) doc: DocId,
    pub(crate) device: DeviceId,
    pub(crate) seq: u64,
    pub(crate) deps: Vec<Hash>,
}

/// One governance change.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) hash: Hash,
    pub(crate) deps: Vec<Ix>,
    pub(crate) children: Vec<Ix>,
    pub(crate) lamport: u64,
    /// `None` for the document genesis.
    pub(crate) info: Option<ChangeInfo>,
    pub(crate) writes: Range<u32>,
}

impl Node {
    /// Deterministic order among concurrent changes.
    pub(crate) fn order_key(&self) -> (u64, Hash) {
        (self.lamport, self.hash)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Write {
    pub(crate) node: Ix,
    pub(crate) register: Register,
    pub(crate) value: WriteValue,
    /// Writes of the same register in the causal past of this one's change.
    pub(crate) supersedes: Vec<u32>,
}

/// Which changes are void and which writes mean something else once revocations are resolved
/// (computed by `community::validity`; the empty one is the raw, unresolved view).
#[derive(Debug, Default, Clone)]
pub(crate) struct Validity {
    /// Bumped on every recomputation that changed anything.
    pub(crate) version: u64,
    /// Every change some revocation would void if nothing protected it (its target's writes
    /// concurrent with it): what two resolutions of overlapping parts of the DAG can judge
    /// differently.
    pub(crate) contested: BitSet,
    /// Void governance changes.
    pub(crate) invalid: BitSet,
    /// Writes whose value differs once revocations are resolved (a join that the resolved
    /// state admits only as a request).
    pub(crate) overrides: HashMap<u32, WriteValue>,
    /// Registers written by void changes or overridden writes.
    pub(crate) dirty: BTreeSet<Register>,
    /// Something that every authorization may read changed (policy, role definitions,
    /// endorsements).
    pub(crate) dirty_all: bool,
    /// The causal pasts of decided revocations: no later decision voids them.
    pub(crate) protected: BitSet,
    /// Valid revocations, in node order (content writes are judged against their cuts).
    pub(crate) revocations: Vec<Ix>,
    /// Equivocation evidence: `(doc, device)` → void from this sequence number on.
    pub(crate) equivocations: BTreeMap<(DocId, DeviceId), u64>,
}

impl Validity {
    /// Whether nothing is void or overridden (resolved state = raw state).
    pub(crate) fn is_clean(&self) -> bool {
        self.invalid.is_empty() && self.overrides.is_empty()
    }
}

/// A cache key: a sorted frontier and a version.
type FrontierKey = (Vec<Ix>, u64);

/// Small cache keyed by a sorted frontier (and a validity version).
#[derive(Debug)]
struct FrontierCache<T> {
    entries: Vec<(FrontierKey, Arc<T>)>,
}

impl<T> FrontierCache<T> {
    fn new() -> Self {
        FrontierCache {
            entries: Vec::new(),
        }
    }

    fn get(&mut self, f: &[Ix], version: u64) -> Option<Arc<T>> {
        let pos = self
            .entries
            .iter()
            .position(|((k, v), _)| k.as_slice() == f && *v == version)?;
        let e = self.entries.remove(pos);
        let v = e.1.clone();
        self.entries.push(e);
        Some(v)
    }

    fn put(&mut self, f: Vec<Ix>, version: u64, v: Arc<T>) {
        if self.entries.len() >= CACHE_FRONTIERS {
            self.entries.remove(0);
        }
        self.entries.push(((f, version), v));
    }

    fn clear(&mut self) {
        self.entries.clear();
    }
}

/// Which changes a state counts.
///
/// * `Raw`: every indexed change, nothing void (revocations take effect only causally).
/// * `Resolved`: revocations resolved over the whole DAG, void changes left out: what counts.
///
/// Admission uses a third, the state resolved over the change's own past only
/// (`Community::admission_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum View {
    Raw,
    Resolved,
}

/// The index of one community's governance document.
#[derive(Debug)]
pub(crate) struct GovIndex {
    pub(crate) genesis: CommunityGenesis,
    pub(crate) nodes: Vec<Node>,
    by_hash: HashMap<Hash, Ix>,
    heads: Vec<Hash>,
    pub(crate) writes: Vec<Write>,
    pub(crate) registers: BTreeMap<Register, Vec<u32>>,
    /// Nodes by signing device and by author member (to find a revocation's victims).
    pub(crate) by_device: HashMap<DeviceId, Vec<Ix>>,
    pub(crate) by_member: HashMap<MemberId, Vec<Ix>>,
    /// Joins by the invitation they used.
    pub(crate) by_invitation: HashMap<(MemberId, [u8; 16]), Vec<Ix>>,
    /// Nodes that revoke something, and nodes that carry equivocation evidence.
    pub(crate) revocations: Vec<Ix>,
    pub(crate) evidence: Vec<Ix>,
    ancestors: FrontierCache<BitSet>,
    states: FrontierCache<GovState>,
    validity: Arc<Validity>,
    /// The validity must be recomputed before resolved reads.
    pub(crate) stale: bool,
}

impl GovIndex {
    /// An index holding only the document genesis `root`.
    pub(crate) fn new(genesis: CommunityGenesis, root: Hash) -> Self {
        let mut by_hash = HashMap::new();
        by_hash.insert(root, 0);
        GovIndex {
            genesis,
            nodes: vec![Node {
                hash: root,
                deps: Vec::new(),
                children: Vec::new(),
                lamport: 0,
                info: None,
                writes: 0..0,
            }],
            by_hash,
            heads: vec![root],
            writes: Vec::new(),
            registers: BTreeMap::new(),
            by_device: HashMap::new(),
            by_member: HashMap::new(),
            by_invitation: HashMap::new(),
            revocations: Vec::new(),
            evidence: Vec::new(),
            ancestors: FrontierCache::new(),
            states: FrontierCache::new(),
            validity: Arc::new(Validity::default()),
            stale: false,
        }
    }

    /// Whether a governance change is indexed.
    pub(crate) fn contains(&self, h: &Hash) -> bool {
        self.by_hash.contains_key(h)
    }

    /// The node index of a change.
    pub(crate) fn ix(&self, h: &Hash) -> Option<Ix> {
        self.by_hash.get(h).copied()
    }

    /// Node indices of the known hashes of a frontier, sorted.
    pub(crate) fn ixs(&self, frontier: &[Hash]) -> Vec<Ix> {
        let mut v: Vec<Ix> = frontier.iter().filter_map(|h| self.ix(h)).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Current heads.
    pub(crate) fn heads(&self) -> &[Hash] {
        &self.heads
    }

    /// The current validity (possibly stale: see `stale`).
    pub(crate) fn validity(&self) -> Arc<Validity> {
        self.validity.clone()
    }

    /// Replace the validity (after recomputing it).
    pub(crate) fn set_validity(&mut self, v: Validity) {
        self.validity = Arc::new(v);
        self.stale = false;
    }

    /// A state cached under a caller-chosen key (admission states), or computed by `make`.
    pub(crate) fn cached_state(
        &mut self,
        frontier: &[Ix],
        key: u64,
        make: impl FnOnce(&mut GovIndex) -> GovState,
    ) -> Arc<GovState> {
        if let Some(s) = self.states.get(frontier, key) {
            return s;
        }
        let s = Arc::new(make(self));
        self.states.put(frontier.to_vec(), key, s.clone());
        s
    }

    /// Record a validated governance change and what it writes; returns its node index.
    pub(crate) fn add(
        &mut self,
        hash: Hash,
        deps: &[Hash],
        info: ChangeInfo,
        writes: Vec<(Register, WriteValue)>,
    ) -> Ix {
        if let Some(ix) = self.ix(&hash) {
            return ix;
        }
        let dep_ix = self.ixs(deps);
        let lamport = dep_ix
            .iter()
            .map(|d| self.nodes[*d as usize].lamport)
            .max()
            .unwrap_or(0)
            + 1;
        let ix = self.nodes.len() as Ix;
        let past = self.ancestors_ix(&dep_ix);
        let start = self.writes.len() as u32;
        for (reg, value) in writes {
            let list = self.registers.entry(reg.clone()).or_default();
            let supersedes: Vec<u32> = list
                .iter()
                .copied()
                .filter(|w| past.contains(self.writes[*w as usize].node))
                .collect();
            list.push(self.writes.len() as u32);
            self.writes.push(Write {
                node: ix,
                register: reg,
                value,
                supersedes,
            });
        }
        let end = self.writes.len() as u32;
        for d in &dep_ix {
            self.nodes[*d as usize].children.push(ix);
        }
        self.by_device.entry(info.device).or_default().push(ix);
        self.by_member.entry(info.member).or_default().push(ix);
        if let Some(inv) = info.invitation {
            self.by_invitation.entry(inv).or_default().push(ix);
        }
        // A new change changes others' validity only if it carries evidence, is itself a
        // possible victim, or revokes something concurrent with it (the caller checks that);
        // otherwise the caller extends the validity with it alone.
        if info.evidence.is_some() || self.is_possible_victim(&info) {
            self.stale = true;
        }
        if info.revokes.is_some() {
            self.revocations.push(ix);
        }
        if info.evidence.is_some() {
            self.evidence.push(ix);
        }
        self.nodes.push(Node {
            hash,
            deps: dep_ix,
            children: Vec::new(),
            lamport,
            info: Some(info),
            writes: start..end,
        });
        self.by_hash.insert(hash, ix);
        self.heads.retain(|h| !deps.contains(h));
        self.heads.push(hash);
        self.heads.sort();
        ix
    }

    /// Whether some indexed revocation or evidence names the author, device or invitation of
    /// a change (so it may be void).
    pub(crate) fn is_possible_victim(&self, info: &ChangeInfo) -> bool {
        let named = self.revocations.iter().any(|r| {
            let Some(rv) = self.nodes[*r as usize]
                .info
                .as_ref()
                .and_then(|i| i.revokes.as_ref())
            else {
                return false;
            };
            match &rv.target {
                Target::Members(ms) => {
                    ms.contains(&info.member)
                        || info.invitation.is_some_and(|(inv, _)| ms.contains(&inv))
                }
                Target::Device(d) => *d == info.device,
                Target::Invitation(m, n) => info.invitation == Some((*m, *n)),
            }
        });
        named || !self.validity.equivocations.is_empty()
    }

    /// Every node in the causal past of the nodes `frontier` (sorted), the frontier included.
    pub(crate) fn ancestors_ix(&mut self, frontier: &[Ix]) -> Arc<BitSet> {
        if let Some(a) = self.ancestors.get(frontier, 0) {
            return a;
        }
        let mut seen = BitSet::with_capacity(self.nodes.len());
        let mut stack: Vec<Ix> = frontier.to_vec();
        while let Some(i) = stack.pop() {
            if seen.insert(i) {
                stack.extend(self.nodes[i as usize].deps.iter().copied());
            }
        }
        let a = Arc::new(seen);
        self.ancestors.put(frontier.to_vec(), 0, a.clone());
        a
    }

    /// Every change in the causal past of `frontier` (hashes; unknown ones ignored).
    pub(crate) fn ancestors(&mut self, frontier: &[Hash]) -> Arc<BitSet> {
        let f = self.ixs(frontier);
        self.ancestors_ix(&f)
    }

    /// Every node in the causal future of `ix`, `ix` included.
    pub(crate) fn descendants(&self, ix: Ix) -> BitSet {
        let mut seen = BitSet::with_capacity(self.nodes.len());
        let mut stack = vec![ix];
        while let Some(i) = stack.pop() {
            if seen.insert(i) {
                stack.extend(self.nodes[i as usize].children.iter().copied());
            }
        }
        seen
    }

    /// The state at the current heads.
    pub(crate) fn current(&mut self, view: View) -> Arc<GovState> {
        let heads = self.heads.clone();
        self.state_at(&heads, view)
    }

    /// The state at `frontier` (hashes).
    pub(crate) fn state_at(&mut self, frontier: &[Hash], view: View) -> Arc<GovState> {
        let f = self.ixs(frontier);
        self.state_at_ix(&f, view)
    }

    /// The state at the nodes `frontier` (sorted).
    pub(crate) fn state_at_ix(&mut self, frontier: &[Ix], view: View) -> Arc<GovState> {
        // Cache keys: the raw view as version 0 (a frontier's past never changes); resolved
        // views by validity version + 1.
        let version = match view {
            View::Raw => 0,
            View::Resolved => self.validity.version + 1,
        };
        if let Some(s) = self.states.get(frontier, version) {
            return s;
        }
        // A change that only trades, on top of a frontier whose state is cached: that state
        // plus its writes (see `derive_market`), instead of folding every register again.
        if let [c] = frontier
            && let Some(prev) = self.cached_prev(*c, version)
        {
            let v = match view {
                View::Raw => Arc::new(Validity::default()),
                View::Resolved => self.validity.clone(),
            };
            if let Some(st) = self.derive_market(*c, &prev, &v) {
                let s = Arc::new(st);
                self.states.put(frontier.to_vec(), version, s.clone());
                return s;
            }
        }
        let anc = self.ancestors_ix(frontier);
        let s = Arc::new(match view {
            View::Raw => self.materialize(&anc, &Validity::default()),
            View::Resolved => self.materialize(&anc, &self.validity),
        });
        self.states.put(frontier.to_vec(), version, s.clone());
        s
    }

    /// The cached state at the dependencies of node `c` under cache `version`; when nothing
    /// is void or overridden the raw and resolved states are one, so either will do.
    fn cached_prev(&mut self, c: Ix, version: u64) -> Option<Arc<GovState>> {
        let deps = self.nodes[c as usize].deps.clone();
        if let Some(s) = self.states.get(&deps, version) {
            return Some(s);
        }
        if !self.validity.is_clean() {
            return None;
        }
        let other = if version == 0 {
            self.validity.version + 1
        } else {
            0
        };
        self.states.get(&deps, other)
    }

    /// The state over exactly the nodes of `anc` (ancestor-closed), with `v` applied.
    pub(crate) fn state_over(&self, anc: &BitSet, v: &Validity) -> GovState {
        self.materialize(anc, v)
    }

    /// Forget cached states (after the validity changed).
    pub(crate) fn clear_states(&mut self) {
        self.states.clear();
    }

    /// A copy of this index without the changes in `drop` (and anything that depends on
    /// them): replays every other change in its original order.
    pub(crate) fn without(&self, drop: &std::collections::HashSet<Hash>) -> GovIndex {
        let mut out = GovIndex::new(self.genesis.clone(), self.nodes[0].hash);
        let mut dropped = BitSet::with_capacity(self.nodes.len());
        for (i, n) in self.nodes.iter().enumerate().skip(1) {
            if drop.contains(&n.hash) || n.deps.iter().any(|d| dropped.contains(*d)) {
                dropped.insert(i as Ix);
                continue;
            }
            let Some(info) = n.info.clone() else { continue };
            let deps: Vec<Hash> = n
                .deps
                .iter()
                .map(|d| self.nodes[*d as usize].hash)
                .collect();
            let writes = self.writes[n.writes.start as usize..n.writes.end as usize]
                .iter()
                .map(|w| (w.register.clone(), w.value.clone()))
                .collect();
            out.add(n.hash, &deps, info, writes);
        }
        out.stale = true;
        out
    }
}
