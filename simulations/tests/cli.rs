//! The `qun-sim` binary: outputs land where asked, bad scenarios name key and line.

use std::process::Command;

fn qun_sim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_qun-sim"))
}

#[test]
fn run_writes_summary_metrics_and_plots() {
    let tmp = tempfile::tempdir().expect("tmp");
    let scn = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/smoke.toml");
    let out = qun_sim()
        .args(["run", scn, "--seed", "3", "--short", "--quiet", "--out"])
        .arg(tmp.path())
        .output()
        .expect("spawn");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "summary.json",
        "metrics.csv",
        "messages.csv",
        "latency_cdf.csv",
        "copies_hist.csv",
        "latency_cdf.svg",
        "latency_cdf.png",
        "delivery_over_time.svg",
        "delivery_over_time.png",
        "duplicates_hist.svg",
        "duplicates_hist.png",
    ] {
        assert!(tmp.path().join(f).is_file(), "missing {f}");
    }
    let svg = std::fs::read_to_string(tmp.path().join("latency_cdf.svg")).expect("svg");
    assert!(svg.contains("latency (ms)"), "SVG plots carry axis labels");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("summary.json")).expect("json"))
            .expect("valid json");
    assert_eq!(summary["seed"], 3);
}

#[test]
fn bad_scenario_names_key_and_line() {
    let tmp = tempfile::tempdir().expect("tmp");
    let p = tmp.path().join("bad.toml");
    std::fs::write(
        &p,
        "name = \"bad\"\nnodes = 50\nduration_s = 10\n\n[gossip]\nd = 6\nd_hi = 4\n",
    )
    .expect("write");
    let out = qun_sim().arg("run").arg(&p).output().expect("spawn");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:7"), "{err}");
    assert!(err.contains("gossip.d_hi"), "{err}");

    std::fs::write(&p, "name = \"bad\"\nnodes = 50\nduration_s = 10\n[links]\nlatency_ms = { dist = \"gamma\", k = 2 }\n")
        .expect("write");
    let out = qun_sim().arg("run").arg(&p).output().expect("spawn");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("bad.toml:5") && err.contains("links.latency_ms"),
        "{err}"
    );
}

#[test]
fn sweep_writes_one_table_and_one_plot() {
    let tmp = tempfile::tempdir().expect("tmp");
    let scn = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/smoke.toml");
    let out = qun_sim()
        .args([
            "sweep", scn, "--short", "--seed", "1", "--param", "gossip.d", "--values", "4,6,8",
            "--jobs", "2", "--out",
        ])
        .arg(tmp.path())
        .output()
        .expect("spawn");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read_to_string(tmp.path().join("sweep.csv")).expect("csv");
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(tmp.path().join("sweep.svg").is_file() && tmp.path().join("sweep.png").is_file());
}

#[test]
fn check_determinism_passes() {
    let scn = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/smoke.toml");
    let out = qun_sim()
        .args(["check-determinism", scn, "--short", "--seed", "5"])
        .output()
        .expect("spawn");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("identical"));
}
