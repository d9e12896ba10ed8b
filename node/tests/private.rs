//! Private swarms (pnet) and relayed connections, on 127.0.0.1.

mod common;
use common::*;
use libp2p::Multiaddr;
use libp2p::multiaddr::Protocol;
use qun_crdt::{AdmissionPolicy, ChannelId, Edit};
use qun_node::handle::NodeEvent;
use qun_node::node::NodeConfig;
use qun_node::store::memory::MemoryStore;

fn tcp_only(seed: u8) -> NodeConfig {
    NodeConfig {
        listen: vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()],
        ..NodeConfig::loopback(keys(seed))
    }
}

// founder(psk) -- alice(psk)      outsider(no psk) cannot even connect
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pnet_admits_only_key_holders() {
    let psk = libp2p::pnet::PreSharedKey::new([42; 32]);
    let mut f = spawn_with(
        NodeConfig {
            swarm_key: Some(psk),
            ..tcp_only(61)
        },
        Box::new(MemoryStore::default()),
    )
    .await;
    let mut a = spawn_with(
        NodeConfig {
            swarm_key: Some(psk),
            ..tcp_only(62)
        },
        Box::new(MemoryStore::default()),
    )
    .await;
    let c = create(&mut f, AdmissionPolicy::Invite).await;
    join(&f, &mut a, c).await;

    let mut o = spawn_with(tcp_only(63), Box::new(MemoryStore::default())).await;
    let code = f
        .handle()
        .with(move |d| d.invite(&c, None, None))
        .await
        .unwrap()
        .unwrap();
    o.handle()
        .with(move |d| d.join(&code))
        .await
        .unwrap()
        .unwrap();
    wait_for(&mut o.events, "the outsider's dial fails", |e| {
        matches!(e, NodeEvent::DialFailed { .. })
    })
    .await;
    let connected = o
        .handle()
        .with(|d| d.swarm.connected_peers().count())
        .await
        .unwrap();
    assert_eq!(connected, 0);
}

// relay -- alice (listens through the relay);  bob dials alice's /p2p-circuit address
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_reach_each_other_through_a_relay() {
    let mut r = spawn_with(
        NodeConfig {
            relay: true,
            ..tcp_only(71)
        },
        Box::new(MemoryStore::default()),
    )
    .await;
    wait_until(&mut r, "relay listening", |d| {
        d.swarm.listeners().count() > 0
    })
    .await;
    let relay_addr: Multiaddr = r
        .handle()
        .with(|d| d.reachable_addrs()[0].clone())
        .await
        .unwrap();
    let circuit = relay_addr.clone().with(Protocol::P2pCircuit);
    let _ = relay_addr;
    // `qun up --listen <relay>/p2p-circuit`: the node dials the relay and reserves a slot.
    let mut a = spawn_with(
        NodeConfig {
            listen: vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap(), circuit.clone()],
            ..NodeConfig::loopback(keys(72))
        },
        Box::new(MemoryStore::default()),
    )
    .await;
    let a_peer = a.handle().with(|d| d.peer_id()).await.unwrap();
    wait_until(&mut a, "reservation at the relay", |d| {
        d.swarm
            .listeners()
            .any(|l| l.to_string().contains("p2p-circuit"))
    })
    .await;
    let c = a
        .handle()
        .with(|d| d.create_community("Relayed", "", AdmissionPolicy::Open))
        .await
        .unwrap()
        .unwrap();
    // An invite that carries only the relayed address.
    let relayed = circuit.with(Protocol::P2p(a_peer));
    let code = qun_node::invite::InviteCode::new(c, &[relayed], None, None).encode();
    let mut b = spawn_with(tcp_only(73), Box::new(MemoryStore::default())).await;
    b.handle()
        .with(move |d| d.join(&code))
        .await
        .unwrap()
        .unwrap();
    wait_until(&mut b, "bob admitted through the relay", move |d| {
        d.summary(&c)
            .is_some_and(|s| s.status.starts_with("member"))
    })
    .await;
    b.handle()
        .with(move |d| {
            d.edit(
                &c,
                Edit::Post {
                    channel: ChannelId::general(),
                    text: "via relay".into(),
                    reply_to: None,
                    attachments: vec![],
                },
            )
        })
        .await
        .unwrap()
        .unwrap();
    wait_until(&mut a, "alice sees bob's post", move |d| {
        d.posts(&c, &ChannelId::general(), 10, None)
            .map(|p| p.iter().any(|p| p.text == "via relay"))
            .unwrap_or(false)
    })
    .await;
}

// relay R;  founder F dials only R and reserves a slot by itself (autorelay);  bob, given only
// F's relayed address from F's own invite code, joins and reads F's post
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autorelay_makes_a_founder_behind_nat_reachable() {
    let mut r = spawn_with(
        NodeConfig {
            relay: true,
            ..tcp_only(74)
        },
        Box::new(MemoryStore::default()),
    )
    .await;
    wait_until(&mut r, "relay listening", |d| {
        d.swarm.listeners().count() > 0
    })
    .await;
    let (r_peer, relay_addr) = r
        .handle()
        .with(|d| (d.peer_id(), d.reachable_addrs()[0].clone()))
        .await
        .unwrap();
    // No --listen …/p2p-circuit: F only knows the relay as a peer to dial.
    let mut f = spawn_with(
        NodeConfig {
            dial: vec![relay_addr],
            ..tcp_only(75)
        },
        Box::new(MemoryStore::default()),
    )
    .await;
    let f_peer = f.handle().with(|d| d.peer_id()).await.unwrap();
    wait_until(&mut f, "an automatic reservation at the relay", |d| {
        d.reachable_addrs()
            .iter()
            .any(|a| a.iter().any(|p| p == Protocol::P2pCircuit))
    })
    .await;
    let relays: Vec<_> = f
        .handle()
        .with(|d| d.autorelay.relays().map(|(p, _)| *p).collect())
        .await
        .unwrap();
    assert_eq!(relays, vec![r_peer]);
    // `qun status` shows the relayed address.
    let status = f.handle().with(|d| d.status()).await.unwrap();
    assert_eq!(status.relays.len(), 1, "{:?}", status.relays);
    assert!(status.relays[0].contains(&format!("/p2p/{r_peer}/p2p-circuit")));
    // The relay itself never reserves anywhere.
    let r_relays = r
        .handle()
        .with(|d| d.autorelay.relays().count())
        .await
        .unwrap();
    assert_eq!(r_relays, 0);

    let c = create(&mut f, AdmissionPolicy::Invite).await;
    f.handle()
        .with(move |d| d.edit(&c, post("reachable behind NAT")))
        .await
        .unwrap()
        .unwrap();
    let code = f
        .handle()
        .with(move |d| d.invite(&c, None, Some(3_600_000)))
        .await
        .unwrap()
        .unwrap();
    // F's own invite code carries the relayed address; keep only that one.
    let mut code = qun_node::invite::InviteCode::decode(&code).unwrap();
    let relayed: Vec<Multiaddr> = code
        .multiaddrs()
        .into_iter()
        .filter(|a| a.iter().any(|p| p == Protocol::P2pCircuit))
        .collect();
    assert!(!relayed.is_empty(), "invite code without a relayed address");
    for a in &relayed {
        let parts: Vec<Protocol> = a.iter().collect();
        assert!(parts.contains(&Protocol::P2p(r_peer)), "{a}");
        assert_eq!(parts.last(), Some(&Protocol::P2p(f_peer)), "{a}");
    }
    code.addrs = relayed.iter().map(|a| a.to_vec()).collect();
    let code = code.encode();

    let mut b = spawn_with(tcp_only(76), Box::new(MemoryStore::default())).await;
    b.handle()
        .with(move |d| d.join(&code))
        .await
        .unwrap()
        .unwrap();
    wait_until(&mut b, "bob admitted through the relay", move |d| {
        d.summary(&c)
            .is_some_and(|s| s.status.starts_with("member"))
    })
    .await;
    sees(&mut b, c, "reachable behind NAT").await;
}
