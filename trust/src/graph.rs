//! The endorsement graph: labels interned to dense `u32` indices, one compressed adjacency
//! (CSR) per topic, and a delta overlay so single edges change without a rebuild.
//!
//! # Layout
//!
//! A [`TrustGraph<L>`] owns a label table (`Vec<L>` plus a hash index used only for lookups,
//! never iterated) and one [`Layer`] per [`Topic`], kept in a `BTreeMap` so topic order is
//! stable. A layer holds
//!
//! * `base`: a [`Csr`] built at the last compaction, rows sorted by target;
//! * an overlay of *patched rows*: when an edge out of `u` changes, `u`'s row is copied out of
//!   `base` into its own sorted vector (`O(out-degree)`), and from then on that vector is the
//!   truth for `u`. Reading a row is one branch (`patch_of[u]`), so algorithms run directly on
//!   base + overlay;
//! * the negative edges, apart: they never enter the adjacency that ranking and admission walk
//!   (see [`crate::filter`]).
//!
//! When the patched rows hold more than a quarter of the base edges (and at least
//! [`COMPACT_MIN_PATCHED_EDGES`]), the layer is compacted: base and overlay are merged into a
//! fresh CSR in one linear pass. Single updates therefore cost `O(out-degree)` amortised, and
//! bulk loads go through [`TrustGraph::from_edges`] (one sort, no overlay).
//!
//! Ranking and admission take a [`Csr`] snapshot of a [`View`] (one or several topics blended
//! with factors, optionally with some nodes excluded): a linear copy that keeps the hot loops
//! over flat arrays.

use crate::error::{Error, Result};
use qun_identity::Topic;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::Hash;

/// A layer compacts once its patched rows hold at least this many edges…
pub const COMPACT_MIN_PATCHED_EDGES: usize = 4096;
/// …and more than `base edges / COMPACT_RATIO`.
pub const COMPACT_RATIO: usize = 4;

const NO_PATCH: u32 = u32::MAX;

/// A dense node index (the interned label). Indices are assigned in insertion order.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Node(pub u32);

impl Node {
    /// As a `usize` index into per-node vectors.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// What can name a node: a [`qun_identity::MemberId`] in the product, a `String` for imported
/// research graphs. Labels break ties in every ordering, so outputs never depend on hashing.
pub trait Label: Clone + Ord + Hash + fmt::Debug {}
impl<T: Clone + Ord + Hash + fmt::Debug> Label for T {}

/// A compressed sparse row adjacency: the out-edges of node `u` are
/// `targets[offsets[u]..offsets[u+1]]`, sorted by target, with parallel `weights`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Csr {
    offsets: Vec<u32>,
    targets: Vec<u32>,
    weights: Vec<f32>,
}

impl Csr {
    /// An edgeless graph on `n` nodes.
    pub fn empty(n: usize) -> Self {
        Csr {
            offsets: vec![0; n + 1],
            targets: Vec::new(),
            weights: Vec::new(),
        }
    }

    /// Build from `(source, target, weight)` triples. Later duplicates of the same
    /// `(source, target)` replace earlier ones; self-loops and non-positive weights are dropped.
    pub fn from_edges(n: usize, mut edges: Vec<(u32, u32, f32)>) -> Result<Self> {
        if edges.len() > u32::MAX as usize {
            return Err(Error::TooLarge {
                what: "edges",
                limit: u64::from(u32::MAX),
            });
        }
        if let Some(&(u, v, _)) = edges
            .iter()
            .find(|&&(u, v, _)| u as usize >= n || v as usize >= n)
        {
            return Err(Error::UnknownNode {
                index: u.max(v),
                nodes: n,
            });
        }
        // Stable sort keeps insertion order among duplicates; keep the last one.
        edges.sort_by_key(|&(u, v, _)| (u, v));
        let mut offsets = vec![0u32; n + 1];
        let mut targets = Vec::with_capacity(edges.len());
        let mut weights = Vec::with_capacity(edges.len());
        let mut i = 0;
        while i < edges.len() {
            let (u, v, _) = edges[i];
            let mut j = i;
            while j + 1 < edges.len() && edges[j + 1].0 == u && edges[j + 1].1 == v {
                j += 1;
            }
            let w = edges[j].2;
            if u != v && w > 0.0 && w.is_finite() {
                offsets[u as usize + 1] += 1;
                targets.push(v);
                weights.push(w);
            }
            i = j + 1;
        }
        for k in 0..n {
            offsets[k + 1] += offsets[k];
        }
        Ok(Csr {
            offsets,
            targets,
            weights,
        })
    }

    /// Number of nodes.
    pub fn nodes(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Number of edges.
    pub fn edges(&self) -> usize {
        self.targets.len()
    }

    /// Out-edges of `u`: targets and weights. Empty for `u` out of range.
    #[inline]
    pub fn row(&self, u: u32) -> (&[u32], &[f32]) {
        let u = u as usize;
        if u + 1 >= self.offsets.len() {
            return (&[], &[]);
        }
        let (a, b) = (self.offsets[u] as usize, self.offsets[u + 1] as usize);
        (&self.targets[a..b], &self.weights[a..b])
    }

    /// Out-degree of `u`.
    pub fn degree(&self, u: u32) -> usize {
        self.row(u).0.len()
    }

    /// Sum of out-weights per node.
    pub fn out_weights(&self) -> Vec<f64> {
        (0..self.nodes() as u32)
            .map(|u| self.row(u).1.iter().map(|&w| f64::from(w)).sum())
            .collect()
    }

    /// Sum of in-weights per node.
    pub fn in_weights(&self) -> Vec<f64> {
        let mut w = vec![0.0; self.nodes()];
        for (t, x) in self.targets.iter().zip(&self.weights) {
            w[*t as usize] += f64::from(*x);
        }
        w
    }

    /// In-degree per node.
    pub fn in_degrees(&self) -> Vec<u32> {
        let mut d = vec![0u32; self.nodes()];
        for t in &self.targets {
            d[*t as usize] += 1;
        }
        d
    }

    /// The reverse graph (rows sorted by source).
    pub fn transpose(&self) -> Csr {
        let n = self.nodes();
        let mut offsets = vec![0u32; n + 1];
        for &t in &self.targets {
            offsets[t as usize + 1] += 1;
        }
        for k in 0..n {
            offsets[k + 1] += offsets[k];
        }
        let mut fill = offsets.clone();
        let mut targets = vec![0u32; self.targets.len()];
        let mut weights = vec![0f32; self.targets.len()];
        for u in 0..n as u32 {
            let (ts, ws) = self.row(u);
            for (&t, &w) in ts.iter().zip(ws) {
                let slot = &mut fill[t as usize];
                targets[*slot as usize] = u;
                weights[*slot as usize] = w;
                *slot += 1;
            }
        }
        Csr {
            offsets,
            targets,
            weights,
        }
    }

    /// The undirected version: `u — v` with the larger of the two directions' weights.
    pub fn symmetrized(&self) -> Csr {
        let n = self.nodes();
        let mut edges = Vec::with_capacity(self.edges() * 2);
        for u in 0..n as u32 {
            let (ts, ws) = self.row(u);
            for (&t, &w) in ts.iter().zip(ws) {
                edges.push((u, t, w));
                edges.push((t, u, w));
            }
        }
        edges.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then(a.2.total_cmp(&b.2)));
        // `from_edges` keeps the last duplicate, i.e. the heaviest after this sort.
        Csr::from_edges(n, edges).unwrap_or_else(|_| Csr::empty(n))
    }

    /// All edges as `(source, target, weight)`, in row order.
    pub fn edge_list(&self) -> Vec<(u32, u32, f32)> {
        let mut out = Vec::with_capacity(self.edges());
        for u in 0..self.nodes() as u32 {
            let (t, w) = self.row(u);
            out.extend(t.iter().zip(w).map(|(&t, &w)| (u, t, w)));
        }
        out
    }

    /// Approximate heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.offsets.capacity() * 4 + self.targets.capacity() * 4 + self.weights.capacity() * 4
    }

    /// A copy with every row's weights divided by the row sum (transition probabilities).
    pub fn row_normalized(&self) -> Csr {
        let mut out = self.clone();
        for u in 0..self.nodes() {
            let (a, b) = (self.offsets[u] as usize, self.offsets[u + 1] as usize);
            let total: f64 = self.weights[a..b].iter().map(|&w| f64::from(w)).sum();
            if total > 0.0 {
                for w in &mut out.weights[a..b] {
                    *w = (f64::from(*w) / total) as f32;
                }
            }
        }
        out
    }
}

/// The edges of one topic: a compacted CSR plus an overlay of patched rows, and the negative
/// edges kept apart.
#[derive(Clone, Debug, Default)]
pub struct Layer {
    base: Csr,
    patch_of: Vec<u32>,
    patches: Vec<(Vec<u32>, Vec<f32>)>,
    patched_edges: usize,
    edges: usize,
    negatives: BTreeMap<(u32, u32), f32>,
    compactions: u64,
}

impl Layer {
    fn from_csr(base: Csr) -> Self {
        let edges = base.edges();
        Layer {
            base,
            edges,
            ..Layer::default()
        }
    }

    /// Out-edges of `u` (targets sorted ascending, weights > 0).
    #[inline]
    pub fn row(&self, u: u32) -> (&[u32], &[f32]) {
        match self.patch_of.get(u as usize) {
            Some(&p) if p != NO_PATCH => {
                let (t, w) = &self.patches[p as usize];
                (t, w)
            }
            _ => self.base.row(u),
        }
    }

    /// Number of positive edges.
    pub fn edges(&self) -> usize {
        self.edges
    }

    /// The negative edges `(from, to) -> weight < 0`, in index order.
    pub fn negatives(&self) -> &BTreeMap<(u32, u32), f32> {
        &self.negatives
    }

    /// How many times this layer has been compacted (for tests and metrics).
    pub fn compactions(&self) -> u64 {
        self.compactions
    }

    /// Edges currently held in patched rows.
    pub fn patched_edges(&self) -> usize {
        self.patched_edges
    }

    fn weight(&self, u: u32, v: u32) -> Option<f32> {
        if let Some(w) = self.negatives.get(&(u, v)) {
            return Some(*w);
        }
        let (t, w) = self.row(u);
        t.binary_search(&v).ok().map(|i| w[i])
    }

    fn patch_mut(&mut self, u: u32) -> &mut (Vec<u32>, Vec<f32>) {
        let ui = u as usize;
        if self.patch_of.len() <= ui {
            self.patch_of.resize(ui + 1, NO_PATCH);
        }
        if self.patch_of[ui] == NO_PATCH {
            let (t, w) = self.base.row(u);
            self.patched_edges += t.len();
            self.patches.push((t.to_vec(), w.to_vec()));
            self.patch_of[ui] = (self.patches.len() - 1) as u32;
        }
        let p = self.patch_of[ui] as usize;
        &mut self.patches[p]
    }

    fn remove_positive(&mut self, u: u32, v: u32) -> Option<f32> {
        let (t, _) = self.row(u);
        let i = t.binary_search(&v).ok()?;
        let (t, w) = self.patch_mut(u);
        t.remove(i);
        let old = w.remove(i);
        self.patched_edges -= 1;
        self.edges -= 1;
        Some(old)
    }

    /// Set `u -> v` to `w`: positive upserts, negative moves it to the negative set, zero removes.
    /// Returns the previous weight.
    fn set(&mut self, u: u32, v: u32, w: f32) -> Option<f32> {
        let old_neg = self.negatives.remove(&(u, v));
        let old_pos = if w > 0.0 {
            let (t, _) = self.row(u);
            let at = t.binary_search(&v);
            let (t, ws) = self.patch_mut(u);
            match at {
                Ok(i) => Some(std::mem::replace(&mut ws[i], w)),
                Err(i) => {
                    t.insert(i, v);
                    ws.insert(i, w);
                    self.patched_edges += 1;
                    self.edges += 1;
                    None
                }
            }
        } else {
            let old = self.remove_positive(u, v);
            if w < 0.0 {
                self.negatives.insert((u, v), w);
            }
            old
        };
        if self.patched_edges >= COMPACT_MIN_PATCHED_EDGES
            && self.patched_edges > self.base.edges() / COMPACT_RATIO
        {
            self.compact();
        }
        old_pos.or(old_neg)
    }

    /// Merge the overlay into a fresh CSR (one linear pass).
    pub fn compact(&mut self) {
        if self.patches.is_empty() {
            return;
        }
        let n = self.base.nodes().max(self.patch_of.len());
        let mut offsets = Vec::with_capacity(n + 1);
        let mut targets = Vec::with_capacity(self.edges);
        let mut weights = Vec::with_capacity(self.edges);
        offsets.push(0u32);
        for u in 0..n as u32 {
            let (t, w) = self.row(u);
            targets.extend_from_slice(t);
            weights.extend_from_slice(w);
            offsets.push(targets.len() as u32);
        }
        self.base = Csr {
            offsets,
            targets,
            weights,
        };
        self.patch_of.clear();
        self.patches.clear();
        self.patched_edges = 0;
        self.compactions += 1;
    }

    fn heap_bytes(&self) -> usize {
        self.base.heap_bytes()
            + self.patch_of.capacity() * 4
            + self
                .patches
                .iter()
                .map(|(t, w)| t.capacity() * 4 + w.capacity() * 4)
                .sum::<usize>()
            + self.negatives.len() * 24
    }
}

/// A directed, weighted, topic-layered endorsement graph over labels `L`.
///
/// Positive edges feed ranking and admission; negative edges are kept per topic for local
/// filtering only. See the [module docs](self) for the storage layout.
#[derive(Clone, Debug)]
pub struct TrustGraph<L: Label> {
    labels: Vec<L>,
    index: HashMap<L, Node>,
    layers: BTreeMap<Topic, Layer>,
}

impl<L: Label> Default for TrustGraph<L> {
    fn default() -> Self {
        TrustGraph {
            labels: Vec::new(),
            index: HashMap::new(),
            layers: BTreeMap::new(),
        }
    }
}

impl<L: Label> TrustGraph<L> {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bulk-build one topic from labels and `(source, target, weight)` index triples: one
    /// sort, no overlay. Later duplicates win; weights `< 0` become negative edges; `0` and
    /// self-loops are dropped.
    pub fn from_edges(labels: Vec<L>, topic: Topic, edges: Vec<(u32, u32, f32)>) -> Result<Self> {
        let n = labels.len();
        if n > u32::MAX as usize - 1 {
            return Err(Error::TooLarge {
                what: "nodes",
                limit: u64::from(u32::MAX - 1),
            });
        }
        let mut index = HashMap::with_capacity(n);
        for (i, l) in labels.iter().enumerate() {
            index.entry(l.clone()).or_insert(Node(i as u32));
        }
        if index.len() != n {
            return Err(Error::param("labels", "duplicate labels"));
        }
        let mut negatives = BTreeMap::new();
        let mut positive = Vec::with_capacity(edges.len());
        for (u, v, w) in edges.into_iter().filter(|e| e.0 != e.1) {
            if w < 0.0 {
                negatives.insert((u, v), w);
                positive.push((u, v, 0.0)); // a later negative cancels an earlier positive
            } else {
                negatives.remove(&(u, v));
                positive.push((u, v, w));
            }
        }
        let mut layer = Layer::from_csr(Csr::from_edges(n, positive)?);
        layer.negatives = negatives;
        let mut layers = BTreeMap::new();
        layers.insert(topic, layer);
        Ok(TrustGraph {
            labels,
            index,
            layers,
        })
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The node of a label, if known.
    pub fn node(&self, label: &L) -> Option<Node> {
        self.index.get(label).copied()
    }

    /// The label of a node.
    pub fn label(&self, node: Node) -> Option<&L> {
        self.labels.get(node.index())
    }

    /// All labels, in node order.
    pub fn labels(&self) -> &[L] {
        &self.labels
    }

    /// The node of `label`, adding it if new.
    pub fn intern(&mut self, label: L) -> Result<Node> {
        if let Some(n) = self.index.get(&label) {
            return Ok(*n);
        }
        if self.labels.len() >= u32::MAX as usize - 1 {
            return Err(Error::TooLarge {
                what: "nodes",
                limit: u64::from(u32::MAX - 1),
            });
        }
        let n = Node(self.labels.len() as u32);
        self.labels.push(label.clone());
        self.index.insert(label, n);
        Ok(n)
    }

    /// Check that `node` exists.
    pub fn check(&self, node: Node) -> Result<()> {
        if node.index() < self.labels.len() {
            Ok(())
        } else {
            Err(Error::UnknownNode {
                index: node.0,
                nodes: self.labels.len(),
            })
        }
    }

    /// Set the edge `from -> to` on `topic` to `weight` (in `[-1, 1]` for endorsements, any
    /// finite value for imports): positive adds or updates, negative records a local distrust,
    /// zero removes. Self-loops are ignored. Returns the previous weight. `O(out-degree)`
    /// amortised; never rebuilds the graph.
    pub fn set_edge(
        &mut self,
        from: Node,
        to: Node,
        topic: &Topic,
        weight: f32,
    ) -> Result<Option<f32>> {
        self.check(from)?;
        self.check(to)?;
        if !weight.is_finite() {
            return Err(Error::param("weight", format!("{weight} is not finite")));
        }
        if from == to {
            return Ok(None);
        }
        if let Some(layer) = self.layers.get_mut(topic) {
            return Ok(layer.set(from.0, to.0, weight));
        }
        if weight == 0.0 {
            return Ok(None);
        }
        let mut layer = Layer::default();
        layer.set(from.0, to.0, weight);
        self.layers.insert(topic.clone(), layer);
        Ok(None)
    }

    /// Remove `from -> to` on `topic` (positive or negative). Returns the previous weight.
    pub fn remove_edge(&mut self, from: Node, to: Node, topic: &Topic) -> Result<Option<f32>> {
        self.set_edge(from, to, topic, 0.0)
    }

    /// The weight of `from -> to` on `topic`, positive or negative.
    pub fn edge(&self, from: Node, to: Node, topic: &Topic) -> Option<f32> {
        self.layers.get(topic)?.weight(from.0, to.0)
    }

    /// The topics that have (or had) edges, in order.
    pub fn topics(&self) -> impl Iterator<Item = &Topic> {
        self.layers.keys()
    }

    /// One topic's layer.
    pub fn layer(&self, topic: &Topic) -> Option<&Layer> {
        self.layers.get(topic)
    }

    /// Positive edges on `topic`.
    pub fn edge_count(&self, topic: &Topic) -> usize {
        self.layers.get(topic).map_or(0, Layer::edges)
    }

    /// Merge every layer's overlay into its CSR.
    pub fn compact(&mut self) {
        for l in self.layers.values_mut() {
            l.compact();
        }
    }

    /// Approximate heap bytes held by adjacency (labels excluded).
    pub fn adjacency_bytes(&self) -> usize {
        self.layers.values().map(Layer::heap_bytes).sum()
    }

    /// A view of one topic.
    pub fn view(&self, topic: &Topic) -> View<'_> {
        View {
            nodes: self.labels.len(),
            layers: self
                .layers
                .get(topic)
                .map(|l| (l, 1.0))
                .into_iter()
                .collect(),
        }
    }

    /// A view blending several topics, each edge weight multiplied by its topic's factor
    /// (e.g. `[("moderation", 1.0), ("*", 0.25)]`: moderation trust, with general trust as a
    /// weaker fallback). Unknown topics and non-positive factors contribute nothing.
    pub fn view_blend(&self, topics: &[(Topic, f32)]) -> View<'_> {
        View {
            nodes: self.labels.len(),
            layers: topics
                .iter()
                .filter(|(_, f)| *f > 0.0 && f.is_finite())
                .filter_map(|(t, f)| self.layers.get(t).map(|l| (l, *f)))
                .collect(),
        }
    }
}

/// One or several topic layers of a graph, read together.
#[derive(Clone, Debug)]
pub struct View<'a> {
    nodes: usize,
    layers: Vec<(&'a Layer, f32)>,
}

impl View<'_> {
    /// Number of nodes (of the whole graph).
    pub fn nodes(&self) -> usize {
        self.nodes
    }

    /// The negative edges of all layers, `(from, to, weight × factor)`.
    pub fn negatives(&self) -> impl Iterator<Item = (u32, u32, f32)> + '_ {
        self.layers
            .iter()
            .flat_map(|(l, f)| l.negatives.iter().map(move |(&(u, v), &w)| (u, v, w * f)))
    }

    /// Snapshot the positive edges as one flat CSR (blended layers summed per edge), dropping
    /// every edge into or out of a node whose `exclude` flag is set.
    pub fn to_csr(&self, exclude: Option<&[bool]>) -> Csr {
        let n = self.nodes;
        let excluded =
            |x: u32| exclude.is_some_and(|e| e.get(x as usize).copied().unwrap_or(false));
        let cap: usize = self.layers.iter().map(|(l, _)| l.edges()).sum();
        let mut offsets = Vec::with_capacity(n + 1);
        let mut targets = Vec::with_capacity(cap);
        let mut weights = Vec::with_capacity(cap);
        offsets.push(0u32);
        let mut merged: Vec<(u32, f32)> = Vec::new();
        for u in 0..n as u32 {
            if !excluded(u) {
                match self.layers.as_slice() {
                    [] => {}
                    [(l, f)] => {
                        let (ts, ws) = l.row(u);
                        for (&t, &w) in ts.iter().zip(ws) {
                            if !excluded(t) {
                                targets.push(t);
                                weights.push(w * f);
                            }
                        }
                    }
                    many => {
                        merged.clear();
                        for (l, f) in many {
                            let (ts, ws) = l.row(u);
                            merged.extend(
                                ts.iter()
                                    .zip(ws)
                                    .filter(|(t, _)| !excluded(**t))
                                    .map(|(&t, &w)| (t, w * f)),
                            );
                        }
                        merged.sort_by_key(|&(t, _)| t);
                        let mut i = 0;
                        while i < merged.len() {
                            let t = merged[i].0;
                            let mut w = 0.0;
                            while i < merged.len() && merged[i].0 == t {
                                w += merged[i].1;
                                i += 1;
                            }
                            targets.push(t);
                            weights.push(w);
                        }
                    }
                }
            }
            offsets.push(targets.len() as u32);
        }
        Csr {
            offsets,
            targets,
            weights,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Topic {
        Topic::general()
    }

    #[test]
    fn overlay_matches_bulk_build() {
        let labels: Vec<u32> = (0..6).collect();
        let mut g = TrustGraph::from_edges(
            labels.clone(),
            t(),
            vec![(0, 1, 1.0), (1, 2, 0.5), (2, 0, 1.0)],
        )
        .unwrap();
        g.set_edge(Node(0), Node(3), &t(), 0.7).unwrap();
        g.set_edge(Node(1), Node(2), &t(), 0.0).unwrap();
        g.set_edge(Node(4), Node(5), &t(), -0.5).unwrap();
        g.set_edge(Node(5), Node(4), &t(), 1.0).unwrap();
        let want = TrustGraph::from_edges(
            labels,
            t(),
            vec![
                (0, 1, 1.0),
                (2, 0, 1.0),
                (0, 3, 0.7),
                (4, 5, -0.5),
                (5, 4, 1.0),
            ],
        )
        .unwrap();
        assert_eq!(g.view(&t()).to_csr(None), want.view(&t()).to_csr(None));
        assert_eq!(g.edge(Node(4), Node(5), &t()), Some(-0.5));
        assert_eq!(g.edge_count(&t()), 4);
        g.compact();
        assert_eq!(g.view(&t()).to_csr(None), want.view(&t()).to_csr(None));
    }

    #[test]
    fn blend_sums_weights() {
        let mut g: TrustGraph<&str> = TrustGraph::new();
        let a = g.intern("a").unwrap();
        let b = g.intern("b").unwrap();
        let m = Topic::new("moderation").unwrap();
        g.set_edge(a, b, &t(), 1.0).unwrap();
        g.set_edge(a, b, &m, 0.5).unwrap();
        let csr = g.view_blend(&[(m, 1.0), (t(), 0.25)]).to_csr(None);
        assert_eq!(csr.row(0), (&[1u32][..], &[0.75f32][..]));
    }

    #[test]
    fn transpose_and_symmetrize() {
        let c = Csr::from_edges(3, vec![(0, 1, 1.0), (0, 2, 0.5), (2, 1, 0.2)]).unwrap();
        let r = c.transpose();
        assert_eq!(r.row(1), (&[0u32, 2][..], &[1.0f32, 0.2][..]));
        let s = c.symmetrized();
        assert_eq!(s.edges(), 6);
        assert_eq!(s.row(1).0, &[0, 2]);
    }
}
