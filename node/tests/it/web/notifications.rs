//! Notifications the way a member meets them: another member replies to a post, mentions the
//! member by name and reacts, on another node; the sidebar counts them and the title shows
//! `(3)`; the notifications page lists them; opening one marks it read; "Mark all as read"
//! clears the rest. The API and the CLI's endpoint agree.

use super::*;

async fn unread(n: &WebNode) -> Value {
    n.api(Method::GET, "/api/v1/notifications", json!(null))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_mentions_and_reactions_notify_across_nodes() {
    let mut a = WebNode::start(48).await;
    let mut b = WebNode::start(49).await;
    listening(&mut a.node).await;
    let c = a.create("Seed Library").await;
    b.join_through(&mut a, &c).await;
    let posts = format!("/api/v1/communities/{c}/posts");
    a.api(
        Method::PUT,
        &format!("/api/v1/communities/{c}/profile"),
        json!({ "name": "Ada Lovelace" }),
    )
    .await;
    let mine = a
        .api(
            Method::POST,
            &posts,
            json!({ "channel": "general", "text": "Tomato seeds for anyone who wants them" }),
        )
        .await["post"]
        .as_str()
        .unwrap()
        .to_string();
    // Nothing of one's own notifies.
    a.api(
        Method::POST,
        &posts,
        json!({ "channel": "general", "text": "@Ada Lovelace note to self", "reply_to": mine }),
    )
    .await;
    assert_eq!(unread(&a).await["unread"], 0);

    // B waits for A's post, then replies, mentions and reacts.
    let cid: qun_crdt::CommunityId = c.parse().unwrap();
    let pid: qun_crdt::PostId = mine.parse().unwrap();
    wait_until(&mut b.node, "B has A's post", move |h| {
        let pid = pid.clone();
        async move { h.thread(cid, pid).await.is_ok_and(|t| t.len() == 2) }
    })
    .await;
    b.api(
        Method::POST,
        &posts,
        json!({ "channel": "general", "text": "Yes please! Two packets.", "reply_to": mine }),
    )
    .await;
    b.api(
        Method::POST,
        &posts,
        json!({ "channel": "general", "text": "@Ada Lovelace do you have basil too?" }),
    )
    .await;
    b.api(
        Method::POST,
        &format!("/api/v1/communities/{c}/posts/react"),
        json!({ "post": mine, "emoji": "🎉" }),
    )
    .await;
    // A mail address is not a mention.
    b.api(
        Method::POST,
        &posts,
        json!({ "channel": "general", "text": "write to ada@lovelace.example" }),
    )
    .await;

    let b_member = b.api(Method::GET, "/api/v1/status", json!(null)).await["member"]
        .as_str()
        .unwrap()
        .to_string();
    wait_until(&mut a.node, "A has B's four changes", move |h| async move {
        h.notifications().await.is_ok_and(|n| n.len() >= 3)
    })
    .await;
    let n = unread(&a).await;
    assert_eq!(n["unread"], 3, "{n}");
    assert_eq!(n["unread_by_community"][&c], 3, "{n}");
    let mut kinds: Vec<&str> = n["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["mention", "reaction", "reply"], "{n}");
    assert!(
        n["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["by"] == b_member.as_str())
    );

    // In the browser: the counts and the title.
    let br = Browser::start().await;
    br.goto(&a.login_url()).await;
    br.wait_for("body[data-unread='3']", None).await;
    br.wait_for("#notif-count", Some("3")).await;
    br.wait_for(&format!("[data-unread-for='{c}']"), Some("3"))
        .await;
    let title = br.js("return document.title;", json!([])).await;
    assert!(title.as_str().unwrap().starts_with("(3) "), "{title}");
    br.click("#notif-link").await;
    br.wait_for("#notifications .notif.unread", Some("replied to your post"))
        .await;
    br.wait_for("#notifications .notif.unread", Some("mentioned you"))
        .await;
    br.wait_for("#notifications .notif.unread", Some("reacted 🎉"))
        .await;
    br.screenshot("20-notifications").await;
    // The mention links to the member's profile.
    let a_member = a.api(Method::GET, "/api/v1/status", json!(null)).await["member"]
        .as_str()
        .unwrap()
        .to_string();
    br.goto(&format!("{}/c/{c}", a.url)).await;
    br.wait_for(
        &format!("#posts .post-text a[href='/c/{c}/m/{a_member}']"),
        Some("@Ada Lovelace"),
    )
    .await;
    br.goto(&format!("{}/notifications", a.url)).await;
    // Opening one leads to its thread and marks it read.
    br.click("#notifications .notif[data-kind=reply] a").await;
    br.wait_for("#posts .post-text", Some("Two packets")).await;
    assert_eq!(unread(&a).await["unread"], 2);
    br.goto(&format!("{}/notifications", a.url)).await;
    br.click("#mark-all-read").await;
    br.wait_for("body[data-unread='0']", None).await;
    assert!(br.find("#notifications .notif.unread").await.is_none());
    assert_eq!(unread(&a).await["unread"], 0);
    br.quit();
    a.stop().await;
    b.stop().await;
}
