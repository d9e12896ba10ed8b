//! What a ranking or an admission computes on: seeds, topics, parameters and the viewer's
//! local filter, and the positive-edge snapshot they select.

use crate::error::{Error, Result};
use crate::filter::LocalFilter;
use crate::graph::{Csr, Label, Node, TrustGraph};
use crate::params::{AdmissionParams, RankParams};
use qun_identity::Topic;

/// What to rank: seeds, topics and parameters.
#[derive(Clone, Debug)]
pub struct Query {
    /// The viewer and/or founders whose trust is propagated (at least one).
    pub seeds: Vec<Node>,
    /// Topics with blend factors; default general trust (`*`) alone.
    pub topics: Vec<(Topic, f32)>,
    /// Ranking parameters.
    pub rank: RankParams,
    /// Admission parameters (used by [`crate::params::Method::Gated`] and by [`crate::admission::admit_query`]).
    pub admission: AdmissionParams,
    /// The viewer's local filter (negative endorsements), if any.
    pub filter: Option<LocalFilter>,
}

impl Query {
    /// General trust from `seeds` with default parameters.
    pub fn new(seeds: Vec<Node>) -> Self {
        Query {
            seeds,
            topics: vec![(Topic::general(), 1.0)],
            rank: RankParams::default(),
            admission: AdmissionParams::default(),
            filter: None,
        }
    }

    /// Only `topic`.
    pub fn topic(mut self, topic: Topic) -> Self {
        self.topics = vec![(topic, 1.0)];
        self
    }

    /// A blend of topics (see [`TrustGraph::view_blend`]).
    pub fn blend(mut self, topics: Vec<(Topic, f32)>) -> Self {
        self.topics = topics;
        self
    }

    /// Ranking parameters.
    pub fn rank_params(mut self, p: RankParams) -> Self {
        self.rank = p;
        self
    }

    /// Admission parameters.
    pub fn admission_params(mut self, p: AdmissionParams) -> Self {
        self.admission = p;
        self
    }

    /// Apply a viewer's local filter.
    pub fn filter(mut self, f: LocalFilter) -> Self {
        self.filter = Some(f);
        self
    }

    /// The positive-edge snapshot this query computes on (filtered nodes removed), and its
    /// effective seeds (filtered seeds dropped).
    pub fn snapshot<L: Label>(&self, graph: &TrustGraph<L>) -> Result<(Csr, Vec<u32>)> {
        if self.seeds.is_empty() {
            return Err(Error::NoSeeds);
        }
        for &s in &self.seeds {
            graph.check(s)?;
        }
        let view = graph.view_blend(&self.topics);
        let mask = self.filter.as_ref().map(|f| f.blocked_mask(graph.len()));
        let csr = view.to_csr(mask.as_deref());
        let mut seeds: Vec<u32> = self
            .seeds
            .iter()
            .filter(|s| !mask.as_ref().is_some_and(|m| m[s.index()]))
            .map(|s| s.0)
            .collect();
        seeds.sort_unstable();
        seeds.dedup();
        if seeds.is_empty() {
            return Err(Error::NoSeeds);
        }
        Ok((csr, seeds))
    }
}
