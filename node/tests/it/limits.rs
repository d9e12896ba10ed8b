//! Load limits hit for real on 127.0.0.1: each test sets one limit low on a node, pushes past
//! it with real swarms, raw sockets or HTTP clients, checks the counter in the node's status
//! (`limits`, what `qun status --json` shows) and that the node still works afterwards.
//!
//! ```text
//! dialers d1..d4 ──► n            (total, per IP, per peer, memory)
//! raw TCP sockets ──► n           (pending incoming)
//! raw request-response client ─► n (sync requests in flight per peer, serving rate)
//! f ── m (m floods gossip)        (gossip per peer per second)
//! HTTP clients ──► n's API         (API rate, SSE clients)
//! ```

use crate::common::*;
use futures::StreamExt;
use libp2p::PeerId;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, noise, request_response, tcp, yamux};
use qun_crdt::replicate::wire;
use qun_crdt::{AdmissionPolicy, CommunityId};
use qun_node::dto::LimitHits;
use qun_node::handle::NodeHandle;
use qun_node::limits::LoadLimits;
use qun_node::net::codec::{SYNC_PROTOCOL, SyncCodec};
use qun_node::node::NodeConfig;
use qun_node::store::memory::MemoryStore;
use std::time::Duration;

/// A node with these limits.
async fn node(seed: u8, load: LoadLimits) -> TestNode {
    let cfg = NodeConfig {
        load,
        ..NodeConfig::loopback(keys(seed))
    };
    spawn_with(cfg, Box::new(MemoryStore::default())).await
}

/// The limits counters of a node.
async fn hits(h: &NodeHandle) -> LimitHits {
    h.status().await.map(|s| s.limits).unwrap_or_default()
}

/// Wait until `pred` holds of the node's counters.
async fn wait_hits(n: &mut TestNode, what: &str, pred: fn(&LimitHits) -> bool) {
    wait_until(n, what, move |h| async move { pred(&hits(&h).await) }).await;
}

/// The node's TCP listen address.
async fn tcp_addr(n: &mut TestNode) -> Multiaddr {
    listening(n)
        .await
        .into_iter()
        .find(|a| a.to_string().contains("/tcp/"))
        .expect("a TCP address")
}

/// The node still works: it answers its status and takes a local edit.
async fn still_works(n: &TestNode) {
    let h = n.handle();
    h.status().await.expect("status");
    let c = h
        .create_community("still here", "", AdmissionPolicy::Open)
        .await
        .expect("create");
    h.edit(c, post("after the load")).await.expect("post");
}

/// `n` dials `target` (QUIC and TCP: `all` dials every address).
async fn dial(n: &TestNode, target: &[Multiaddr], all: bool) {
    for a in target.iter().take(if all { target.len() } else { 1 }) {
        let _ = n.handle().dial(a.clone()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_in_total_are_capped() {
    let mut n = node(
        211,
        LoadLimits {
            max_connections: 2,
            ..LoadLimits::default()
        },
    )
    .await;
    let addrs = listening(&mut n).await;
    let mut dialers = Vec::new();
    for seed in 212..216 {
        let d = spawn(seed).await;
        dial(&d, &addrs, false).await;
        dialers.push(d);
    }
    wait_hits(&mut n, "a connection refused over the total", |h| {
        h.connections_total > 0
    })
    .await;
    let s = n.handle().status().await.unwrap();
    assert!(s.connected_peers <= 2, "{} peers", s.connected_peers);
    still_works(&n).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_ip_are_capped() {
    let mut n = node(
        216,
        LoadLimits {
            max_connections_per_ip: 2,
            ..LoadLimits::default()
        },
    )
    .await;
    let addrs = listening(&mut n).await;
    let mut dialers = Vec::new();
    for seed in 217..221 {
        let d = spawn(seed).await;
        dial(&d, &addrs, false).await;
        dialers.push(d);
    }
    wait_hits(&mut n, "a connection refused over the per-IP limit", |h| {
        h.connections_per_ip > 0
    })
    .await;
    let s = n.handle().status().await.unwrap();
    assert!(s.connected_peers <= 2, "{} peers", s.connected_peers);
    assert_eq!(s.limits.connections_total, 0);
    still_works(&n).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_peer_are_capped() {
    let mut n = node(
        221,
        LoadLimits {
            max_connections_per_peer: 1,
            ..LoadLimits::default()
        },
    )
    .await;
    let addrs = listening(&mut n).await;
    let d = spawn(222).await;
    // Dialling an address (not a peer) opens a new connection each time: QUIC and TCP.
    for _ in 0..3 {
        dial(&d, &addrs, true).await;
    }
    wait_hits(&mut n, "a second connection of one peer refused", |h| {
        h.connections_per_peer > 0
    })
    .await;
    assert!(connected_to(n.handle(), d.handle().peer_id()).await);
    still_works(&n).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_incoming_connections_are_capped() {
    let mut n = node(
        223,
        LoadLimits {
            max_pending_incoming: 2,
            ..LoadLimits::default()
        },
    )
    .await;
    let addr = tcp_addr(&mut n).await;
    let port = addr
        .iter()
        .find_map(|p| match p {
            libp2p::multiaddr::Protocol::Tcp(p) => Some(p),
            _ => None,
        })
        .unwrap();
    // Sockets that never start their handshake stay pending until the upgrade times out.
    let mut socks = Vec::new();
    for _ in 0..10 {
        socks.push(
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap(),
        );
    }
    wait_hits(&mut n, "a pending connection refused", |h| {
        h.pending_incoming > 0
    })
    .await;
    drop(socks);
    // A real peer gets in once the half-open ones are gone.
    let d = spawn(224).await;
    let peer = d.handle().peer_id();
    wait_until(&mut n, "a real peer connected", move |h| {
        let d = d.handle().clone();
        let addr = addr.clone();
        async move {
            let _ = d.dial(addr).await;
            connected_to(&h, peer).await
        }
    })
    .await;
    still_works(&n).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_connection_over_the_memory_limit() {
    // 1 MiB: any process is over it, so every new connection is refused.
    let mut n = node(
        225,
        LoadLimits {
            max_memory_mb: 1,
            ..LoadLimits::default()
        },
    )
    .await;
    let addrs = listening(&mut n).await;
    let d = spawn(226).await;
    dial(&d, &addrs, true).await;
    wait_hits(&mut n, "a connection refused over the memory limit", |h| {
        h.memory > 0
    })
    .await;
    assert_eq!(n.handle().status().await.unwrap().connected_peers, 0);
    still_works(&n).await;
}

/// A bare request-response client of the sync protocol: asks without waiting for answers.
type SyncClient = libp2p::Swarm<request_response::Behaviour<SyncCodec>>;

/// A [`SyncClient`] connected to `addr`.
async fn sync_client(addr: Multiaddr) -> SyncClient {
    let mut client = libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|_| {
            request_response::Behaviour::with_codec(
                SyncCodec { max_bytes: 1 << 22 },
                [(SYNC_PROTOCOL, request_response::ProtocolSupport::Outbound)],
                request_response::Config::default().with_max_concurrent_streams(1000),
            )
        })
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    client.dial(addr).unwrap();
    tokio::time::timeout(TIMEOUT, async {
        loop {
            if let SwarmEvent::ConnectionEstablished { .. } = client.select_next_some().await {
                return;
            }
        }
    })
    .await
    .expect("the client connects");
    client
}

/// Send `requests` at once to `to`; the answers (failures are left out) once all are done.
async fn burst(client: &mut SyncClient, to: PeerId, requests: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let mut open = requests.len();
    for r in requests {
        client.behaviour_mut().send_request(&to, r);
    }
    let mut answers = Vec::new();
    while open > 0 {
        let ev = tokio::time::timeout(TIMEOUT, client.select_next_some())
            .await
            .expect("timed out waiting for sync answers");
        match ev {
            SwarmEvent::Behaviour(request_response::Event::Message {
                message: request_response::Message::Response { response, .. },
                ..
            }) => {
                open -= 1;
                answers.push(response);
            }
            SwarmEvent::Behaviour(request_response::Event::OutboundFailure { .. }) => open -= 1,
            _ => {}
        }
    }
    answers
}

/// A request for everything of `c` (a joiner's first request).
fn heads_request(c: CommunityId) -> Vec<u8> {
    wire::encode(&wire::SyncRequest::Heads {
        community: c,
        want_genesis: true,
        docs: vec![],
        access: None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_requests_in_flight_per_peer_are_capped() {
    let mut n = node(
        227,
        LoadLimits {
            sync_requests_per_peer: 1,
            ..LoadLimits::default()
        },
    )
    .await;
    let c = create(&mut n, AdmissionPolicy::Open).await;
    let addr = tcp_addr(&mut n).await;
    let target = n.handle().peer_id();
    let mut client = sync_client(addr).await;
    // Bursts of requests until the node drops one (it answers each at once, so whether a
    // burst overlaps depends on scheduling; a few bursts do).
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    let mut answered = 0;
    while hits(n.handle()).await.sync_requests_per_peer == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no sync request was dropped"
        );
        answered += burst(&mut client, target, vec![heads_request(c); 32])
            .await
            .len();
    }
    assert!(answered > 0, "requests within the limit are answered");
    still_works(&n).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catch_up_over_the_serving_rate_is_answered_busy() {
    let mut n = node(
        232,
        LoadLimits {
            sync_serves_per_sec: 1,
            ..LoadLimits::default()
        },
    )
    .await;
    let c = create(&mut n, AdmissionPolicy::Open).await;
    let addr = tcp_addr(&mut n).await;
    let target = n.handle().peer_id();
    let mut client = sync_client(addr).await;
    // The bucket holds 2: of 10 requests at once, the rest are told to come back later.
    let mut answers = Vec::new();
    for _ in 0..10 {
        answers.extend(burst(&mut client, target, vec![heads_request(c)]).await);
    }
    let decoded: Vec<wire::SyncResponse> = answers
        .iter()
        .map(|a| wire::decode("answer", a, a.len()).unwrap())
        .collect();
    let busy = decoded
        .iter()
        .filter(|r| matches!(r, wire::SyncResponse::Busy { .. }))
        .count();
    let served = decoded
        .iter()
        .filter(|r| matches!(r, wire::SyncResponse::Changes { .. }))
        .count();
    assert!(busy >= 1 && served >= 1, "busy {busy}, served {served}");
    assert_eq!(hits(n.handle()).await.sync_busy, busy as u64);
    still_works(&n).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_over_a_peers_rate_is_rejected() {
    // f (limit 2 a second) ── m, who posts fast.
    let mut f = node(
        228,
        LoadLimits {
            gossip_per_peer_per_sec: 2,
            ..LoadLimits::default()
        },
    )
    .await;
    let c = create(&mut f, AdmissionPolicy::Open).await;
    let mut m = spawn(229).await;
    join(&f, &mut m, c).await;
    let fp = f.handle().peer_id();
    wait_until(&mut m, "f in m's mesh", move |h| async move {
        h.mesh_peers(c).await.is_ok_and(|p| p.contains(&fp))
    })
    .await;
    // m posts faster than f takes from one peer: what is over the rate is rejected (m is
    // penalised), and f gets those posts later by catch-up: dropped, not lost.
    const POSTS: usize = 40;
    for i in 0..POSTS {
        m.handle()
            .edit(c, post(&format!("fast {i}")))
            .await
            .unwrap();
    }
    wait_hits(&mut f, "gossip over the rate rejected", |h| {
        h.gossip_per_peer > 0
    })
    .await;
    // m is penalised: its score at f went negative.
    let mp = m.handle().peer_id().to_string();
    wait_until(&mut f, "m's score below zero", move |h| {
        let mp = mp.clone();
        async move {
            h.peers().await.is_ok_and(|ps| {
                ps.iter()
                    .any(|p| p.peer_id == mp && p.score.is_some_and(|s| s < 0.0))
            })
        }
    })
    .await;
    wait_until(&mut f, "every post, by catch-up", move |h| async move {
        posts(&h, c).await.len() == POSTS
    })
    .await;
    still_works(&f).await;
}
