//! The chaos suite: real `qun up` processes in Linux network namespaces, connected over veth
//! pairs to a bridge, under partitions, packet loss, latency and reordering, `kill -9`, clock
//! skew, a full disk and churn. Each scenario prints what it measured.
//!
//! Needs root, `ip` (iproute2) and, for impairments, `tc netem` or else `iptables` (see
//! [`net`]); without them each scenario says why and passes without running, unless
//! `QUN_CHAOS_REQUIRE=1` (what `.ci/run` sets) makes that a failure. `QUN_CHAOS_LONG=1` runs
//! the scenarios longer; `QUN_CHAOS_SEED` repeats a run's random choices; `QUN_CHAOS_REPORT=file`
//! appends every figure to a file; `QUN_CHAOS_LOG` is the nodes' `RUST_LOG`.
//!
//! ```sh
//! cargo test -p qun-node --test chaos                       # ~2 minutes
//! QUN_CHAOS_LONG=1 cargo test -p qun-node --test chaos -- --test-threads 1
//! ```

// Crate roots resolve `mod x;` next to themselves (node/tests/x.rs, where other test targets
// live): the modules are in node/tests/chaos/.
#[path = "chaos/cluster.rs"]
mod cluster;
#[path = "chaos/net.rs"]
mod net;
#[path = "chaos/nfqueue.rs"]
mod nfqueue;
#[path = "chaos/node.rs"]
mod node;
#[path = "chaos/rng.rs"]
mod rng;

#[path = "chaos/churn.rs"]
mod churn;
#[path = "chaos/clock_skew.rs"]
mod clock_skew;
#[path = "chaos/crash_loop.rs"]
mod crash_loop;
#[path = "chaos/disk_full.rs"]
mod disk_full;
#[path = "chaos/lossy.rs"]
mod lossy;
#[path = "chaos/partition.rs"]
mod partition;

/// Print to the terminal even while the test harness captures output (it captures `print!`
/// and `eprint!`, not writes to the stderr handle), so the figures show in `cargo test`.
#[macro_export]
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

/// The test process's reference instant (event and acknowledgement times are seconds since it).
pub fn epoch() -> std::time::Instant {
    static E: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *E.get_or_init(std::time::Instant::now)
}

/// Seconds since [`epoch`].
pub fn now_s() -> f64 {
    epoch().elapsed().as_secs_f64()
}

/// `QUN_CHAOS_LONG` set (and not `0`): run longer.
pub fn long() -> bool {
    std::env::var("QUN_CHAOS_LONG").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// `short` normally, `long` with `QUN_CHAOS_LONG`.
pub fn pick<T>(short: T, long_: T) -> T {
    if long() { long_ } else { short }
}

/// A scenario cannot run here: say so, or fail if `QUN_CHAOS_REQUIRE` is set.
pub fn skip(scenario: &str, why: &str) {
    if std::env::var("QUN_CHAOS_REQUIRE").is_ok_and(|v| !v.is_empty() && v != "0") {
        panic!("chaos[{scenario}] cannot run (and QUN_CHAOS_REQUIRE is set): {why}");
    }
    say!("chaos[{scenario}]: SKIPPED — {why}");
}
