//! The product's graph: verified `Signed<Endorsement>`s in, a [`TrustGraph<MemberId>`] out,
//! updated one endorsement at a time.
//!
//! [`EndorsementGraph`] keeps, per supersession slot `(from, to, topic, scope)`, the newest
//! endorsement (by `created`, then content id — the same rule as
//! [`qun_identity::EndorsementBook`], so every node agrees whatever the arrival order), and
//! derives the edge `from → to` on `topic`:
//!
//! * only the `Global` scope and, if the graph belongs to a community, that community's scope
//!   count; a community-scoped endorsement overrides a global one for the same edge;
//! * weight 0 (revocation) and lapsed endorsements (`expires <= now`) give no edge;
//! * negative weights become negative edges (local filtering only).
//!
//! Each insert touches one edge (`O(out-degree)` in the overlay, see [`crate::graph`]); expiry
//! is a time-ordered index, so [`EndorsementGraph::expire`] costs only the edges that lapse.
//! The signer must act for `from` (a root key or a certified device of that member).

use crate::error::{Error, Result};
use crate::graph::{Node, TrustGraph};
use qun_identity::endorsement::EndorsementKey;
use qun_identity::{
    ContentId, Delegations, Endorsement, EndorsementBook, MemberId, Scope, Signed, Timestamp, Topic,
};
use std::collections::{BTreeMap, BTreeSet};

/// What an insert did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The slot was new or superseded and the edge changed.
    Changed,
    /// The slot was new or superseded but the edge is the same (e.g. an already-lapsed
    /// endorsement replacing a revocation).
    Unchanged,
    /// A newer endorsement already holds the slot.
    Stale,
    /// The endorsement belongs to another community.
    OutOfScope,
}

#[derive(Clone, Debug)]
struct Slot {
    created: Timestamp,
    id: ContentId,
    weight: f32,
    expires: Option<Timestamp>,
}

impl Slot {
    fn active_at(&self, now: Timestamp) -> bool {
        self.weight != 0.0 && self.expires.is_none_or(|e| now < e)
    }
}

/// Endorsements → trust graph, incrementally (see the [module docs](self)).
#[derive(Clone, Debug)]
pub struct EndorsementGraph {
    graph: TrustGraph<MemberId>,
    community: Option<ContentId>,
    slots: BTreeMap<EndorsementKey, Slot>,
    expiry: BTreeSet<(Timestamp, EndorsementKey)>,
    now: Timestamp,
}

impl EndorsementGraph {
    /// An empty graph for a community (`Some(id)`) or for global trust only (`None`).
    pub fn new(community: Option<ContentId>) -> Self {
        EndorsementGraph {
            graph: TrustGraph::new(),
            community,
            slots: BTreeMap::new(),
            expiry: BTreeSet::new(),
            now: Timestamp::ZERO,
        }
    }

    /// Build from a book (in its deterministic slot order). Endorsements whose signer does
    /// not act for their author are skipped and returned with their error.
    pub fn from_book(
        book: &EndorsementBook,
        delegations: &Delegations,
        community: Option<ContentId>,
        now: Timestamp,
    ) -> (Self, Vec<(ContentId, Error)>) {
        let mut g = EndorsementGraph::new(community);
        g.now = now;
        let mut rejected = Vec::new();
        for e in book.latest() {
            if let Err(err) = g.insert(e, delegations, now) {
                rejected.push((e.id(), err));
            }
        }
        (g, rejected)
    }

    /// Build from a book whose signers the caller has already checked (a community's
    /// governance state admits an endorsement only when its signer acts for its author there),
    /// with no clock: expiry in a community is a causal action that has already taken expired
    /// endorsements out of the book. Use this so that ranking sees exactly the endorsements
    /// admission counts.
    pub fn from_checked_book(book: &EndorsementBook, community: Option<ContentId>) -> Self {
        let mut g = EndorsementGraph::new(community);
        for e in book.latest() {
            let v = e.value();
            if let Scope::Community(c) = v.scope
                && Some(c) != g.community
            {
                continue;
            }
            let key = v.key();
            let slot = Slot {
                created: v.created,
                id: e.id(),
                weight: weight_of(v),
                expires: None,
            };
            if g.slots
                .get(&key)
                .is_some_and(|old| (slot.created, slot.id) <= (old.created, old.id))
            {
                continue;
            }
            g.slots.insert(key, slot);
            // Interning can only fail past the graph's node limit; such an edge is skipped.
            let _ = g.refresh(v.from, v.to, &v.topic);
        }
        g
    }

    /// The graph to rank and admit on.
    pub fn graph(&self) -> &TrustGraph<MemberId> {
        &self.graph
    }

    /// The node of a member.
    pub fn node(&self, member: &MemberId) -> Option<Node> {
        self.graph.node(member)
    }

    /// Nodes of `members`; a member nobody has endorsed yet is added as an isolated node, so
    /// a new viewer can always rank (they see only themselves until they endorse someone).
    pub fn seeds(&mut self, members: &[MemberId]) -> Result<Vec<Node>> {
        members.iter().map(|m| self.graph.intern(*m)).collect()
    }

    /// The members admitted on `topic` by the Advogato flow from `founders` (founders not
    /// yet in the graph are ignored; fails with [`Error::NoSeeds`] if none is), sorted. This
    /// is what a community's admission policy asks.
    pub fn admitted_members(
        &self,
        founders: &[MemberId],
        topic: &Topic,
        params: &crate::params::AdmissionParams,
    ) -> Result<Vec<MemberId>> {
        let seeds: Vec<u32> = founders
            .iter()
            .filter_map(|m| self.graph.node(m))
            .map(|n| n.0)
            .collect();
        if seeds.is_empty() {
            return Err(Error::NoSeeds);
        }
        let csr = self.graph.view(topic).to_csr(None);
        let admission = crate::admission::admit(&csr, &seeds, params)?;
        let mut out: Vec<MemberId> = admission
            .accepted_nodes()
            .into_iter()
            .filter_map(|i| self.graph.label(Node(i)).copied())
            .collect();
        out.sort();
        Ok(out)
    }

    /// The latest time given to [`insert`](Self::insert) or [`expire`](Self::expire).
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Slots held (revocations and lapsed endorsements included).
    pub fn slots(&self) -> usize {
        self.slots.len()
    }

    /// Apply a verified endorsement at time `now`.
    pub fn insert(
        &mut self,
        e: &Signed<Endorsement>,
        delegations: &Delegations,
        now: Timestamp,
    ) -> Result<Applied> {
        let member = e.acting_member(delegations)?;
        let v = e.value();
        debug_assert_eq!(member, v.from);
        if let Scope::Community(c) = v.scope
            && Some(c) != self.community
        {
            return Ok(Applied::OutOfScope);
        }
        self.now = self.now.max(now);
        let key = v.key();
        let slot = Slot {
            created: v.created,
            id: e.id(),
            weight: weight_of(v),
            expires: v.expires,
        };
        if let Some(old) = self.slots.get(&key) {
            if (slot.created, slot.id) <= (old.created, old.id) {
                return Ok(Applied::Stale);
            }
            if let Some(x) = old.expires {
                self.expiry.remove(&(x, key.clone()));
            }
        }
        if let Some(x) = slot.expires {
            self.expiry.insert((x, key.clone()));
        }
        self.slots.insert(key, slot);
        if self.refresh(v.from, v.to, &v.topic)? {
            Ok(Applied::Changed)
        } else {
            Ok(Applied::Unchanged)
        }
    }

    /// Drop the edges of endorsements that lapsed by `now`. Returns how many edges changed.
    pub fn expire(&mut self, now: Timestamp) -> Result<usize> {
        self.now = self.now.max(now);
        let mut changed = 0;
        while let Some(first) = self.expiry.first().cloned() {
            if first.0 > now {
                break;
            }
            self.expiry.pop_first();
            let (from, to, topic, _) = first.1;
            if self.refresh(from, to, &topic)? {
                changed += 1;
            }
        }
        Ok(changed)
    }

    /// Recompute the effective edge `from → to` on `topic`; true if it changed.
    fn refresh(&mut self, from: MemberId, to: MemberId, topic: &Topic) -> Result<bool> {
        let now = self.now;
        let pick = |scope: Scope| {
            self.slots
                .get(&(from, to, topic.clone(), scope))
                .filter(|s| s.active_at(now))
                .map(|s| s.weight)
        };
        let effective = self
            .community
            .and_then(|c| pick(Scope::Community(c)))
            .or_else(|| pick(Scope::Global));
        let (u, v) = (self.graph.intern(from)?, self.graph.intern(to)?);
        let w = effective.unwrap_or(0.0);
        let old = self.graph.set_edge(u, v, topic, w)?;
        Ok(old.unwrap_or(0.0) != w)
    }
}

fn weight_of(e: &Endorsement) -> f32 {
    f32::from(e.weight.millis()) / 1000.0
}
