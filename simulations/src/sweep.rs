//! Parameter sweeps: run a scenario for each value of one dotted key (`gossip.d`,
//! `churn.offline_fraction`, …) and each seed, collect one table and one plot.
//!
//! Sweeping `gossip.d` also sets D_lo, D_hi, D_score and D_out in rust-libp2p's
//! proportions (D_lo = ⌈5D/6⌉, D_hi = 2D, D_score = min(4, D), D_out = min(2, D/2)).
//!
//! Runs go in parallel on `jobs` threads, one run per thread (STYLE §33); rows come back
//! in (value, seed) order whatever the thread timing, so the table is deterministic.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

use crate::error::Error;
use crate::metrics::Summary;
use crate::scenario::Scenario;
use crate::world::run;

/// Metrics a sweep can plot (columns of `sweep.csv`).
pub fn metric_names() -> &'static [&'static str] {
    &[
        "delivery_ratio",
        "delivery_ratio_online",
        "latency_p50_ms",
        "latency_p90_ms",
        "latency_p99_ms",
        "hops_mean",
        "hops_p99",
        "copies_per_delivery",
        "duplicates_per_delivery",
        "data_bytes_per_node",
        "control_bytes_per_node",
        "spread_p99_s",
    ]
}

/// One row of `sweep.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepRow {
    /// Swept key.
    pub param: String,
    /// Its value, as written in TOML.
    pub value: String,
    /// Seed.
    pub seed: u64,
    /// Delivery ratio.
    pub delivery_ratio: f64,
    /// Delivery ratio among members online at publication.
    pub delivery_ratio_online: f64,
    /// Latency p50, ms.
    pub latency_p50_ms: f64,
    /// Latency p90, ms.
    pub latency_p90_ms: f64,
    /// Latency p99, ms.
    pub latency_p99_ms: f64,
    /// Mean hops.
    pub hops_mean: f64,
    /// p99 hops.
    pub hops_p99: f64,
    /// Copies per delivery.
    pub copies_per_delivery: f64,
    /// Duplicates per delivery.
    pub duplicates_per_delivery: f64,
    /// Mean data bytes sent per node.
    pub data_bytes_per_node: f64,
    /// Mean control bytes sent per node.
    pub control_bytes_per_node: f64,
    /// p99 spread, s.
    pub spread_p99_s: f64,
    /// Events.
    pub events: u64,
}

impl SweepRow {
    fn new(param: &str, value: &str, s: &Summary) -> SweepRow {
        SweepRow {
            param: param.to_string(),
            value: value.to_string(),
            seed: s.seed,
            delivery_ratio: s.delivery_ratio,
            delivery_ratio_online: s.delivery_ratio_online,
            latency_p50_ms: s.latency_ms.p50,
            latency_p90_ms: s.latency_ms.p90,
            latency_p99_ms: s.latency_ms.p99,
            hops_mean: s.hops.mean,
            hops_p99: s.hops.p99,
            copies_per_delivery: s.copies_per_delivery,
            duplicates_per_delivery: s.duplicates_per_delivery,
            data_bytes_per_node: s.bytes_per_node.data.mean,
            control_bytes_per_node: s.bytes_per_node.control.mean,
            spread_p99_s: s.convergence.spread_s.p99,
            events: s.events,
        }
    }
}

/// Parses `4,6,8`, `4..=12` or `0..=0.5:0.1` into TOML values (integers stay integers).
pub fn parse_values(spec: &str) -> Result<Vec<toml::Value>, String> {
    if let Some((a, rest)) = spec.split_once("..=") {
        let (b, step) = match rest.split_once(':') {
            Some((b, s)) => (b, Some(s)),
            None => (rest, None),
        };
        let ints = !a.contains('.') && !b.contains('.') && step.is_none_or(|s| !s.contains('.'));
        if ints {
            let p = |s: &str| s.trim().parse::<i64>().map_err(|e| format!("`{s}`: {e}"));
            let (a, b, st) = (p(a)?, p(b)?, step.map(p).transpose()?.unwrap_or(1));
            if st <= 0 || b < a {
                return Err("need start <= end and step > 0".into());
            }
            return Ok((a..=b)
                .step_by(st as usize)
                .map(toml::Value::Integer)
                .collect());
        }
        let p = |s: &str| s.trim().parse::<f64>().map_err(|e| format!("`{s}`: {e}"));
        let (a, b) = (p(a)?, p(b)?);
        let st = step
            .map(p)
            .transpose()?
            .ok_or("a float range needs a step: a..=b:step")?;
        if st <= 0.0 || b < a {
            return Err("need start <= end and step > 0".into());
        }
        let n = ((b - a) / st + 1e-9).floor() as usize;
        return Ok((0..=n)
            .map(|i| toml::Value::Float(crate::metrics::round6(a + st * i as f64)))
            .collect());
    }
    spec.split(',')
        .map(|v| {
            let v = v.trim();
            if let Ok(i) = v.parse::<i64>() {
                Ok(toml::Value::Integer(i))
            } else if let Ok(f) = v.parse::<f64>() {
                Ok(toml::Value::Float(f))
            } else if let Ok(b) = v.parse::<bool>() {
                Ok(toml::Value::Boolean(b))
            } else if v.is_empty() {
                Err("empty value".to_string())
            } else {
                Ok(toml::Value::String(v.to_string()))
            }
        })
        .collect()
}

/// Sets dotted `key` in `table` (creating tables on the way).
pub fn set_key(table: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), Error> {
    let bad = |message: &str| Error::Sweep {
        param: key.to_string(),
        message: message.to_string(),
    };
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().ok_or_else(|| bad("empty key"))?;
    let mut t = table;
    for p in parts {
        let entry = t
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        t = entry
            .as_table_mut()
            .ok_or_else(|| bad("a prefix of the key is not a table"))?;
    }
    t.insert(last.to_string(), value);
    Ok(())
}

/// Display form of a TOML value for tables and axes.
pub fn show(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Everything `qun-sim sweep` needs.
#[derive(Debug, Clone)]
pub struct SweepPlan {
    /// Scenario file.
    pub scenario: PathBuf,
    /// Dotted key.
    pub param: String,
    /// Values.
    pub values: Vec<toml::Value>,
    /// Seeds per value.
    pub seeds: Vec<u64>,
    /// Threads.
    pub jobs: usize,
    /// Apply [`Scenario::shortened`] with these limits (nodes, messages, seconds).
    pub shorten: Option<(u32, u32, f64)>,
}

/// Builds the scenario of each value (validating all before running any).
pub fn scenarios(plan: &SweepPlan) -> Result<Vec<Scenario>, Error> {
    let src = std::fs::read_to_string(&plan.scenario).map_err(|e| Error::io(&plan.scenario, e))?;
    // Validate the file itself first, so errors point at its lines.
    Scenario::load(&plan.scenario)?;
    let table: toml::Table = toml::from_str(&src).map_err(|e: toml::de::Error| Error::Sweep {
        param: plan.param.clone(),
        message: e.message().to_string(),
    })?;
    let base_dir = plan
        .scenario
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    plan.values
        .iter()
        .map(|v| {
            let mut t = table.clone();
            set_key(&mut t, &plan.param, v.clone())?;
            if plan.param == "gossip.d"
                && let Some(d) = v.as_integer()
            {
                // Sweeping D keeps rust-libp2p's proportions (6 / 5 / 12, D_score 4, D_out 2),
                // so every value is a valid configuration.
                let d_lo = ((d * 5 + 3) / 6).max(1);
                for (k, x) in [
                    ("gossip.d_lo", d_lo),
                    ("gossip.d_hi", 2 * d),
                    ("gossip.d_score", d.min(4)),
                    ("gossip.d_out", (d / 2).min(2).min(d_lo)),
                ] {
                    set_key(&mut t, k, toml::Value::Integer(x))?;
                }
            }
            let name = format!("{}={}", plan.param, show(v));
            let s = Scenario::from_table(&name, t, base_dir.clone()).map_err(|e| Error::Sweep {
                param: plan.param.clone(),
                message: e.to_string(),
            })?;
            Ok(match plan.shorten {
                Some((n, m, d)) => s.shortened(n, m, d),
                None => s,
            })
        })
        .collect()
}

/// Runs the sweep; `done(i, total)` is called as runs finish.
pub fn run_sweep(
    plan: &SweepPlan,
    done: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<SweepRow>, Error> {
    let scns = scenarios(plan)?;
    let tasks: Vec<(usize, usize)> = (0..scns.len())
        .flat_map(|i| (0..plan.seeds.len()).map(move |j| (i, j)))
        .collect();
    let results: Vec<Mutex<Option<Result<Summary, Error>>>> =
        tasks.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..plan.jobs.max(1).min(tasks.len().max(1)) {
            s.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&(i, j)) = tasks.get(k) else {
                        break;
                    };
                    let r = run(&scns[i], plan.seeds[j], &mut |_| {}).map(|r| r.summary);
                    if let Ok(mut slot) = results[k].lock() {
                        *slot = Some(r);
                    }
                    done(finished.fetch_add(1, Ordering::SeqCst) + 1, tasks.len());
                }
            });
        }
    });
    let mut rows = Vec::with_capacity(tasks.len());
    for (k, &(i, _)) in tasks.iter().enumerate() {
        let slot = results[k]
            .lock()
            .map_err(|_| Error::Sweep {
                param: plan.param.clone(),
                message: "a run panicked".into(),
            })?
            .take()
            .ok_or_else(|| Error::Sweep {
                param: plan.param.clone(),
                message: "a run did not finish".into(),
            })?;
        rows.push(SweepRow::new(&plan.param, &show(&plan.values[i]), &slot?));
    }
    Ok(rows)
}

/// Writes `sweep.csv` and the `sweep` plot (mean over seeds of each metric vs the value).
pub fn write(
    dir: &Path,
    plan: &SweepPlan,
    rows: &[SweepRow],
    metrics: &[String],
) -> Result<Vec<PathBuf>, Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let csv = dir.join("sweep.csv");
    crate::output::write_csv(&csv, rows)?;
    let mut out = vec![csv];
    let xs: Vec<f64> = plan
        .values
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            toml::Value::Integer(x) => *x as f64,
            toml::Value::Float(x) => *x,
            _ => i as f64,
        })
        .collect();
    let mut series = Vec::new();
    for m in metrics {
        if !metric_names().contains(&m.as_str()) {
            return Err(Error::Sweep {
                param: plan.param.clone(),
                message: format!(
                    "unknown metric `{m}`; one of: {}",
                    metric_names().join(", ")
                ),
            });
        }
        let points = plan
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let vs: Vec<f64> = rows
                    .iter()
                    .filter(|r| r.value == show(v))
                    .map(|r| row_metric(r, m))
                    .collect();
                (xs[i], vs.iter().sum::<f64>() / vs.len().max(1) as f64)
            })
            .collect();
        series.push(crate::plot::Series {
            name: m.clone(),
            points,
        });
    }
    let title = format!("sweep of {}", plan.param);
    out.extend(crate::plot::line_chart(
        &dir.join("sweep"),
        &crate::plot::Labels {
            title: &title,
            x: &plan.param,
            y: &metrics.join(", "),
        },
        &series,
        None,
    )?);
    Ok(out)
}

fn row_metric(r: &SweepRow, m: &str) -> f64 {
    match m {
        "delivery_ratio" => r.delivery_ratio,
        "delivery_ratio_online" => r.delivery_ratio_online,
        "latency_p50_ms" => r.latency_p50_ms,
        "latency_p90_ms" => r.latency_p90_ms,
        "latency_p99_ms" => r.latency_p99_ms,
        "hops_mean" => r.hops_mean,
        "hops_p99" => r.hops_p99,
        "copies_per_delivery" => r.copies_per_delivery,
        "duplicates_per_delivery" => r.duplicates_per_delivery,
        "data_bytes_per_node" => r.data_bytes_per_node,
        "control_bytes_per_node" => r.control_bytes_per_node,
        "spread_p99_s" => r.spread_p99_s,
        _ => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_specs() {
        assert_eq!(
            parse_values("4..=12:4").expect("range"),
            vec![
                toml::Value::Integer(4),
                toml::Value::Integer(8),
                toml::Value::Integer(12)
            ]
        );
        assert_eq!(parse_values("0..=0.5:0.25").expect("float range").len(), 3);
        assert_eq!(
            parse_values("6, 0.5, flood").expect("list"),
            vec![
                toml::Value::Integer(6),
                toml::Value::Float(0.5),
                toml::Value::String("flood".into())
            ]
        );
    }

    #[test]
    fn set_nested_key() {
        let mut t: toml::Table = toml::from_str("[gossip]\nd = 6\n").expect("toml");
        set_key(&mut t, "gossip.d", toml::Value::Integer(8)).expect("set");
        set_key(&mut t, "churn.offline_fraction", toml::Value::Float(0.3)).expect("set");
        assert_eq!(t["gossip"]["d"].as_integer(), Some(8));
        assert_eq!(t["churn"]["offline_fraction"].as_float(), Some(0.3));
    }
}
