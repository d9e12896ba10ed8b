//! Ranking: personalized PageRank seeded at the viewer and/or founders, gated by admission
//! flow, with SybilRank kept for comparison.
//!
//! # Personalized PageRank (EigenTrust with pre-trusted peers)
//!
//! With `P` the row-normalised endorsement matrix (weight / endorser's total weight), `p`
//! the uniform distribution over the seeds and damping `α`:
//!
//! `s ← α sᵀP + (1 − α + α·dangling(s)) p`
//!
//! iterated (Jacobi, in node order, so results are bit-for-bit reproducible) until the L1
//! change is below the tolerance. Mass at members who endorse nobody returns to the seeds,
//! so scores always sum to 1. Only seeded reputation resists Sybils (Cheng & Friedman,
//! *Sybilproof reputation mechanisms*, 2005): the mass a Sybil region can hold is at most
//! `α/(1−α)` times what flows over its attack edges, however many Sybils there are.
//! Re-ranking after a change may start from the last scores ([`rank`]'s `warm`): the fixed
//! point is unique, so a warm start only saves iterations.
//!
//! # Gated ranking (the default)
//!
//! Plain PPR places honest members who are weakly connected (one invitation in) as low as
//! Sybils. [`Method::Gated`] combines rank with flow admission:
//!
//! 1. the Advogato flow of [`crate::admission`] admits ≥ 95 % of honest members but at most
//!    the attack edges' capacity of Sybils;
//! 2. PPR runs on the graph in which **only admitted members' endorsements carry trust**
//!    (as in Advogato, where only certified members certify): the non-admitted bulk of a
//!    Sybil region can no longer recirculate trust among itself;
//! 3. members are ordered by *admission first, score second*.
//!
//! `scores` are the PPR scores of step 2 (summing to 1); [`Ranking::key`] is the sort key.
//! On the 40k-member benchmark web this lifts the AUC at 200 attack edges from 0.85
//! (plain PPR, same damping) to 0.91–0.94, and at 50 from 0.97–0.98 to 0.98.
//!
//! # SybilRank
//!
//! Cao, Sirivianos, Yang, Pregueiro: *Aiding the detection of fake accounts in large scale
//! social online services*, NSDI 2012. `ceil(log2 n)` steps of a walk from the seeds on the
//! undirected graph, scores divided by degree. Kept for comparison (see
//! [`Method::SybilRank`] for why it is not the default on endorsement graphs).
//!
//! Negative endorsements never enter these computations; see [`crate::filter`].

use crate::admission::{Admission, admit};
use crate::error::{Error, Result};
use crate::filter::LocalFilter;
use crate::graph::{Csr, Label, Node, TrustGraph};
use crate::params::{AdmissionParams, Method, RankParams};
pub use crate::query::Query;
use std::cmp::Ordering;

/// Offset added to admitted members' keys in a gated ranking (scores are ≤ 1).
const ADMITTED_KEY_OFFSET: f64 = 2.0;

/// Scores and a stable order of all members.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranking {
    scores: Vec<f64>,
    order: Vec<Node>,
    position: Vec<u32>,
    admission: Option<Admission>,
    hidden: Vec<bool>,
    iterations: u32,
    residual: f64,
}

impl Ranking {
    /// Score per node (index = node); sums to 1 over visible nodes.
    pub fn scores(&self) -> &[f64] {
        &self.scores
    }

    /// Score of `node` (0 if unknown).
    pub fn score(&self, node: Node) -> f64 {
        self.scores.get(node.index()).copied().unwrap_or(0.0)
    }

    /// The sort key: the score, plus a constant for admitted members in a gated ranking.
    /// Higher is better; `order` is sorted by it (ties by label).
    pub fn key(&self, node: Node) -> f64 {
        let s = self.score(node);
        match &self.admission {
            Some(a) if a.is_accepted(node.index()) => s + ADMITTED_KEY_OFFSET,
            _ => s,
        }
    }

    /// Keys of all nodes.
    pub fn keys(&self) -> Vec<f64> {
        (0..self.scores.len() as u32)
            .map(|i| self.key(Node(i)))
            .collect()
    }

    /// Every visible node, best first; ties broken by label.
    pub fn order(&self) -> &[Node] {
        &self.order
    }

    /// The best `k` nodes.
    pub fn top(&self, k: usize) -> &[Node] {
        &self.order[..k.min(self.order.len())]
    }

    /// 0-based position of `node` in `order` (None if hidden by the filter or unknown).
    pub fn position(&self, node: Node) -> Option<usize> {
        match self.position.get(node.index()) {
            Some(&p) if p != u32::MAX => Some(p as usize),
            _ => None,
        }
    }

    /// Whether the viewer's filter hides `node`.
    pub fn is_hidden(&self, node: Node) -> bool {
        self.hidden.get(node.index()).copied().unwrap_or(false)
    }

    /// The admission that gated this ranking ([`Method::Gated`] only).
    pub fn admission(&self) -> Option<&Admission> {
        self.admission.as_ref()
    }

    /// Power iterations run (walk steps for SybilRank).
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// Last L1 change (0 for SybilRank).
    pub fn residual(&self) -> f64 {
        self.residual
    }
}

/// Rank the members of `graph` for `query`. `warm`: the previous ranking of the same query,
/// to start power iteration from (nodes added since start at 0).
pub fn rank<L: Label>(
    graph: &TrustGraph<L>,
    query: &Query,
    warm: Option<&Ranking>,
) -> Result<Ranking> {
    let (csr, seeds) = query.snapshot(graph)?;
    let raw = rank_csr(
        &csr,
        &seeds,
        &query.rank,
        &query.admission,
        warm.map(|w| w.scores.as_slice()),
    )?;
    let labels = graph.labels();
    Ok(finish(raw, query.filter.as_ref(), |a, b| {
        labels[a as usize].cmp(&labels[b as usize])
    }))
}

/// Scores before ordering, from [`rank_csr`].
#[derive(Clone, Debug)]
pub struct RawScores {
    /// Per node.
    pub scores: Vec<f64>,
    /// Admission, for [`Method::Gated`].
    pub admission: Option<Admission>,
    /// Iterations or walk steps.
    pub iterations: u32,
    /// Last L1 change.
    pub residual: f64,
}

/// Index-level ranking on a snapshot (no labels, no ordering): what [`rank`] and the Sybil
/// experiments call.
pub fn rank_csr(
    csr: &Csr,
    seeds: &[u32],
    params: &RankParams,
    admission: &AdmissionParams,
    warm: Option<&[f64]>,
) -> Result<RawScores> {
    let n = csr.nodes();
    if seeds.is_empty() {
        return Err(Error::NoSeeds);
    }
    if let Some(&s) = seeds.iter().find(|&&s| s as usize >= n) {
        return Err(Error::UnknownNode { index: s, nodes: n });
    }
    let teleport = uniform(seeds);
    match params.method() {
        Method::PersonalizedPageRank => {
            let r = ppr(
                &csr.row_normalized(),
                &teleport,
                params.damping(),
                params.tolerance(),
                params.max_iterations(),
                warm,
            );
            Ok(RawScores {
                scores: r.scores,
                admission: None,
                iterations: r.iterations,
                residual: r.residual,
            })
        }
        Method::Gated => {
            let adm = admit(csr, seeds, admission)?;
            let r = ppr(
                &admitted_only(csr, &adm).row_normalized(),
                &teleport,
                params.damping(),
                params.tolerance(),
                params.max_iterations(),
                warm,
            );
            Ok(RawScores {
                scores: r.scores,
                admission: Some(adm),
                iterations: r.iterations,
                residual: r.residual,
            })
        }
        Method::SybilRank => {
            let sym = csr.symmetrized();
            let steps = params
                .walk_steps()
                .unwrap_or_else(|| (n.max(2) as f64).log2().ceil() as u32);
            let x = walk(&sym.row_normalized(), &teleport, steps);
            let deg = sym.out_weights();
            let mut scores: Vec<f64> = x
                .iter()
                .zip(&deg)
                .map(|(s, d)| if *d > 0.0 { s / d } else { *s })
                .collect();
            normalize(&mut scores);
            Ok(RawScores {
                scores,
                admission: None,
                iterations: steps,
                residual: 0.0,
            })
        }
    }
}

/// Apply the filter, sort, and index positions.
pub(crate) fn finish(
    raw: RawScores,
    filter: Option<&LocalFilter>,
    tie: impl Fn(u32, u32) -> Ordering,
) -> Ranking {
    let n = raw.scores.len();
    let mut scores = raw.scores;
    let mut hidden = vec![false; n];
    if let Some(f) = filter {
        f.apply(&mut scores, &mut hidden);
        normalize(&mut scores);
    }
    let mut ranking = Ranking {
        scores,
        order: Vec::new(),
        position: vec![u32::MAX; n],
        admission: raw.admission,
        hidden,
        iterations: raw.iterations,
        residual: raw.residual,
    };
    let keys = ranking.keys();
    let mut order: Vec<u32> = (0..n as u32)
        .filter(|&i| !ranking.hidden[i as usize])
        .collect();
    order.sort_by(|&a, &b| {
        keys[b as usize]
            .partial_cmp(&keys[a as usize])
            .unwrap_or(Ordering::Equal)
            .then_with(|| tie(a, b))
            .then(a.cmp(&b))
    });
    for (p, &i) in order.iter().enumerate() {
        ranking.position[i as usize] = p as u32;
    }
    ranking.order = order.into_iter().map(Node).collect();
    ranking
}

/// The graph in which only admitted members' endorsements carry trust (rows of the others
/// emptied: their mass returns to the seeds).
pub fn admitted_only(csr: &Csr, admission: &Admission) -> Csr {
    let mut edges = Vec::with_capacity(csr.edges());
    for u in 0..csr.nodes() as u32 {
        if admission.is_accepted(u as usize) {
            let (t, w) = csr.row(u);
            edges.extend(t.iter().zip(w).map(|(&t, &w)| (u, t, w)));
        }
    }
    Csr::from_edges(csr.nodes(), edges).unwrap_or_else(|_| Csr::empty(csr.nodes()))
}

fn uniform(seeds: &[u32]) -> Vec<(u32, f64)> {
    let mut s = seeds.to_vec();
    s.sort_unstable();
    s.dedup();
    let m = 1.0 / s.len() as f64;
    s.into_iter().map(|x| (x, m)).collect()
}

fn normalize(x: &mut [f64]) {
    let total: f64 = x.iter().sum();
    if total > 0.0 {
        for v in x {
            *v /= total;
        }
    }
}

/// Result of a power iteration.
#[derive(Clone, Debug)]
pub struct Power {
    /// Scores per node, summing to 1.
    pub scores: Vec<f64>,
    /// Iterations run.
    pub iterations: u32,
    /// Last L1 change.
    pub residual: f64,
}

/// Personalized PageRank on a row-normalised graph `p` (see the [module docs](self)).
/// `teleport` must sum to 1 (entries out of range are ignored). `warm` (any non-negative
/// vector) is the starting point.
pub fn ppr(
    p: &Csr,
    teleport: &[(u32, f64)],
    damping: f64,
    tol: f64,
    max_iter: u32,
    warm: Option<&[f64]>,
) -> Power {
    let n = p.nodes();
    let mut x = vec![0.0f64; n];
    let warm_total: f64 = warm.map_or(0.0, |w| w.iter().take(n).map(|v| v.max(0.0)).sum());
    match warm {
        Some(w) if warm_total > 0.0 && warm_total.is_finite() => {
            for (xi, wi) in x.iter_mut().zip(w) {
                *xi = wi.max(0.0) / warm_total;
            }
        }
        _ => {
            for &(s, m) in teleport {
                if let Some(v) = x.get_mut(s as usize) {
                    *v += m;
                }
            }
        }
    }
    // Push formulation: each node spreads its mass along its (row-normalised) endorsements.
    // (A pull formulation over the transpose measured ~15 % slower here, transpose included.)
    let mut y = vec![0.0f64; n];
    let mut iterations = 0;
    let mut residual = f64::INFINITY;
    while iterations < max_iter {
        y.fill(0.0);
        let mut leak = 0.0;
        for (u, &xu) in x.iter().enumerate() {
            if xu == 0.0 {
                continue;
            }
            let (ts, ws) = p.row(u as u32);
            if ts.is_empty() {
                leak += xu;
            } else {
                let a = damping * xu;
                leak += xu - a;
                for (&t, &w) in ts.iter().zip(ws) {
                    y[t as usize] += a * f64::from(w);
                }
            }
        }
        for &(s, m) in teleport {
            if let Some(v) = y.get_mut(s as usize) {
                *v += leak * m;
            }
        }
        // f32 row weights do not sum to exactly 1; renormalising keeps the mass at 1 so the
        // iteration contracts instead of drifting.
        normalize(&mut y);
        residual = x.iter().zip(&y).map(|(a, b)| (a - b).abs()).sum();
        std::mem::swap(&mut x, &mut y);
        iterations += 1;
        if residual < tol {
            break;
        }
    }
    normalize(&mut x);
    Power {
        scores: x,
        iterations,
        residual,
    }
}

/// `steps` steps of a mass-conserving walk on a row-normalised graph from `start`; mass at a
/// node with no edge stays there.
pub fn walk(p: &Csr, start: &[(u32, f64)], steps: u32) -> Vec<f64> {
    let n = p.nodes();
    let mut x = vec![0.0f64; n];
    for &(s, m) in start {
        if let Some(v) = x.get_mut(s as usize) {
            *v += m;
        }
    }
    let mut y = vec![0.0f64; n];
    for _ in 0..steps {
        y.fill(0.0);
        for (u, &xu) in x.iter().enumerate() {
            if xu == 0.0 {
                continue;
            }
            let (ts, ws) = p.row(u as u32);
            if ts.is_empty() {
                y[u] += xu;
            } else {
                for (&t, &w) in ts.iter().zip(ws) {
                    y[t as usize] += xu * f64::from(w);
                }
            }
        }
        std::mem::swap(&mut x, &mut y);
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ppr_of(n: usize, edges: Vec<(u32, u32, f32)>, seeds: &[u32], d: f64) -> Vec<f64> {
        let c = Csr::from_edges(n, edges).unwrap().row_normalized();
        ppr(&c, &uniform(seeds), d, 1e-14, 10_000, None).scores
    }

    #[test]
    fn two_cycle_hand_computed() {
        // a <-> b, seed a: s_a = (1-d) + d s_b, s_b = d s_a  =>  s_a = 1/(1+d), s_b = d/(1+d).
        let s = ppr_of(2, vec![(0, 1, 1.0), (1, 0, 1.0)], &[0], 0.5);
        assert!(
            (s[0] - 2.0 / 3.0).abs() < 1e-12 && (s[1] - 1.0 / 3.0).abs() < 1e-12,
            "{s:?}"
        );
    }

    #[test]
    fn star_with_weights_hand_computed() {
        // seed 0 -> 1 (w 3), 0 -> 2 (w 1); 1 and 2 dangle (their mass returns to 0).
        // s1 = d*0.75*s0, s2 = d*0.25*s0, s0 = 1 - s1 - s2 = 1 - d s0 => s0 = 1/(1+d).
        let d = 0.5;
        let s = ppr_of(3, vec![(0, 1, 0.75), (0, 2, 0.25)], &[0], d);
        let s0 = 1.0 / (1.0 + d);
        assert!((s[0] - s0).abs() < 1e-12);
        assert!((s[1] - d * 0.75 * s0).abs() < 1e-12);
        assert!((s[2] - d * 0.25 * s0).abs() < 1e-12);
    }

    #[test]
    fn chain_decays_geometrically() {
        // 0 -> 1 -> 2 -> 3 (dangling): s_{k+1} = d s_k.
        let s = ppr_of(4, vec![(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0)], &[0], 0.5);
        for k in 0..3 {
            assert!((s[k + 1] / s[k] - 0.5).abs() < 1e-12);
        }
        assert!((s.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn warm_start_converges_to_the_same_point() {
        let e = vec![
            (0, 1, 1.0),
            (1, 2, 1.0),
            (2, 0, 1.0),
            (2, 3, 0.5),
            (3, 1, 1.0),
        ];
        let c = Csr::from_edges(4, e).unwrap().row_normalized();
        let cold = ppr(&c, &uniform(&[0]), 0.85, 1e-13, 10_000, None);
        let warm = ppr(&c, &uniform(&[0]), 0.85, 1e-13, 10_000, Some(&cold.scores));
        assert!(
            warm.iterations < cold.iterations,
            "{} vs {}",
            warm.iterations,
            cold.iterations
        );
        for (a, b) in cold.scores.iter().zip(&warm.scores) {
            assert!((a - b).abs() < 1e-11);
        }
    }
}
