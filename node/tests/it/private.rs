//! Private swarms (pnet) and relayed connections, on 127.0.0.1.

use crate::common::*;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use qun_crdt::{AdmissionPolicy, ChannelId, Edit};
use qun_node::dto::NodeEvent;
use qun_node::handle::NodeHandle;
use qun_node::node::NodeConfig;
use qun_node::store::memory::MemoryStore;

/// The relays of the node's automatic reservations (from `status().relays`,
/// `<relay addr>/p2p/<relay>/p2p-circuit`).
async fn relays(h: &NodeHandle) -> Vec<PeerId> {
    h.status()
        .await
        .unwrap()
        .relays
        .iter()
        .filter_map(|a| {
            let a: Multiaddr = a.parse().ok()?;
            let parts: Vec<Protocol> = a.iter().collect();
            let at = parts.iter().position(|p| *p == Protocol::P2pCircuit)?;
            match parts.get(at.checked_sub(1)?)? {
                Protocol::P2p(p) => Some(*p),
                _ => None,
            }
        })
        .collect()
}

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
    let code = f.handle().invite(c, None, None).await.unwrap();
    o.handle().join(&code).await.unwrap();
    wait_for(&mut o.events, "the outsider's dial fails", |e| {
        matches!(e, NodeEvent::DialFailed { .. })
    })
    .await;
    let connected = o.handle().status().await.unwrap().connected_peers;
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
    let relay_addr: Multiaddr = listening(&mut r).await[0].clone();
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
    let a_peer = a.handle().peer_id();
    wait_until(&mut a, "reservation at the relay", |h| async move {
        h.status()
            .await
            .is_ok_and(|s| s.listen_addrs.iter().any(|l| l.contains("p2p-circuit")))
    })
    .await;
    let c = a
        .handle()
        .create_community("Relayed", "", AdmissionPolicy::Open)
        .await
        .unwrap();
    // An invite that carries only the relayed address.
    let relayed = circuit.with(Protocol::P2p(a_peer));
    let code = qun_node::invite::InviteCode::new(c, &[relayed], None, None).encode();
    let mut b = spawn_with(tcp_only(73), Box::new(MemoryStore::default())).await;
    b.handle().join(&code).await.unwrap();
    wait_until(
        &mut b,
        "bob admitted through the relay",
        move |h| async move { is_member(&h, c).await },
    )
    .await;
    b.handle()
        .edit(
            c,
            Edit::Post {
                channel: ChannelId::general(),
                text: "via relay".into(),
                reply_to: None,
                attachments: vec![],
            },
        )
        .await
        .unwrap();
    sees(&mut a, c, "via relay").await;
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
    let relay_addr = listening(&mut r).await[0].clone();
    let r_peer = r.handle().peer_id();
    // No --listen …/p2p-circuit: F only knows the relay as a peer to dial.
    let mut f = spawn_with(
        NodeConfig {
            dial: vec![relay_addr],
            ..tcp_only(75)
        },
        Box::new(MemoryStore::default()),
    )
    .await;
    let f_peer = f.handle().peer_id();
    wait_until(
        &mut f,
        "an automatic reservation at the relay",
        |h| async move {
            listen_addrs(&h)
                .await
                .iter()
                .any(|a| a.iter().any(|p| p == Protocol::P2pCircuit))
        },
    )
    .await;
    assert_eq!(relays(f.handle()).await, vec![r_peer]);
    // `qun status` shows the relayed address.
    let status = f.handle().status().await.unwrap();
    assert_eq!(status.relays.len(), 1, "{:?}", status.relays);
    assert!(status.relays[0].contains(&format!("/p2p/{r_peer}/p2p-circuit")));
    // The relay itself never reserves anywhere.
    assert!(relays(r.handle()).await.is_empty());

    let c = create(&mut f, AdmissionPolicy::Invite).await;
    f.handle()
        .edit(c, post("reachable behind NAT"))
        .await
        .unwrap();
    let code = f.handle().invite(c, None, Some(3_600_000)).await.unwrap();
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
    b.handle().join(&code).await.unwrap();
    wait_until(
        &mut b,
        "bob admitted through the relay",
        move |h| async move { is_member(&h, c).await },
    )
    .await;
    sees(&mut b, c, "reachable behind NAT").await;
}
