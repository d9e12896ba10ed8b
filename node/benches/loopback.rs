//! Loopback benchmark: 10 real nodes on 127.0.0.1, each connected to its inviter and 3 more
//! (post → delivery latency, copies and bytes per message), and a fresh node catching up on
//! 10k changes. Prints tables.
//!
//! `cargo bench -p qun-node --bench loopback` (release). Results go in BENCHMARKS.md.

use qun_crdt::{AdmissionPolicy, ChannelId, CommunityId, Edit};
use qun_identity::SecretIdentity;
use qun_node::dto::NodeEvent;
use qun_node::node::{NodeConfig, Running, start};
use qun_node::store::Store;
use qun_node::store::memory::MemoryStore;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const NODES: usize = 10;
const MESSAGES: usize = 200;
const INTERVAL: Duration = Duration::from_millis(20);
const CATCH_UP: usize = 10_000;
/// Connections each node opens besides the one to its inviter.
const PEERS_EACH: usize = 3;

type Seen = Arc<Mutex<HashMap<String, Instant>>>;

fn keys(seed: u8) -> qun_identity::keyfile::KeyBundle {
    let root = SecretIdentity::from_seed(&[seed; 32]);
    let device = SecretIdentity::from_seed(&[seed.wrapping_add(100); 32]);
    qun_node::keystore::bundle_for(root, device, qun_identity::Timestamp::now()).expect("keys")
}

async fn node(seed: u8) -> (Running, Seen) {
    node_with(seed, Box::new(MemoryStore::default())).await
}

async fn node_with(seed: u8, store: Box<dyn Store>) -> (Running, Seen) {
    let r = start(NodeConfig::loopback(keys(seed)), store)
        .await
        .expect("start");
    let seen: Seen = Arc::default();
    let mut rx = r.handle.events();
    let s = seen.clone();
    tokio::spawn(async move {
        while let Ok(e) = rx.recv().await {
            if let NodeEvent::Change { hash, .. } = e {
                s.lock()
                    .expect("lock")
                    .entry(hash)
                    .or_insert_with(Instant::now);
            }
        }
    });
    (r, seen)
}

fn post(text: String) -> Edit {
    Edit::Post {
        channel: ChannelId::general(),
        text,
        reply_to: None,
        attachments: vec![],
    }
}

async fn wait<F: Fn() -> bool>(what: &str, limit: Duration, f: F) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn member_of(r: &Running, c: CommunityId) -> bool {
    let id = c.to_string();
    r.handle.status().await.is_ok_and(|s| {
        s.communities
            .iter()
            .any(|x| x.id == id && x.status.is_member())
    })
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

async fn propagation() {
    let mut nodes = Vec::new();
    for i in 0..NODES {
        nodes.push(node(i as u8 + 1).await);
    }
    let c = nodes[0]
        .0
        .handle
        .create_community("Bench", "", AdmissionPolicy::Open)
        .await
        .expect("create");
    tokio::time::sleep(Duration::from_millis(200)).await;
    for i in 1..NODES {
        // Invited by a random earlier member, so the overlay is not a star.
        let inviter = (i * 7919 + 104_729) % i;
        let code = nodes[inviter]
            .0
            .handle
            .invite(c, None, None)
            .await
            .expect("invite");
        nodes[i].0.handle.join(&code).await.expect("join");
        let start = Instant::now();
        while !member_of(&nodes[i].0, c).await {
            assert!(start.elapsed() < Duration::from_secs(60), "join timed out");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    // Members find more of each other than their inviter (the DHT does this in a real
    // swarm): each node also dials up to PEERS_EACH others, chosen deterministically.
    for i in 0..NODES {
        let mut addrs = Vec::new();
        for k in 1..=PEERS_EACH {
            let j = (i + k * 3) % NODES;
            if j != i {
                let st = nodes[j].0.handle.status().await.expect("status");
                addrs.extend(st.listen_addrs.iter().filter_map(|a| a.parse().ok()));
            }
        }
        for a in addrs {
            let _ = nodes[i].0.handle.dial(a).await;
        }
    }
    // Let the gossipsub mesh settle over a few heartbeats.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let before: Vec<_> = futures_stats(&nodes).await;
    let mut sent: Vec<(String, Instant, usize)> = Vec::new();
    for m in 0..MESSAGES {
        let from = m % NODES;
        let t0 = Instant::now();
        let done = nodes[from]
            .0
            .handle
            .edit(c, post(format!("message {m}")))
            .await
            .expect("post");
        sent.push((done.hash, t0, from));
        tokio::time::sleep(INTERVAL).await;
    }
    let all_seen = || {
        sent.iter().all(|(h, _, from)| {
            nodes
                .iter()
                .enumerate()
                .all(|(i, (_, s))| i == *from || s.lock().expect("lock").contains_key(h))
        })
    };
    wait("delivery to all", Duration::from_secs(60), all_seen).await;
    let mut lat = Vec::new();
    for (h, t0, from) in &sent {
        for (i, (_, s)) in nodes.iter().enumerate() {
            if i != *from
                && let Some(t) = s.lock().expect("lock").get(h)
            {
                lat.push(t.duration_since(*t0).as_secs_f64() * 1000.0);
            }
        }
    }
    // Late duplicates (a mesh peer forwarding a message we already hold) are still counted:
    // let one gossipsub heartbeat pass before reading the counters.
    tokio::time::sleep(qun_node::net::swarm::HEARTBEAT).await;
    let after = futures_stats(&nodes).await;
    let copies: u64 = after
        .iter()
        .zip(&before)
        .map(|(a, b)| a.gossip_copies_in - b.gossip_copies_in)
        .sum();
    let unique: u64 = after
        .iter()
        .zip(&before)
        .map(|(a, b)| a.gossip_unique_in - b.gossip_unique_in)
        .sum();
    let gossip_bytes: u64 = after
        .iter()
        .zip(&before)
        .map(|(a, b)| a.gossip_bytes_in - b.gossip_bytes_in)
        .sum();
    let gossip_msgs: u64 = after
        .iter()
        .zip(&before)
        .map(|(a, b)| a.gossip_in - b.gossip_in)
        .sum();
    let published: u64 = after
        .iter()
        .zip(&before)
        .map(|(a, b)| a.gossip_bytes_out - b.gossip_bytes_out)
        .sum();
    let deliveries = (MESSAGES * (NODES - 1)) as f64;
    println!(
        "## propagation: {NODES} nodes on loopback, {MESSAGES} posts, one every {} ms",
        INTERVAL.as_millis()
    );
    println!("| metric | value |");
    println!("|---|---|");
    println!("| deliveries | {} of {} |", lat.len(), deliveries as usize);
    println!("| latency p50 | {:.1} ms |", pct(&mut lat, 0.50));
    println!("| latency p90 | {:.1} ms |", pct(&mut lat, 0.90));
    println!("| latency p99 | {:.1} ms |", pct(&mut lat, 0.99));
    println!("| latency max | {:.1} ms |", pct(&mut lat, 1.0));
    println!(
        "| message size (published bytes / message) | {:.0} B |",
        published as f64 / MESSAGES as f64
    );
    println!(
        "| gossip messages handed to the core per delivery | {:.2} |",
        gossip_msgs as f64 / deliveries
    );
    println!(
        "| copies received per message (gossipsub, duplicates included) | {:.2} ({copies} copies of {unique} messages) |",
        copies as f64 / unique.max(1) as f64
    );
    println!(
        "| gossip bytes received per delivery | {:.0} B |",
        gossip_bytes as f64 / deliveries
    );
    for (r, _) in nodes {
        let _ = r.handle.shutdown().await;
    }
}

async fn futures_stats(nodes: &[(Running, Seen)]) -> Vec<qun_node::dto::Stats> {
    let mut v = Vec::new();
    for (r, _) in nodes {
        v.push(r.handle.stats().await.expect("driver"));
    }
    v
}

async fn catch_up() {
    // The founder's store is shared with the benchmark, to count the changes' own bytes.
    let store = Arc::new(Mutex::new(MemoryStore::default()));
    let (a, _) = node_with(101, Box::new(store.clone())).await;
    let c = a
        .handle
        .create_community("Big", "", AdmissionPolicy::Open)
        .await
        .expect("create");
    for i in 0..CATCH_UP {
        a.handle
            .edit(
                c,
                post(format!(
                    "post number {i} with a little text to make it realistic"
                )),
            )
            .await
            .expect("post");
    }
    let raw: usize = store
        .lock()
        .expect("lock")
        .changes(&c)
        .expect("changes")
        .iter()
        .map(|(_, ch)| ch.bytes.len())
        .sum();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let code = a.handle.invite(c, None, None).await.expect("invite");
    let (b, _) = node(102).await;
    let t0 = Instant::now();
    b.handle.join(&code).await.expect("join");
    let id = c.to_string();
    loop {
        let n = b
            .handle
            .status()
            .await
            .expect("status")
            .communities
            .iter()
            .find(|x| x.id == id)
            .map_or(0, |x| x.changes);
        if n > CATCH_UP {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "catch-up timed out at {n}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = t0.elapsed();
    let s = b.handle.stats().await.expect("driver");
    println!();
    println!("## catch-up: a fresh node joins a community of {CATCH_UP} posts");
    println!("| metric | value |");
    println!("|---|---|");
    println!(
        "| time to hold every change | {:.2} s |",
        took.as_secs_f64()
    );
    println!("| sync requests sent | {} |", s.sync_requests_out);
    println!(
        "| sync bytes received | {} ({:.2} × the changes' own {} bytes) |",
        s.sync_bytes_in,
        s.sync_bytes_in as f64 / raw as f64,
        raw
    );
    let _ = a.handle.shutdown().await;
    let _ = b.handle.shutdown().await;
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        propagation().await;
        catch_up().await;
    });
}
