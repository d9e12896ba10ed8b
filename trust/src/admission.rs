//! Admission: Advogato's capacity-constrained network flow from the seeds.
//!
//! Levien's trust metric (*Attack-resistant trust metrics*, Levien 2009, ch. 4 of
//! "Computing with Social Trust"; the Advogato metric):
//!
//! 1. every node gets a capacity by its breadth-first distance from the seeds:
//!    `capacities[d]` (Advogato: 800, 200, 50, 12, 4, 2, 1), and 0 beyond the list
//!    ([`Capacities::ByDistance`]). On power-law graphs a few hubs must pass most of the
//!    flow, which per-level numbers cannot express (on a 40k-member web, Advogato-style
//!    levels sized to the graph admit only ~70 % of honest members); so qun also offers
//!    [`Capacities::PerEndorsement`], `c(x) = 1 + ceil(rho[d] × fwd(x))` with `fwd(x)` the
//!    endorsements `x` makes one level further out, fitted by [`AdmissionParams::calibrated`]
//!    (≥ 99 % honest acceptance on the same web);
//! 2. each node `x` is split in `x⁻ → x⁺` with capacity `c(x) − 1`, plus a unit edge
//!    `x⁻ → sink`; every endorsement `x → y` becomes `x⁺ → y⁻` (unbounded; we use
//!    `c(x) − 1`, which is the same since that is all that can enter `x⁺`); a super-source
//!    feeds each seed's `x⁻` with the seed's capacity;
//! 3. a maximum flow is computed (Dinic: BFS level graph, blocking flow by DFS with
//!    current-arc pointers; the flow is at most the seeds' total capacity, and most
//!    augmenting paths are short); a node is **accepted** iff its unit edge to the sink
//!    carries flow.
//!
//! # The Sybil bound
//!
//! Whatever the Sybils do among themselves, every unit of flow that reaches a Sybil's sink
//! edge crossed an attack edge `x → s` out of some honest `x`, and everything leaving `x⁺` is
//! at most `c(x) − 1`. Hence
//!
//! > **Sybils admitted ≤ Σ over honest members `x` with an attack edge of `c(x) − 1`**
//! > ≤ Σ over attack edges of the endorser's capacity minus one,
//!
//! independent of the number of Sybils. [`Admission::attack_bound`] computes it. The
//! capacities are *policy*: fix them from the honest community (e.g. with
//! [`AdmissionParams::calibrated`] on the graph as it is known to the founders), not from a
//! graph that may already contain Sybils, or an attacker could inflate the deep levels.

use crate::error::{Error, Result};
use crate::graph::{Csr, Label, TrustGraph};
use crate::params::{AdmissionParams, Capacities};
use crate::query::Query;
use serde::{Deserialize, Serialize};

/// Distance of a node that no seed reaches.
pub const UNREACHABLE: u32 = u32::MAX;

/// The outcome of one admission flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Admission {
    accepted: Vec<bool>,
    capacity: Vec<u32>,
    distance: Vec<u32>,
    flow: u64,
}

impl Admission {
    /// Whether node `i` is accepted.
    pub fn is_accepted(&self, i: usize) -> bool {
        self.accepted.get(i).copied().unwrap_or(false)
    }

    /// Acceptance flag per node.
    pub fn accepted(&self) -> &[bool] {
        &self.accepted
    }

    /// Accepted node indices, ascending.
    pub fn accepted_nodes(&self) -> Vec<u32> {
        (0..self.accepted.len() as u32)
            .filter(|&i| self.accepted[i as usize])
            .collect()
    }

    /// How many are accepted.
    pub fn accepted_count(&self) -> usize {
        self.accepted.iter().filter(|a| **a).count()
    }

    /// The capacity given to each node.
    pub fn capacity(&self) -> &[u32] {
        &self.capacity
    }

    /// BFS distance of each node from the seeds ([`UNREACHABLE`] if none).
    pub fn distance(&self) -> &[u32] {
        &self.distance
    }

    /// Total flow (= accepted count).
    pub fn flow(&self) -> u64 {
        self.flow
    }

    /// The Sybil bound: `Σ (c(x) − 1)` over the distinct endorsers `x` of `attack_edges`.
    pub fn attack_bound(&self, attack_edges: &[(u32, u32)]) -> u64 {
        let mut from: Vec<u32> = attack_edges.iter().map(|e| e.0).collect();
        from.sort_unstable();
        from.dedup();
        from.iter()
            .map(|&x| {
                u64::from(
                    self.capacity
                        .get(x as usize)
                        .copied()
                        .unwrap_or(0)
                        .saturating_sub(1),
                )
            })
            .sum()
    }
}

/// Run the admission flow for a query (its topics, seeds, filter and admission parameters).
pub fn admit_query<L: Label>(graph: &TrustGraph<L>, query: &Query) -> Result<Admission> {
    let (csr, seeds) = query.snapshot(graph)?;
    admit(&csr, &seeds, &query.admission)
}

/// Multi-source BFS distances over positive edges.
pub fn distances(graph: &Csr, seeds: &[u32]) -> Vec<u32> {
    let n = graph.nodes();
    let mut dist = vec![UNREACHABLE; n];
    let mut queue = Vec::with_capacity(n);
    for &s in seeds {
        if (s as usize) < n && dist[s as usize] != 0 {
            dist[s as usize] = 0;
            queue.push(s);
        }
    }
    let mut head = 0;
    while head < queue.len() {
        let u = queue[head];
        head += 1;
        let d = dist[u as usize] + 1;
        for &v in graph.row(u).0 {
            if dist[v as usize] == UNREACHABLE {
                dist[v as usize] = d;
                queue.push(v);
            }
        }
    }
    dist
}

/// Run the Advogato flow on `graph` (positive edges; weights below
/// `params.min_weight` are ignored) from `seeds`.
pub fn admit(graph: &Csr, seeds: &[u32], params: &AdmissionParams) -> Result<Admission> {
    let n = graph.nodes();
    if seeds.is_empty() {
        return Err(Error::NoSeeds);
    }
    if let Some(&s) = seeds.iter().find(|&&s| s as usize >= n) {
        return Err(Error::UnknownNode { index: s, nodes: n });
    }
    let filtered;
    let graph = if params.min_weight() > 0.0 {
        filtered = graph_at_least(graph, params.min_weight());
        &filtered
    } else {
        graph
    };
    let distance = distances(graph, seeds);
    let capacity = node_capacities(graph, &distance, params.capacities());
    let mut seeds: Vec<u32> = seeds.to_vec();
    seeds.sort_unstable();
    seeds.dedup();

    let mut net = FlowNet::new(2 * n + 2);
    let source = 2 * n as u32;
    let sink = source + 1;
    for &s in &seeds {
        net.add(source, 2 * s, capacity[s as usize]);
    }
    let mut sink_arc = vec![usize::MAX; n];
    for x in 0..n as u32 {
        let c = capacity[x as usize];
        if c == 0 {
            continue;
        }
        sink_arc[x as usize] = net.add(2 * x, sink, 1);
        if c > 1 {
            net.add(2 * x, 2 * x + 1, c - 1);
            for &y in graph.row(x).0 {
                if capacity[y as usize] > 0 {
                    net.add(2 * x + 1, 2 * y, c - 1);
                }
            }
        }
    }
    let mut net = net.build();
    let flow = net.max_flow(source, sink);
    let mut accepted = vec![false; n];
    for (x, &arc) in sink_arc.iter().enumerate() {
        if arc != usize::MAX && net.flow(arc) > 0 {
            accepted[x] = true;
        }
    }
    Ok(Admission {
        accepted,
        capacity,
        distance,
        flow,
    })
}

/// Number of out-edges of each node to nodes one level further from the seeds.
pub fn forward_degrees(graph: &Csr, distance: &[u32]) -> Vec<u32> {
    (0..graph.nodes() as u32)
        .map(|u| {
            let d = distance[u as usize];
            if d == UNREACHABLE {
                return 0;
            }
            graph
                .row(u)
                .0
                .iter()
                .filter(|&&v| distance[v as usize] == d + 1)
                .count() as u32
        })
        .collect()
}

/// The capacity of every node under `model`.
pub fn node_capacities(graph: &Csr, distance: &[u32], model: &Capacities) -> Vec<u32> {
    match model {
        Capacities::ByDistance(caps) => distance
            .iter()
            .map(|&d| caps.get(d as usize).copied().unwrap_or(0))
            .collect(),
        Capacities::PerEndorsement(rho) => {
            let fwd = forward_degrees(graph, distance);
            distance
                .iter()
                .zip(&fwd)
                .map(|(&d, &f)| match rho.get(d as usize) {
                    Some(&r) => {
                        let extra = (r * f64::from(f)).ceil();
                        1 + extra.min(f64::from(u32::MAX - 1)) as u32
                    }
                    None => 0,
                })
                .collect()
        }
    }
}

fn graph_at_least(graph: &Csr, min: f32) -> Csr {
    let mut edges = Vec::with_capacity(graph.edges());
    for u in 0..graph.nodes() as u32 {
        let (t, w) = graph.row(u);
        edges.extend(
            t.iter()
                .zip(w)
                .filter(|(_, w)| **w >= min)
                .map(|(&t, &w)| (u, t, w)),
        );
    }
    Csr::from_edges(graph.nodes(), edges).unwrap_or_else(|_| Csr::empty(graph.nodes()))
}

/// Edge list collected before the residual network is laid out.
struct FlowNet {
    nodes: usize,
    arcs: Vec<(u32, u32, u32)>,
}

impl FlowNet {
    fn new(nodes: usize) -> Self {
        FlowNet {
            nodes,
            arcs: Vec::new(),
        }
    }

    /// Add an arc; returns its id.
    fn add(&mut self, from: u32, to: u32, cap: u32) -> usize {
        self.arcs.push((from, to, cap));
        self.arcs.len() - 1
    }

    /// Lay out forward and reverse arcs in CSR order.
    fn build(self) -> Residual {
        let n = self.nodes;
        let mut start = vec![0u32; n + 1];
        for &(a, b, _) in &self.arcs {
            start[a as usize + 1] += 1;
            start[b as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let m = self.arcs.len() * 2;
        let mut fill = start.clone();
        let mut to = vec![0u32; m];
        let mut cap = vec![0u32; m];
        let mut rev = vec![0u32; m];
        let mut fwd = Vec::with_capacity(self.arcs.len());
        for &(a, b, c) in &self.arcs {
            let i = fill[a as usize];
            fill[a as usize] += 1;
            let j = fill[b as usize];
            fill[b as usize] += 1;
            to[i as usize] = b;
            cap[i as usize] = c;
            rev[i as usize] = j;
            to[j as usize] = a;
            cap[j as usize] = 0;
            rev[j as usize] = i;
            fwd.push(i);
        }
        Residual {
            start,
            to,
            cap,
            rev,
            orig: self.arcs.iter().map(|a| a.2).collect(),
            fwd,
        }
    }
}

/// The residual network of Dinic's algorithm.
struct Residual {
    start: Vec<u32>,
    to: Vec<u32>,
    cap: Vec<u32>,
    rev: Vec<u32>,
    /// Original capacity per added arc id.
    orig: Vec<u32>,
    /// Position of each added arc id in the residual arrays.
    fwd: Vec<u32>,
}

impl Residual {
    fn max_flow(&mut self, s: u32, t: u32) -> u64 {
        let n = self.start.len() - 1;
        let mut level = vec![u32::MAX; n];
        let mut it = vec![0u32; n];
        let mut queue = Vec::with_capacity(n);
        let mut stack: Vec<u32> = Vec::new();
        let mut total = 0u64;
        loop {
            // BFS level graph.
            level.fill(u32::MAX);
            level[s as usize] = 0;
            queue.clear();
            queue.push(s);
            let mut head = 0;
            while head < queue.len() {
                let u = queue[head];
                head += 1;
                // Nothing at or beyond the sink's level can lie on a shortest path.
                if level[t as usize] != u32::MAX && level[u as usize] >= level[t as usize] {
                    break;
                }
                for a in self.start[u as usize]..self.start[u as usize + 1] {
                    let v = self.to[a as usize];
                    if self.cap[a as usize] > 0 && level[v as usize] == u32::MAX {
                        level[v as usize] = level[u as usize] + 1;
                        queue.push(v);
                    }
                }
            }
            if level[t as usize] == u32::MAX {
                return total;
            }
            let sink_level = level[t as usize];
            it.copy_from_slice(&self.start[..n]);
            // Blocking flow: iterative DFS along the level graph with current-arc pointers.
            stack.clear();
            let mut u = s;
            loop {
                if u == t {
                    let push = stack
                        .iter()
                        .map(|&a| self.cap[a as usize])
                        .min()
                        .unwrap_or(0);
                    for &a in &stack {
                        self.cap[a as usize] -= push;
                        self.cap[self.rev[a as usize] as usize] += push;
                    }
                    total += u64::from(push);
                    stack.clear();
                    u = s;
                    continue;
                }
                let end = self.start[u as usize + 1];
                let mut advanced = false;
                while it[u as usize] < end {
                    let a = it[u as usize];
                    let v = self.to[a as usize];
                    if self.cap[a as usize] > 0
                        && level[v as usize] == level[u as usize] + 1
                        && (v == t || level[v as usize] < sink_level)
                    {
                        stack.push(a);
                        u = v;
                        advanced = true;
                        break;
                    }
                    it[u as usize] += 1;
                }
                if advanced {
                    continue;
                }
                // Dead end: remove u from the level graph and retreat.
                level[u as usize] = u32::MAX;
                match stack.pop() {
                    None => break,
                    Some(a) => {
                        u = self.to[self.rev[a as usize] as usize];
                        it[u as usize] += 1;
                    }
                }
            }
        }
    }

    /// Flow on the arc that [`FlowNet::add`] returned as `id`.
    fn flow(&self, id: usize) -> u32 {
        self.orig[id] - self.cap[self.fwd[id] as usize]
    }
}

impl AdmissionParams {
    /// Capacities fitted to an honest graph, for a community to adopt as its policy:
    /// [`Capacities::PerEndorsement`] with `rho[d] = slack × (members beyond d) / (forward
    /// endorsements out of level d)`, so that every level can pass on `slack` times what the
    /// rest of the graph needs. Run it on the graph the founders know (before any attack):
    /// capacities computed on a graph that already holds Sybils would count them as members
    /// to serve.
    pub fn calibrated(graph: &Csr, seeds: &[u32], slack: f64) -> Result<Self> {
        if !(slack > 0.0 && slack.is_finite()) {
            return Err(Error::param("slack", format!("{slack} must be positive")));
        }
        if seeds.is_empty() {
            return Err(Error::NoSeeds);
        }
        let dist = distances(graph, seeds);
        let fwd = forward_degrees(graph, &dist);
        let depth = dist
            .iter()
            .filter(|&&d| d != UNREACHABLE)
            .max()
            .copied()
            .unwrap_or(0) as usize;
        let mut members = vec![0f64; depth + 1];
        let mut forward = vec![0f64; depth + 1];
        for (d, f) in dist.iter().zip(&fwd) {
            if let Some(m) = members.get_mut(*d as usize) {
                *m += 1.0;
                forward[*d as usize] += f64::from(*f);
            }
        }
        let mut rho = Vec::with_capacity(depth + 1);
        for d in 0..=depth {
            let beyond: f64 = members[d + 1..].iter().sum();
            rho.push(if forward[d] > 0.0 {
                slack * beyond / forward[d]
            } else {
                0.0
            });
        }
        AdmissionParams::builder()
            .capacities(Capacities::PerEndorsement(rho))
            .build()
    }
}
