//! Same seed ⇒ byte-identical output files; different seeds ⇒ different runs.

use std::path::Path;

use qun_sim::scenario::Scenario;
use qun_sim::{determinism, output, world};

const SCENARIO: &str = r#"
name = "det"
nodes = 120
duration_s = 40
[links]
latency_ms = { dist = "lognormal", median = 30, sigma = 0.6 }
jitter_ms = { dist = "exp", mean = 2 }
upload_mbit_s = { dist = "uniform", min = 5, max = 50 }
loss = 0.01
[churn]
offline_fraction = 0.2
mean_session_s = 15
[[partitions]]
start_s = 15
end_s = 25
[workload]
messages = 30
posts_per_second = 2
catch_up = true
catch_up_interval_s = 5
[attack]
attacker_fraction = 0.05
forged_per_second = 0.2
"#;

/// Test seed; override with QUN_SIM_TEST_SEED to explore (STYLE §35).
fn seed() -> u64 {
    std::env::var("QUN_SIM_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7)
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| {
            let p = e.expect("entry").path();
            (
                p.file_name().expect("name").to_string_lossy().into_owned(),
                std::fs::read(&p).expect("read"),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn same_seed_gives_identical_files() {
    let scn = Scenario::from_toml_str("det.toml", SCENARIO).expect("valid");
    let tmp = tempfile::tempdir().expect("tmp");
    let seed = seed();
    for run in ["a", "b"] {
        let r = world::run(&scn, seed, &mut |_| {}).expect("run");
        output::write_all(&tmp.path().join(run), &scn, &r).expect("write");
    }
    let (a, b) = (files(&tmp.path().join("a")), files(&tmp.path().join("b")));
    assert!(
        a.len() >= 10,
        "expected summary, csvs and plots, got {}",
        a.len()
    );
    for ((na, ba), (nb, bb)) in a.iter().zip(&b) {
        assert_eq!(na, nb);
        assert!(
            ba == bb,
            "{na} differs between two runs with seed {seed}; reproduce: \
             QUN_SIM_TEST_SEED={seed} cargo test -p qun-sim --test determinism"
        );
    }
}

#[test]
fn check_determinism_across_threads_and_seeds() {
    let scn = Scenario::from_toml_str("det.toml", SCENARIO).expect("valid");
    let r = determinism::check(&scn, seed(), 2).expect("check");
    assert!(r.identical, "{r:?}");
    let other = determinism::check(&scn, seed() + 1, 2).expect("check");
    assert!(other.identical);
    assert_ne!(
        r.hashes[0], other.hashes[0],
        "different seeds should differ"
    );
}
