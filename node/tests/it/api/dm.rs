//! Direct messages over the API and the page, both ways between two nodes:
//!
//! ```text
//! founder (API) -- alice (API)
//! ```

use super::support::*;
use crate::common::*;
use qun_crdt::AdmissionPolicy;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// POST until the sender knows a device of the recipient (bundles arrive over `/qun/dm/1`).
async fn send(n: &ApiNode, to: &str, text: &str) -> Value {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let resp = n
            .req(Method::POST, &format!("/api/v1/dm/{to}"))
            .json(&json!({ "text": text }))
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if status == StatusCode::OK {
            return body;
        }
        assert_error(&body, "dm send");
        assert!(tokio::time::Instant::now() < deadline, "not sent: {body}");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}

/// Wait until `n`'s conversation with `with` holds `text`.
async fn reads(n: &ApiNode, with: &str, text: &str) -> Value {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let msgs = n.get(&format!("/api/v1/dm/{with}")).await;
        if msgs
            .as_array()
            .is_some_and(|ms| ms.iter().any(|m| m["text"] == text))
        {
            return msgs;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never read {text:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_messages_through_the_api_and_the_page() {
    let mut f = ApiNode::start(108).await;
    let mut a = ApiNode::start(109).await;
    let c = create(&mut f.node, AdmissionPolicy::Invite).await;
    join(&f.node, &mut a.node, c).await;
    let fm = f.node.handle().member().to_string();
    let am = a.node.handle().member().to_string();

    let sent = send(&f, &am, "hello alice (api)").await;
    assert_eq!(sent["devices"], 1, "{sent}");
    // Unread before reading, read after.
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let list = a.get("/api/v1/dm").await;
        if list[0]["unread"] == 1 {
            assert_eq!(list[0]["member"], fm.as_str());
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no unread: {list}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let msgs = reads(&a, &fm, "hello alice (api)").await;
    assert_eq!(msgs[0]["from_me"], false);
    assert_eq!(a.get("/api/v1/dm").await[0]["unread"], 0);

    // Back the other way, through the page's form (bearer token: the page's auth is tested
    // elsewhere; the form is a session write like every other, same-origin checked).
    let page = a
        .req(Method::GET, &format!("/messages/{fm}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("hello alice (api)") && page.contains("dm-form"));
    let r = a
        .req(Method::POST, &format!("/messages/{fm}"))
        .form(&[("text", "hi founder (form)")])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    reads(&f, &am, "hi founder (form)").await;
    let list = f
        .req(Method::GET, "/messages")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains(&format!("/messages/{am}")));
    let profile = f
        .req(Method::GET, &format!("/c/{c}/m/{am}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(profile.contains("message-btn"), "no Message button");

    // Without the token: refused.
    let r = a
        .http
        .get(format!("{}/api/v1/dm", a.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // An empty message: refused with a hint.
    let v = a
        .call(
            Method::POST,
            &format!("/api/v1/dm/{fm}"),
            Some(json!({ "text": "  " })),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_error(&v, "empty dm");
    a.stop().await;
    f.stop().await;
}
