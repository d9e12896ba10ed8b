//! Load bench: one `qun up` process (the release binary) on 127.0.0.1 under four loads, each
//! bounded in count and time, while a prober asks its API for its status every 10 ms:
//!
//! 1. 1,000 inbound connection attempts, each from a new peer id, 100 at a time;
//! 2. 200 peers asking for catch-up of a 2,000-post community at once;
//! 3. gossip from 20 peers as fast as they can publish, up to 50k messages a second (junk),
//!    while an honest member posts 20 valid posts a second;
//! 4. 200 SSE clients while the node writes 50 posts a second.
//!
//! For each: the node's peak RSS, the API's p50/p99 latency during the load, what the node
//! dropped by policy (its `limits` counters, gossipsub's graylist and duplicates) versus
//! what was lost (honest posts missing after recovery), and the recovery time (from the end
//! of the load until 20 probes in a row answer within twice the idle p99).
//!
//! `cargo bench -p qun-node --bench load` (release; ~3 minutes). All peers share 127.0.0.1, so
//! the node runs with `max_connections_per_ip = 0` (off); every other limit is the default.
//! Results go in BENCHMARKS.md.

use futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use libp2p::{gossipsub, noise, request_response, tcp, yamux};
use qun_crdt::CommunityId;
use qun_crdt::replicate::wire;
use qun_node::net::codec::{SYNC_PROTOCOL, SyncCodec};
use qun_node::node::{NodeConfig, start};
use qun_node::store::memory::MemoryStore;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PROBE_EVERY: Duration = Duration::from_millis(10);
const CONNECTIONS: usize = 1_000;
const CATCH_UP_PEERS: usize = 200;
const CATCH_UP_POSTS: usize = 2_000;
const FLOOD_PEERS: usize = 20;
const FLOOD_RATE: usize = 50_000;
const FLOOD_FOR: Duration = Duration::from_secs(10);
const SSE_CLIENTS: usize = 200;
const SSE_FOR: Duration = Duration::from_secs(10);

/// The node under test.
struct Target {
    child: Child,
    _dir: tempfile::TempDir,
    url: String,
    token: String,
    http: reqwest::Client,
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Target {
    fn start() -> Target {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("config.toml"),
            "listen = [\"/ip4/127.0.0.1/tcp/0\"]\nmdns = false\napi = \"127.0.0.1:0\"\n\n[limits]\nmax_connections_per_ip = 0\n",
        )
        .expect("config");
        let child = Command::new(env!("CARGO_BIN_EXE_qun"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(["up", "--no-passphrase"])
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn qun up");
        let start = Instant::now();
        let (url, token) = loop {
            if let Ok(b) = std::fs::read(dir.path().join("api.json"))
                && let Ok(v) = serde_json::from_slice::<Value>(&b)
                && let (Some(u), Some(t)) = (v["url"].as_str(), v["token"].as_str())
            {
                break (u.to_string(), t.to_string());
            }
            assert!(start.elapsed() < Duration::from_secs(30), "no api.json");
            std::thread::sleep(Duration::from_millis(20));
        };
        Target {
            child,
            _dir: dir,
            url,
            token,
            http: reqwest::Client::new(),
        }
    }

    fn rss(&self) -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        s.lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    }

    async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json")
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.http
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("post")
            .json()
            .await
            .expect("json")
    }

    async fn status(&self) -> Value {
        self.get("/api/v1/status").await
    }

    async fn addr(&self) -> libp2p::Multiaddr {
        let s = self.status().await;
        s["listen_addrs"][0]
            .as_str()
            .expect("address")
            .parse()
            .expect("multiaddr")
    }
}

/// The prober: status latencies (ms) and peak RSS while it runs.
struct Probe {
    lat: Arc<Mutex<Vec<(Instant, f64)>>>,
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

fn probe(t: &Target) -> Probe {
    let lat = Arc::new(Mutex::new(Vec::new()));
    let peak = Arc::new(AtomicU64::new(t.rss()));
    let stop = Arc::new(AtomicBool::new(false));
    let (url, token, http, pid) = (t.url.clone(), t.token.clone(), t.http.clone(), t.child.id());
    let (l, p, s) = (lat.clone(), peak.clone(), stop.clone());
    let task = tokio::spawn(async move {
        while !s.load(Ordering::Relaxed) {
            let t0 = Instant::now();
            let ok = http
                .get(format!("{url}/api/v1/status"))
                .bearer_auth(&token)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                let ms = t0.elapsed().as_secs_f64() * 1e3;
                l.lock().expect("lock").push((Instant::now(), ms));
            }
            let st = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            if let Some(kb) = st
                .lines()
                .find_map(|x| x.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                p.fetch_max(kb * 1024, Ordering::Relaxed);
            }
            tokio::time::sleep(PROBE_EVERY).await;
        }
    });
    Probe {
        lat,
        peak,
        stop,
        task,
    }
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// What one scenario measured.
struct Row {
    name: &'static str,
    load: String,
    peak_rss_mb: f64,
    p50: f64,
    p99: f64,
    dropped: String,
    lost: String,
    recovery_s: f64,
}

/// Run `load` under the prober; then measure recovery against `idle_p99`.
async fn measured<F, Fut, T>(t: &Target, idle_p99: f64, load: F) -> (f64, f64, f64, f64, T)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let p = probe(t);
    let what = load().await;
    let ended = Instant::now();
    // Recovery: 20 answers in a row within twice the idle p99 (at most 60 s).
    let bound = (idle_p99 * 2.0).max(2.0);
    let recovery = loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let l = p.lat.lock().expect("lock").clone();
        let after: Vec<&(Instant, f64)> = l.iter().filter(|(at, _)| *at > ended).collect();
        if let Some(pos) = after
            .windows(20)
            .position(|w| w.iter().all(|(_, ms)| *ms <= bound))
        {
            break after[pos].0.duration_since(ended).as_secs_f64();
        }
        if ended.elapsed() > Duration::from_secs(60) {
            break f64::INFINITY;
        }
    };
    p.stop.store(true, Ordering::Relaxed);
    let _ = p.task.await;
    let mut during: Vec<f64> = p
        .lat
        .lock()
        .expect("lock")
        .iter()
        .filter(|(at, _)| *at <= ended)
        .map(|(_, ms)| *ms)
        .collect();
    let peak = p.peak.load(Ordering::Relaxed) as f64 / (1024.0 * 1024.0);
    (
        peak,
        pct(&mut during, 0.5),
        pct(&mut during, 0.99),
        recovery,
        what,
    )
}

fn limits_delta(before: &Value, after: &Value) -> String {
    let mut out = Vec::new();
    if let Some(m) = after["limits"].as_object() {
        for (k, v) in m {
            let d = v.as_u64().unwrap_or(0) - before["limits"][k].as_u64().unwrap_or(0);
            if d > 0 {
                out.push(format!("{k} {d}"));
            }
        }
    }
    if out.is_empty() {
        "none".into()
    } else {
        out.join(", ")
    }
}

fn traffic_delta(before: &Value, after: &Value, k: &str) -> u64 {
    after["traffic"][k].as_u64().unwrap_or(0) - before["traffic"][k].as_u64().unwrap_or(0)
}

/// 1,000 connection attempts from new peer ids, 100 at a time; each kept open 2 s.
async fn connections(t: &Target) -> (String, String, String) {
    let addr = t.addr().await;
    let established = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    for batch in 0..CONNECTIONS / 100 {
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let (addr, est, fail) = (addr.clone(), established.clone(), failed.clone());
            tasks.push(tokio::spawn(async move {
                let mut sw = libp2p::SwarmBuilder::with_new_identity()
                    .with_tokio()
                    .with_tcp(
                        tcp::Config::default(),
                        noise::Config::new,
                        yamux::Config::default,
                    )
                    .expect("tcp")
                    .with_behaviour(|_| libp2p::swarm::dummy::Behaviour)
                    .expect("behaviour")
                    .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(5)))
                    .build();
                if sw.dial(addr).is_err() {
                    fail.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
                let mut up_since: Option<Instant> = None;
                loop {
                    let ev = tokio::time::timeout_at(deadline, sw.select_next_some()).await;
                    match ev {
                        Ok(SwarmEvent::ConnectionEstablished { .. }) => {
                            up_since = Some(Instant::now());
                        }
                        Ok(SwarmEvent::ConnectionClosed { .. })
                        | Ok(SwarmEvent::OutgoingConnectionError { .. }) => break,
                        Ok(_) => {}
                        Err(_) => break,
                    }
                    if up_since.is_some_and(|t| t.elapsed() > Duration::from_secs(2)) {
                        break;
                    }
                }
                // Established and kept for 2 s (not closed by the node at once).
                if up_since.is_some_and(|t| t.elapsed() >= Duration::from_secs(2)) {
                    est.fetch_add(1, Ordering::Relaxed);
                } else {
                    fail.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
        let _ = batch;
    }
    (
        format!("{CONNECTIONS} attempts, 100 at a time"),
        format!(
            "{} held 2 s, {} refused or closed",
            established.load(Ordering::Relaxed),
            failed.load(Ordering::Relaxed)
        ),
        "-".into(),
    )
}

/// A sync client that asks once for everything of `c`, and again after `Busy`.
async fn catch_up(addr: libp2p::Multiaddr, target: libp2p::PeerId, c: CommunityId) -> &'static str {
    let mut sw = libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .expect("tcp")
        .with_behaviour(|_| {
            request_response::Behaviour::with_codec(
                SyncCodec { max_bytes: 8 << 20 },
                [(SYNC_PROTOCOL, request_response::ProtocolSupport::Outbound)],
                request_response::Config::default().with_request_timeout(Duration::from_secs(60)),
            )
        })
        .expect("behaviour")
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    sw.add_peer_address(target, addr);
    let req = wire::encode(&wire::SyncRequest::Heads {
        community: c,
        want_genesis: true,
        docs: vec![],
        access: None,
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let mut busy = false;
    sw.behaviour_mut().send_request(&target, req.clone());
    loop {
        let Ok(ev) = tokio::time::timeout_at(deadline, sw.select_next_some()).await else {
            return "timed out";
        };
        match ev {
            SwarmEvent::Behaviour(request_response::Event::Message {
                message: request_response::Message::Response { response, .. },
                ..
            }) => match wire::decode::<wire::SyncResponse>("r", &response, response.len()) {
                Ok(wire::SyncResponse::Busy { retry_ms, .. }) => {
                    busy = true;
                    tokio::time::sleep(Duration::from_millis(retry_ms)).await;
                    sw.behaviour_mut().send_request(&target, req.clone());
                }
                Ok(wire::SyncResponse::Changes { .. }) => {
                    return if busy { "served after Busy" } else { "served" };
                }
                _ => return "other answer",
            },
            SwarmEvent::Behaviour(request_response::Event::OutboundFailure { .. }) => {
                return "failed";
            }
            _ => {}
        }
    }
}

async fn catch_ups(t: &Target, c: CommunityId) -> (String, String, String) {
    let addr = t.addr().await;
    let peer: libp2p::PeerId = t.status().await["peer_id"]
        .as_str()
        .expect("peer id")
        .parse()
        .expect("peer id");
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..CATCH_UP_PEERS)
        .map(|_| tokio::spawn(catch_up(addr.clone(), peer, c)))
        .collect();
    let mut outcomes: std::collections::BTreeMap<&str, usize> = Default::default();
    for t in tasks {
        *outcomes.entry(t.await.unwrap_or("panicked")).or_default() += 1;
    }
    let lost: usize = outcomes
        .iter()
        .filter(|(k, _)| {
            k.starts_with("failed") || k.starts_with("timed") || k.starts_with("other")
        })
        .map(|(_, v)| v)
        .sum();
    (
        format!("{CATCH_UP_PEERS} peers × {CATCH_UP_POSTS} posts"),
        format!(
            "{outcomes:?}, all done in {:.1} s",
            t0.elapsed().as_secs_f64()
        ),
        format!("{lost} peers not served"),
    )
}

fn raw_gossip(key: &libp2p::identity::Keypair) -> gossipsub::Behaviour {
    let cfg = gossipsub::ConfigBuilder::default()
        .validation_mode(gossipsub::ValidationMode::Strict)
        .message_id_fn(qun_node::net::swarm::message_id)
        .max_transmit_size(1 << 20)
        .heartbeat_interval(qun_node::net::swarm::HEARTBEAT)
        .build()
        .expect("gossipsub config");
    gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Signed(key.clone()), cfg)
        .expect("gossipsub")
}

/// 20 raw gossipsub peers publish junk on the community's topic at up to `FLOOD_RATE` a second
/// in total for `FLOOD_FOR`, while an honest member posts 20 a second.
async fn flood(t: &Target, c: CommunityId) -> (String, String, String) {
    let addr = t.addr().await;
    let before = t.status().await;
    // The honest member.
    let keys = {
        let root = qun_identity::SecretIdentity::from_seed(&[77; 32]);
        let device = qun_identity::SecretIdentity::from_seed(&[177; 32]);
        qun_node::keystore::bundle_for(root, device, qun_identity::Timestamp::now()).expect("keys")
    };
    let honest = start(
        NodeConfig {
            dial: vec![addr.clone()],
            ..NodeConfig::loopback(keys)
        },
        Box::new(MemoryStore::default()),
    )
    .await
    .expect("honest node");
    let code = t
        .post(&format!("/api/v1/communities/{c}/invite"), json!({}))
        .await;
    honest
        .handle
        .join(code["code"].as_str().expect("code"))
        .await
        .expect("join");
    let t0 = Instant::now();
    while !honest.handle.status().await.is_ok_and(|s| {
        s.communities
            .iter()
            .any(|x| x.id == c.to_string() && x.status.is_member())
    }) {
        assert!(t0.elapsed() < Duration::from_secs(60), "honest join");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let topic = qun_node::net::topic::topic(&c);
    let sent = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for p in 0..FLOOD_PEERS {
        let (addr, topic, sent, stop) = (addr.clone(), topic.clone(), sent.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut sw = libp2p::SwarmBuilder::with_new_identity()
                .with_tokio()
                .with_tcp(
                    tcp::Config::default(),
                    noise::Config::new,
                    yamux::Config::default,
                )
                .expect("tcp")
                .with_behaviour(raw_gossip)
                .expect("behaviour")
                .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
                .build();
            let _ = sw.behaviour_mut().subscribe(&topic);
            let _ = sw.dial(addr);
            // Wait two heartbeats so the target knows the subscription.
            let warm = tokio::time::Instant::now() + Duration::from_secs(2);
            while tokio::time::timeout_at(warm, sw.select_next_some())
                .await
                .is_ok()
            {}
            let per_tick = FLOOD_RATE / FLOOD_PEERS / 100;
            let mut tick = tokio::time::interval(Duration::from_millis(10));
            let mut n: u64 = 0;
            while !stop.load(Ordering::Relaxed) {
                tokio::select! {
                    _ = tick.tick() => {
                        for _ in 0..per_tick {
                            n += 1;
                            let mut junk = vec![wire::WIRE_VERSION, p as u8];
                            junk.extend(n.to_le_bytes());
                            junk.extend([0u8; 64]);
                            if sw.behaviour_mut().publish(topic.clone(), junk).is_ok() {
                                sent.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    _ = sw.select_next_some() => {}
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut posted = Vec::new();
    let end = Instant::now() + FLOOD_FOR;
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    let mut i = 0;
    while Instant::now() < end {
        tick.tick().await;
        let text = format!("honest {i}");
        if honest
            .handle
            .edit(
                c,
                qun_crdt::Edit::Post {
                    channel: qun_crdt::ChannelId::general(),
                    text: text.clone(),
                    reply_to: None,
                    attachments: vec![],
                },
            )
            .await
            .is_ok()
        {
            posted.push(text);
        }
        i += 1;
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let after = t.status().await;
    // Lost: honest posts the target still lacks 40 s later (catch-up runs every 30 s).
    let mut missing = posted.len();
    let t1 = Instant::now();
    while t1.elapsed() < Duration::from_secs(40) {
        let got = t
            .get(&format!("/api/v1/communities/{c}/posts?limit=1000"))
            .await;
        let texts: std::collections::BTreeSet<&str> = got
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["text"].as_str())
            .collect();
        missing = posted
            .iter()
            .filter(|p| !texts.contains(p.as_str()))
            .count();
        if missing == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let _ = honest.handle.shutdown().await;
    let offered = sent.load(Ordering::Relaxed);
    let copies = traffic_delta(&before, &after, "gossip_copies_in");
    let to_core = traffic_delta(&before, &after, "gossip_in");
    (
        format!(
            "{offered} junk published by {FLOOD_PEERS} peers in {} s ({:.0}/s) + {} honest posts",
            FLOOD_FOR.as_secs(),
            offered as f64 / FLOOD_FOR.as_secs_f64(),
            posted.len()
        ),
        format!(
            "gossipsub received {copies}, handed {to_core} to the driver (the rest graylisted or duplicate); rejected {} (rate limit {}), limits: {}",
            traffic_delta(&before, &after, "gossip_rejected"),
            after["limits"]["gossip_per_peer"].as_u64().unwrap_or(0)
                - before["limits"]["gossip_per_peer"].as_u64().unwrap_or(0),
            limits_delta(&before, &after)
        ),
        format!(
            "{missing} of {} honest posts missing after 40 s",
            posted.len()
        ),
    )
}

/// 200 SSE clients while the node writes 50 posts a second.
async fn sse(t: &Target, c: CommunityId) -> (String, String, String) {
    let mut streams = Vec::new();
    let mut refused = 0;
    for _ in 0..SSE_CLIENTS {
        let r = t
            .http
            .get(format!("{}/api/v1/events", t.url))
            .bearer_auth(&t.token)
            .send()
            .await
            .expect("sse");
        if r.status().is_success() {
            streams.push(r);
        } else {
            refused += 1;
        }
    }
    let open = streams.len();
    let received = Arc::new(AtomicU64::new(0));
    let lagged = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = streams
        .into_iter()
        .map(|mut r| {
            let (rx, lg) = (received.clone(), lagged.clone());
            tokio::spawn(async move {
                while let Ok(Some(chunk)) = r.chunk().await {
                    let s = String::from_utf8_lossy(&chunk);
                    rx.fetch_add(
                        s.matches("\"type\":\"change\"").count() as u64,
                        Ordering::Relaxed,
                    );
                    lg.fetch_add(s.matches("event: lagged").count() as u64, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let end = Instant::now() + SSE_FOR;
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let mut posts = 0u64;
    while Instant::now() < end {
        tick.tick().await;
        t.post(
            &format!("/api/v1/communities/{c}/posts"),
            json!({"text": format!("sse {posts}")}),
        )
        .await;
        posts += 1;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    for r in &readers {
        r.abort();
    }
    let want = posts * open as u64;
    let got = received.load(Ordering::Relaxed);
    (
        format!(
            "{SSE_CLIENTS} clients, {posts} posts in {} s",
            SSE_FOR.as_secs()
        ),
        format!("{refused} clients refused (503, `max_sse_clients`)"),
        format!(
            "{} of {want} events not delivered to open clients ({} `lagged` notices)",
            want.saturating_sub(got),
            lagged.load(Ordering::Relaxed)
        ),
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let t = Target::start();
    let c: CommunityId = t
        .post(
            "/api/v1/communities",
            json!({"name": "Load", "policy": "open"}),
        )
        .await["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("community id");
    // At most 100 a second: the API's rate limit is 200.
    let mut pace = tokio::time::interval(Duration::from_millis(10));
    for i in 0..CATCH_UP_POSTS {
        pace.tick().await;
        t.post(
            &format!("/api/v1/communities/{c}/posts"),
            json!({"text": format!("post {i} for catch-up")}),
        )
        .await;
    }
    // Idle latency.
    let p = probe(&t);
    tokio::time::sleep(Duration::from_secs(3)).await;
    p.stop.store(true, Ordering::Relaxed);
    let _ = p.task.await;
    let mut idle: Vec<f64> = p.lat.lock().expect("lock").iter().map(|x| x.1).collect();
    let idle_p99 = pct(&mut idle, 0.99);
    let idle_p50 = pct(&mut idle, 0.5);
    println!(
        "idle: rss {:.0} MiB, status p50 {idle_p50:.2} ms p99 {idle_p99:.2} ms",
        t.rss() as f64 / 1048576.0
    );
    let mut rows = Vec::new();
    for name in ["connections", "catch-up", "gossip flood", "SSE"] {
        let before = t.status().await;
        let (peak, p50, p99, rec, (load, dropped, lost)) = measured(&t, idle_p99, || async {
            match name {
                "connections" => connections(&t).await,
                "catch-up" => catch_ups(&t, c).await,
                "gossip flood" => flood(&t, c).await,
                _ => sse(&t, c).await,
            }
        })
        .await;
        let after = t.status().await;
        let dropped = format!("{dropped}; limits hit: {}", limits_delta(&before, &after));
        let row = Row {
            name,
            load,
            peak_rss_mb: peak,
            p50,
            p99,
            dropped,
            lost,
            recovery_s: rec,
        };
        println!(
            "{}: {} | peak RSS {:.0} MiB | API p50 {:.1} ms p99 {:.1} ms | dropped by policy: {} | lost: {} | recovery {:.2} s",
            row.name,
            row.load,
            row.peak_rss_mb,
            row.p50,
            row.p99,
            row.dropped,
            row.lost,
            row.recovery_s
        );
        rows.push(row);
    }
    println!("\n| load | what | peak RSS | API p50 / p99 | dropped by policy | lost | recovery |");
    println!("|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {:.0} MiB | {:.1} / {:.1} ms | {} | {} | {:.2} s |",
            r.name, r.load, r.peak_rss_mb, r.p50, r.p99, r.dropped, r.lost, r.recovery_s
        );
    }
}
