//! Local filtering by negative endorsements.
//!
//! A negative endorsement is an opinion of its holder only. It never becomes negative mass
//! that propagates to others (that would let one liar sink anyone, and let Sybils gang up on
//! honest members). Instead, for the holder's own view:
//!
//! * weight ≤ `block_at` (default −0.5): the member is **blocked** — hidden from the holder's
//!   ranking and removed from the holder's snapshot, so no trust flows *through* them either;
//! * `block_at` < weight < 0: the member is **down-ranked**: score × (1 + weight), then
//!   renormalised.
//!
//! With several holders (say the viewer and the founders of a community the viewer defers
//! to), the most negative opinion about a member applies. Nobody else's ranking changes.

use crate::graph::{Node, View};
use crate::params::FilterParams;
use std::collections::BTreeMap;

/// The negative opinions of some holders, ready to apply to their ranking.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LocalFilter {
    blocked: Vec<Node>,
    downrank: BTreeMap<Node, f32>,
}

impl LocalFilter {
    /// Read the negative endorsements made by `holders` in `view`.
    pub fn from_holders(view: &View<'_>, holders: &[Node], params: &FilterParams) -> Self {
        let mut worst: BTreeMap<Node, f32> = BTreeMap::new();
        for (u, v, w) in view.negatives() {
            if holders.contains(&Node(u)) {
                let e = worst.entry(Node(v)).or_insert(0.0);
                *e = e.min(w.max(-1.0));
            }
        }
        let mut f = LocalFilter::default();
        for (node, w) in worst {
            if holders.contains(&node) {
                continue; // a holder never filters itself out
            }
            if w <= params.block_at() {
                f.blocked.push(node);
            } else if w < 0.0 {
                f.downrank.insert(node, w);
            }
        }
        f
    }

    /// A filter from explicit lists (for callers that keep opinions elsewhere).
    pub fn new(mut blocked: Vec<Node>, downrank: BTreeMap<Node, f32>) -> Self {
        blocked.sort_unstable();
        blocked.dedup();
        LocalFilter { blocked, downrank }
    }

    /// Blocked members, ascending.
    pub fn blocked(&self) -> &[Node] {
        &self.blocked
    }

    /// Down-ranked members and their weight (in (−1, 0)).
    pub fn downranked(&self) -> &BTreeMap<Node, f32> {
        &self.downrank
    }

    /// Whether `node` is blocked.
    pub fn is_blocked(&self, node: Node) -> bool {
        self.blocked.binary_search(&node).is_ok()
    }

    /// A per-node flag vector of blocked members.
    pub fn blocked_mask(&self, nodes: usize) -> Vec<bool> {
        let mut m = vec![false; nodes];
        for b in &self.blocked {
            if let Some(x) = m.get_mut(b.index()) {
                *x = true;
            }
        }
        m
    }

    /// Zero and hide blocked members, scale down-ranked ones.
    pub fn apply(&self, scores: &mut [f64], hidden: &mut [bool]) {
        for b in &self.blocked {
            if let (Some(s), Some(h)) = (scores.get_mut(b.index()), hidden.get_mut(b.index())) {
                *s = 0.0;
                *h = true;
            }
        }
        for (n, w) in &self.downrank {
            if let Some(s) = scores.get_mut(n.index()) {
                *s *= f64::from(1.0 + w.clamp(-1.0, 0.0));
            }
        }
    }
}
