//! Every endpoint, with two nodes: founder -- alice.

use super::support::*;
use crate::common::*;
use qun_node::clock::ManualClock;
use qun_node::dto::NodeEvent;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::sync::Arc;

// founder -- alice
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint() {
    // The founder's clock moves only when told between posts (distinct creation times).
    let clock = Arc::new(ManualClock::new());
    let mut f = ApiNode::start_with_clock(14, clock.clone()).await;
    let mut a = ApiNode::start(15).await;
    let me = f.get("/api/v1/status").await["member"]
        .as_str()
        .unwrap()
        .to_string();
    let alice = a.get("/api/v1/status").await["member"]
        .as_str()
        .unwrap()
        .to_string();

    // Identity: member, device, its certificate.
    let id = f.get("/api/v1/identity").await;
    assert_eq!(id["member"], me.as_str());
    assert!(id["holds_root"].as_bool().unwrap());
    assert_eq!(id["device_cert"]["device"], id["device"]);
    assert_eq!(id["device_cert"]["capabilities"], "content+endorse+govern");

    // Communities: create, list, info.
    let v = f
        .call(
            Method::POST,
            "/api/v1/communities",
            Some(json!({"name": "Rust Meetup", "description": "we meet", "policy": "invite"})),
            StatusCode::CREATED,
        )
        .await;
    let c = v["id"].as_str().unwrap().to_string();
    let base = format!("/api/v1/communities/{c}");
    let list = f.get("/api/v1/communities").await;
    assert_eq!(ids(&list, "id"), vec![c.clone()]);
    assert_eq!(list[0]["status"], "member:founder");
    let info = f.get(&base).await;
    assert_eq!(info["description"], "we meet");
    assert_eq!(info["founders"], json!([me]));
    assert_eq!(info["policy"], "invite");

    // Invite and join over the API.
    listening(&mut f.node).await;
    let code = f
        .post(&format!("{base}/invite"), json!({"valid_hours": 1}))
        .await["code"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(code.starts_with("qun1"));
    let joined = a.post("/api/v1/join", json!({ "code": code })).await;
    assert_eq!(joined["id"], c.as_str());
    wait_for(
        &mut a.node.events,
        "alice admitted",
        |e| matches!(e, NodeEvent::Membership { status, .. } if status.is_member()),
    )
    .await;
    let cid: qun_crdt::CommunityId = c.parse().unwrap();
    wait_until(&mut f.node, "the founder sees alice", move |h| async move {
        h.members(cid).await.is_ok_and(|m| m.len() == 2)
    })
    .await;

    // Status and peers see each other.
    let st = f.get("/api/v1/status").await;
    assert!(st["connected_peers"].as_u64().unwrap() >= 1, "{st}");
    assert!(st["listen_addrs"][0].as_str().unwrap().contains("/p2p/"));
    let peers = f.get("/api/v1/peers").await;
    let a_peer = a.get("/api/v1/status").await["peer_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(ids(&peers, "peer_id").contains(&a_peer), "{peers}");

    // Channels: create one, list.
    f.post(
        &format!("{base}/channels"),
        json!({"id": "random", "title": "Random", "description": "anything goes"}),
    )
    .await;
    let chans = f.get(&format!("{base}/channels")).await;
    let chan_ids: Vec<String> = chans
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(chan_ids, vec!["general", "random"]);

    // Posts: three, then paging.
    let mut post_ids = Vec::new();
    for text in ["first", "second", "third"] {
        let v = f
            .call(
                Method::POST,
                &format!("{base}/posts"),
                Some(json!({"channel": "general", "text": text})),
                StatusCode::CREATED,
            )
            .await;
        post_ids.push(v["post"].as_str().unwrap().to_string());
        // Distinct creation times, so `before` pages deterministically.
        clock.advance(1);
    }
    let page1 = f
        .get(&format!("{base}/posts?channel=general&limit=2"))
        .await;
    let texts: Vec<&str> = page1
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["third", "second"]);
    let before = page1[1]["created"].as_u64().unwrap();
    let page2 = f
        .get(&format!(
            "{base}/posts?channel=general&limit=2&before={before}"
        ))
        .await;
    let texts: Vec<&str> = page2
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["first"]);

    // Reply (from alice, once she has the post), thread, react, edit, delete, hide, unhide.
    let first = post_ids[0].clone();
    let pf: qun_crdt::PostId = first.parse().unwrap();
    wait_until(&mut a.node, "alice has the first post", move |h| {
        let pf = pf.clone();
        async move { h.thread(cid, pf).await.is_ok_and(|t| !t.is_empty()) }
    })
    .await;
    let reply = a
        .call(
            Method::POST,
            &format!("{base}/posts"),
            Some(json!({"channel": "general", "text": "a reply", "reply_to": first})),
            StatusCode::CREATED,
        )
        .await["post"]
        .as_str()
        .unwrap()
        .to_string();
    let enc = |s: &str| s.replace('/', "%2F");
    let pf: qun_crdt::PostId = first.parse().unwrap();
    wait_until(&mut f.node, "the founder has the reply", move |h| {
        let pf = pf.clone();
        async move { h.thread(cid, pf).await.is_ok_and(|t| t.len() == 2) }
    })
    .await;
    let thread = f.get(&format!("{base}/thread?post={}", enc(&first))).await;
    assert_eq!(ids(&thread, "id"), vec![first.clone(), reply.clone()]);
    assert_eq!(thread[1]["author"], alice.as_str());
    f.post(
        &format!("{base}/posts/react"),
        json!({"post": first, "emoji": "🎉"}),
    )
    .await;
    f.post(
        &format!("{base}/posts/edit"),
        json!({"post": first, "text": "first (edited)"}),
    )
    .await;
    f.post(
        &format!("{base}/posts/hide"),
        json!({"post": reply, "reason": "off topic"}),
    )
    .await;
    let thread = f.get(&format!("{base}/thread?post={}", enc(&first))).await;
    assert_eq!(thread[0]["text"], "first (edited)");
    assert!(thread[0]["edited"].is_u64());
    assert_eq!(thread[0]["reactions"]["🎉"], json!([me]));
    assert_eq!(thread[1]["hidden"]["reason"], "off topic");
    f.post(&format!("{base}/posts/unhide"), json!({"post": reply}))
        .await;
    f.post(
        &format!("{base}/posts/react"),
        json!({"post": first, "emoji": "🎉", "on": false}),
    )
    .await;
    f.post(
        &format!("{base}/posts/delete"),
        json!({"post": post_ids[1]}),
    )
    .await;
    let thread = f.get(&format!("{base}/thread?post={}", enc(&first))).await;
    assert!(thread[1]["hidden"].is_null());
    assert_eq!(thread[0]["reactions"], json!({}));
    let second = f
        .get(&format!("{base}/thread?post={}", enc(&post_ids[1])))
        .await;
    assert_eq!(second[0]["deleted"], true);
    // Someone else's post cannot be edited (posts are edited by the device that wrote them).
    let (s, v) = status_and_json(
        f.req(Method::POST, &format!("{base}/posts/edit"))
            .json(&json!({"post": reply, "text": "not mine"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_error(&v, "edit someone else's post");

    // Profiles.
    a.call(
        Method::PUT,
        &format!("{base}/profile"),
        Some(json!({"name": "Alice", "bio": "rustacean", "avatar": null, "links": []})),
        StatusCode::OK,
    )
    .await;
    assert_eq!(a.get(&format!("{base}/profile")).await["name"], "Alice");
    let al: qun_identity::MemberId = alice.parse().unwrap();
    wait_until(
        &mut f.node,
        "the founder sees alice's profile",
        move |h| async move { h.profile(cid, Some(al)).await.is_ok_and(|p| p.is_some()) },
    )
    .await;
    assert_eq!(
        f.get(&format!("{base}/profile/{alice}")).await["bio"],
        "rustacean"
    );
    assert!(f.get(&format!("{base}/profile")).await.is_null());

    // Follows: follow alice, read her posts alone, unfollow; unfollowing twice is an error.
    f.post(&format!("{base}/follow"), json!({"member": alice}))
        .await;
    let follows = f.get(&format!("{base}/follows")).await;
    assert_eq!(follows["member"], me.as_str());
    assert_eq!(follows["follows"], json!([alice]));
    assert_eq!(
        f.get(&format!("{base}/follows?member={alice}")).await["follows"],
        json!([])
    );
    let mine = f.get(&format!("{base}/posts?following=true")).await;
    let all = f.get(&format!("{base}/posts")).await;
    let by_alice = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["author"] == alice.as_str())
        .count();
    assert!(by_alice > 0);
    assert_eq!(mine.as_array().unwrap().len(), by_alice);
    f.post(
        &format!("{base}/follow"),
        json!({"member": alice, "on": false}),
    )
    .await;
    assert_eq!(
        f.get(&format!("{base}/follows")).await["follows"],
        json!([])
    );
    let (s, v) = status_and_json(
        f.req(Method::POST, &format!("{base}/follow"))
            .json(&json!({"member": alice, "on": false})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_error(&v, "unfollow twice");

    // Members and roles.
    let members = f.get(&format!("{base}/members")).await;
    assert_eq!(ids(&members, "member"), vec![me.clone(), alice.clone()]);
    assert_eq!(members[1]["profile"]["name"], "Alice");
    f.post(
        &format!("{base}/members/role"),
        json!({"member": alice, "role": "moderator"}),
    )
    .await;
    assert_eq!(
        f.get(&format!("{base}/members")).await[1]["role"],
        "moderator"
    );

    // Endorsements: give, list, trust, why; revoke with weight 0.
    f.post(
        &format!("{base}/endorse"),
        json!({"member": alice, "weight": 1.0, "note": "met her"}),
    )
    .await;
    let list = f.get(&format!("{base}/endorsements")).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["from"], me.as_str());
    assert_eq!(list[0]["to"], alice.as_str());
    assert_eq!(list[0]["note"], "met her");
    let ranking = f.get(&format!("{base}/trust?top=10")).await;
    assert_eq!(ranking[0]["member"], me.as_str(), "{ranking}");
    assert_eq!(ranking[1]["member"], alice.as_str(), "{ranking}");
    assert!(ranking[1]["score"].as_f64().unwrap() > 0.0);
    let why = f.get(&format!("{base}/trust/{alice}")).await;
    assert_eq!(why["endorsers"][0][0], me.as_str(), "{why}");
    assert!(!why["paths"].as_array().unwrap().is_empty(), "{why}");
    let score_endorsed = why["score"].as_f64().unwrap();
    f.post(
        &format!("{base}/endorse"),
        json!({"member": alice, "weight": 0.0}),
    )
    .await;
    assert!(
        f.get(&format!("{base}/endorsements"))
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    let all = f
        .get(&format!("{base}/endorsements?all=true&member={alice}"))
        .await;
    assert_eq!(all[0]["weight"], 0.0, "{all}");
    let why = f.get(&format!("{base}/trust/{alice}")).await;
    assert!(why["endorsers"].as_array().unwrap().is_empty(), "{why}");
    assert!(why["score"].as_f64().unwrap() < score_endorsed, "{why}");

    // Admission policy; admitting and removing members.
    f.post(
        &format!("{base}/policy"),
        json!({"policy": "endorsements:2"}),
    )
    .await;
    assert_eq!(f.get(&base).await["policy"], "endorsements:2");
    let bob = keys(16)
        .member_id(qun_identity::Timestamp::now())
        .unwrap()
        .to_string();
    f.post(&format!("{base}/members/admit"), json!({"member": bob}))
        .await;
    assert!(ids(&f.get(&format!("{base}/members")).await, "member").contains(&bob));
    let (s, v) = status_and_json(
        f.req(Method::POST, &format!("{base}/members/admit"))
            .json(&json!({"member": bob})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "already a member: {v}");
    f.post(
        &format!("{base}/members/remove"),
        json!({"member": bob, "reason": "test"}),
    )
    .await;
    assert!(!ids(&f.get(&format!("{base}/members")).await, "member").contains(&bob));

    // Export: the Automerge documents.
    let docs = f.get(&format!("{base}/export")).await;
    assert!(
        docs.as_array().unwrap().len() >= 2,
        "governance and content: {docs}"
    );
    for d in docs.as_array().unwrap() {
        let bytes = data_encoding::BASE64
            .decode(d["automerge"].as_str().unwrap().as_bytes())
            .unwrap();
        assert!(
            bytes.len() > 8 && bytes[..4] == [0x85, 0x6f, 0x4a, 0x83],
            "automerge magic"
        );
    }
    a.stop().await;
    f.stop().await;
}
