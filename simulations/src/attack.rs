//! The trust layer: Sybil attacks on admission and ranking, run on the real `qun-trust`
//! engine.
//!
//! An honest endorsement graph is generated (community-structured web of trust,
//! scale-free, small world) or imported from an edge list; for each attack-edge count a
//! Sybil region (`sybils` identities, `internal_degree` endorsements each) is grafted on
//! with that many honest → Sybil endorsements, and `qun_trust::eval::run_sybil_experiment`
//! ranks and admits from the seeds. The reports (Sybils admitted, the capacity bound,
//! honest acceptance, AUC, Sybil score mass) go into `summary.json`, `trust.csv` and the
//! Sybil-admission plot. Advogato: Levien 2009; SybilRank: Cao et al. 2012.

use std::io::BufReader;
use std::path::{Path, PathBuf};

use qun_trust::Query;
use qun_trust::eval::{SybilExperiment, SybilReport, run_sybil_experiment};
use qun_trust::graph::Csr;
use qun_trust::import::{ImportOptions, read_edge_list};
use qun_trust::sybil::SybilParams;
use qun_trust::synth::{WotParams, community_wot, scale_free, small_world};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Reciprocity of generated scale-free endorsement graphs (share of edges endorsed back).
const SCALE_FREE_RECIPROCITY: f64 = 0.5;

/// How the honest endorsement graph is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrustGraphKind {
    /// Community-structured power-law web of trust (`qun_trust::synth::community_wot`).
    CommunityWot,
    /// Barabási–Albert (`degree / 2` endorsements per newcomer).
    ScaleFree,
    /// Watts–Strogatz (`degree` neighbours, `rewire`).
    SmallWorld,
    /// `source target [weight] [time]` lines from `edges_file`.
    Edges,
}

/// `[trust]`: a Sybil attack on admission and ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrustConfig {
    /// Honest graph generator.
    pub graph: TrustGraphKind,
    /// Honest members (0 = the scenario's `nodes`); ignored for `edges`.
    pub members: u32,
    /// Mean degree for `scale_free` / `small_world`.
    pub degree: u32,
    /// Rewiring probability for `small_world`.
    pub rewire: f64,
    /// Edge list for `graph = "edges"`, relative to the scenario file.
    pub edges_file: Option<PathBuf>,
    /// Seed labels for `edges` (`["alice", "bob"]`); generated graphs use their founders.
    pub seeds: Vec<String>,
    /// Seeds taken from generated graphs (first founders, or the first nodes).
    pub seed_count: u32,
    /// Sybil identities.
    pub sybils: u32,
    /// Attack-edge counts to try, one experiment each.
    pub attack_edges: Vec<u32>,
    /// Endorsements each Sybil makes inside the region (internal density).
    pub internal_degree: u32,
    /// Sybil → honest endorsements (0 = as many as attack edges).
    pub back_edges: u32,
}

impl Default for TrustConfig {
    fn default() -> Self {
        TrustConfig {
            graph: TrustGraphKind::CommunityWot,
            members: 0,
            degree: 10,
            rewire: 0.1,
            edges_file: None,
            seeds: Vec::new(),
            seed_count: 5,
            sybils: 1000,
            attack_edges: vec![10, 25, 50, 100, 200],
            internal_degree: 8,
            back_edges: 0,
        }
    }
}

impl TrustConfig {
    /// Checks the fields; `Err((key, message))` names the offending key under `trust.`.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if self.attack_edges.is_empty() {
            return Err(("attack_edges", "list at least one attack-edge count".into()));
        }
        if self.sybils == 0 {
            return Err(("sybils", "must be >= 1".into()));
        }
        if !(0.0..=1.0).contains(&self.rewire) {
            return Err(("rewire", format!("must be in [0, 1], got {}", self.rewire)));
        }
        if self.graph == TrustGraphKind::Edges {
            if self.edges_file.is_none() {
                return Err(("edges_file", "required when trust.graph = \"edges\"".into()));
            }
            if self.seeds.is_empty() {
                return Err(("seeds", "list seed labels for an imported graph".into()));
            }
        } else if self.seed_count == 0 {
            return Err(("seed_count", "must be >= 1".into()));
        }
        Ok(())
    }
}

/// An honest graph ready for experiments.
#[derive(Debug, Clone)]
pub struct HonestGraph {
    /// The graph.
    pub csr: Csr,
    /// Seed node indices.
    pub seeds: Vec<u32>,
}

/// Reads an edge list and resolves seed labels (`a,b`).
pub fn import(
    path: &Path,
    seeds: &str,
) -> Result<(qun_trust::import::EdgeList, HonestGraph), Error> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let list = read_edge_list(BufReader::new(f), &ImportOptions::default())?;
    let (csr, seeds) = Query::new(list.seeds(seeds)?).snapshot(&list.graph)?;
    Ok((list, HonestGraph { csr, seeds }))
}

/// Builds the honest graph a `[trust]` table describes.
pub fn honest_graph(
    cfg: &TrustConfig,
    nodes: u32,
    base: &dyn Fn(&Path) -> PathBuf,
    seed: u64,
) -> Result<HonestGraph, Error> {
    let n = if cfg.members == 0 { nodes } else { cfg.members } as usize;
    let synth = match cfg.graph {
        TrustGraphKind::Edges => {
            let path = cfg.edges_file.as_deref().map(base).unwrap_or_default();
            return import(&path, &cfg.seeds.join(",")).map(|(_, g)| g);
        }
        TrustGraphKind::CommunityWot => community_wot(&WotParams::with_members(n), seed)?,
        TrustGraphKind::ScaleFree => scale_free(
            n,
            (cfg.degree as usize / 2).max(1),
            SCALE_FREE_RECIPROCITY,
            seed,
        )?,
        TrustGraphKind::SmallWorld => small_world(n, cfg.degree as usize, cfg.rewire, seed)?,
    };
    let k = cfg.seed_count as usize;
    let mut seeds: Vec<u32> = synth.founders.iter().copied().take(k).collect();
    let mut next = 0u32;
    while seeds.len() < k.min(synth.nodes) {
        if !seeds.contains(&next) {
            seeds.push(next);
        }
        next += 1;
    }
    let csr = Csr::from_edges(synth.nodes, synth.edges)?;
    Ok(HonestGraph { csr, seeds })
}

/// One experiment per attack-edge count.
pub fn run(
    cfg: &TrustConfig,
    nodes: u32,
    base: &dyn Fn(&Path) -> PathBuf,
    seed: u64,
) -> Result<Vec<SybilReport>, Error> {
    let g = honest_graph(cfg, nodes, base, seed)?;
    cfg.attack_edges
        .iter()
        .map(|&k| {
            let exp = SybilExperiment {
                sybil: SybilParams {
                    count: cfg.sybils as usize,
                    attack_edges: k as usize,
                    internal_degree: cfg.internal_degree as usize,
                    back_edges: if cfg.back_edges == 0 {
                        k
                    } else {
                        cfg.back_edges
                    } as usize,
                },
                seed,
                ..SybilExperiment::default()
            };
            Ok(run_sybil_experiment(&g.csr, &g.seeds, &exp)?)
        })
        .collect()
}
