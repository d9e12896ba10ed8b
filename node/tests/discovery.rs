//! Finding a community's members without being given their addresses: through the DHT
//! (provider records on a bootstrap node), and after a restart from the peers in the store.
//!
//! ```text
//! founder F --dial--> bootstrap B (DHT server) <--dial-- joiner J     J's invite code names
//!          F provides the community key at B;             J asks B    only B
//! ```

mod common;
use common::*;
use libp2p::Multiaddr;
use libp2p::kad::store::RecordStore;
use qun_crdt::{AdmissionPolicy, ChannelId};
use qun_node::invite::InviteCode;
use qun_node::net::topic::{provider_key, topic};
use qun_node::node::NodeConfig;
use qun_node::store::memory::MemoryStore;
use qun_node::store::sled::SledStore;

async fn listen_addrs(n: &mut TestNode) -> Vec<Multiaddr> {
    wait_until(n, "listening", |d| d.swarm.listeners().count() > 0).await;
    n.handle().with(|d| d.reachable_addrs()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joiner_finds_the_inviter_through_the_dht() {
    // A bootstrap node with a (loopback) public address serves the DHT.
    let mut b = spawn(81).await;
    let b_addrs = listen_addrs(&mut b).await;
    let external = b_addrs.clone();
    b.handle()
        .with(move |d| {
            for a in external {
                d.swarm.add_external_address(a);
            }
        })
        .await
        .unwrap();

    let mut f = spawn_with(
        NodeConfig {
            dial: b_addrs.clone(),
            ..NodeConfig::loopback(keys(82))
        },
        Box::new(MemoryStore::default()),
    )
    .await;
    let c = create(&mut f, AdmissionPolicy::Open).await;
    f.handle()
        .with(move |d| d.edit(&c, post("found me")))
        .await
        .unwrap()
        .unwrap();
    let key = provider_key(&c);
    wait_until(&mut b, "the founder's provider record", move |d| {
        !d.swarm
            .behaviour_mut()
            .kad
            .store_mut()
            .providers(&key)
            .is_empty()
    })
    .await;

    // What the bootstrap node learnt, as an eavesdropping DHT server would read it: the
    // provider records it holds and the topics the founder subscribed to. The community id
    // (a read capability) is in none of them, in text or as bytes.
    let id_text = c.to_string();
    let id_bytes = *c.as_bytes();
    let f_peer = f.handle().with(|d| d.peer_id()).await.unwrap();
    let (raw_key_providers, provided, topics) = b
        .handle()
        .with(move |d| {
            let store = d.swarm.behaviour_mut().kad.store_mut();
            let raw = store
                .providers(&libp2p::kad::RecordKey::new(&id_bytes))
                .len();
            let provided: Vec<Vec<u8>> = store
                .providers(&provider_key(&c))
                .iter()
                .map(|p| p.key.to_vec())
                .collect();
            let topics: Vec<String> = d
                .swarm
                .behaviour()
                .gossipsub
                .all_peers()
                .filter(|(p, _)| **p == f_peer)
                .flat_map(|(_, ts)| ts.iter().map(|t| t.to_string()).collect::<Vec<_>>())
                .collect();
            (raw, provided, topics)
        })
        .await
        .unwrap();
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
    let code = f
        .handle()
        .with(move |d| d.invite(&c, None, None))
        .await
        .unwrap()
        .unwrap();
    let mut bare = InviteCode::decode(&code).unwrap();
    let b_peer = b.handle().with(|d| d.peer_id()).await.unwrap();
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
    let mut j = spawn(83).await;
    j.handle()
        .with(move |d| d.join(&bare))
        .await
        .unwrap()
        .unwrap();
    sees(&mut j, c, "found me").await;
    let f_peer = f.handle().with(|d| d.peer_id()).await.unwrap();
    assert!(
        j.handle()
            .with(move |d| d.swarm.is_connected(&f_peer))
            .await
            .unwrap(),
        "the joiner dialled the provider"
    );
}

/// A node restarted with no bootstrap list dials the peers it met before (kept in its store)
/// and catches up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_redials_the_peers_it_knew() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let mut f = spawn(84).await;
    let c = create(&mut f, AdmissionPolicy::Invite).await;
    let mut a = spawn_with(
        NodeConfig::loopback(keys(85)),
        Box::new(SledStore::open(&path).unwrap()),
    )
    .await;
    join(&f, &mut a, c).await;
    let f_peer = f.handle().with(|d| d.peer_id()).await.unwrap();
    // Identify has told A the founder's addresses (stored) once A holds them.
    wait_until(&mut a, "the founder identified", move |d| {
        d.store
            .peers()
            .is_ok_and(|p| p.iter().any(|k| k.peer == f_peer.to_string()))
    })
    .await;
    a.handle().shutdown().await.unwrap();
    a.running.task.await.unwrap();

    f.handle()
        .with(move |d| d.edit(&c, post("while you were away")))
        .await
        .unwrap()
        .unwrap();
    let mut a = spawn_with(
        NodeConfig::loopback(keys(85)),
        Box::new(SledStore::open(&path).unwrap()),
    )
    .await;
    sees(&mut a, c, "while you were away").await;
    let posts = a
        .handle()
        .with(move |d| d.posts(&c, &ChannelId::general(), 10, None))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(posts.len(), 1);
}
