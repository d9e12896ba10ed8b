//! Benchmark binary (no criterion harness): prints a markdown table of timings, peak memory
//! and Sybil separation, for BENCHMARKS.md.
//!
//! `cargo bench -p qun-trust --bench rank` runs the 40k-member web of trust;
//! `QUN_TRUST_BENCH_LARGE=1` adds 1M members / 10M endorsements;
//! `QUN_TRUST_BENCH_SYBIL=0` skips the (slower) separation table.

use qun_identity::Topic;
use qun_trust::eval::{SybilExperiment, run_sybil_experiment};
use qun_trust::graph::{Csr, Node, TrustGraph};
use qun_trust::import::{ImportOptions, read_edge_list};
use qun_trust::params::{AdmissionParams, Method, RankParams};
use qun_trust::rank::{Query, rank};
use qun_trust::sybil::SybilParams;
use qun_trust::synth::{SynthGraph, WotParams, community_wot};
use std::fmt::Write as _;
use std::time::Instant;

fn vm_hwm_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|k| k.parse::<f64>().ok())
            })
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// On-CPU time of this thread in ns (Linux schedstat): unaffected by waiting for a core on a
/// loaded machine, which wall time is not.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(0)
}

/// A timing: median wall and median on-CPU milliseconds.
struct Ms(f64, f64);

impl std::fmt::Display for Ms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.1 < 10.0 {
            write!(f, "{:.2} | {:.2}", self.0, self.1)
        } else {
            write!(f, "{:.0} | {:.0}", self.0, self.1)
        }
    }
}

fn median_ms<T>(runs: usize, mut f: impl FnMut() -> T) -> (Ms, T) {
    let mut wall = Vec::with_capacity(runs);
    let mut cpu = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let (t, c) = (Instant::now(), cpu_ns());
        let out = f();
        cpu.push((cpu_ns().saturating_sub(c)) as f64 / 1e6);
        wall.push(t.elapsed().as_secs_f64() * 1e3);
        last = Some(out);
    }
    wall.sort_by(|a, b| a.total_cmp(b));
    cpu.sort_by(|a, b| a.total_cmp(b));
    (Ms(wall[runs / 2], cpu[runs / 2]), last.expect("runs >= 1"))
}

fn edge_text(g: &SynthGraph) -> String {
    let mut s = String::with_capacity(g.edges.len() * 16);
    s.push_str("# source target weight\n");
    for (u, v, w) in &g.edges {
        let _ = writeln!(s, "{u}\t{v}\t{w}");
    }
    s
}

fn suite(members: usize, mean_degree: f64, runs: usize) -> Result<(), qun_trust::Error> {
    let params = WotParams {
        mean_out_degree: mean_degree,
        communities: (members / 2000).max(20),
        ..WotParams::with_members(members)
    };
    let (gen_ms, honest) = median_ms(1, || community_wot(&params, 42));
    let honest = honest?;
    let seeds: Vec<u32> = honest.founders.clone();
    println!(
        "\n### {} members, {} endorsements, {} seeds (community founders)\n",
        honest.nodes,
        honest.edges.len(),
        seeds.len()
    );
    println!("| operation | wall ms (median) | CPU ms (median) | notes |\n|---|---:|---:|---|");
    println!("| generate community web of trust | {gen_ms} | synth::community_wot, seed 42 |");
    let text = edge_text(&honest);
    let (imp_ms, list) = median_ms(runs, || {
        read_edge_list(text.as_bytes(), &ImportOptions::default())
    });
    let list = list?;
    println!(
        "| import edge list ({} lines, {:.1} MiB) | {imp_ms} | import::read_edge_list, in-memory BufRead |",
        list.stats.lines,
        text.len() as f64 / 1048576.0
    );
    drop(text);
    let g = TrustGraph::from_edges(
        (0..honest.nodes as u32).collect(),
        Topic::general(),
        honest.edges.clone(),
    )?;
    let seed_nodes: Vec<Node> = seeds.iter().map(|&s| Node(s)).collect();
    let csr = g.view(&Topic::general()).to_csr(None);
    let p = csr.row_normalized();
    let teleport: Vec<(u32, f64)> = seeds
        .iter()
        .map(|&s| (s, 1.0 / seeds.len() as f64))
        .collect();
    for damping in [0.85, 0.5] {
        let (ms, r) = median_ms(runs, || {
            qun_trust::rank::ppr(&p, &teleport, damping, 1e-10, 200, None)
        });
        println!(
            "| PPR kernel, damping {damping}, tol 1e-10 | {ms} | {} iterations, pre-normalised CSR |",
            r.iterations
        );
    }
    let ppr = RankParams::builder()
        .method(Method::PersonalizedPageRank)
        .damping(0.85)
        .build()?;
    let q = Query::new(seed_nodes.clone()).rank_params(ppr.clone());
    let (ms, r) = median_ms(runs, || rank(&g, &q, None));
    let r = r?;
    println!(
        "| personalized ranking, damping 0.85 (snapshot + PPR + stable sort) | {ms} | rank::rank, {} iterations |",
        r.iterations()
    );
    let (ms, _) = median_ms(runs, || rank(&g, &q, Some(&r)));
    println!("| same, warm start from previous scores | {ms} | unchanged graph |");
    let (cal_ms, adm) = median_ms(1, || AdmissionParams::calibrated(&csr, &seeds, 2.0));
    let adm = adm?;
    println!(
        "| calibrate capacities (policy, once) | {cal_ms} | AdmissionParams::calibrated, slack 2 |"
    );
    let (ms, a) = median_ms(runs, || qun_trust::admission::admit(&csr, &seeds, &adm));
    let a = a?;
    println!(
        "| admission flow, calibrated capacities | {ms} | {} of {} admitted |",
        a.accepted_count(),
        honest.nodes
    );
    let (ms, a) = median_ms(runs, || {
        qun_trust::admission::admit(&csr, &seeds, &AdmissionParams::default())
    });
    let a = a?;
    println!(
        "| admission flow, Advogato 800/200/50/12/4/2/1 | {ms} | {} of {} admitted |",
        a.accepted_count(),
        honest.nodes
    );
    let q_gated = Query::new(seed_nodes.clone()).admission_params(adm.clone());
    let (ms, _) = median_ms(runs, || rank(&g, &q_gated, None));
    println!(
        "| gated ranking (default: admission + PPR 0.5 over admitted endorsers) | {ms} | rank::rank with Method::Gated |"
    );
    // Incremental updates: 1000 new endorsements and 1000 revocations in the overlay.
    let mut g2 = g.clone();
    let n = honest.nodes as u32;
    let t = Topic::general();
    let (ms, _) = median_ms(1, || {
        for i in 0..1000u32 {
            let (u, v) = ((i * 7919) % n, (i * 104_729 + 13) % n);
            let _ = g2.set_edge(Node(u), Node(v), &t, 1.0);
            let e = honest.edges[(i as usize * 211) % honest.edges.len()];
            let _ = g2.remove_edge(Node(e.0), Node(e.1), &t);
        }
    });
    println!(
        "| 2000 single-edge updates (1000 adds + 1000 revocations) | {ms} | TrustGraph::set_edge, overlay, no rebuild |"
    );
    let (ms, _) = median_ms(runs, || rank(&g2, &q, Some(&r)));
    println!("| re-rank after the updates, warm start | {ms} | |");
    let (ms, _) = median_ms(runs, || rank(&g2, &q, None));
    println!("| re-rank after the updates, cold | {ms} | |");
    println!(
        "| peak RSS so far | {:.0} MiB | /proc/self/status VmHWM |",
        vm_hwm_mib()
    );
    Ok(())
}

fn sybil_table(members: usize) -> Result<(), qun_trust::Error> {
    let honest = community_wot(
        &WotParams {
            communities: (members / 2000).max(20),
            ..WotParams::with_members(members)
        },
        42,
    )?;
    let csr = Csr::from_edges(honest.nodes, honest.edges.clone())?;
    let seeds = honest.founders.clone();
    println!(
        "\n### Sybil separation: {} honest members, 1000 Sybils (internal degree 8 unless noted), attack edges from random honest members\n",
        honest.nodes
    );
    println!(
        "| attack edges | sybil shape | AUC gated (default) | AUC PPR 0.5 | AUC PPR 0.85 | AUC SybilRank | Sybils admitted | bound | honest accepted | Sybil mass (default) |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for g in [50usize, 100, 200, 500] {
        for (shape, internal, back) in [
            ("dense, 1 back-edge per attack edge", 8usize, 1usize),
            ("ring (sparse)", 1, 1),
            ("dense, 20 back-edges per attack edge", 8, 20),
        ] {
            let sybil = SybilParams {
                count: 1000,
                attack_edges: g,
                internal_degree: internal,
                back_edges: g * back,
            };
            let run = |rank: RankParams| {
                run_sybil_experiment(
                    &csr,
                    &seeds,
                    &SybilExperiment {
                        sybil: sybil.clone(),
                        rank,
                        seed: 7,
                        ..SybilExperiment::default()
                    },
                )
            };
            let gated = run(RankParams::default())?;
            let p85 = run(RankParams::builder()
                .method(Method::PersonalizedPageRank)
                .damping(0.85)
                .build()?)?;
            let sr = run(RankParams::builder().method(Method::SybilRank).build()?)?;
            println!(
                "| {g} | {shape} | {:.3} | {:.3} | {:.3} | {:.3} | {} | {} | {:.1} % | {:.4} |",
                gated.auc,
                gated.auc_ppr,
                p85.auc,
                sr.auc,
                gated.sybils_admitted,
                gated.admission_bound,
                100.0 * gated.honest_acceptance,
                gated.sybil_mass
            );
        }
    }
    Ok(())
}

fn main() -> Result<(), qun_trust::Error> {
    // `cargo bench` passes `--bench`; ignore arguments.
    let runs = std::env::var("QUN_TRUST_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    println!("qun-trust bench (release, one thread)");
    suite(40_000, 7.5, runs)?;
    if std::env::var("QUN_TRUST_BENCH_SYBIL").map_or(true, |v| v != "0") {
        sybil_table(2_000)?;
        sybil_table(40_000)?;
    }
    if std::env::var("QUN_TRUST_BENCH_LARGE").is_ok_and(|v| v == "1") {
        suite(1_000_000, 10.0, 1)?;
    }
    Ok(())
}
