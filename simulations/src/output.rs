//! Writes a run's results into a directory: `summary.json`, `metrics.csv`,
//! `messages.csv` (optional), `latency_cdf.csv`, `copies_hist.csv` and the plots.
//!
//! Nothing written here depends on the wall clock, so a seed gives identical files.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Error;
use crate::plot;
use crate::results::RunResult;
use crate::scenario::Scenario;

/// Writes every output file; returns the paths written.
pub fn write_all(dir: &Path, scn: &Scenario, result: &RunResult) -> Result<Vec<PathBuf>, Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut written = Vec::new();

    let p = dir.join("summary.json");
    let mut json = serde_json::to_string_pretty(&result.summary)?;
    json.push('\n');
    std::fs::write(&p, json).map_err(|e| Error::io(&p, e))?;
    written.push(p);

    let p = dir.join("metrics.csv");
    write_csv(&p, &result.series)?;
    written.push(p);

    let cdf = result.latency_cdf();
    let p = dir.join("latency_cdf.csv");
    write_csv(&p, &cdf)?;
    written.push(p);

    #[derive(Serialize)]
    struct CopiesRow {
        copies: usize,
        pairs: u64,
    }
    let rows: Vec<CopiesRow> = result
        .copies
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 0)
        .map(|(copies, &pairs)| CopiesRow { copies, pairs })
        .collect();
    let p = dir.join("copies_hist.csv");
    write_csv(&p, &rows)?;
    written.push(p);

    if scn.raw().output.messages_csv {
        let p = dir.join("messages.csv");
        write_csv(&p, &result.messages)?;
        written.push(p);
    }
    if let Some(reports) = &result.summary.trust {
        let p = dir.join("trust.csv");
        write_csv(&p, &trust_rows(reports))?;
        written.push(p);
    }
    if scn.raw().output.plots {
        written.extend(plot::run_plots(dir, result, &cdf)?);
        if let Some(reports) = &result.summary.trust {
            written.extend(plot::trust_plots(dir, &result.summary, reports)?);
        }
    }
    Ok(written)
}

/// Writes serialisable rows as CSV with a header.
pub fn write_csv<T: Serialize>(path: &Path, rows: &[T]) -> Result<(), Error> {
    let mut w = csv::Writer::from_path(path)?;
    for r in rows {
        w.serialize(r)?;
    }
    w.flush().map_err(|e| Error::io(path, e))?;
    Ok(())
}

/// One row of `trust.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct TrustRow {
    /// Attack edges.
    pub attack_edges: usize,
    /// Sybil identities.
    pub sybils: usize,
    /// Honest members.
    pub honest: usize,
    /// Sybils admitted by the capacity flow.
    pub sybils_admitted: usize,
    /// The flow's bound on admitted Sybils.
    pub admission_bound: u64,
    /// Sybils admitted per attack edge.
    pub sybils_per_attack_edge: f64,
    /// Honest members admitted / honest members.
    pub honest_acceptance: f64,
    /// AUC of the ranking (honest above Sybil).
    pub auc: f64,
    /// AUC of plain personalized PageRank.
    pub auc_ppr: f64,
    /// Share of ranking score held by Sybils.
    pub sybil_mass: f64,
}

/// Flattens qun-trust reports into CSV rows.
pub fn trust_rows(reports: &[qun_trust::eval::SybilReport]) -> Vec<TrustRow> {
    reports
        .iter()
        .map(|r| TrustRow {
            attack_edges: r.attack_edges,
            sybils: r.sybils,
            honest: r.honest,
            sybils_admitted: r.sybils_admitted,
            admission_bound: r.admission_bound,
            sybils_per_attack_edge: crate::metrics::round6(r.sybils_per_attack_edge),
            honest_acceptance: crate::metrics::round6(r.honest_acceptance),
            auc: crate::metrics::round6(r.auc),
            auc_ppr: crate::metrics::round6(r.auc_ppr),
            sybil_mass: crate::metrics::round6(r.sybil_mass),
        })
        .collect()
}
