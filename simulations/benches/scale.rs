//! Scale benchmark: runs a scenario once (default `scenarios/gossip-10k.toml`, the
//! 10,000-node / 1,000-message light-mode run) and prints events, events per wall second
//! and per CPU second, and peak memory; in full-fidelity mode (e.g. `scenarios/full-1k.toml`)
//! also acceptance, latency and convergence of the real replicators. Results go to
//! BENCHMARKS.md.
//!
//!     cargo bench -p qun-sim --bench scale [-- SCENARIO.toml]
//!
//! CPU time and peak RSS come from /proc (Linux); elsewhere they print as unknown.

use std::path::PathBuf;
use std::time::Instant;

use qun_sim::scenario::Scenario;
use qun_sim::world;

/// Nanoseconds this process has run on a CPU (`/proc/self/schedstat`, first field).
fn cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Peak resident set size in KiB (`VmHWM` in `/proc/self/status`).
fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let arg = std::env::args()
        .skip(1)
        .find(|a| a.ends_with(".toml"))
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/gossip-10k.toml")
        });
    let scn = match Scenario::load(&arg) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let seed = scn.raw().seeds[0];
    let (cpu0, wall0) = (cpu_ns(), Instant::now());
    let result = match world::run(&scn, seed, &mut |_| {}) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let wall = wall0.elapsed().as_secs_f64();
    let cpu = match (cpu0, cpu_ns()) {
        (Some(a), Some(b)) => Some((b - a) as f64 / 1e9),
        _ => None,
    };
    let s = &result.summary;
    println!(
        "{}: {} nodes, {} messages, {} events, peak queue {}",
        s.scenario, s.nodes, s.messages_published, s.events, s.peak_queue
    );
    println!(
        "wall {:.1} s = {:.2} M events/s; cpu {} ; peak RSS {}",
        wall,
        s.events as f64 / wall / 1e6,
        cpu.map(|c| format!("{c:.1} s = {:.2} M events/cpu-s", s.events as f64 / c / 1e6))
            .unwrap_or_else(|| "unknown".into()),
        peak_rss_kib()
            .map(|k| format!("{:.0} MiB", k as f64 / 1024.0))
            .unwrap_or_else(|| "unknown".into())
    );
    println!(
        "delivery {:.4}, latency p50/p90/p99 {:.1}/{:.1}/{:.1} ms, hops mean {:.2} (ln N / ln D = {:.2}), copies/delivery {:.2}",
        s.delivery_ratio,
        s.latency_ms.p50,
        s.latency_ms.p90,
        s.latency_ms.p99,
        s.hops.mean,
        s.hop_floor,
        s.copies_per_delivery
    );
    if let Some(f) = &s.full {
        println!(
            "full: {} changes made, accepted {}/{} ({:.4}; {} by gossip, {} by sync), accept latency p50/p90/p99/max {:.1}/{:.1}/{:.1}/{:.1} ms, rejected {:?}",
            f.made.posts + f.made.replies + f.made.reactions + f.made.governance,
            f.accepted,
            f.expected,
            f.accepted_ratio,
            f.accepted_via_gossip,
            f.accepted_via_sync,
            f.accept_latency_ms.p50,
            f.accept_latency_ms.p90,
            f.accept_latency_ms.p99,
            f.accept_latency_ms.max,
            f.rejected
        );
        println!(
            "full: state converged in {}/{} communities, last change -> identical p50/max {:.3}/{:.3} s, identical at end {}/{}, heads mismatches {}",
            f.state.converged,
            f.state.communities,
            f.state.convergence_s.p50,
            f.state.convergence_s.max,
            f.state.identical_at_end,
            f.state.communities,
            f.state.heads_mismatches
        );
        println!(
            "full: gossip payload {} B, sync control {} B / data {} B ({} requests, {} failed), persisted {} B",
            f.gossip_payload_bytes,
            f.sync.control_bytes,
            f.sync.data_bytes,
            f.sync.requests,
            f.sync.failed,
            f.persist_bytes
        );
    }
}
