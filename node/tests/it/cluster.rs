//! Several real nodes on 127.0.0.1.
//!
//! ```text
//!            founder
//!          /    |    \
//!      alice   bob   carol      (each joined with an invite code from the founder)
//! ```

use crate::common::*;
use libp2p::Multiaddr;
use qun_crdt::AdmissionPolicy;
use qun_node::dto::{EventOrigin, NodeEvent};
use qun_node::node::NodeConfig;
use qun_node::store::memory::MemoryStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_nodes_every_post_reaches_everyone() {
    let mut f = spawn(3).await;
    let c = create(&mut f, AdmissionPolicy::Invite).await;
    let mut others = Vec::new();
    for seed in [4, 5, 6] {
        let mut n = spawn(seed).await;
        join(&f, &mut n, c).await;
        others.push(n);
    }
    // Each member posts; everyone sees every post (gossip, with sync as the safety net).
    let texts = ["from alice", "from bob", "from carol"];
    for (n, t) in others.iter().zip(texts) {
        n.handle().edit(c, post(t)).await.unwrap();
    }
    f.handle().edit(c, post("from the founder")).await.unwrap();
    for t in texts.into_iter().chain(["from the founder"]) {
        sees(&mut f, c, t).await;
        for n in others.iter_mut() {
            sees(n, c, t).await;
        }
    }
    // Four members on every node.
    let id = c.to_string();
    for n in others.iter_mut().chain(std::iter::once(&mut f)) {
        let id = id.clone();
        wait_until(n, "four members", move |h| {
            let id = id.clone();
            async move {
                h.status()
                    .await
                    .is_ok_and(|s| s.communities.iter().any(|x| x.id == id && x.members == 4))
            }
        })
        .await;
    }
}

async fn pair_over(transport: &str, seeds: (u8, u8)) {
    let addr: Multiaddr = transport.parse().unwrap();
    let cfg = |seed| NodeConfig {
        listen: vec![addr.clone()],
        ..NodeConfig::loopback(keys(seed))
    };
    let mut f = spawn_with(cfg(seeds.0), Box::new(MemoryStore::default())).await;
    let mut a = spawn_with(cfg(seeds.1), Box::new(MemoryStore::default())).await;
    let c = create(&mut f, AdmissionPolicy::Open).await;
    let listen = listen_addrs(f.handle()).await;
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
        .edit(c, post("over one transport"))
        .await
        .unwrap();
    sees(&mut f, c, "over one transport").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_only_pair() {
    pair_over("/ip4/127.0.0.1/udp/0/quic-v1", (7, 8)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_only_pair() {
    pair_over("/ip4/127.0.0.1/tcp/0", (107, 108)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_report_peers_and_changes() {
    let mut f = spawn(9).await;
    let c = create(&mut f, AdmissionPolicy::Open).await;
    let a = spawn(10).await;
    let code = f.handle().invite(c, None, None).await.unwrap();
    a.handle().join(&code).await.unwrap();
    wait_for(&mut f.events, "peer connected", |e| {
        matches!(e, NodeEvent::PeerConnected { .. })
    })
    .await;
    wait_for(
        &mut f.events,
        "alice's join arrives",
        |e| matches!(e, NodeEvent::Change { action, origin, .. } if action == "member.join" && *origin != EventOrigin::Local),
    )
    .await;
}
