//! A store write that fails is never acknowledged: not to the user (the local API answers an
//! error, no `change` event), not to the network (no publish, gossip reported `Ignore` so
//! gossipsub does not forward it, sync answered `Refused`). The disk "fills up" on demand
//! ([`FailingStore`]). Once it has room again, the node resumes by itself, without a restart.

use crate::common::*;
use qun_crdt::AdmissionPolicy;
use qun_node::dto::NodeEvent;
use qun_node::http::auth::Auth;
use qun_node::http::{self, AppState};
use qun_node::node::NodeConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::broadcast;

/// Events already emitted (the API answers after the outputs of an edit ran).
fn drain(rx: &mut broadcast::Receiver<NodeEvent>) -> Vec<NodeEvent> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(e);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_edit_whose_write_failed_gets_an_error_not_a_success() {
    let (store, disk_full) = FailingStore::new();
    let node = spawn_with(NodeConfig::loopback(keys(161)), Box::new(store)).await;
    let auth = Arc::new(Auth::new("token".into()));
    let server = http::serve(
        "127.0.0.1:0".parse().unwrap(),
        AppState {
            search: qun_node::search::spawn(node.handle().clone(), None).unwrap(),
            prefs: Arc::new(qun_node::http::prefs::Prefs::in_memory()),
            node: node.handle().clone(),
            auth: auth.clone(),
            keyfile: None,
        },
    )
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let url = format!("http://{}", server.addr);
    let call = |path: &str, body: Value| {
        http.post(format!("{url}{path}"))
            .bearer_auth("token")
            .json(&body)
            .send()
    };
    let r = call("/api/v1/communities", json!({"name": "Disk"}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let c = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let posts = format!("/api/v1/communities/{c}/posts");
    let r = call(&posts, json!({"text": "saved"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let published = node.handle().stats().await.unwrap().gossip_out;

    let mut events = node.handle().events();
    disk_full.store(true, Ordering::SeqCst);
    let r = call(&posts, json!({"text": "lost"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = r.json().await.unwrap();
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("not saved"), "{body}");
    assert!(error.contains("No space left on device"), "{body}");
    assert!(body["hint"].as_str().unwrap().contains("restart"), "{body}");
    // No event says it went in; one says the store failed.
    let seen = drain(&mut events);
    assert!(
        !seen.iter().any(|e| matches!(e, NodeEvent::Change { .. })),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|e| matches!(e, NodeEvent::Rejected { peer, .. } if peer == "store")),
        "{seen:?}"
    );
    // Not published.
    let stats = node.handle().stats().await.unwrap();
    assert_eq!(stats.gossip_out, published);

    // While the disk is full every change is refused up front, and the status says why...
    let r = call(&posts, json!({"text": "next"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let r = call("/api/v1/communities", json!({"name": "Another"}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(drain(&mut events).iter().all(|e| !matches!(
        e,
        NodeEvent::Change { .. } | NodeEvent::CommunityAdded { .. }
    )));
    let st = node.handle().status().await.unwrap();
    assert!(
        st.store_error
            .as_deref()
            .is_some_and(|e| e.contains("No space left")),
        "{:?}",
        st.store_error
    );

    // ...and once it has room again, the next edit goes in without a restart: the node
    // reloaded its state from the store, so what was refused is not shown either.
    disk_full.store(false, Ordering::SeqCst);
    let r = call(&posts, json!({"text": "room again"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let seen = drain(&mut events);
    assert!(
        seen.iter().any(|e| matches!(e, NodeEvent::StoreRecovered)),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|e| matches!(e, NodeEvent::Change { .. })),
        "{seen:?}"
    );
    assert!(node.handle().status().await.unwrap().store_error.is_none());
    let r = http
        .get(format!("{url}{posts}"))
        .bearer_auth("token")
        .send()
        .await
        .unwrap();
    let shown = r.text().await.unwrap();
    let has = |t: &str| shown.contains(&format!("\"text\":\"{t}\""));
    assert!(has("saved") && has("room again"), "{shown}");
    assert!(!has("lost") && !has("next"), "{shown}");
    let r = call("/api/v1/communities", json!({"name": "Another"}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert!(
        node.handle().stats().await.unwrap().gossip_out > published,
        "publishes again"
    );
    server.task.abort();
    node.handle().shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_that_could_not_be_stored_is_ignored_not_accepted() {
    let mut f = spawn(162).await;
    let (store, disk_full) = FailingStore::new();
    let mut b = spawn_with(NodeConfig::loopback(keys(163)), Box::new(store)).await;
    let c = create(&mut f, AdmissionPolicy::Open).await;
    join(&f, &mut b, c).await;
    let b_peer = b.handle().peer_id();
    wait_until(&mut f, "b in the founder's mesh", move |h| async move {
        h.mesh_peers(c).await.is_ok_and(|m| m.contains(&b_peer))
    })
    .await;
    f.handle().edit(c, post("stored")).await.unwrap();
    sees(&mut b, c, "stored").await;
    let before = b.handle().stats().await.unwrap();

    let mut events = b.handle().events();
    disk_full.store(true, Ordering::SeqCst);
    f.handle().edit(c, post("not stored")).await.unwrap();
    wait_until(&mut b, "the post by gossip", move |h| async move {
        h.stats()
            .await
            .is_ok_and(|s| s.gossip_in > before.gossip_in)
    })
    .await;
    let after = b.handle().stats().await.unwrap();
    // Valid, new, but not stored: reported Ignore (gossipsub does not forward it), not Accept.
    assert_eq!(after.gossip_accepted, before.gossip_accepted, "{after:?}");
    assert!(after.gossip_ignored > before.gossip_ignored, "{after:?}");
    assert_eq!(after.gossip_out, before.gossip_out);
    let seen = drain(&mut events);
    assert!(
        !seen.iter().any(|e| matches!(e, NodeEvent::Change { .. })),
        "{seen:?}"
    );
    assert!(b.handle().status().await.unwrap().store_error.is_some());
    // The failing node sends no sync requests (what comes back could not be stored, a push
    // could spread what was not): its counter stands still across a forced round.
    let requests = after.sync_requests_out;
    let f_peer = f.handle().peer_id();
    b.handle().sync_with(f_peer, c).await.unwrap();
    let now = b.handle().stats().await.unwrap();
    assert_eq!(now.sync_requests_out, requests);

    // Room again: the node finds out by itself (no local edit, no restart), reloads, and
    // catches up on what it could not store.
    let mut events = b.handle().events();
    disk_full.store(false, Ordering::SeqCst);
    tokio::time::timeout(std::time::Duration::from_secs(30), async {
        loop {
            match events.recv().await {
                Ok(NodeEvent::StoreRecovered) => return,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await
    .expect("the store recovered by itself");
    assert!(b.handle().status().await.unwrap().store_error.is_none());
    b.handle().sync_with(f_peer, c).await.unwrap();
    sees(&mut b, c, "not stored").await;
    f.handle().edit(c, post("after recovery")).await.unwrap();
    sees(&mut b, c, "after recovery").await;
    f.handle().shutdown().await.unwrap();
    b.handle().shutdown().await.unwrap();
}
