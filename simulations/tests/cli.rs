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

#[test]
fn trust_ranks_admits_and_attacks_an_edge_list() {
    let tmp = tempfile::tempdir().expect("tmp");
    let edges = tmp.path().join("wot.tsv");
    // A small deterministic web of trust: each member endorses the three before it.
    let mut text = String::from("# source target [weight]\n");
    for i in 1..120 {
        for j in 1..=3 {
            if i >= j {
                text.push_str(&format!("m{} m{i}\nm{i} m{} 0.5\n", i - j, i - j));
            }
        }
    }
    std::fs::write(&edges, text).expect("write");
    let out = qun_sim()
        .arg("trust")
        .arg("--edges")
        .arg(&edges)
        .args(["--seeds", "m0,m1", "--top", "5", "--admit"])
        .output()
        .expect("spawn");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("120 members"), "{text}");
    assert!(text.contains("admitted"), "{text}");

    let out = qun_sim()
        .arg("trust")
        .arg("--edges")
        .arg(&edges)
        .args([
            "--seeds",
            "m0",
            "--sybils",
            "100",
            "--attack-edges",
            "10",
            "--json",
        ])
        .output()
        .expect("spawn");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let s = &v["sybil"];
    assert_eq!(s["sybils"], 100);
    assert_eq!(s["attack_edges"], 10);
    assert!(
        s["sybils_admitted"].as_u64().expect("count")
            <= s["admission_bound"].as_u64().expect("bound")
    );
    assert!((0.0..=1.0).contains(&s["auc"].as_f64().expect("auc")));

    let out = qun_sim()
        .arg("trust")
        .arg("--edges")
        .arg(&edges)
        .args(["--seeds", "nobody"])
        .output()
        .expect("spawn");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nobody"));
}
