//! Why is someone trusted? The endorsers and paths behind a score.
//!
//! Personalized PageRank decomposes exactly: for a member `t`,
//!
//! `s(t) = Σ_u α · s(u) · w(u,t) / W(u)  +  teleport(t)`
//!
//! where the sum runs over `t`'s endorsers and `teleport(t)` is non-zero only for seeds. Each
//! term is an endorser's **contribution**; [`explain`] lists the largest. For paths it runs one
//! Dijkstra from the seeds on `−ln(α · w/W)` — the most probable walk to every member — and
//! reports, for each top endorser `u`, the best walk to `u` followed by `u → t`: the "top
//! paths through distinct endorsers", which is what a person wants to see ("you are trusted
//! because Alice → Bob → you"). Contributions use the same snapshot (topics, filter) as the
//! ranking; for [`crate::params::Method::SybilRank`] they describe the PageRank view instead.

use crate::error::{Error, Result};
use crate::graph::{Label, Node, TrustGraph};
use crate::rank::{Query, Ranking};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// One endorser's share of a member's score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// The endorser.
    pub from: Node,
    /// Endorsement weight.
    pub weight: f32,
    /// `α · s(from) · w / W(from)`.
    pub amount: f64,
    /// `amount / score` (0 if the score is 0).
    pub share: f64,
}

/// A walk from a seed to the member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrustPath {
    /// Seed first, member last.
    pub nodes: Vec<Node>,
    /// Probability that a walk from the seeds follows exactly this path.
    pub strength: f64,
}

/// Why a member has their score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The member.
    pub member: Node,
    /// Their score.
    pub score: f64,
    /// Part of the score that comes from being a seed.
    pub teleport: f64,
    /// Admitted by the flow (gated rankings only).
    pub admitted: Option<bool>,
    /// Largest contributions, biggest first (ties by endorser index).
    pub endorsers: Vec<Contribution>,
    /// Strongest paths through distinct endorsers, strongest first.
    pub paths: Vec<TrustPath>,
}

/// Explain `member`'s score in `ranking` (computed for `query` on `graph`), with up to `top`
/// endorsers and paths.
pub fn explain<L: Label>(
    graph: &TrustGraph<L>,
    query: &Query,
    ranking: &Ranking,
    member: Node,
    top: usize,
) -> Result<Explanation> {
    graph.check(member)?;
    let (csr, seeds) = query.snapshot(graph)?;
    // A gated ranking propagated only admitted members' endorsements: explain that graph.
    let csr = match ranking.admission() {
        Some(a) => crate::rank::admitted_only(&csr, a),
        None => csr,
    };
    if ranking.scores().len() != csr.nodes() {
        return Err(Error::param(
            "ranking",
            "was computed on a different graph; rank again",
        ));
    }
    let alpha = query.rank.damping();
    let out_w = csr.out_weights();
    let score = ranking.score(member);
    let rev = csr.transpose();
    let (from, w) = rev.row(member.0);
    let mut endorsers: Vec<Contribution> = from
        .iter()
        .zip(w)
        .filter(|(u, _)| out_w[**u as usize] > 0.0)
        .map(|(&u, &w)| {
            let amount = alpha * ranking.scores()[u as usize] * f64::from(w) / out_w[u as usize];
            Contribution {
                from: Node(u),
                weight: w,
                amount,
                share: if score > 0.0 { amount / score } else { 0.0 },
            }
        })
        .collect();
    endorsers.sort_by(|a, b| b.amount.total_cmp(&a.amount).then(a.from.cmp(&b.from)));
    let received: f64 = endorsers.iter().map(|c| c.amount).sum();
    endorsers.truncate(top);

    // Most probable walks from the seeds: Dijkstra on −ln(α w/W), costs as ordered bits.
    let n = csr.nodes();
    let mut cost = vec![f64::INFINITY; n];
    let mut parent = vec![u32::MAX; n];
    let mut heap = BinaryHeap::new();
    let start = (seeds.len() as f64).ln();
    for &s in &seeds {
        cost[s as usize] = start;
        heap.push(Reverse((start.to_bits(), s)));
    }
    while let Some(Reverse((c, u))) = heap.pop() {
        let c = f64::from_bits(c);
        if c > cost[u as usize] {
            continue;
        }
        let (ts, ws) = csr.row(u);
        for (&t, &w) in ts.iter().zip(ws) {
            let step = -(alpha * f64::from(w) / out_w[u as usize]).ln();
            let nc = c + step.max(0.0);
            if nc < cost[t as usize] {
                cost[t as usize] = nc;
                parent[t as usize] = u;
                heap.push(Reverse((nc.to_bits(), t)));
            }
        }
    }
    let mut paths = Vec::new();
    for e in &endorsers {
        let u = e.from.0;
        if !cost[u as usize].is_finite() {
            continue;
        }
        let mut nodes = vec![member, Node(u)];
        let mut x = u;
        let mut cycle = false;
        while parent[x as usize] != u32::MAX {
            x = parent[x as usize];
            if x == member.0 {
                cycle = true;
                break;
            }
            nodes.push(Node(x));
        }
        if cycle {
            continue;
        }
        nodes.reverse();
        let step = alpha * f64::from(e.weight) / out_w[u as usize];
        paths.push(TrustPath {
            nodes,
            strength: (-cost[u as usize]).exp() * step,
        });
    }
    paths.sort_by(|a, b| {
        b.strength
            .total_cmp(&a.strength)
            .then_with(|| a.nodes.cmp(&b.nodes))
    });
    Ok(Explanation {
        member,
        score,
        teleport: (score - received).max(0.0),
        admitted: ranking.admission().map(|a| a.is_accepted(member.index())),
        endorsers,
        paths,
    })
}
