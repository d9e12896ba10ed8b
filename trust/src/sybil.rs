//! Sybil regions grafted onto a graph, for experiments and tests.
//!
//! The attacker controls `count` fake identities. They endorse each other freely (each Sybil
//! endorses `internal_degree` random other Sybils, plus a ring so the region is connected) and
//! may endorse honest members freely too (`back_edges`): none of that needs anyone's consent.
//! What the attacker cannot make alone are *attack edges*: endorsements from honest members
//! to Sybils, obtained by fooling them. `attack_edges` of those are drawn from distinct honest
//! members chosen uniformly at random (seeds excluded, the defence's assumption) to uniformly
//! random Sybils.
//!
//! Sybil indices follow the honest ones: honest `0..n`, Sybils `n..n+count`.

use crate::error::{Error, Result};
use crate::graph::Csr;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha12Rng;
use serde::{Deserialize, Serialize};

/// Default number of Sybils.
pub const DEFAULT_SYBILS: usize = 1_000;
/// Default number of attack edges.
pub const DEFAULT_ATTACK_EDGES: usize = 50;
/// Default endorsements each Sybil makes inside the region.
pub const DEFAULT_INTERNAL_DEGREE: usize = 8;

/// Shape of the Sybil region.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SybilParams {
    /// Number of Sybil identities.
    pub count: usize,
    /// Honest → Sybil endorsements (the attack edges).
    pub attack_edges: usize,
    /// Endorsements each Sybil makes to other Sybils (internal density).
    pub internal_degree: usize,
    /// Sybil → honest endorsements (free for the attacker; they only matter to defences that
    /// ignore edge direction).
    pub back_edges: usize,
}

impl Default for SybilParams {
    fn default() -> Self {
        SybilParams {
            count: DEFAULT_SYBILS,
            attack_edges: DEFAULT_ATTACK_EDGES,
            internal_degree: DEFAULT_INTERNAL_DEGREE,
            back_edges: DEFAULT_ATTACK_EDGES,
        }
    }
}

/// An honest graph with a Sybil region attached.
#[derive(Clone, Debug)]
pub struct Grafted {
    /// Number of honest nodes (`0..honest` are honest).
    pub honest: usize,
    /// All nodes, honest then Sybil.
    pub nodes: usize,
    /// The combined edges.
    pub edges: Vec<(u32, u32, f32)>,
    /// The attack edges `(honest, sybil)`.
    pub attack_edges: Vec<(u32, u32)>,
}

impl Grafted {
    /// Whether node `i` is a Sybil.
    pub fn is_sybil(&self, i: usize) -> bool {
        i >= self.honest && i < self.nodes
    }

    /// The combined graph as a CSR.
    pub fn csr(&self) -> Result<Csr> {
        Csr::from_edges(self.nodes, self.edges.clone())
    }
}

/// Attach a Sybil region to an honest graph of `honest` nodes with `edges`. `protected`
/// members (the seeds) are never tricked into an attack edge. Deterministic in `seed`.
pub fn graft(
    honest: usize,
    edges: &[(u32, u32, f32)],
    protected: &[u32],
    params: &SybilParams,
    seed: u64,
) -> Result<Grafted> {
    let mut candidates: Vec<u32> = (0..honest as u32).collect();
    let mut is_protected = vec![false; honest];
    for &p in protected {
        if let Some(x) = is_protected.get_mut(p as usize) {
            *x = true;
        }
    }
    candidates.retain(|c| !is_protected[*c as usize]);
    if params.attack_edges > candidates.len() {
        return Err(Error::param(
            "attack_edges",
            format!(
                "{} attack edges need as many honest members; only {} are eligible",
                params.attack_edges,
                candidates.len()
            ),
        ));
    }
    if params.count == 0 && params.attack_edges > 0 {
        return Err(Error::param(
            "count",
            "attack edges need at least one Sybil",
        ));
    }
    let nodes = honest
        .checked_add(params.count)
        .filter(|n| *n < u32::MAX as usize)
        .ok_or(Error::TooLarge {
            what: "nodes",
            limit: u64::from(u32::MAX),
        })?;
    let mut rng = ChaCha12Rng::seed_from_u64(seed);
    let mut out = edges.to_vec();
    let s0 = honest as u32;
    let s = params.count as u32;
    // Partial Fisher–Yates: the first `attack_edges` candidates are the tricked members.
    for i in 0..params.attack_edges {
        let j = rng.random_range(i..candidates.len());
        candidates.swap(i, j);
    }
    let mut attack = Vec::with_capacity(params.attack_edges);
    for &h in &candidates[..params.attack_edges] {
        let t = s0 + rng.random_range(0..s);
        attack.push((h, t));
        out.push((h, t, 1.0));
    }
    if s > 1 {
        for i in 0..s {
            out.push((s0 + i, s0 + (i + 1) % s, 1.0));
            for _ in 0..params.internal_degree.saturating_sub(1) {
                let j = rng.random_range(0..s);
                if j != i {
                    out.push((s0 + i, s0 + j, 1.0));
                }
            }
        }
    }
    if s > 0 && honest > 0 {
        for _ in 0..params.back_edges {
            let from = s0 + rng.random_range(0..s);
            let to = rng.random_range(0..honest as u32);
            out.push((from, to, 1.0));
        }
    }
    out.sort_by_key(|e| (e.0, e.1));
    out.dedup_by_key(|e| (e.0, e.1));
    Ok(Grafted {
        honest,
        nodes,
        edges: out,
        attack_edges: attack,
    })
}
