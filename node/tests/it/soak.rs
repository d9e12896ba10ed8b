//! Soak: six `qun up` processes on 127.0.0.1 under a steady workload — posts, reactions,
//! endorsements, a late join and restarts — for `QUN_SOAK_MINUTES` minutes (2 by default; 30
//! for the long run). Each process's memory (RSS), open file descriptors and store size are
//! read from `/proc` and the data directory once the nodes are warm and at the end: memory and
//! store may grow only in proportion to the changes added, descriptors not at all; and at the
//! end every node holds the same documents (the same Automerge heads).
//!
//! ```text
//! n0 ── n1 ── n2 ── n3 ── n4        (each also dials n0; n5 joins a third of the way in)
//! ```
//!
//! ```sh
//! cargo test -p qun-node --test it soak::                          # 2 minutes
//! QUN_SOAK_MINUTES=30 cargo test -p qun-node --test it soak:: -- --nocapture
//! ```

use data_encoding::BASE64;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NODES: usize = 6;
/// Time between two workload steps (each step is one action on one node).
const STEP: Duration = Duration::from_millis(250);
/// Waiting for one node to start or answer.
const TIMEOUT: Duration = Duration::from_secs(60);
/// Memory each node may gain besides what the data explains (allocator, caches), bytes.
const RSS_SLACK: u64 = 48 << 20;
/// Memory per change added that the test allows, bytes.
const RSS_PER_CHANGE: u64 = 16 << 10;
/// Store growth besides the data (sled segments), bytes.
const STORE_SLACK: u64 = 24 << 20;
/// Store bytes per change added that the test allows.
const STORE_PER_CHANGE: u64 = 32 << 10;
/// Descriptors a node may gain (a few connections coming and going).
const FD_SLACK: usize = 24;

fn minutes() -> f64 {
    std::env::var("QUN_SOAK_MINUTES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0)
}

/// One `qun up` process and its data directory.
struct Proc {
    name: String,
    dir: PathBuf,
    child: Option<Child>,
    url: String,
    token: String,
    dial: Vec<String>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Proc {
    fn start(&mut self) {
        let _ = std::fs::remove_file(self.dir.join("api.json"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_qun"));
        cmd.arg("--data-dir").arg(&self.dir).args([
            "up",
            "--no-passphrase",
            "--no-mdns",
            "--api",
            "127.0.0.1:0",
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
        ]);
        for d in &self.dial {
            cmd.args(["--dial", d]);
        }
        std::fs::create_dir_all(&self.dir).expect("data dir");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("node.log"))
            .expect("log file");
        let child = cmd
            .env("QUN_KEYGEN_SEED", format!("soak-{}", self.name))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn qun up");
        self.child = Some(child);
        let start = Instant::now();
        loop {
            if let Ok(b) = std::fs::read(self.dir.join("api.json"))
                && let Ok(v) = serde_json::from_slice::<Value>(&b)
                && let (Some(u), Some(t)) = (v["url"].as_str(), v["token"].as_str())
            {
                self.url = u.to_string();
                self.token = t.to_string();
                return;
            }
            assert!(start.elapsed() < TIMEOUT, "{}: no api.json", self.name);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stop with SIGTERM (a clean shutdown), SIGKILL after 20 s.
    fn stop(&mut self) {
        let Some(mut c) = self.child.take() else {
            return;
        };
        // SAFETY: kill(2) with a pid this test spawned and has not reaped.
        unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = c.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = c.kill();
        let _ = c.wait();
    }

    fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// (RSS bytes, open descriptors, store bytes).
    fn measure(&self) -> (u64, usize, u64) {
        let pid = self.pid().expect("running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let rss = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
            * 1024;
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
        (rss, fds, dir_size(&self.dir.join("store")))
    }
}

fn dir_size(p: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(p) else {
        return 0;
    };
    rd.flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

struct Api(reqwest::Client);

impl Api {
    async fn call(&self, p: &Proc, get: bool, path: &str, body: Value) -> Result<Value, String> {
        let url = format!("{}{path}", p.url);
        let r = if get {
            self.0.get(url)
        } else {
            self.0.post(url).json(&body)
        };
        let r = r
            .bearer_auth(&p.token)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = r.status();
        let v: Value = r.json().await.map_err(|e| e.to_string())?;
        if status.is_success() {
            Ok(v)
        } else {
            Err(format!("{path}: {status} {v}"))
        }
    }
    async fn get(&self, p: &Proc, path: &str) -> Result<Value, String> {
        self.call(p, true, path, Value::Null).await
    }
    async fn post(&self, p: &Proc, path: &str, body: Value) -> Result<Value, String> {
        self.call(p, false, path, body).await
    }
}

/// Changes of community `c` a node holds (0 when unknown).
async fn changes(api: &Api, p: &Proc, c: &str) -> u64 {
    let Ok(s) = api.get(p, "/api/v1/status").await else {
        return 0;
    };
    s["communities"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|x| x["id"] == c)
        .and_then(|x| x["changes"].as_u64())
        .unwrap_or(0)
}

/// The heads of every document of `c` at a node.
async fn heads(api: &Api, p: &Proc, c: &str) -> Result<BTreeMap<String, Vec<String>>, String> {
    let docs = api
        .get(p, &format!("/api/v1/communities/{c}/export"))
        .await?;
    let mut out = BTreeMap::new();
    for d in docs.as_array().cloned().unwrap_or_default() {
        let bytes = BASE64
            .decode(d["automerge"].as_str().unwrap_or("").as_bytes())
            .map_err(|e| e.to_string())?;
        let doc = automerge::Automerge::load(&bytes).map_err(|e| e.to_string())?;
        let mut h: Vec<String> = doc.get_heads().iter().map(|h| h.to_string()).collect();
        h.sort();
        out.insert(d["doc"].as_str().unwrap_or("").to_string(), h);
    }
    Ok(out)
}

/// A small deterministic generator (xorshift), so a run's actions repeat.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// `p` joins `c` with an invite code from `inviter`, and waits until it is a member.
async fn join(api: &Api, inviter: &Proc, p: &Proc, c: &str) {
    let code = api
        .post(
            inviter,
            &format!("/api/v1/communities/{c}/invite"),
            json!({}),
        )
        .await
        .expect("invite");
    api.post(p, "/api/v1/join", json!({"code": code["code"]}))
        .await
        .expect("join");
    let start = Instant::now();
    while changes(api, p, c).await == 0 {
        assert!(start.elapsed() < TIMEOUT, "{} did not join", p.name);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn full_addr(api: &Api, p: &Proc) -> String {
    let s = api.get(p, "/api/v1/status").await.expect("status");
    s["listen_addrs"][0]
        .as_str()
        .expect("a listen address")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_nodes_stay_bounded_and_converge() {
    let total = Duration::from_secs_f64(minutes() * 60.0);
    let root = tempfile::tempdir().expect("tempdir");
    let api = Api(reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client"));
    let mut nodes: Vec<Proc> = (0..NODES)
        .map(|i| Proc {
            name: format!("n{i}"),
            dir: root.path().join(format!("n{i}")),
            child: None,
            url: String::new(),
            token: String::new(),
            dial: Vec::new(),
        })
        .collect();
    nodes[0].start();
    let c = api
        .post(
            &nodes[0],
            "/api/v1/communities",
            json!({"name": "Soak", "policy": "open"}),
        )
        .await
        .expect("create")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let first = full_addr(&api, &nodes[0]).await;
    let mut prev = first.clone();
    for i in 1..NODES - 1 {
        nodes[i].dial = vec![first.clone(), prev.clone()];
        nodes[i].start();
        join(&api, &nodes[0], &nodes[i], &c).await;
        prev = full_addr(&api, &nodes[i]).await;
    }
    nodes[NODES - 1].dial = vec![first.clone(), prev];
    let mut members = Vec::new();
    for n in &nodes[..NODES - 1] {
        members.push(api.get(n, "/api/v1/status").await.expect("status")["member"].clone());
    }

    // Warm-up, then the baseline: nodes 0, 3 and 4 are never restarted and are held to it.
    let start = Instant::now();
    let warm_at = total / 10;
    let join_at = total / 3;
    let restart_every = total / 5;
    let steady = [0usize, 3, 4];
    let mut base: BTreeMap<usize, (u64, usize, u64, u64)> = BTreeMap::new();
    let mut rng = Rng(0x5eed_50a6);
    let mut posts: Vec<String> = Vec::new();
    let (mut done, mut failed, mut restarts) = (0u64, 0u64, 0u64);
    let mut next_restart = restart_every;
    let mut joined = false;
    let mut peak: BTreeMap<usize, (u64, usize)> = BTreeMap::new();
    while start.elapsed() < total {
        let now = start.elapsed();
        if base.is_empty() && now >= warm_at {
            for &i in &steady {
                let (r, f, s) = nodes[i].measure();
                base.insert(i, (r, f, s, changes(&api, &nodes[i], &c).await));
            }
        }
        if !joined && now >= join_at {
            nodes[NODES - 1].start();
            join(&api, &nodes[0], &nodes[NODES - 1], &c).await;
            members.push(
                api.get(&nodes[NODES - 1], "/api/v1/status")
                    .await
                    .expect("status")["member"]
                    .clone(),
            );
            joined = true;
        }
        if now >= next_restart {
            // Restart nodes 1 and 2 in turn (a clean stop, then the same data directory).
            let i = 1 + (restarts as usize % 2);
            nodes[i].stop();
            nodes[i].start();
            restarts += 1;
            next_restart += restart_every;
        }
        let up: Vec<usize> = (0..NODES).filter(|&i| nodes[i].pid().is_some()).collect();
        let i = up[rng.next(up.len())];
        let p = &nodes[i];
        let r = match rng.next(10) {
            0..=4 => api
                .post(
                    p,
                    &format!("/api/v1/communities/{c}/posts"),
                    json!({"text": format!("soak post {done} from {}", p.name)}),
                )
                .await
                .map(|v| {
                    if let Some(id) = v["post"].as_str() {
                        posts.push(id.to_string());
                    }
                }),
            5..=7 if !posts.is_empty() => {
                let post = posts[rng.next(posts.len())].clone();
                let emoji = ["+1", "heart", "tada"][rng.next(3)];
                api.post(
                    p,
                    &format!("/api/v1/communities/{c}/posts/react"),
                    json!({"post": post, "emoji": emoji}),
                )
                .await
                .map(|_| ())
            }
            _ => {
                let m = members[rng.next(members.len())].clone();
                let w = [1.0, 0.5, 0.0][rng.next(3)];
                api.post(
                    p,
                    &format!("/api/v1/communities/{c}/endorse"),
                    json!({"member": m, "weight": w}),
                )
                .await
                .map(|_| ())
            }
        };
        match r {
            Ok(()) => done += 1,
            // Endorsing oneself, reacting to a post not here yet: the workload is random.
            Err(_) => failed += 1,
        }
        for &i in &up {
            let (r, f, _) = nodes[i].measure();
            let e = peak.entry(i).or_default();
            *e = (e.0.max(r), e.1.max(f));
        }
        tokio::time::sleep(STEP).await;
    }

    // Convergence: the same heads everywhere.
    let stop = Instant::now();
    let converged = loop {
        let mut all = Vec::new();
        for n in &nodes {
            all.push(heads(&api, n, &c).await.ok());
        }
        if all[0].is_some() && all.iter().all(|h| h == &all[0]) {
            break stop.elapsed();
        }
        assert!(
            stop.elapsed() < Duration::from_secs(180),
            "the nodes did not converge: {:?}",
            all.iter()
                .map(|h| h.as_ref().map(|h| h.values().map(Vec::len).sum::<usize>()))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    println!(
        "soak {:.1} min: {done} actions ({failed} refused), {} posts, {restarts} restarts, converged {:.1} s after the load",
        minutes(),
        posts.len(),
        converged.as_secs_f64()
    );
    let mut problems = Vec::new();
    for (&i, &(rss0, fd0, store0, ch0)) in &base {
        let (rss, fd, store) = nodes[i].measure();
        let ch = changes(&api, &nodes[i], &c).await;
        let added = ch.saturating_sub(ch0);
        println!(
            "{}: rss {} -> {} MiB (peak {}), fds {fd0} -> {fd} (peak {}), store {} -> {} KiB, changes {ch0} -> {ch}",
            nodes[i].name,
            rss0 >> 20,
            rss >> 20,
            peak[&i].0 >> 20,
            peak[&i].1,
            store0 >> 10,
            store >> 10
        );
        if rss > rss0 + RSS_SLACK + RSS_PER_CHANGE * added {
            problems.push(format!(
                "{}: memory grew {} MiB for {added} changes",
                nodes[i].name,
                (rss - rss0) >> 20
            ));
        }
        if store > store0 + STORE_SLACK + STORE_PER_CHANGE * added {
            problems.push(format!(
                "{}: store grew {} KiB for {added} changes",
                nodes[i].name,
                (store - store0) >> 10
            ));
        }
        if fd > fd0 + FD_SLACK {
            problems.push(format!("{}: descriptors {fd0} -> {fd}", nodes[i].name));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(done > 0 && posts.len() > 10, "the workload did not run");
    for n in &mut nodes {
        n.stop();
    }
}
