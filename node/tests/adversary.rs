//! A member that publishes forged and unauthorized changes gets them rejected and its
//! gossipsub score pushed down, while honest members keep syncing.
//!
//! ```text
//! founder -- mallory        mallory (a member) publishes garbage, forged and unauthorized
//!    |                      changes straight on the topic
//!  alice                    alice's posts still reach the founder
//! ```

mod common;
use common::*;
use qun_crdt::replicate::wire::{self, GossipMsg, WireChange};
use qun_crdt::{Action, AdmissionPolicy, ChannelId, DocId, Edit};
use qun_node::handle::NodeEvent;
use qun_node::net::topic::topic;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_unauthorized_gossip_is_rejected_and_penalised() {
    let mut f = spawn(51).await;
    let c = f
        .handle()
        .with(|d| d.create_community("Guarded", "", AdmissionPolicy::Invite))
        .await
        .unwrap()
        .unwrap();
    wait_until(&mut f, "listening", |d| d.swarm.listeners().count() > 0).await;
    let mut m = spawn(52).await;
    join(&f, &mut m, c).await;
    let mut a = spawn(53).await;
    join(&f, &mut a, c).await;
    let mallory_peer = m.handle().with(|d| d.peer_id()).await.unwrap();
    wait_until(&mut f, "mallory in the founder's mesh", move |d| {
        d.swarm
            .behaviour()
            .gossipsub
            .mesh_peers(&topic(&c).hash())
            .any(|p| *p == mallory_peer)
    })
    .await;

    // Mallory crafts bad messages: garbage; a real post with a broken signature; and a hide
    // (moderators only) correctly signed by her device, built by hand since her own node
    // refuses to make it.
    let forged = m
        .handle()
        .with(move |d| {
            let lc = d
                .repl
                .community_mut(&c)
                .unwrap()
                .edit(
                    &d.keys.device,
                    qun_identity::Timestamp::now(),
                    post("legit but I will break its signature"),
                )
                .unwrap();
            let msg = GossipMsg {
                community: c,
                doc: lc.accepted.doc.clone(),
                changes: vec![WireChange {
                    bytes: lc.bytes,
                    sig: [7; 64],
                }],
            };
            wire::encode(&msg)
        })
        .await
        .unwrap();
    let unauthorized = m
        .handle()
        .with(move |d| {
            let comm = d.repl.community_mut(&c).unwrap();
            let refused = comm.edit(
                &d.keys.device,
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
            let saved = comm.export_doc(&DocId::Governance).unwrap();
            let mut am = automerge::Automerge::load(&saved).unwrap();
            am.set_actor(automerge::ActorId::from(
                &d.keys.device.public().to_bytes()[..],
            ));
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
            let sig =
                d.keys
                    .device
                    .sign_raw(&qun_crdt::signing_message(&c, &DocId::Governance, &h));
            wire::encode(&GossipMsg {
                community: c,
                doc: DocId::Governance,
                changes: vec![WireChange { bytes, sig }],
            })
        })
        .await
        .unwrap();
    let mut founder_events = f.handle().events();
    for bytes in [vec![wire::WIRE_VERSION, 2, 3, 4], forged, unauthorized] {
        m.handle()
            .with(move |d| {
                d.swarm
                    .behaviour_mut()
                    .gossipsub
                    .publish(topic(&c), bytes)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
            .await
            .unwrap()
            .unwrap();
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
    wait_until(&mut f, "mallory penalised", move |d| {
        d.swarm
            .behaviour()
            .gossipsub
            .peer_score(&mallory_peer)
            .is_some_and(|s| s < 0.0)
    })
    .await;
    // Nothing of it went in.
    let texts = f
        .handle()
        .with(move |d| {
            d.posts(&c, &ChannelId::general(), 100, None)
                .unwrap()
                .into_iter()
                .map(|p| p.text)
                .collect::<Vec<_>>()
        })
        .await
        .unwrap();
    assert!(texts.is_empty(), "{texts:?}");
    // Alice keeps syncing with the founder.
    a.handle()
        .with(move |d| d.edit(&c, post("honest post")))
        .await
        .unwrap()
        .unwrap();
    wait_until(&mut f, "alice's post", move |d| {
        d.posts(&c, &ChannelId::general(), 100, None)
            .map(|p| p.iter().any(|p| p.text == "honest post"))
            .unwrap_or(false)
    })
    .await;
}

/// Topics are hashes of community ids and the node maps them back: a member of two
/// communities that relays one community's changes onto the other's topic (spreading its id
/// and changes to a mesh that may not know it) has the message rejected and is penalised.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_relayed_onto_another_communitys_topic_are_rejected() {
    let mut f = spawn(54).await;
    let public = create(&mut f, AdmissionPolicy::Open).await;
    let secret = create(&mut f, AdmissionPolicy::Open).await;
    let mut m = spawn(55).await;
    join(&f, &mut m, public).await;
    join(&f, &mut m, secret).await;
    let mallory_peer = m.handle().with(|d| d.peer_id()).await.unwrap();
    wait_until(&mut f, "mallory in the founder's mesh", move |d| {
        d.swarm
            .behaviour()
            .gossipsub
            .mesh_peers(&topic(&public).hash())
            .any(|p| *p == mallory_peer)
    })
    .await;
    // A valid post of mallory's in the secret community, published on the public one's topic.
    let relayed = m
        .handle()
        .with(move |d| {
            let lc = d
                .repl
                .community_mut(&secret)
                .unwrap()
                .edit(
                    &d.keys.device,
                    qun_identity::Timestamp::now(),
                    post("from the secret community"),
                )
                .unwrap();
            wire::encode(&GossipMsg {
                community: secret,
                doc: lc.accepted.doc.clone(),
                changes: vec![WireChange {
                    bytes: lc.bytes,
                    sig: lc.sig,
                }],
            })
        })
        .await
        .unwrap();
    let mut founder_events = f.handle().events();
    m.handle()
        .with(move |d| {
            d.swarm
                .behaviour_mut()
                .gossipsub
                .publish(topic(&public), relayed)
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .await
        .unwrap()
        .unwrap();
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
    wait_until(&mut f, "mallory penalised", move |d| {
        d.swarm
            .behaviour()
            .gossipsub
            .peer_score(&mallory_peer)
            .is_some_and(|s| s < 0.0)
    })
    .await;
}
