//! Every shipped scenario parses and runs in a shortened form (≤ 200 nodes, ≤ 20
//! messages, ≤ 30 simulated seconds): the CI form of `scenarios/*.toml`.

use std::path::PathBuf;

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

#[test]
fn every_shipped_scenario_runs_shortened() {
    let all = shipped();
    assert!(
        all.len() >= 6,
        "expected the shipped scenarios, found {all:?}"
    );
    for path in all {
        let scn = Scenario::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let short = scn.shortened(200, 20, 30.0);
        assert!(short.nodes() <= 200);
        let r = world::run(&short, 1, &mut |_| {})
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
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
    }
}
