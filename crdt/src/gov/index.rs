//! The governance index: every governance write with its causal context, evaluated at any
//! frontier (see the module doc of `gov`).

use super::state::{DeviceLink, GovState, HideInfo};
use crate::community::action::ChannelSettings;
use crate::community::genesis::CommunityGenesis;
use crate::community::policy::{AdmissionPolicy, Perm, Role};
use crate::ids::{ChannelId, Hash, PostId};
use qun_identity::{
    DeviceId, Endorsement, EndorsementBook, Invitation, MemberId, Scope, Signed, Timestamp,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// How many frontiers' ancestor sets and states to keep.
const CACHE_FRONTIERS: usize = 16;
/// Endorsement topics that count towards admission.
const ADMISSION_TOPICS: [&str; 2] = ["*", "membership"];

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
}

/// What a write sets its register to.
#[derive(Clone, Debug)]
pub(crate) enum WriteValue {
    /// A join request, with its invitation when it has one.
    Request(Option<Box<Signed<Invitation>>>),
    Admit,
    Remove,
    Leave,
    Role(Role),
    Link(DeviceLink),
    Revoke {
        from: Timestamp,
    },
    Policy(AdmissionPolicy),
    Meta {
        name: String,
        description: String,
    },
    Channel(ChannelSettings),
    RoleDef(BTreeSet<Perm>),
    Hide(HideInfo),
    Unhide,
}

#[derive(Debug)]
struct Write {
    change: Hash,
    lamport: u64,
    time: Timestamp,
    value: WriteValue,
    /// Writes of the same register in the causal past of this one's change.
    supersedes: Vec<u32>,
}

impl Write {
    fn order_key(&self) -> (u64, Hash) {
        (self.lamport, self.change)
    }
}

#[derive(Debug)]
struct Node {
    deps: Vec<Hash>,
    lamport: u64,
}

/// Small cache keyed by a sorted frontier.
#[derive(Debug)]
struct FrontierCache<T> {
    entries: Vec<(Vec<Hash>, Arc<T>)>,
}

impl<T> FrontierCache<T> {
    fn new() -> Self {
        FrontierCache {
            entries: Vec::new(),
        }
    }

    fn get(&mut self, f: &[Hash]) -> Option<Arc<T>> {
        let pos = self.entries.iter().position(|(k, _)| k.as_slice() == f)?;
        let e = self.entries.remove(pos);
        let v = e.1.clone();
        self.entries.push(e);
        Some(v)
    }

    fn put(&mut self, f: Vec<Hash>, v: Arc<T>) {
        if self.entries.len() >= CACHE_FRONTIERS {
            self.entries.remove(0);
        }
        self.entries.push((f, v));
    }
}

/// The index of one community's governance document.
#[derive(Debug)]
pub(crate) struct GovIndex {
    genesis: CommunityGenesis,
    nodes: HashMap<Hash, Node>,
    heads: Vec<Hash>,
    writes: Vec<Write>,
    registers: BTreeMap<Register, Vec<u32>>,
    endorsements: Vec<(Hash, Signed<Endorsement>)>,
    ancestors: FrontierCache<HashSet<Hash>>,
    states: FrontierCache<GovState>,
}

fn sorted(f: &[Hash]) -> Vec<Hash> {
    let mut v = f.to_vec();
    v.sort();
    v.dedup();
    v
}

impl GovIndex {
    /// An index holding only the document genesis `root`.
    pub(crate) fn new(genesis: CommunityGenesis, root: Hash) -> Self {
        let mut nodes = HashMap::new();
        nodes.insert(
            root,
            Node {
                deps: Vec::new(),
                lamport: 0,
            },
        );
        GovIndex {
            genesis,
            nodes,
            heads: vec![root],
            writes: Vec::new(),
            registers: BTreeMap::new(),
            endorsements: Vec::new(),
            ancestors: FrontierCache::new(),
            states: FrontierCache::new(),
        }
    }

    /// Whether a governance change is indexed.
    pub(crate) fn contains(&self, h: &Hash) -> bool {
        self.nodes.contains_key(h)
    }

    /// Current heads.
    pub(crate) fn heads(&self) -> &[Hash] {
        &self.heads
    }

    /// Record a validated governance change and what it writes.
    pub(crate) fn add(
        &mut self,
        hash: Hash,
        deps: &[Hash],
        time: Timestamp,
        writes: Vec<(Register, WriteValue)>,
        endorsement: Option<Signed<Endorsement>>,
    ) {
        if self.nodes.contains_key(&hash) {
            return;
        }
        let lamport = deps
            .iter()
            .filter_map(|d| self.nodes.get(d))
            .map(|n| n.lamport)
            .max()
            .unwrap_or(0)
            + 1;
        let past = self.ancestors(deps);
        for (reg, value) in writes {
            let list = self.registers.entry(reg).or_default();
            let supersedes: Vec<u32> = list
                .iter()
                .copied()
                .filter(|w| past.contains(&self.writes[*w as usize].change))
                .collect();
            let ix = self.writes.len() as u32;
            self.writes.push(Write {
                change: hash,
                lamport,
                time,
                value,
                supersedes,
            });
            list.push(ix);
        }
        if let Some(e) = endorsement {
            self.endorsements.push((hash, e));
        }
        self.nodes.insert(
            hash,
            Node {
                deps: deps.to_vec(),
                lamport,
            },
        );
        self.heads.retain(|h| !deps.contains(h));
        self.heads.push(hash);
        self.heads.sort();
    }

    /// Every change in the causal past of `frontier`, the frontier included. Unknown hashes
    /// are ignored (callers check presence first).
    pub(crate) fn ancestors(&mut self, frontier: &[Hash]) -> Arc<HashSet<Hash>> {
        let key = sorted(frontier);
        if let Some(a) = self.ancestors.get(&key) {
            return a;
        }
        let mut seen = HashSet::new();
        let mut stack: Vec<Hash> = key.clone();
        while let Some(h) = stack.pop() {
            if let Some(n) = self.nodes.get(&h)
                && seen.insert(h)
            {
                stack.extend(n.deps.iter().copied());
            }
        }
        let a = Arc::new(seen);
        self.ancestors.put(key, a.clone());
        a
    }

    /// The state at the current heads.
    pub(crate) fn current(&mut self) -> Arc<GovState> {
        let heads = self.heads.clone();
        self.state_at(&heads)
    }

    /// The state at `frontier`.
    pub(crate) fn state_at(&mut self, frontier: &[Hash]) -> Arc<GovState> {
        let key = sorted(frontier);
        if let Some(s) = self.states.get(&key) {
            return s;
        }
        let anc = self.ancestors(&key);
        let s = Arc::new(self.materialize(&anc));
        self.states.put(key, s.clone());
        s
    }

    /// The visible writes of a register among `anc`.
    fn visible(&self, list: &[u32], anc: &HashSet<Hash>) -> Vec<&Write> {
        let present: Vec<u32> = list
            .iter()
            .copied()
            .filter(|w| anc.contains(&self.writes[*w as usize].change))
            .collect();
        let superseded: HashSet<u32> = present
            .iter()
            .flat_map(|w| self.writes[*w as usize].supersedes.iter().copied())
            .collect();
        present
            .into_iter()
            .filter(|w| !superseded.contains(w))
            .map(|w| &self.writes[w as usize])
            .collect()
    }

    fn winner<'a>(vis: &[&'a Write]) -> Option<&'a Write> {
        vis.iter().copied().max_by_key(|w| w.order_key())
    }

    fn materialize(&self, anc: &HashSet<Hash>) -> GovState {
        let g = self.genesis.value();
        let mut st = GovState {
            name: g.name.clone(),
            description: g.description.clone(),
            policy: g.policy.clone(),
            members: g.founders.iter().map(|f| (*f, Role::Founder)).collect(),
            requests: BTreeSet::new(),
            removed: BTreeMap::new(),
            devices: BTreeMap::new(),
            revoked: BTreeMap::new(),
            channels: BTreeMap::new(),
            role_defs: BTreeMap::new(),
            hidden: BTreeMap::new(),
            endorsements: EndorsementBook::new(),
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
        let mut candidates: Vec<(MemberId, Option<&Signed<Invitation>>)> = Vec::new();
        // Bearer invitations: the first request (by lamport, hash) to use a nonce owns it.
        let mut nonce_owner: BTreeMap<[u8; 16], ((u64, Hash), MemberId)> = BTreeMap::new();
        let mut role_regs: BTreeMap<MemberId, Role> = BTreeMap::new();

        for (reg, list) in &self.registers {
            let vis = self.visible(list, anc);
            if vis.is_empty() {
                continue;
            }
            match reg {
                Register::Policy => {
                    if let Some(WriteValue::Policy(p)) = Self::winner(&vis).map(|w| &w.value) {
                        st.policy = p.clone();
                    }
                }
                Register::Meta => {
                    if let Some(WriteValue::Meta { name, description }) =
                        Self::winner(&vis).map(|w| &w.value)
                    {
                        st.name = name.clone();
                        st.description = description.clone();
                    }
                }
                Register::Channel(c) => {
                    if let Some(WriteValue::Channel(s)) = Self::winner(&vis).map(|w| &w.value) {
                        st.channels.insert(c.clone(), s.clone());
                    }
                }
                Register::RoleDef(n) => {
                    if let Some(WriteValue::RoleDef(p)) = Self::winner(&vis).map(|w| &w.value) {
                        st.role_defs.insert(n.clone(), p.clone());
                    }
                }
                Register::Hide(p) => {
                    if let Some(WriteValue::Hide(h)) = Self::winner(&vis).map(|w| &w.value) {
                        st.hidden.insert(p.clone(), h.clone());
                    }
                }
                Register::Device(d) => {
                    // A revocation wins over anything concurrent with it.
                    let revoke_from = vis
                        .iter()
                        .filter_map(|w| match &w.value {
                            WriteValue::Revoke { from, .. } => Some(*from),
                            _ => None,
                        })
                        .min();
                    // The newest link in the past, even when a revocation superseded it.
                    let link = list
                        .iter()
                        .map(|w| &self.writes[*w as usize])
                        .filter(|w| anc.contains(&w.change))
                        .filter_map(|w| match &w.value {
                            WriteValue::Link(l) => Some((w.order_key(), l)),
                            _ => None,
                        })
                        .max_by_key(|(k, _)| *k)
                        .map(|(_, l)| l.clone());
                    match (revoke_from, link) {
                        (Some(from), Some(l)) => {
                            st.revoked.insert(*d, (l, from));
                        }
                        (None, Some(l)) => {
                            if let Some(WriteValue::Link(w)) = Self::winner(&vis).map(|w| &w.value)
                            {
                                st.devices.insert(*d, w.clone());
                            } else {
                                st.devices.insert(*d, l);
                            }
                        }
                        _ => {}
                    }
                }
                Register::Role(m) => {
                    if let Some(WriteValue::Role(r)) = Self::winner(&vis).map(|w| &w.value) {
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
                        .filter(|w| matches!(w.value, WriteValue::Remove))
                        .max_by_key(|w| w.order_key());
                    if let Some(r) = removal {
                        st.removed.insert(*m, r.time);
                        continue;
                    }
                    match Self::winner(&vis).map(|w| (&w.value, w)) {
                        Some((WriteValue::Admit, _)) => {
                            st.members.insert(*m, Role::Member);
                        }
                        Some((WriteValue::Request(inv), _)) => {
                            candidates.push((*m, inv.as_deref()));
                        }
                        _ => {}
                    }
                }
            }
            if let Register::Membership(m) = reg {
                for w in list.iter().map(|w| &self.writes[*w as usize]) {
                    if !anc.contains(&w.change) {
                        continue;
                    }
                    if let WriteValue::Request(Some(inv)) = &w.value
                        && inv.value().invitee.is_none()
                    {
                        let e = nonce_owner
                            .entry(inv.value().nonce)
                            .or_insert((w.order_key(), *m));
                        if w.order_key() < e.0 {
                            *e = (w.order_key(), *m);
                        }
                    }
                }
            }
        }
        for (e_hash, e) in &self.endorsements {
            if anc.contains(e_hash) {
                st.endorsements.insert(e.clone());
            }
        }

        // Admission by policy, to a fixpoint (inviters and endorsers may be admitted
        // candidates themselves).
        let community = self.genesis.id();
        let flow =
            match &st.policy {
                AdmissionPolicy::TrustFlow { capacities } => Some(
                    crate::community::flow::admitted(&st, &g.founders, &community, capacities),
                ),
                _ => None,
            };
        loop {
            let mut admitted = Vec::new();
            for (m, inv) in &candidates {
                if st.members.contains_key(m) {
                    continue;
                }
                let ok = match &st.policy {
                    AdmissionPolicy::Open => true,
                    AdmissionPolicy::Invite => inv.is_some_and(|inv| {
                        let v = inv.value();
                        let owner_ok = v.invitee == Some(*m)
                            || nonce_owner.get(&v.nonce).is_some_and(|(_, o)| o == m);
                        owner_ok && v.community == community.0 && st.can(&v.inviter, Perm::Invite)
                    }),
                    AdmissionPolicy::Endorsements { k } => {
                        endorsers_of(&st, m, &community).len() >= usize::from(*k)
                    }
                    AdmissionPolicy::TrustFlow { .. } => {
                        flow.as_ref().is_some_and(|f| f.contains(m))
                    }
                };
                if ok {
                    admitted.push(*m);
                }
            }
            if admitted.is_empty() {
                break;
            }
            for m in admitted {
                st.members.insert(m, Role::Member);
            }
        }
        for (m, _) in candidates {
            if !st.members.contains_key(&m) {
                st.requests.insert(m);
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

/// Whether an endorsement counts in this community.
pub(crate) fn counts_here(e: &Endorsement, community: &crate::ids::CommunityId) -> bool {
    let scope_ok = match e.scope {
        Scope::Global => true,
        Scope::Community(c) => c == community.0,
    };
    scope_ok && e.weight.millis() > 0 && ADMISSION_TOPICS.contains(&e.topic.as_str())
}

/// Distinct current members holding a positive admission endorsement of `m`.
fn endorsers_of(
    st: &GovState,
    m: &MemberId,
    community: &crate::ids::CommunityId,
) -> BTreeSet<MemberId> {
    st.endorsements
        .latest()
        .map(|e| e.value())
        .filter(|e| e.to == *m && counts_here(e, community) && st.members.contains_key(&e.from))
        .map(|e| e.from)
        .collect()
}
