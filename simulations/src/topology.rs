//! Community membership and the connection graph.
//!
//! Nodes connect to members of their own communities (as a qun node does through its
//! invite's bootstrap peers and Kademlia), so a generated graph is built per community
//! over its members and the union is the connection graph. Generators: uniform random
//! dialing, Barabási–Albert scale-free (Barabási & Albert 1999), Watts–Strogatz small
//! world (Watts & Strogatz 1998); or an edge list from a file.

use std::collections::BTreeSet;
use std::path::Path;

use crate::dist::{SimRng, below, chance, choose_k, shuffle};
use crate::error::Error;
use crate::scenario::{Scenario, TopologyKind};
use crate::{NodeIx, TopicIx};

/// Who is in which community (topic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// Members of each topic, sorted.
    pub members: Vec<Vec<NodeIx>>,
    /// Topics of each node, sorted.
    pub topics_of: Vec<Vec<TopicIx>>,
}

impl Membership {
    /// Draws members for each community: all nodes, or `members` distinct random nodes.
    pub fn generate(scn: &Scenario, rng: &mut SimRng) -> Membership {
        let n = scn.nodes();
        let w = &scn.raw().workload;
        let mut members = Vec::with_capacity(w.communities as usize);
        for _ in 0..w.communities {
            let mut all: Vec<NodeIx> = (0..n).collect();
            if w.members != 0 {
                choose_k(rng, &mut all, w.members as usize);
                all.sort_unstable();
            }
            members.push(all);
        }
        Self::from_members(n, members)
    }

    /// Builds the reverse index from per-topic member lists.
    pub fn from_members(nodes: u32, members: Vec<Vec<NodeIx>>) -> Membership {
        let mut topics_of = vec![Vec::new(); nodes as usize];
        for (t, ms) in members.iter().enumerate() {
            for &m in ms {
                topics_of[m as usize].push(t as TopicIx);
            }
        }
        Membership { members, topics_of }
    }

    /// Whether `node` is subscribed to `topic`.
    pub fn is_member(&self, node: NodeIx, topic: TopicIx) -> bool {
        self.topics_of[node as usize].binary_search(&topic).is_ok()
    }
}

/// Undirected connection graph; each edge remembers its dialer (gossipsub's "outbound").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    /// `(dialer, listener)` pairs, each unordered pair once, sorted.
    pub edges: Vec<(NodeIx, NodeIx)>,
}

impl Graph {
    /// Generates (or reads) the graph the scenario describes.
    pub fn generate(
        scn: &Scenario,
        members: &Membership,
        rng: &mut SimRng,
    ) -> Result<Graph, Error> {
        let topo = &scn.raw().topology;
        if topo.kind == TopologyKind::Edges {
            let path = topo
                .edges_file
                .as_deref()
                .map(|p| scn.resolve(p))
                .unwrap_or_default();
            return Self::read_edge_list(&path, scn.nodes());
        }
        let mut seen = BTreeSet::new();
        let mut edges = Vec::new();
        for ms in &members.members {
            let local = match topo.kind {
                TopologyKind::Random => random_dial(ms.len(), topo.degree, rng),
                TopologyKind::ScaleFree => barabasi_albert(ms.len(), topo.degree, rng),
                TopologyKind::SmallWorld => watts_strogatz(ms.len(), topo.degree, topo.rewire, rng),
                TopologyKind::Edges => Vec::new(),
            };
            for (a, b) in local {
                let (a, b) = (ms[a], ms[b]);
                if a != b && seen.insert((a.min(b), a.max(b))) {
                    edges.push((a, b));
                }
            }
        }
        edges.sort_unstable();
        Ok(Graph { edges })
    }

    /// Reads `a b` pairs (node indices), one per line; `#` starts a comment.
    pub fn read_edge_list(path: &Path, nodes: u32) -> Result<Graph, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse_edge_list(path, &text, nodes)
    }

    /// Parses edge-list text (see [`Graph::read_edge_list`]).
    pub fn parse_edge_list(path: &Path, text: &str, nodes: u32) -> Result<Graph, Error> {
        let mut seen = BTreeSet::new();
        let mut edges = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let bad = |message: String| Error::EdgeList {
                path: path.to_path_buf(),
                line: i + 1,
                message,
            };
            let mut it = line.split_whitespace();
            let mut next = || -> Result<NodeIx, Error> {
                let f = it
                    .next()
                    .ok_or_else(|| bad("expected two node indices".into()))?;
                let v: NodeIx = f
                    .parse()
                    .map_err(|_| bad(format!("`{f}` is not a node index")))?;
                if v >= nodes {
                    return Err(bad(format!("node {v} out of range (nodes = {nodes})")));
                }
                Ok(v)
            };
            let (a, b) = (next()?, next()?);
            if a != b && seen.insert((a.min(b), a.max(b))) {
                edges.push((a, b));
            }
        }
        edges.sort_unstable();
        Ok(Graph { edges })
    }
}

/// Each node dials `ceil(degree / 2)` distinct random others: mean degree ≈ `degree`.
fn random_dial(n: usize, degree: u32, rng: &mut SimRng) -> Vec<(usize, usize)> {
    if n < 2 {
        return Vec::new();
    }
    let k = (degree as usize).div_ceil(2).min(n - 1);
    let mut out = Vec::with_capacity(n * k);
    let mut picked = Vec::with_capacity(k);
    for a in 0..n {
        picked.clear();
        while picked.len() < k {
            let b = below(rng, n);
            if b != a && !picked.contains(&b) {
                picked.push(b);
            }
        }
        out.extend(picked.iter().map(|&b| (a, b)));
    }
    out
}

/// Barabási–Albert: start from a clique of `m + 1`, each new node attaches `m` edges
/// to distinct nodes chosen with probability proportional to degree.
fn barabasi_albert(n: usize, degree: u32, rng: &mut SimRng) -> Vec<(usize, usize)> {
    let m = ((degree as usize) / 2).max(1).min(n.saturating_sub(1));
    let mut out = Vec::new();
    let mut ends: Vec<usize> = Vec::new(); // each node once per incident edge
    let core = (m + 1).min(n);
    for a in 0..core {
        for b in 0..a {
            out.push((a, b));
            ends.push(a);
            ends.push(b);
        }
    }
    let mut picked = Vec::with_capacity(m);
    for a in core..n {
        picked.clear();
        while picked.len() < m {
            let b = ends[below(rng, ends.len())];
            if !picked.contains(&b) {
                picked.push(b);
            }
        }
        for &b in &picked {
            out.push((a, b));
            ends.push(a);
            ends.push(b);
        }
    }
    out
}

/// Watts–Strogatz: ring lattice with `degree / 2` neighbours on each side, each edge's far
/// end rewired to a uniform node with probability `p` (no self-loops or duplicates).
fn watts_strogatz(n: usize, degree: u32, p: f64, rng: &mut SimRng) -> Vec<(usize, usize)> {
    if n < 2 {
        return Vec::new();
    }
    let half = ((degree as usize) / 2).max(1).min((n - 1) / 2).max(1);
    let mut order: Vec<usize> = (0..n).collect();
    shuffle(rng, &mut order);
    let mut set = BTreeSet::new();
    let mut out = Vec::new();
    for i in 0..n {
        for j in 1..=half {
            let a = order[i];
            let mut b = order[(i + j) % n];
            if chance(rng, p) {
                for _ in 0..16 {
                    let c = below(rng, n);
                    if c != a && !set.contains(&(a.min(c), a.max(c))) {
                        b = c;
                        break;
                    }
                }
            }
            if a != b && set.insert((a.min(b), a.max(b))) {
                out.push((a, b));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn mean_degree(n: usize, edges: &[(usize, usize)]) -> f64 {
        2.0 * edges.len() as f64 / n as f64
    }

    #[test]
    fn generators_hit_the_target_degree() {
        let mut rng = SimRng::seed_from_u64(9);
        let r = random_dial(1000, 12, &mut rng);
        assert!((mean_degree(1000, &r) - 12.0).abs() < 0.5);
        let ba = barabasi_albert(1000, 12, &mut rng);
        assert!((mean_degree(1000, &ba) - 12.0).abs() < 0.5);
        let ws = watts_strogatz(1000, 12, 0.1, &mut rng);
        assert!((mean_degree(1000, &ws) - 12.0).abs() < 0.5);
    }

    #[test]
    fn edge_list_errors_name_the_line() {
        let err =
            Graph::parse_edge_list(Path::new("e.tsv"), "0 1\n# c\n1 x\n", 5).expect_err("bad line");
        assert!(err.to_string().contains("e.tsv:3"), "{err}");
        let g =
            Graph::parse_edge_list(Path::new("e.tsv"), "0 1\n1 0\n2 3 # x\n", 5).expect("valid");
        assert_eq!(g.edges, vec![(0, 1), (2, 3)]);
    }
}
