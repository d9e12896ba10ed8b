//! Synthetic honest webs of trust for tests, benchmarks and Sybil experiments.
//!
//! Real webs of trust are not expanders: degrees follow a power law, most members are weakly
//! connected (one invitation in, one or two endorsements out), and edges cluster inside
//! communities of interest. [`community_wot`] grows such a graph the way qun does:
//!
//! 1. members are split into communities whose sizes follow a Zipf law; the first
//!    `founders_per_community` members of each are its founders;
//! 2. every other member is *invited* by a uniformly chosen earlier member of its community
//!    (with probability `cross_invite`, of any community): an edge inviter → member, which is
//!    why every honest member has at least one endorsement in;
//! 3. every member gets an activity drawn from a discrete power law (Pareto tail `exponent`,
//!    scaled to `mean_out_degree`) and endorses that many members, chosen preferentially by
//!    in-degree, inside its community with probability `locality`;
//! 4. each endorsement is returned with probability `reciprocity`.
//!
//! [`scale_free`] (Barabási–Albert, directed both ways at random) and [`small_world`]
//! (Watts–Strogatz ring) are the textbook models, kept for comparison: both are easier for
//! Sybil defences than [`community_wot`].
//!
//! Everything is driven by a seeded `ChaCha12Rng`: one seed, one graph, on every machine.

use crate::error::{Error, Result};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha12Rng;
use serde::{Deserialize, Serialize};

/// Default number of members.
pub const DEFAULT_MEMBERS: usize = 2_000;
/// Default number of communities.
pub const DEFAULT_COMMUNITIES: usize = 20;
/// Default mean endorsements made per member (≈ 300k edges / 40k members, the target web).
pub const DEFAULT_MEAN_OUT_DEGREE: f64 = 7.5;
/// Default Pareto tail exponent of member activity (out-degree); 2.1 ≈ PGP / Advogato.
pub const DEFAULT_EXPONENT: f64 = 2.1;
/// Default probability that an endorsement stays inside the endorser's community.
pub const DEFAULT_LOCALITY: f64 = 0.8;
/// Default probability that an endorsement is returned.
pub const DEFAULT_RECIPROCITY: f64 = 0.3;
/// Default probability that an invitation crosses communities.
pub const DEFAULT_CROSS_INVITE: f64 = 0.05;
/// Default share of lurkers: members who make no endorsement beyond returning their
/// invitation, and whom nobody but their inviter endorses (the "90-9-1" of online
/// communities). They are the weakly connected honest members Sybil defences struggle with.
pub const DEFAULT_LURKERS: f64 = 0.3;
/// Default founders per community.
pub const DEFAULT_FOUNDERS_PER_COMMUNITY: usize = 1;

/// Parameters of [`community_wot`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WotParams {
    /// Number of members.
    pub members: usize,
    /// Number of communities (Zipf-sized).
    pub communities: usize,
    /// Mean number of endorsements a member makes, invitations included.
    pub mean_out_degree: f64,
    /// Pareto tail exponent of activity (> 1; smaller = heavier tail).
    pub exponent: f64,
    /// Probability an endorsement stays in the endorser's community.
    pub locality: f64,
    /// Probability an endorsement is returned.
    pub reciprocity: f64,
    /// Probability an invitation comes from another community.
    pub cross_invite: f64,
    /// Founders per community (they are the natural seeds).
    pub founders_per_community: usize,
    /// Share of non-founder members who are lurkers (endorsed by their inviter only).
    pub lurkers: f64,
}

impl Default for WotParams {
    fn default() -> Self {
        WotParams {
            members: DEFAULT_MEMBERS,
            communities: DEFAULT_COMMUNITIES,
            mean_out_degree: DEFAULT_MEAN_OUT_DEGREE,
            exponent: DEFAULT_EXPONENT,
            locality: DEFAULT_LOCALITY,
            reciprocity: DEFAULT_RECIPROCITY,
            cross_invite: DEFAULT_CROSS_INVITE,
            founders_per_community: DEFAULT_FOUNDERS_PER_COMMUNITY,
            lurkers: DEFAULT_LURKERS,
        }
    }
}

impl WotParams {
    /// Defaults with `members` members.
    pub fn with_members(members: usize) -> Self {
        WotParams {
            members,
            ..Self::default()
        }
    }

    /// Check ranges; impossible combinations are errors.
    pub fn validate(&self) -> Result<()> {
        let prob = |name, p: f64| {
            if (0.0..=1.0).contains(&p) {
                Ok(())
            } else {
                Err(Error::param(
                    name,
                    format!("{p} is not a probability in [0, 1]"),
                ))
            }
        };
        prob("locality", self.locality)?;
        prob("reciprocity", self.reciprocity)?;
        prob("cross_invite", self.cross_invite)?;
        prob("lurkers", self.lurkers)?;
        if self.lurkers >= 1.0 {
            return Err(Error::param(
                "lurkers",
                "someone must endorse: use a share below 1",
            ));
        }
        if self.communities == 0 || self.founders_per_community == 0 {
            return Err(Error::param(
                "communities",
                "need at least one community with one founder",
            ));
        }
        if self.members < self.communities * self.founders_per_community {
            return Err(Error::param(
                "members",
                format!(
                    "{} members cannot fill {} communities of {} founders",
                    self.members, self.communities, self.founders_per_community
                ),
            ));
        }
        if self.members > u32::MAX as usize / 2 {
            return Err(Error::TooLarge {
                what: "nodes",
                limit: u64::from(u32::MAX / 2),
            });
        }
        if !(self.exponent > 1.0 && self.exponent.is_finite()) {
            return Err(Error::param("exponent", "must be > 1"));
        }
        if !(self.mean_out_degree >= 1.0 && self.mean_out_degree < self.members as f64) {
            return Err(Error::param("mean_out_degree", "must be in [1, members)"));
        }
        Ok(())
    }
}

/// A generated honest graph: `n` nodes `0..n`, edges, community of each node, and founders.
#[derive(Clone, Debug, Default)]
pub struct SynthGraph {
    /// Number of nodes.
    pub nodes: usize,
    /// `(source, target, weight)` edges, weights in `(0, 1]`, no duplicates, no self-loops.
    pub edges: Vec<(u32, u32, f32)>,
    /// Community of each node.
    pub community: Vec<u32>,
    /// Founders (first members of each community, largest community first).
    pub founders: Vec<u32>,
}

fn zipf_sizes(total: usize, k: usize, min: usize) -> Vec<usize> {
    let h: f64 = (1..=k).map(|i| 1.0 / i as f64).sum();
    let mut sizes: Vec<usize> = (1..=k)
        .map(|i| ((total as f64 / h / i as f64).floor() as usize).max(min))
        .collect();
    let mut sum: usize = sizes.iter().sum();
    let mut i = 0;
    while sum < total {
        sizes[i % k] += 1;
        sum += 1;
        i += 1;
    }
    while sum > total {
        if let Some(s) = sizes.iter_mut().filter(|s| **s > min).max() {
            *s -= 1;
            sum -= 1;
        } else {
            break;
        }
    }
    sizes
}

/// Discrete Pareto sample with minimum 0: `floor(xm * (u^(-1/(a-1)) - 1))`, capped.
fn pareto<R: Rng>(rng: &mut R, scale: f64, exponent: f64, cap: usize) -> usize {
    let u: f64 = rng.random::<f64>().max(1e-12);
    let x = scale * (u.powf(-1.0 / (exponent - 1.0)) - 1.0);
    (x.floor() as usize).min(cap)
}

/// Sorted-and-deduplicated edge set builder that keeps the first weight of a pair.
struct EdgeSet {
    edges: Vec<(u32, u32, f32)>,
}

impl EdgeSet {
    fn finish(mut self) -> Vec<(u32, u32, f32)> {
        self.edges.retain(|e| e.0 != e.1);
        // Keep the first occurrence: stable sort, then dedup keeps the first of a run.
        self.edges.sort_by_key(|e| (e.0, e.1));
        self.edges.dedup_by_key(|e| (e.0, e.1));
        self.edges
    }
}

fn weight<R: Rng>(rng: &mut R) -> f32 {
    // Most endorsements are full trust; some are partial.
    if rng.random::<f64>() < 0.75 {
        1.0
    } else {
        [0.5f32, 0.75, 0.25][rng.random_range(0..3usize)]
    }
}

/// A community-structured, power-law web of trust (see the [module docs](self)).
pub fn community_wot(params: &WotParams, seed: u64) -> Result<SynthGraph> {
    params.validate()?;
    let mut rng = ChaCha12Rng::seed_from_u64(seed);
    let n = params.members;
    let k = params.communities;
    let sizes = zipf_sizes(n, k, params.founders_per_community + 1);
    // Join order: founders of every community first (community order), then everybody else
    // interleaved at random.
    let mut community = Vec::with_capacity(n);
    let mut founders = Vec::new();
    for c in 0..k {
        for _ in 0..params.founders_per_community {
            founders.push(community.len() as u32);
            community.push(c as u32);
        }
    }
    let mut rest: Vec<u32> = Vec::with_capacity(n);
    for (c, &s) in sizes.iter().enumerate() {
        for _ in params.founders_per_community..s {
            rest.push(c as u32);
        }
    }
    for i in (1..rest.len()).rev() {
        let j = rng.random_range(0..=i);
        rest.swap(i, j);
    }
    community.extend(rest.iter().take(n - community.len()));
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); k];
    let mut set = EdgeSet {
        edges: Vec::with_capacity((n as f64 * params.mean_out_degree * 1.4) as usize),
    };
    // Founders of one community know each other.
    for (c, community_members) in members.iter_mut().enumerate() {
        let f: Vec<u32> = (0..params.founders_per_community)
            .map(|i| (c * params.founders_per_community + i) as u32)
            .collect();
        for &a in &f {
            for &b in &f {
                if a != b {
                    set.edges.push((a, b, 1.0));
                }
            }
        }
        community_members.extend(&f);
    }
    // Invitations.
    let mut all_joined: Vec<u32> = founders.clone();
    for v in (k * params.founders_per_community) as u32..n as u32 {
        let c = community[v as usize] as usize;
        let inviter = if rng.random::<f64>() < params.cross_invite {
            all_joined[rng.random_range(0..all_joined.len())]
        } else {
            members[c][rng.random_range(0..members[c].len())]
        };
        set.edges.push((inviter, v, 1.0));
        if rng.random::<f64>() < params.reciprocity {
            set.edges.push((v, inviter, weight(&mut rng)));
        }
        members[c].push(v);
        all_joined.push(v);
    }
    // Endorsements: power-law activity, preferential targets. The urns hold each node once
    // per in-edge, so a draw is proportional to in-degree (founders get one extra ticket so
    // they can be drawn before anyone endorsed them); lurkers are never in them.
    let lurker: Vec<bool> = (0..n)
        .map(|v| v >= founders.len() && rng.random::<f64>() < params.lurkers)
        .collect();
    let invites_per_member = 1.0 + params.reciprocity;
    let extra_mean =
        (params.mean_out_degree - invites_per_member).max(0.0) / (1.0 - params.lurkers);
    // E[floor(xm (U^{-1/(a-1)} - 1))] ≈ xm / (a - 2) for a > 2; calibrate xm numerically.
    let scale = calibrate_pareto(extra_mean, params.exponent, n);
    let mut urn_local: Vec<Vec<u32>> = vec![Vec::new(); k];
    let mut urn_global: Vec<u32> = founders.clone();
    for c in 0..k {
        urn_local[c].extend_from_slice(&members[c][..params.founders_per_community]);
    }
    for &(_, t, _) in set.edges.iter().filter(|e| !lurker[e.1 as usize]) {
        urn_local[community[t as usize] as usize].push(t);
        urn_global.push(t);
    }
    let mut order: Vec<u32> = (0..n as u32).collect();
    for i in (1..order.len()).rev() {
        let j = rng.random_range(0..=i);
        order.swap(i, j);
    }
    let cap = (n - 1).min(n / 4 + 10);
    for &u in order.iter().filter(|u| !lurker[**u as usize]) {
        let a = pareto(&mut rng, scale, params.exponent, cap);
        let c = community[u as usize] as usize;
        for _ in 0..a {
            let t = if rng.random::<f64>() < params.locality {
                urn_local[c][rng.random_range(0..urn_local[c].len())]
            } else {
                urn_global[rng.random_range(0..urn_global.len())]
            };
            if t == u {
                continue;
            }
            set.edges.push((u, t, weight(&mut rng)));
            urn_local[community[t as usize] as usize].push(t);
            urn_global.push(t);
            if rng.random::<f64>() < params.reciprocity {
                set.edges.push((t, u, weight(&mut rng)));
            }
        }
    }
    Ok(SynthGraph {
        nodes: n,
        edges: set.finish(),
        community,
        founders,
    })
}

fn calibrate_pareto(mean: f64, exponent: f64, n: usize) -> f64 {
    if mean <= 0.0 {
        return 0.0;
    }
    // Deterministic numeric expectation over a fixed quantile grid.
    let cap = ((n - 1).min(n / 4 + 10)) as f64;
    let expect = |xm: f64| {
        let steps = 20_000;
        (0..steps)
            .map(|i| {
                let u = (i as f64 + 0.5) / steps as f64;
                (xm * (u.powf(-1.0 / (exponent - 1.0)) - 1.0))
                    .floor()
                    .min(cap)
            })
            .sum::<f64>()
            / steps as f64
    };
    let (mut lo, mut hi) = (0.0, mean * 10.0 + 10.0);
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if expect(mid) < mean {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

/// Barabási–Albert preferential attachment with `m` links per new node, each link pointing
/// from the new node to the old one or back with equal probability (plus reciprocity).
pub fn scale_free(nodes: usize, m: usize, reciprocity: f64, seed: u64) -> Result<SynthGraph> {
    if m == 0 || nodes <= m {
        return Err(Error::param("m", "need 0 < m < nodes"));
    }
    let mut rng = ChaCha12Rng::seed_from_u64(seed);
    let mut set = EdgeSet { edges: Vec::new() };
    let mut urn: Vec<u32> = Vec::new();
    for a in 0..=m as u32 {
        for b in 0..=m as u32 {
            if a != b {
                set.edges.push((a, b, 1.0));
            }
        }
        urn.extend(std::iter::repeat_n(a, m));
    }
    for v in (m + 1) as u32..nodes as u32 {
        for _ in 0..m {
            let t = urn[rng.random_range(0..urn.len())];
            let (a, b) = if rng.random::<bool>() { (v, t) } else { (t, v) };
            set.edges.push((a, b, weight(&mut rng)));
            if rng.random::<f64>() < reciprocity {
                set.edges.push((b, a, weight(&mut rng)));
            }
            urn.push(t);
            urn.push(v);
        }
    }
    Ok(SynthGraph {
        nodes,
        edges: set.finish(),
        community: vec![0; nodes],
        founders: vec![0],
    })
}

/// Watts–Strogatz: a ring where each node endorses its `k` nearest successors, each edge
/// rewired to a random target with probability `beta`.
pub fn small_world(nodes: usize, k: usize, beta: f64, seed: u64) -> Result<SynthGraph> {
    if k == 0 || nodes <= k {
        return Err(Error::param("k", "need 0 < k < nodes"));
    }
    if !(0.0..=1.0).contains(&beta) {
        return Err(Error::param("beta", "must be a probability"));
    }
    let mut rng = ChaCha12Rng::seed_from_u64(seed);
    let mut set = EdgeSet { edges: Vec::new() };
    for u in 0..nodes {
        for j in 1..=k {
            let t = if rng.random::<f64>() < beta {
                rng.random_range(0..nodes)
            } else {
                (u + j) % nodes
            };
            set.edges.push((u as u32, t as u32, 1.0));
            set.edges.push((t as u32, u as u32, 1.0));
        }
    }
    Ok(SynthGraph {
        nodes,
        edges: set.finish(),
        community: vec![0; nodes],
        founders: vec![0],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wot_shape() {
        let g = community_wot(&WotParams::with_members(3000), 7).unwrap();
        let mean = g.edges.len() as f64 / g.nodes as f64;
        assert!((5.0..10.0).contains(&mean), "mean out-degree {mean}");
        let mut indeg = vec![0u32; g.nodes];
        for e in &g.edges {
            indeg[e.1 as usize] += 1;
        }
        assert!(indeg.iter().skip(g.founders.len()).all(|&d| d >= 1));
        let weak = indeg.iter().filter(|&&d| d <= 1).count() as f64 / g.nodes as f64;
        assert!(weak > 0.25, "weakly connected share {weak}");
        assert_eq!(
            community_wot(&WotParams::with_members(3000), 7)
                .unwrap()
                .edges,
            g.edges
        );
    }
}
