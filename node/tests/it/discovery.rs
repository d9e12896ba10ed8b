//! Finding a community's members without being given their addresses: through the DHT
//! (provider records on a bootstrap node), and after a restart from the peers in the store.
//!
//! ```text
//! founder F --dial--> bootstrap B (DHT server) <--dial-- joiner J     J's invite code names
//!          F provides the community key at B;             J asks B    only B
//! ```

use crate::common::*;
use libp2p::Multiaddr;
use qun_crdt::AdmissionPolicy;
use qun_node::invite::InviteCode;
use qun_node::net::topic::{provider_key, topic};
use qun_node::node::NodeConfig;
use qun_node::store::Store;
use qun_node::store::memory::MemoryStore;
use qun_node::store::sled::SledStore;
use std::sync::{Arc, Mutex};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joiner_finds_the_inviter_through_the_dht() {
    // A bootstrap node with a (loopback) public address serves the DHT.
    let mut b = spawn(181).await;
    let b_addrs = listening(&mut b).await;
    for a in b_addrs.clone() {
        b.handle().add_external_address(a).await.unwrap();
    }

    let mut f = spawn_with(
        NodeConfig {
            dial: b_addrs.clone(),
            ..NodeConfig::loopback(keys(182))
        },
        Box::new(MemoryStore::default()),
    )
    .await;
    let c = create(&mut f, AdmissionPolicy::Open).await;
    f.handle().edit(c, post("found me")).await.unwrap();
    let key = provider_key(&c);
    wait_until(&mut b, "the founder's provider record", move |h| {
        let key = key.clone();
        async move { h.provider_records(key).await.is_ok_and(|r| !r.is_empty()) }
    })
    .await;

    // What the bootstrap node learnt, as an eavesdropping DHT server would read it: the
    // provider records it holds and the topics the founder subscribed to. The community id
    // (a read capability) is in none of them, in text or as bytes.
    let id_text = c.to_string();
    let id_bytes = *c.as_bytes();
    let f_peer = f.handle().peer_id();
    let raw_key_providers = b
        .handle()
        .provider_records(libp2p::kad::RecordKey::new(&id_bytes))
        .await
        .unwrap()
        .len();
    let provided = b.handle().provider_records(provider_key(&c)).await.unwrap();
    let topics = b.handle().peer_topics(f_peer).await.unwrap();
    assert_eq!(
        raw_key_providers, 0,
        "a provider record under the id itself"
    );
    assert!(!provided.is_empty());
    for k in &provided {
        assert!(
            !k.windows(32).any(|w| w == id_bytes),
            "provider key carries the id"
        );
        assert!(
            !String::from_utf8_lossy(k).contains(&id_text[1..]),
            "provider key carries the id's text"
        );
    }
    assert_eq!(
        topics,
        [topic(&c).to_string()],
        "the founder's subscriptions"
    );
    for t in &topics {
        assert!(
            !t.contains(&id_text[1..]),
            "topic {t} carries the id {id_text}"
        );
    }

    // The code names the bootstrap node besides the founder; keep only the bootstrap node, as
    // if the founder were offline.
    let code = f.handle().invite(c, None, None).await.unwrap();
    let mut bare = InviteCode::decode(&code).unwrap();
    let b_peer = b.handle().peer_id();
    let bootstrap = libp2p::multiaddr::Protocol::P2p(b_peer);
    assert!(
        bare.multiaddrs()
            .iter()
            .any(|a| a.iter().any(|p| p == bootstrap)),
        "the invite names the bootstrap node: {:?}",
        bare.multiaddrs()
    );
    bare.addrs
        .retain(|a| Multiaddr::try_from(a.clone()).is_ok_and(|a| a.iter().any(|p| p == bootstrap)));
    let bare = bare.encode();
    let mut j = spawn(183).await;
    j.handle().join(&bare).await.unwrap();
    sees(&mut j, c, "found me").await;
    assert!(
        connected_to(j.handle(), f_peer).await,
        "the joiner dialled the provider"
    );
}

/// A node restarted with no bootstrap list dials the peers it met before (kept in its store)
/// and catches up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_redials_the_peers_it_knew() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let mut f = spawn(184).await;
    let c = create(&mut f, AdmissionPolicy::Invite).await;
    // The test reads A's store (the peers identify told it about) beside A.
    let store = Arc::new(Mutex::new(SledStore::open(&path).unwrap()));
    let mut a = spawn_with(NodeConfig::loopback(keys(185)), Box::new(store.clone())).await;
    join(&f, &mut a, c).await;
    let f_peer = f.handle().peer_id().to_string();
    // Identify has told A the founder's addresses (stored) once A holds them.
    let known = store.clone();
    wait_until(&mut a, "the founder identified", move |_| {
        let found = known
            .lock()
            .unwrap()
            .peers()
            .is_ok_and(|p| p.iter().any(|k| k.peer == f_peer));
        async move { found }
    })
    .await;
    a.handle().shutdown().await.unwrap();
    a.running.task.await.unwrap();
    drop(store);

    f.handle()
        .edit(c, post("while you were away"))
        .await
        .unwrap();
    let mut a = spawn_with(
        NodeConfig::loopback(keys(185)),
        Box::new(SledStore::open(&path).unwrap()),
    )
    .await;
    sees(&mut a, c, "while you were away").await;
    let posts = a.handle().posts(c, general(10)).await.unwrap();
    assert_eq!(posts.len(), 1);
}
