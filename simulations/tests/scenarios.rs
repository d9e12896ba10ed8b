//! Every shipped scenario parses and runs in a shortened form (≤ 200 nodes, ≤ 20
//! messages, ≤ 30 simulated seconds): the CI form of `scenarios/*.toml`.

use std::path::{Path, PathBuf};

use qun_sim::scenario::Scenario;
use qun_sim::world;

fn shipped() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("scenarios dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

/// Runs one shipped scenario shortened and checks it delivered.
fn run_shortened(path: &Path) {
    let scn = Scenario::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let short = scn.shortened(200, 20, 30.0);
    assert!(short.nodes() <= 200);
    let r =
        world::run(&short, 1, &mut |_| {}).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let s = &r.summary;
    assert!(
        s.messages_published > 0,
        "{}: nothing published",
        path.display()
    );
    assert!(
        s.delivery_ratio_online > 0.5,
        "{}: delivery {} (online {})",
        path.display(),
        s.delivery_ratio,
        s.delivery_ratio_online
    );
    if let Some(f) = &s.full {
        // Full mode: the real replicators converged and refused only forgeries (a change from a
        // device not known yet that also waits for dependencies is not kept, only fetched
        // again by sync: that is not a refusal of the change).
        assert_eq!(
            f.state.heads_mismatches,
            0,
            "{}: {:?}",
            path.display(),
            f.state
        );
        assert!(
            f.rejected
                .keys()
                .all(|k| k == "BadSignature" || k == "UnknownDevice"),
            "{}: {:?}",
            path.display(),
            f.rejected
        );
        assert!(
            f.accepted_ratio > 0.5,
            "{}: {}",
            path.display(),
            f.accepted_ratio
        );
    }
}

#[test]
fn every_shipped_scenario_runs_shortened() {
    let all = shipped();
    assert!(
        all.len() >= 10,
        "expected the shipped scenarios, found {all:?}"
    );
    assert!(
        all.iter().any(|p| p.ends_with("full-100.toml"))
            && all.iter().any(|p| p.ends_with("full-1k.toml")),
        "full-fidelity scenarios ship: {all:?}"
    );
    // Scenarios are independent runs: use every core (full mode is heavy in debug builds).
    std::thread::scope(|s| {
        let handles: Vec<_> = all
            .iter()
            .map(|p| s.spawn(move || run_shortened(p)))
            .collect();
        for h in handles {
            if let Err(p) = h.join() {
                std::panic::resume_unwind(p);
            }
        }
    });
}
