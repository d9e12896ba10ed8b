//! Determinism check (STYLE §34): run one scenario and seed several times, on different
//! threads, and compare the summary bytes, the time series and the event-log hash.

use std::thread;

use crate::error::Error;
use crate::results::RunResult;
use crate::scenario::Scenario;
use crate::world::run;

/// Outcome of [`check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Whether every run produced the same bytes.
    pub identical: bool,
    /// Event-log hash of each run.
    pub hashes: Vec<String>,
    /// blake3 of `summary.json` + `metrics.csv` bytes of each run, hex.
    pub digests: Vec<String>,
}

/// blake3 over the serialised summary and series of a run.
pub fn digest(r: &RunResult) -> Result<String, Error> {
    let mut h = blake3::Hasher::new();
    h.update(serde_json::to_string(&r.summary)?.as_bytes());
    h.update(serde_json::to_string(&r.series)?.as_bytes());
    h.update(serde_json::to_string(&r.messages)?.as_bytes());
    Ok(h.finalize().to_hex().to_string())
}

/// Runs `scn` with `seed` `runs` times (at least 2), each on its own thread.
pub fn check(scn: &Scenario, seed: u64, runs: usize) -> Result<Report, Error> {
    let runs = runs.max(2);
    let results: Vec<Result<(String, String), Error>> = thread::scope(|s| {
        let handles: Vec<_> = (0..runs)
            .map(|_| {
                s.spawn(move || {
                    let r = run(scn, seed, &mut |_| {})?;
                    Ok((r.summary.event_log_hash.clone(), digest(&r)?))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut hashes = Vec::new();
    let mut digests = Vec::new();
    for r in results {
        let (h, d) = r?;
        hashes.push(h);
        digests.push(d);
    }
    let identical =
        hashes.windows(2).all(|w| w[0] == w[1]) && digests.windows(2).all(|w| w[0] == w[1]);
    Ok(Report {
        identical,
        hashes,
        digests,
    })
}
