//! Calibration harness: the same network run as real rust-libp2p gossipsub swarms
//! (in-process, `MemoryTransport` + plaintext + yamux, one thread, no tokio) and as the
//! qun-sim model, compared on delivery, hops and copies per delivery.
//!
//! The model runs first and fixes the connection graph; the swarms dial exactly those
//! edges (same dialer, so the same outbound peers), use the same gossipsub parameters
//! (D, D_lo, D_hi, D_lazy, D_out, D_score, heartbeat, flood publishing, validation before
//! forwarding, blake3 message ids) and publish the same number of messages of the same
//! size from the same publishers. Every wait is on swarm events with a deadline; nothing
//! sleeps for a fixed time.
//!
//! Real hops come from the first-receipt tree: each node's `propagation_source` of a
//! message is its parent, so hops = depth from the publisher. Real copies come from
//! gossipsub's own metrics (`topic_msg_recv_counts_unfiltered` / `topic_msg_recv_counts`).

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use futures::StreamExt;
use libp2p::core::transport::{MemoryTransport, Transport};
use libp2p::core::upgrade::Version;
use libp2p::gossipsub::{
    self, IdentTopic, MessageAcceptance, MessageAuthenticity, MessageId, ValidationMode,
};
use libp2p::swarm::{Swarm, SwarmEvent};
use libp2p::{Multiaddr, PeerId, identity, plaintext, yamux};
use prometheus_client::registry::Registry;

use qun_sim::scenario::Scenario;
use qun_sim::world::{RunOptions, run_with};

/// Payload bytes of each calibration message (below libp2p's IDONTWANT threshold of
/// 1000 bytes, and the model runs without IDONTWANT).
pub const MESSAGE_BYTES: usize = 500;
/// Heartbeat of both the swarms and the model (short, so meshes form quickly).
pub const HEARTBEAT_MS: u64 = 200;
/// Model link latency standing in for one in-process hop (ms).
const LINK_LATENCY_MS: f64 = 0.5;
/// Mean of the exponential per-frame jitter (ms): in-process swarms polled in turn
/// deliver frames in a scrambled order, not in lockstep.
const JITTER_MS: f64 = 1.0;
/// Seconds the model lets meshes form before the first publication.
const MODEL_WARMUP_S: f64 = 4.0;
/// How long a real message may take to reach everyone before it counts as undelivered.
const DELIVERY_DEADLINE: Duration = Duration::from_secs(10);
/// Deadline for meshes to form.
const MESH_DEADLINE: Duration = Duration::from_secs(30);
/// After the last message: keep polling this many heartbeats for late duplicates.
const SETTLE_HEARTBEATS: u32 = 5;
/// First `/memory/N` port; each run takes fresh ports (the memory transport's port
/// registry outlives dropped swarms).
static NEXT_PORT: AtomicU64 = AtomicU64::new(10_000);

/// Network shape shared by both sides.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    /// Swarms / nodes.
    pub nodes: u32,
    /// Mean connections per node.
    pub degree: u32,
    /// Messages published.
    pub messages: u32,
    /// Model seeds to average over (the graph comes from the first).
    pub model_seeds: u32,
}

/// What one side measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measured {
    /// First receipts / expected receipts.
    pub delivery: f64,
    /// Mean hops of first receipts.
    pub hops_mean: f64,
    /// Copies received per first receipt.
    pub copies_per_delivery: f64,
}

/// Both sides and their relative gaps.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The model (mean over seeds).
    pub model: Measured,
    /// Real libp2p.
    pub real: Measured,
    /// Wall time of the real run.
    pub real_wall: Duration,
}

impl Comparison {
    /// |model − real| / real for hops and copies, and the delivery difference.
    pub fn gaps(&self) -> (f64, f64, f64) {
        let rel = |m: f64, r: f64| if r == 0.0 { 0.0 } else { (m - r).abs() / r };
        (
            (self.model.delivery - self.real.delivery).abs(),
            rel(self.model.hops_mean, self.real.hops_mean),
            rel(
                self.model.copies_per_delivery,
                self.real.copies_per_delivery,
            ),
        )
    }
}

fn scenario(setup: &Setup) -> Scenario {
    let d = 6;
    let src = format!(
        r#"
name = "calibration"
nodes = {nodes}
duration_s = {duration}
[topology]
degree = {degree}
[links]
latency_ms = {LINK_LATENCY_MS}
jitter_ms = {{ dist = "exp", mean = {JITTER_MS} }}
[gossip]
d = {d}
d_lo = 5
d_hi = 12
d_lazy = 6
d_score = 4
d_out = 2
heartbeat_ms = {HEARTBEAT_MS}
flood_publish = true
[gossip.score]
enabled = false
[workload]
messages = {messages}
posts_per_second = 2
arrival = "uniform"
start_s = {MODEL_WARMUP_S}
message_bytes = {MESSAGE_BYTES}
"#,
        nodes = setup.nodes,
        degree = setup.degree,
        messages = setup.messages,
        duration = MODEL_WARMUP_S + setup.messages as f64 / 2.0 + 10.0,
    );
    Scenario::from_toml_str("calibration.toml", &src).expect("calibration scenario is valid")
}

/// Runs the model; returns the mean measurement, the graph of the first seed and its
/// publishers in order.
fn run_model(setup: &Setup) -> (Measured, Vec<(u32, u32)>, Vec<u32>) {
    let scn = scenario(setup);
    let mut sum = Measured::default();
    let mut graph = Vec::new();
    let mut publishers = Vec::new();
    for seed in 1..=setup.model_seeds.max(1) as u64 {
        let r = run_with(&scn, seed, &RunOptions::default(), &mut |_| {}).expect("model run");
        sum.delivery += r.summary.delivery_ratio;
        sum.hops_mean += r.summary.hops.mean;
        sum.copies_per_delivery += r.summary.copies_per_delivery;
        if seed == 1 {
            graph = r.graph.edges.clone();
            publishers = r.messages.iter().map(|m| m.origin).collect();
        }
    }
    let k = setup.model_seeds.max(1) as f64;
    (
        Measured {
            delivery: sum.delivery / k,
            hops_mean: sum.hops_mean / k,
            copies_per_delivery: sum.copies_per_delivery / k,
        },
        graph,
        publishers,
    )
}

fn gossipsub_config() -> gossipsub::Config {
    gossipsub::ConfigBuilder::default()
        .mesh_n(6)
        .mesh_n_low(5)
        .mesh_n_high(12)
        .gossip_lazy(6)
        .retain_scores(4)
        .mesh_outbound_min(2)
        .heartbeat_interval(Duration::from_millis(HEARTBEAT_MS))
        .flood_publish(true)
        .validation_mode(ValidationMode::Strict)
        .validate_messages()
        .message_id_fn(|m| MessageId::from(blake3::hash(&m.data).as_bytes().to_vec()))
        .build()
        .expect("valid gossipsub config")
}

struct Node {
    swarm: Swarm<gossipsub::Behaviour>,
    registry: Registry,
}

fn build(i: u32) -> Node {
    let mut bytes = [0u8; 32];
    bytes[..4].copy_from_slice(&(i + 1).to_le_bytes());
    let key = identity::Keypair::ed25519_from_bytes(bytes).expect("ed25519 key");
    let transport = MemoryTransport::default()
        .upgrade(Version::V1)
        .authenticate(plaintext::Config::new(&key))
        .multiplex(yamux::Config::default())
        .boxed();
    let mut registry = Registry::default();
    let behaviour =
        gossipsub::Behaviour::new(MessageAuthenticity::Signed(key.clone()), gossipsub_config())
            .expect("gossipsub behaviour")
            .with_metrics(&mut registry, gossipsub::MetricsConfig::default());
    let swarm = Swarm::new(
        transport,
        behaviour,
        PeerId::from(key.public()),
        libp2p::swarm::Config::without_executor()
            .with_idle_connection_timeout(Duration::from_secs(600)),
    );
    Node { swarm, registry }
}

/// Polls every swarm until `done` holds or `deadline` passes; `on_event(i, event)` sees
/// every gossipsub event. Returns whether `done` held.
fn drive(
    nodes: &mut [Node],
    deadline: Instant,
    on_event: &mut dyn FnMut(usize, &mut Swarm<gossipsub::Behaviour>, gossipsub::Event),
    done: &mut dyn FnMut(&mut [Node]) -> bool,
) -> bool {
    futures::executor::block_on(futures::future::poll_fn(|cx| {
        loop {
            let mut progressed = false;
            for (i, node) in nodes.iter_mut().enumerate() {
                while let Poll::Ready(Some(ev)) = node.swarm.poll_next_unpin(cx) {
                    progressed = true;
                    if let SwarmEvent::Behaviour(e) = ev {
                        on_event(i, &mut node.swarm, e);
                    }
                }
            }
            if done(nodes) {
                return Poll::Ready(true);
            }
            if Instant::now() >= deadline {
                return Poll::Ready(false);
            }
            if !progressed {
                // Woken again by the next frame or heartbeat timer.
                return Poll::Pending;
            }
        }
    }))
}

fn metric(registry: &Registry, name: &str) -> f64 {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, registry).expect("encode metrics");
    text.lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter(|l| l[name.len()..].starts_with("_total") || l[name.len()..].starts_with('{'))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Runs the real swarms over the model's graph and publishers.
fn run_real(setup: &Setup, edges: &[(u32, u32)], publishers: &[u32]) -> (Measured, Duration) {
    let start = Instant::now();
    let n = setup.nodes as usize;
    let topic = IdentTopic::new("qun/calibration/v1");
    let mut nodes: Vec<Node> = (0..setup.nodes).map(build).collect();
    let ids: Vec<PeerId> = nodes.iter().map(|x| *x.swarm.local_peer_id()).collect();
    let index: BTreeMap<PeerId, usize> = ids.iter().enumerate().map(|(i, p)| (*p, i)).collect();
    let base = NEXT_PORT.fetch_add(n as u64, Ordering::SeqCst);
    for (i, node) in nodes.iter_mut().enumerate() {
        node.swarm
            .behaviour_mut()
            .subscribe(&topic)
            .expect("subscribe");
        let addr: Multiaddr = format!("/memory/{}", base + i as u64)
            .parse()
            .expect("addr");
        node.swarm.listen_on(addr).expect("listen");
    }
    for &(a, b) in edges {
        let addr: Multiaddr = format!("/memory/{}", base + b as u64)
            .parse()
            .expect("addr");
        nodes[a as usize].swarm.dial(addr).expect("dial");
    }
    // Meshes: every node has min(D_lo, its degree) mesh peers.
    let mut degree = vec![0usize; n];
    for &(a, b) in edges {
        degree[a as usize] += 1;
        degree[b as usize] += 1;
    }
    let th = topic.hash();
    let formed = drive(
        &mut nodes,
        Instant::now() + MESH_DEADLINE,
        &mut |_, _, _| {},
        &mut |nodes| {
            nodes
                .iter()
                .enumerate()
                .all(|(i, x)| x.swarm.behaviour().mesh_peers(&th).count() >= degree[i].min(5))
        },
    );
    assert!(
        formed,
        "gossipsub meshes did not form within {MESH_DEADLINE:?}"
    );

    // Publish one message at a time and wait until everyone has it.
    let mut parent: Vec<BTreeMap<usize, usize>> = Vec::new();
    let mut delivered = 0u64;
    for (k, &origin) in publishers.iter().enumerate() {
        let mut data = vec![0u8; MESSAGE_BYTES];
        data[..8].copy_from_slice(&(k as u64).to_le_bytes());
        let id = MessageId::from(blake3::hash(&data).as_bytes().to_vec());
        nodes[origin as usize]
            .swarm
            .behaviour_mut()
            .publish(topic.clone(), data)
            .expect("publish");
        let mut tree = BTreeMap::new();
        tree.insert(origin as usize, origin as usize);
        let got = std::cell::RefCell::new(vec![false; n]);
        got.borrow_mut()[origin as usize] = true;
        // A message that misses the deadline simply counts as undelivered.
        drive(
            &mut nodes,
            Instant::now() + DELIVERY_DEADLINE,
            &mut |i, swarm, ev| {
                if let gossipsub::Event::Message {
                    propagation_source,
                    message_id,
                    ..
                } = ev
                {
                    swarm.behaviour_mut().report_message_validation_result(
                        &message_id,
                        &propagation_source,
                        MessageAcceptance::Accept,
                    );
                    let mut got = got.borrow_mut();
                    if message_id == id && !got[i] {
                        got[i] = true;
                        if let Some(&p) = index.get(&propagation_source) {
                            tree.insert(i, p);
                        }
                    }
                }
            },
            &mut |_| got.borrow().iter().all(|&g| g),
        );
        delivered += got.borrow().iter().filter(|&&g| g).count() as u64 - 1;
        parent.push(tree);
    }
    // Let late duplicates land (woken by heartbeats), then read the counters.
    let settle = Instant::now() + Duration::from_millis(HEARTBEAT_MS * SETTLE_HEARTBEATS as u64);
    drive(
        &mut nodes,
        settle,
        &mut |_, swarm, ev| {
            if let gossipsub::Event::Message {
                propagation_source,
                message_id,
                ..
            } = ev
            {
                swarm.behaviour_mut().report_message_validation_result(
                    &message_id,
                    &propagation_source,
                    MessageAcceptance::Accept,
                );
            }
        },
        &mut |_| false,
    );
    let unfiltered: f64 = nodes
        .iter()
        .map(|x| metric(&x.registry, "topic_msg_recv_counts_unfiltered"))
        .sum();
    let filtered: f64 = nodes
        .iter()
        .map(|x| metric(&x.registry, "topic_msg_recv_counts"))
        .sum();
    let mut hops_sum = 0u64;
    let mut hops_n = 0u64;
    for (k, tree) in parent.iter().enumerate() {
        let origin = publishers[k] as usize;
        for &v in tree.keys() {
            if v == origin {
                continue;
            }
            let (mut h, mut x) = (0u64, v);
            while x != origin && h <= n as u64 {
                x = tree.get(&x).copied().unwrap_or(origin);
                h += 1;
            }
            hops_sum += h;
            hops_n += 1;
        }
    }
    let expected = (publishers.len() * (n - 1)) as f64;
    (
        Measured {
            delivery: delivered as f64 / expected,
            hops_mean: hops_sum as f64 / hops_n.max(1) as f64,
            copies_per_delivery: if filtered > 0.0 {
                unfiltered / filtered
            } else {
                0.0
            },
        },
        start.elapsed(),
    )
}

/// Runs both sides.
pub fn compare(setup: &Setup) -> Comparison {
    let (model, edges, publishers) = run_model(setup);
    assert_eq!(
        publishers.len(),
        setup.messages as usize,
        "model published every message"
    );
    let (real, real_wall) = run_real(setup, &edges, &publishers);
    Comparison {
        model,
        real,
        real_wall,
    }
}

/// One Markdown table row for BENCHMARKS.md.
pub fn report(setup: &Setup, c: &Comparison) -> String {
    let (dd, dh, dc) = c.gaps();
    let mut out = Vec::new();
    let _ = writeln!(
        out,
        "| {} nodes, degree {}, {} msgs | delivery {:.4} / {:.4} (Δ {:.4}) | hops {:.3} / {:.3} ({:.1} %) | copies/delivery {:.3} / {:.3} ({:.1} %) | real run {:.1} s |",
        setup.nodes,
        setup.degree,
        setup.messages,
        c.model.delivery,
        c.real.delivery,
        dd,
        c.model.hops_mean,
        c.real.hops_mean,
        dh * 100.0,
        c.model.copies_per_delivery,
        c.real.copies_per_delivery,
        dc * 100.0,
        c.real_wall.as_secs_f64()
    );
    String::from_utf8_lossy(&out).into_owned()
}
