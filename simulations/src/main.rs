//! `qun-sim`: the researcher's command line (`run`, `sweep`, `check-determinism`).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use qun_sim::scenario::Scenario;
use qun_sim::sweep::{self, SweepPlan};
use qun_sim::world::{self, Progress};
use qun_sim::{determinism, output};

/// Environment variable that overrides the scenario's seeds (STYLE §35).
const SEED_ENV: &str = "QUN_SIM_SEED";
/// `--short` limits: nodes, messages, simulated seconds (the CI form of a scenario).
const SHORT_LIMITS: (u32, u32, f64) = (200, 20, 30.0);

#[derive(Parser)]
#[command(
    name = "qun-sim",
    version,
    about = "Deterministic simulations of qun networks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario: writes summary.json, metrics.csv, plots… into DIR.
    Run(RunArgs),
    /// Run a scenario for each value of one parameter; writes sweep.csv and a plot.
    Sweep(SweepArgs),
    /// Run a scenario twice per seed and check the outputs are byte-identical.
    CheckDeterminism(CheckArgs),
    /// Rank, admit, or attack an imported endorsement graph with the qun-trust engine.
    Trust(TrustArgs),
    /// Members trading on the community ledger for weeks, with a fixed credit limit and a
    /// trust-scaled one (the real ledger book judges every payment).
    Economy(EconomyArgs),
}

#[derive(Args)]
struct EconomyArgs {
    /// Members, the founder included.
    #[arg(long, default_value_t = 1_000)]
    members: u32,
    /// Weeks of virtual time.
    #[arg(long, default_value_t = 8)]
    weeks: u32,
    /// RNG seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The fixed limit to compare.
    #[arg(long, default_value_t = 50)]
    fixed: u64,
    /// The largest trust-scaled limit to compare.
    #[arg(long, default_value_t = 100)]
    trust_max: u64,
    /// Output directory.
    #[arg(long, default_value = "out/economy")]
    out: PathBuf,
}

#[derive(Args)]
struct TrustArgs {
    /// Edge list: `source target [weight] [time]` per line, `#` comments.
    #[arg(long)]
    edges: PathBuf,
    /// Seed labels, comma-separated (e.g. the community's founders).
    #[arg(long)]
    seeds: String,
    /// Print the top K of the ranking.
    #[arg(long, value_name = "K")]
    top: Option<usize>,
    /// Run the admission flow and report who is admitted.
    #[arg(long)]
    admit: bool,
    /// Sybil mode: graft this many Sybil identities onto the graph.
    #[arg(long)]
    sybils: Option<usize>,
    /// Sybil mode: honest → Sybil endorsements.
    #[arg(long, default_value_t = 50)]
    attack_edges: usize,
    /// Sybil mode: endorsements each Sybil makes inside the region.
    #[arg(long, default_value_t = 8)]
    internal_degree: usize,
    /// Sybil mode: Sybil → honest endorsements (default: as many as attack edges).
    #[arg(long)]
    back_edges: Option<usize>,
    /// Sybil mode: RNG seed of the grafting.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct Common {
    /// Scenario file (TOML).
    scenario: PathBuf,
    /// Seed (repeatable); default: $QUN_SIM_SEED, else the scenario's `seeds`.
    #[arg(long = "seed")]
    seeds: Vec<u64>,
    /// Cut the scenario down to at most 200 nodes, 20 messages and 30 s (CI form).
    #[arg(long)]
    short: bool,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    common: Common,
    /// Output directory (default: out/<scenario name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Runs in parallel (one seed per thread).
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args)]
struct SweepArgs {
    #[command(flatten)]
    common: Common,
    /// Dotted scenario key to vary, e.g. `gossip.d` or `churn.offline_fraction`.
    #[arg(long)]
    param: String,
    /// Values: `4,6,8`, `4..=12`, `4..=12:2` or `0..=0.5:0.1`.
    #[arg(long)]
    values: String,
    /// Metrics to plot (comma-separated).
    #[arg(long, default_value = "latency_p50_ms,latency_p99_ms")]
    metrics: String,
    /// Output directory (default: out/<scenario name>-sweep-<param>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Runs in parallel.
    #[arg(long, default_value_t = 1)]
    jobs: usize,
}

#[derive(Args)]
struct CheckArgs {
    #[command(flatten)]
    common: Common,
    /// Runs to compare per seed.
    #[arg(long, default_value_t = 2)]
    runs: usize,
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match dispatch(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One line: the error and its causes.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(a) => run(a),
        Command::Sweep(a) => sweep_cmd(a),
        Command::CheckDeterminism(a) => check(a),
        Command::Trust(a) => trust(a),
        Command::Economy(a) => economy(a),
    }
}

fn economy(a: EconomyArgs) -> Result<()> {
    use qun_crdt::ledger::CreditLimit;
    use qun_sim::economy::{EconomyConfig, run, write};
    let mut runs = Vec::new();
    for limit in [
        CreditLimit::Fixed { amount: a.fixed },
        CreditLimit::Trust { max: a.trust_max },
    ] {
        let r = run(&EconomyConfig {
            members: a.members,
            weeks: a.weeks,
            seed: a.seed,
            limit,
        })?;
        println!(
            "limit {:<10} volume {:>7}  defaults {:>4} ({:.1} % of members, debt {:.1} % of volume; free riders {}/{})  spread at the end {:.1}",
            r.limit,
            r.volume,
            r.weeks.last().map(|w| w.defaults).unwrap_or(0),
            r.default_share * 100.0,
            r.defaulted_debt_share * 100.0,
            r.free_rider_defaults,
            r.free_riders,
            r.weeks.last().map(|w| w.spread).unwrap_or(0.0),
        );
        runs.push(r);
    }
    for f in write(&a.out, &runs)? {
        println!("wrote {}", f.display());
    }
    Ok(())
}

fn load(c: &Common) -> Result<(Scenario, Vec<u64>)> {
    let mut scn = Scenario::load(&c.scenario)?;
    if c.short {
        let (n, m, d) = SHORT_LIMITS;
        scn = scn.shortened(n, m, d);
    }
    let seeds = if !c.seeds.is_empty() {
        c.seeds.clone()
    } else if let Ok(v) = std::env::var(SEED_ENV) {
        vec![
            v.parse()
                .with_context(|| format!("{SEED_ENV}={v} is not a u64"))?,
        ]
    } else {
        scn.raw().seeds.clone()
    };
    Ok((scn, seeds))
}

fn bar(multi: &MultiProgress, scn: &Scenario, seed: u64, quiet: bool) -> ProgressBar {
    let pb = ProgressBar::new(scn.duration.as_millis().max(1));
    if quiet || !std::io::stderr().is_terminal() {
        pb.set_draw_target(ProgressDrawTarget::hidden());
        return pb;
    }
    let pb = multi.add(pb);
    pb.set_style(
        ProgressStyle::with_template(
            "{prefix} [{elapsed_precise}, ETA {eta_precise}] {wide_bar} {pos}/{len} sim-ms  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb.set_prefix(format!("{} seed {seed}", scn.raw().name));
    pb
}

fn run_one(scn: &Scenario, seed: u64, dir: &Path, pb: &ProgressBar, quiet: bool) -> Result<String> {
    let start = Instant::now();
    let total_ms = scn.duration.as_millis().max(1);
    // Where no bar is drawn (stderr not a terminal: a long run under nohup, a CI log), a line
    // every 30 s says how far the run is and how long it has to go.
    let mut next_line = if quiet || !pb.is_hidden() {
        None
    } else {
        Some(Duration::from_secs(30))
    };
    let mut report = |p: Progress| {
        pb.set_position(p.now.as_millis());
        let elapsed = start.elapsed();
        let secs = elapsed.as_secs_f64().max(1e-9);
        pb.set_message(format!(
            "{} events, {:.2} M events/s",
            p.events,
            p.events as f64 / secs / 1e6
        ));
        if let Some(at) = next_line.as_mut()
            && elapsed >= *at
        {
            *at = elapsed + Duration::from_secs(30);
            let done = p.now.as_millis().min(total_ms) as f64 / total_ms as f64;
            let eta = if done > 0.0 {
                secs / done - secs
            } else {
                f64::NAN
            };
            eprintln!(
                "{} seed {seed}: {:.1} % of {} sim-s after {:.0} s, ETA {:.0} s, {} events ({:.2} M events/s)",
                scn.raw().name,
                done * 100.0,
                total_ms / 1000,
                secs,
                eta,
                p.events,
                p.events as f64 / secs / 1e6
            );
        }
    };
    let result = world::run(scn, seed, &mut report)?;
    pb.finish_and_clear();
    let wall = start.elapsed().as_secs_f64();
    output::write_all(dir, scn, &result)
        .with_context(|| format!("writing results to {}", dir.display()))?;
    let s = &result.summary;
    Ok(format!(
        "{} seed {}: delivery {:.4} (online {:.4}), latency p50/p90/p99 {:.1}/{:.1}/{:.1} ms, hops mean {:.2} (floor {:.2}), copies/delivery {:.2}, {} events in {:.2} s wall ({:.2} M events/s) -> {}",
        s.scenario,
        s.seed,
        s.delivery_ratio,
        s.delivery_ratio_online,
        s.latency_ms.p50,
        s.latency_ms.p90,
        s.latency_ms.p99,
        s.hops.mean,
        s.hop_floor,
        s.copies_per_delivery,
        s.events,
        wall,
        s.events as f64 / wall.max(1e-9) / 1e6,
        dir.display()
    ))
}

fn run(a: RunArgs) -> Result<()> {
    let (scn, seeds) = load(&a.common)?;
    let base = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(&scn.raw().name));
    let dirs: Vec<PathBuf> = if seeds.len() == 1 {
        vec![base.clone()]
    } else {
        seeds
            .iter()
            .map(|s| base.join(format!("seed-{s}")))
            .collect()
    };
    let multi = MultiProgress::new();
    let lines: Mutex<Vec<(usize, Result<String>)>> = Mutex::new(Vec::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..a.jobs.max(1).min(seeds.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(&seed) = seeds.get(i) else {
                        break;
                    };
                    let pb = bar(&multi, &scn, seed, a.quiet);
                    let r = run_one(&scn, seed, &dirs[i], &pb, a.quiet);
                    if let Ok(mut l) = lines.lock() {
                        l.push((i, r));
                    }
                }
            });
        }
    });
    let mut lines = lines.into_inner().unwrap_or_default();
    lines.sort_by_key(|(i, _)| *i);
    let mut failed = false;
    for (_, l) in lines {
        match l {
            Ok(l) => println!("{l}"),
            Err(e) => {
                eprintln!("error: {e:#}");
                failed = true;
            }
        }
    }
    if failed {
        bail!("some runs failed");
    }
    Ok(())
}

fn sweep_cmd(a: SweepArgs) -> Result<()> {
    let (scn, seeds) = load(&a.common)?;
    let values = sweep::parse_values(&a.values)
        .map_err(|e| anyhow::anyhow!("--values {}: {e}", a.values))?;
    let metrics: Vec<String> = a.metrics.split(',').map(|s| s.trim().to_string()).collect();
    for m in &metrics {
        if sweep::metric_names().iter().all(|n| n != m) {
            bail!(
                "unknown metric `{m}`; one of: {}",
                sweep::metric_names().join(", ")
            );
        }
    }
    let plan = SweepPlan {
        scenario: a.common.scenario.clone(),
        param: a.param.clone(),
        values,
        seeds,
        jobs: a.jobs,
        shorten: a.common.short.then_some(SHORT_LIMITS),
    };
    let dir = a.out.clone().unwrap_or_else(|| {
        PathBuf::from("out").join(format!("{}-sweep-{}", scn.raw().name, a.param))
    });
    let total = plan.values.len() * plan.seeds.len();
    let pb = ProgressBar::new(total as u64);
    if !std::io::stderr().is_terminal() {
        pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    let start = Instant::now();
    let rows = sweep::run_sweep(&plan, &|done, _| pb.set_position(done as u64))?;
    pb.finish_and_clear();
    let files = sweep::write(&dir, &plan, &rows, &metrics)?;
    println!(
        "{:<12} {:>6} {:>9} {:>9} {:>9} {:>9} {:>7} {:>8}",
        a.param, "seed", "delivery", "p50 ms", "p99 ms", "hops", "copies", "ctl B/n"
    );
    for r in &rows {
        println!(
            "{:<12} {:>6} {:>9.4} {:>9.1} {:>9.1} {:>9.2} {:>7.2} {:>8.0}",
            r.value,
            r.seed,
            r.delivery_ratio,
            r.latency_p50_ms,
            r.latency_p99_ms,
            r.hops_mean,
            r.copies_per_delivery,
            r.control_bytes_per_node
        );
    }
    println!(
        "{} runs in {:.1} s -> {}",
        rows.len(),
        start.elapsed().as_secs_f64(),
        files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

fn check(a: CheckArgs) -> Result<()> {
    let (scn, seeds) = load(&a.common)?;
    let mut ok = true;
    for seed in seeds {
        let r = determinism::check(&scn, seed, a.runs)?;
        if r.identical {
            println!(
                "seed {seed}: identical over {} runs (event log {})",
                a.runs.max(2),
                r.hashes[0]
            );
        } else {
            ok = false;
            println!(
                "seed {seed}: MISMATCH: event logs {:?}, digests {:?}",
                r.hashes, r.digests
            );
            println!(
                "reproduce: qun-sim check-determinism {} --seed {seed}{}",
                a.common.scenario.display(),
                if a.common.short { " --short" } else { "" }
            );
        }
    }
    if !ok {
        bail!("non-deterministic output");
    }
    Ok(())
}

#[derive(serde::Serialize)]
struct Ranked {
    rank: usize,
    label: String,
    score: f64,
}

#[derive(serde::Serialize)]
struct Admitted {
    accepted: usize,
    members: usize,
    labels: Vec<String>,
}

#[derive(serde::Serialize)]
struct TrustOut {
    nodes: usize,
    edges: u64,
    seeds: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    top: Option<Vec<Ranked>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    admission: Option<Admitted>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sybil: Option<qun_trust::eval::SybilReport>,
}

fn trust(a: TrustArgs) -> Result<()> {
    use qun_trust::{Node, Query, admission::admit_query, eval, rank::rank, sybil::SybilParams};
    let (list, honest) = qun_sim::attack::import(&a.edges, &a.seeds)
        .with_context(|| format!("importing {}", a.edges.display()))?;
    let query = Query::new(list.seeds(&a.seeds)?);
    let label = |n: Node| list.graph.label(n).cloned().unwrap_or_default();
    let top_k = match (a.top, a.admit, a.sybils) {
        (None, false, None) => Some(20),
        (k, _, _) => k,
    };
    let top = match top_k {
        Some(k) => {
            let ranking = rank(&list.graph, &query, None)?;
            Some(
                ranking
                    .top(k)
                    .iter()
                    .enumerate()
                    .map(|(i, &n)| Ranked {
                        rank: i + 1,
                        label: label(n),
                        score: ranking.score(n),
                    })
                    .collect::<Vec<_>>(),
            )
        }
        None => None,
    };
    let admission = if a.admit {
        let adm = admit_query(&list.graph, &query)?;
        Some(Admitted {
            accepted: adm.accepted_count(),
            members: list.graph.len(),
            labels: adm
                .accepted_nodes()
                .into_iter()
                .map(|i| label(Node(i)))
                .collect(),
        })
    } else {
        None
    };
    let sybil = match a.sybils {
        Some(count) => Some(eval::run_sybil_experiment(
            &honest.csr,
            &honest.seeds,
            &eval::SybilExperiment {
                sybil: SybilParams {
                    count,
                    attack_edges: a.attack_edges,
                    internal_degree: a.internal_degree,
                    back_edges: a.back_edges.unwrap_or(a.attack_edges),
                },
                seed: a.seed,
                ..eval::SybilExperiment::default()
            },
        )?),
        None => None,
    };
    let out = TrustOut {
        nodes: list.graph.len(),
        edges: list.stats.edges,
        seeds: honest.seeds.len(),
        top,
        admission,
        sybil,
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!(
        "{} members, {} endorsements, {} seeds",
        out.nodes, out.edges, out.seeds
    );
    if let Some(top) = &out.top {
        println!("{:>5}  {:<24} {:>12}", "rank", "member", "score");
        for r in top {
            println!("{:>5}  {:<24} {:>12.6}", r.rank, r.label, r.score);
        }
    }
    if let Some(adm) = &out.admission {
        println!(
            "admitted {} of {} members ({:.1} %)",
            adm.accepted,
            adm.members,
            100.0 * adm.accepted as f64 / adm.members.max(1) as f64
        );
    }
    if let Some(r) = &out.sybil {
        println!(
            "Sybil region: {} Sybils, {} attack edges: {} admitted (bound {}, {:.2} per attack edge), honest acceptance {:.4}, AUC {:.4} (plain PPR {:.4}), Sybil score mass {:.4}",
            r.sybils,
            r.attack_edges,
            r.sybils_admitted,
            r.admission_bound,
            r.sybils_per_attack_edge,
            r.honest_acceptance,
            r.auc,
            r.auc_ppr,
            r.sybil_mass
        );
    }
    Ok(())
}
