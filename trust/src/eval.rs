//! Measuring a defence: AUC of a ranking, Sybil score mass, admission counts.
//!
//! The AUC is the probability that a uniformly chosen honest member scores strictly higher
//! than a uniformly chosen Sybil (ties count one half): the Mann–Whitney U statistic
//! normalised, computed by one sort in `O(n log n)`. Seeds are left out (they are trusted by
//! construction). 1.0 means every honest member ranks above every Sybil, 0.5 is a coin.

//!
//! [`run_sybil_experiment`] is the whole `qun-sim trust --sybils` pipeline as a library call:
//! graft a Sybil region onto an honest graph, rank and admit from the seeds, and measure.
//!
//! ```
//! use qun_trust::eval::{run_sybil_experiment, SybilExperiment};
//! use qun_trust::synth::{community_wot, WotParams};
//!
//! let honest = community_wot(&WotParams::with_members(500), 1)?;
//! let csr = qun_trust::graph::Csr::from_edges(honest.nodes, honest.edges.clone())?;
//! let mut exp = SybilExperiment::default();
//! exp.sybil.count = 200;
//! exp.sybil.attack_edges = 10;
//! let report = run_sybil_experiment(&csr, &honest.founders, &exp)?;
//! assert!(report.sybils_admitted as u64 <= report.admission_bound);
//! println!("{}", serde_json::to_string_pretty(&report).unwrap());
//! # Ok::<(), qun_trust::Error>(())
//! ```

use crate::admission::admit;
use crate::error::{Error, Result};
use crate::graph::{Csr, Node};
use crate::params::{AdmissionParams, Capacities, DEFAULT_CALIBRATION_SLACK, Method, RankParams};
use crate::rank::rank_csr;
use crate::sybil::{SybilParams, graft};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// AUC of `scores` separating honest (`is_sybil(i) == false`) from Sybil nodes, ignoring the
/// nodes in `skip`. Returns 0.5 when either class is empty.
pub fn auc(scores: &[f64], is_sybil: impl Fn(usize) -> bool, skip: &[bool]) -> f64 {
    let mut items: Vec<(f64, bool)> = scores
        .iter()
        .enumerate()
        .filter(|(i, _)| !skip.get(*i).copied().unwrap_or(false))
        .map(|(i, &s)| (s, is_sybil(i)))
        .collect();
    items.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(Ordering::Equal));
    let honest = items.iter().filter(|x| !x.1).count() as f64;
    let sybil = items.len() as f64 - honest;
    if honest == 0.0 || sybil == 0.0 {
        return 0.5;
    }
    // Rank-sum of the honest class with average ranks for ties.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < items.len() {
        let mut j = i;
        while j + 1 < items.len() && items[j + 1].0 == items[i].0 {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += avg_rank * items[i..=j].iter().filter(|x| !x.1).count() as f64;
        i = j + 1;
    }
    (rank_sum - honest * (honest + 1.0) / 2.0) / (honest * sybil)
}

/// Share of the total score held by Sybils.
pub fn sybil_mass(scores: &[f64], is_sybil: impl Fn(usize) -> bool) -> f64 {
    let total: f64 = scores.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    scores
        .iter()
        .enumerate()
        .filter(|(i, _)| is_sybil(*i))
        .map(|(_, s)| s)
        .sum::<f64>()
        / total
}

/// One Sybil experiment: region shape, defence parameters, RNG seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SybilExperiment {
    /// The Sybil region.
    pub sybil: SybilParams,
    /// Ranking parameters (the method decides what `auc` measures).
    pub rank: RankParams,
    /// Admission capacities; `None`: [`AdmissionParams::calibrated`] on the honest graph
    /// with `calibration_slack` (the community's policy, fixed before the attack).
    pub admission: Option<AdmissionParams>,
    /// Slack for the calibrated capacities.
    pub calibration_slack: f64,
    /// Seed of the grafting RNG.
    pub seed: u64,
}

impl Default for SybilExperiment {
    fn default() -> Self {
        SybilExperiment {
            sybil: SybilParams::default(),
            rank: RankParams::default(),
            admission: None,
            calibration_slack: DEFAULT_CALIBRATION_SLACK,
            seed: 0,
        }
    }
}

/// What a Sybil experiment measured (serialise it with serde for `--json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SybilReport {
    /// Honest members.
    pub honest: usize,
    /// Sybils grafted.
    pub sybils: usize,
    /// Attack edges.
    pub attack_edges: usize,
    /// Seeds used.
    pub seeds: usize,
    /// Edges in the attacked graph.
    pub edges: usize,
    /// Ranking method.
    pub method: Method,
    /// Damping used.
    pub damping: f64,
    /// AUC of the ranking's order (its [`crate::rank::Ranking::key`]), seeds excluded.
    pub auc: f64,
    /// AUC of the plain personalized PageRank scores, for comparison.
    pub auc_ppr: f64,
    /// Share of the score held by Sybils.
    pub sybil_mass: f64,
    /// Sybils admitted by the flow.
    pub sybils_admitted: usize,
    /// The bound on admitted Sybils: Σ (capacity − 1) of the attack edges' honest ends.
    pub admission_bound: u64,
    /// Honest members admitted.
    pub honest_accepted: usize,
    /// `honest_accepted / honest`.
    pub honest_acceptance: f64,
    /// `sybils_admitted / attack_edges`.
    pub sybils_per_attack_edge: f64,
    /// Power iterations of the ranking.
    pub iterations: u32,
    /// The capacities used.
    pub capacities: Capacities,
}

/// Graft a Sybil region onto `honest` (seeds protected from being tricked), rank and admit
/// from `seeds`, and measure separation. Deterministic in `exp.seed`.
pub fn run_sybil_experiment(
    honest: &Csr,
    seeds: &[u32],
    exp: &SybilExperiment,
) -> Result<SybilReport> {
    if seeds.is_empty() {
        return Err(Error::NoSeeds);
    }
    let n = honest.nodes();
    let admission = match &exp.admission {
        Some(a) => a.clone(),
        None => AdmissionParams::calibrated(honest, seeds, exp.calibration_slack)?,
    };
    let mut protected = seeds.to_vec();
    protected.sort_unstable();
    protected.dedup();
    let grafted = graft(n, &honest.edge_list(), &protected, &exp.sybil, exp.seed)?;
    let csr = grafted.csr()?;
    let raw = rank_csr(&csr, &protected, &exp.rank, &admission, None)?;
    let adm = match raw.admission.clone() {
        Some(a) => a,
        None => admit(&csr, &protected, &admission)?,
    };
    let ranking = crate::rank::finish(raw, None, |a, b| a.cmp(&b));
    let keys: Vec<f64> = (0..csr.nodes() as u32)
        .map(|i| ranking.key(Node(i)))
        .collect();
    let mut skip = vec![false; csr.nodes()];
    for &s in &protected {
        skip[s as usize] = true;
    }
    let is_sybil = |i: usize| i >= n;
    let ppr_params = RankParams::builder()
        .method(Method::PersonalizedPageRank)
        .damping(exp.rank.damping())
        .tolerance(exp.rank.tolerance())
        .max_iterations(exp.rank.max_iterations())
        .build()?;
    let ppr = rank_csr(&csr, &protected, &ppr_params, &admission, None)?;
    let sybils_admitted = (n..csr.nodes()).filter(|&i| adm.is_accepted(i)).count();
    let honest_accepted = (0..n).filter(|&i| adm.is_accepted(i)).count();
    let attack = grafted.attack_edges.len();
    Ok(SybilReport {
        honest: n,
        sybils: exp.sybil.count,
        attack_edges: attack,
        seeds: protected.len(),
        edges: csr.edges(),
        method: exp.rank.method(),
        damping: exp.rank.damping(),
        auc: auc(&keys, is_sybil, &skip),
        auc_ppr: auc(&ppr.scores, is_sybil, &skip),
        sybil_mass: sybil_mass(ranking.scores(), is_sybil),
        sybils_admitted,
        admission_bound: adm.attack_bound(&grafted.attack_edges),
        honest_accepted,
        honest_acceptance: honest_accepted as f64 / n.max(1) as f64,
        sybils_per_attack_edge: if attack > 0 {
            sybils_admitted as f64 / attack as f64
        } else {
            0.0
        },
        iterations: ranking.iterations(),
        capacities: admission.capacities().clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_hand_computed() {
        // honest: 3, 2 ; sybil: 1, 2  -> pairs: (3>1) (3>2) (2>1) (2=2 half) = 3.5 / 4
        let s = [3.0, 2.0, 1.0, 2.0];
        let a = auc(&s, |i| i >= 2, &[]);
        assert!((a - 0.875).abs() < 1e-12);
        assert_eq!(auc(&s, |_| false, &[]), 0.5);
        assert!((auc(&s, |i| i >= 2, &[false, true, false, false]) - 1.0).abs() < 1e-12);
    }
}
