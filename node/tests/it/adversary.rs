//! A member that publishes forged and unauthorized changes gets them rejected and its
//! gossipsub score pushed down, while honest members keep syncing.
//!
//! ```text
//! founder -- mallory        mallory (a member) publishes garbage, forged and unauthorized
//!    |                      changes straight on the topic
//!  alice                    alice's posts still reach the founder
//! ```
//!
//! Mallory's node is honest; the test plays the attacker behind its back. It builds the bad
//! changes with mallory's own device key (it knows her seed) on a standalone replica of the
//! community (`qun_crdt::Community`, fed every change mallory's node stored), and has her node
//! put them on the topic as they are (`publish_raw`, a test-utils method).

use crate::common::*;
use qun_crdt::replicate::wire::{self, GossipMsg, WireChange};
use qun_crdt::{Action, AdmissionPolicy, Community, CommunityGenesis, CommunityId, DocId, Edit};
use qun_node::dto::NodeEvent;
use qun_node::node::NodeConfig;
use qun_node::store::Store;
use qun_node::store::memory::MemoryStore;
use std::sync::{Arc, Mutex};

/// A node whose store the test can read (to build replicas of what it holds).
async fn spawn_shared(seed: u8) -> (TestNode, Arc<Mutex<MemoryStore>>) {
    let store = Arc::new(Mutex::new(MemoryStore::default()));
    let n = spawn_with(NodeConfig::loopback(keys(seed)), Box::new(store.clone())).await;
    (n, store)
}

/// A replica of `c` made of what `store` holds, acting as the device of `seed`.
fn replica(store: &Arc<Mutex<MemoryStore>>, c: CommunityId, seed: u8) -> Community {
    let s = store.lock().unwrap();
    let genesis = s
        .communities()
        .unwrap()
        .into_iter()
        .find(|(id, _)| *id == c)
        .map(|(_, g)| g)
        .expect("the community's genesis in the store");
    let genesis = CommunityGenesis::from_bytes(&genesis, &c).unwrap();
    let mut replica = Community::new(genesis, device_key(seed).device_id(), Default::default());
    replica.observe_time(qun_identity::Timestamp::now());
    // In the order stored, which is an order they can be ingested in; retried like a restart
    // does for what waited on something later.
    let mut waiting = s.changes(&c).unwrap();
    loop {
        let before = waiting.len();
        waiting.retain(|(doc, ch)| {
            !matches!(
                replica.ingest(doc, &ch.bytes, &ch.sig),
                Ok(qun_crdt::Ingested::Accepted(_)) | Ok(qun_crdt::Ingested::Duplicate(_))
            )
        });
        if waiting.len() == before {
            break;
        }
    }
    replica
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_unauthorized_gossip_is_rejected_and_penalised() {
    let mut f = spawn(51).await;
    let c = f
        .handle()
        .create_community("Guarded", "", AdmissionPolicy::Invite)
        .await
        .unwrap();
    listening(&mut f).await;
    let (mut m, m_store) = spawn_shared(52).await;
    join(&f, &mut m, c).await;
    let mut a = spawn(53).await;
    join(&f, &mut a, c).await;
    let mallory_peer = m.handle().peer_id();
    wait_until(
        &mut f,
        "mallory in the founder's mesh",
        move |h| async move {
            h.mesh_peers(c)
                .await
                .is_ok_and(|p| p.contains(&mallory_peer))
        },
    )
    .await;

    // Mallory crafts bad messages: garbage; a real post with a broken signature; and a hide
    // (moderators only) correctly signed by her device, built by hand since even her replica
    // refuses to make it.
    let device = device_key(52);
    let mut mine = replica(&m_store, c, 52);
    let lc = mine
        .edit(
            &device,
            qun_identity::Timestamp::now(),
            post("legit but I will break its signature"),
        )
        .unwrap();
    let forged = wire::encode(&GossipMsg {
        community: c,
        doc: lc.accepted.doc.clone(),
        changes: vec![WireChange {
            bytes: lc.bytes,
            sig: [7; 64],
        }],
    });
    let refused = mine.edit(
        &device,
        qun_identity::Timestamp::now(),
        Edit::Govern(Action::Hide {
            post: "general/1/abc".parse().unwrap(),
            reason: "x".into(),
        }),
    );
    assert!(
        refused.is_err(),
        "the local check must refuse a non-moderator's hide"
    );
    let saved = mine.export_doc(&DocId::Governance).unwrap();
    let mut am = automerge::Automerge::load(&saved).unwrap();
    am.set_actor(automerge::ActorId::from(&device.public().to_bytes()[..]));
    let msg = r#"{"v":1,"a":{"t":"post.hide","post":"general/1/abc","reason":"x"}}"#;
    let h = am.empty_commit(
        automerge::transaction::CommitOptions::default()
            .with_message(msg.to_string())
            .with_time(qun_identity::Timestamp::now().as_millis() as i64),
    );
    let bytes = automerge::ReadDoc::get_change_by_hash(&am, &h)
        .unwrap()
        .raw_bytes()
        .to_vec();
    let sig = device.sign_raw(&qun_crdt::signing_message(&c, &DocId::Governance, &h));
    let unauthorized = wire::encode(&GossipMsg {
        community: c,
        doc: DocId::Governance,
        changes: vec![WireChange { bytes, sig }],
    });
    let mut founder_events = f.handle().events();
    for bytes in [vec![wire::WIRE_VERSION, 2, 3, 4], forged, unauthorized] {
        m.handle().publish_raw(c, bytes).await.unwrap();
    }
    // The founder rejects them, each for its reason...
    let mut reasons = Vec::new();
    for _ in 0..3 {
        if let NodeEvent::Rejected { error, .. } =
            wait_for(&mut founder_events, "a rejection", |e| {
                matches!(e, NodeEvent::Rejected { .. })
            })
            .await
        {
            reasons.push(error);
        }
    }
    assert!(
        reasons.iter().any(|r| r.contains("malformed")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("bad signature")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("unauthorized post.hide")),
        "{reasons:?}"
    );
    // ...and mallory's score drops below zero (P4: invalid message deliveries).
    let mallory = mallory_peer.to_string();
    wait_until(&mut f, "mallory penalised", move |h| {
        let mallory = mallory.clone();
        async move {
            h.peers().await.is_ok_and(|ps| {
                ps.iter()
                    .any(|p| p.peer_id == mallory && p.score.is_some_and(|s| s < 0.0))
            })
        }
    })
    .await;
    // Nothing of it went in.
    let texts: Vec<String> = posts(f.handle(), c)
        .await
        .into_iter()
        .map(|p| p.text)
        .collect();
    assert!(texts.is_empty(), "{texts:?}");
    // Alice keeps syncing with the founder.
    a.handle().edit(c, post("honest post")).await.unwrap();
    sees(&mut f, c, "honest post").await;
}

/// Topics are hashes of community ids and the node maps them back: a member of two
/// communities that relays one community's changes onto the other's topic (spreading its id
/// and changes to a mesh that may not know it) has the message rejected and is penalised.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_relayed_onto_another_communitys_topic_are_rejected() {
    let mut f = spawn(54).await;
    let public = create(&mut f, AdmissionPolicy::Open).await;
    let secret = create(&mut f, AdmissionPolicy::Open).await;
    let (mut m, m_store) = spawn_shared(55).await;
    join(&f, &mut m, public).await;
    join(&f, &mut m, secret).await;
    let mallory_peer = m.handle().peer_id();
    wait_until(
        &mut f,
        "mallory in the founder's mesh",
        move |h| async move {
            h.mesh_peers(public)
                .await
                .is_ok_and(|p| p.contains(&mallory_peer))
        },
    )
    .await;
    // A valid post of mallory's in the secret community, published on the public one's topic.
    let lc = replica(&m_store, secret, 55)
        .edit(
            &device_key(55),
            qun_identity::Timestamp::now(),
            post("from the secret community"),
        )
        .unwrap();
    let relayed = wire::encode(&GossipMsg {
        community: secret,
        doc: lc.accepted.doc.clone(),
        changes: vec![WireChange {
            bytes: lc.bytes,
            sig: lc.sig,
        }],
    });
    let mut founder_events = f.handle().events();
    m.handle().publish_raw(public, relayed).await.unwrap();
    let public_text = public.to_string();
    let ev = wait_for(&mut founder_events, "the rejection", |e| {
        matches!(e, NodeEvent::Rejected { .. })
            || matches!(e, NodeEvent::Change { action, .. } if action == "post.create")
    })
    .await;
    match ev {
        NodeEvent::Rejected {
            community, error, ..
        } => {
            assert_eq!(community.as_deref(), Some(public_text.as_str()));
            assert!(error.contains("another community"), "{error}");
        }
        other => panic!("the relayed change went in: {other:?}"),
    }
    let mallory = mallory_peer.to_string();
    wait_until(&mut f, "mallory penalised", move |h| {
        let mallory = mallory.clone();
        async move {
            h.peers().await.is_ok_and(|ps| {
                ps.iter()
                    .any(|p| p.peer_id == mallory && p.score.is_some_and(|s| s < 0.0))
            })
        }
    })
    .await;
}
