//! Several real nodes on 127.0.0.1.
//!
//! ```text
//!            founder
//!          /    |    \
//!      alice   bob   carol      (each joined with an invite code from the founder)
//! ```

mod common;
use common::*;
use libp2p::Multiaddr;
use qun_crdt::AdmissionPolicy;
use qun_node::handle::NodeEvent;
use qun_node::node::NodeConfig;
use qun_node::store::memory::MemoryStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_nodes_every_post_reaches_everyone() {
    let mut f = spawn(1).await;
    let c = create(&mut f, AdmissionPolicy::Invite).await;
    let mut others = Vec::new();
    for seed in [2, 3, 4] {
        let mut n = spawn(seed).await;
        join(&f, &mut n, c).await;
        others.push(n);
    }
    // Each member posts; everyone sees every post (gossip, with sync as the safety net).
    let texts = ["from alice", "from bob", "from carol"];
    for (n, t) in others.iter().zip(texts) {
        n.handle()
            .with(move |d| d.edit(&c, post(t)))
            .await
            .unwrap()
            .unwrap();
    }
    f.handle()
        .with(move |d| d.edit(&c, post("from the founder")))
        .await
        .unwrap()
        .unwrap();
    for t in texts.into_iter().chain(["from the founder"]) {
        sees(&mut f, c, t).await;
        for n in others.iter_mut() {
            sees(n, c, t).await;
        }
    }
    // Four members on every node.
    for n in others.iter_mut().chain(std::iter::once(&mut f)) {
        wait_until(n, "four members", move |d| {
            d.summary(&c).is_some_and(|s| s.members == 4)
        })
        .await;
    }
}

async fn pair_over(transport: &str) {
    let addr: Multiaddr = transport.parse().unwrap();
    let cfg = |seed| NodeConfig {
        listen: vec![addr.clone()],
        ..NodeConfig::loopback(keys(seed))
    };
    let mut f = spawn_with(cfg(11), Box::new(MemoryStore::default())).await;
    let mut a = spawn_with(cfg(12), Box::new(MemoryStore::default())).await;
    let c = create(&mut f, AdmissionPolicy::Open).await;
    let listen = f.handle().with(|d| d.reachable_addrs()).await.unwrap();
    assert!(!listen.is_empty());
    let proto = if transport.contains("quic") {
        "quic-v1"
    } else {
        "tcp"
    };
    assert!(
        listen.iter().all(|a| a.to_string().contains(proto)),
        "{listen:?}"
    );
    join(&f, &mut a, c).await;
    a.handle()
        .with(move |d| d.edit(&c, post("over one transport")))
        .await
        .unwrap()
        .unwrap();
    sees(&mut f, c, "over one transport").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_only_pair() {
    pair_over("/ip4/127.0.0.1/udp/0/quic-v1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_only_pair() {
    pair_over("/ip4/127.0.0.1/tcp/0").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_report_peers_and_changes() {
    let mut f = spawn(21).await;
    let c = create(&mut f, AdmissionPolicy::Open).await;
    let a = spawn(22).await;
    let code = f
        .handle()
        .with(move |d| d.invite(&c, None, None))
        .await
        .unwrap()
        .unwrap();
    a.handle()
        .with(move |d| d.join(&code))
        .await
        .unwrap()
        .unwrap();
    wait_for(&mut f.events, "peer connected", |e| {
        matches!(e, NodeEvent::PeerConnected { .. })
    })
    .await;
    wait_for(
        &mut f.events,
        "alice's join arrives",
        |e| matches!(e, NodeEvent::Change { action, .. } if action == "member.join"),
    )
    .await;
}
