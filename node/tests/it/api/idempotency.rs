//! A form or request sent twice makes its edit once: the page's forms carry a random `nonce`,
//! JSON clients an `Idempotency-Key` header. Sent concurrently (three quick clicks), sent again
//! later (a reload), and the same key reused for another text (a form restored by Back and
//! filled in again: a new post).

use super::support::*;
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

async fn texts(n: &ApiNode, c: &str) -> Vec<String> {
    let v = n.get(&format!("/api/v1/communities/{c}/posts")).await;
    let posts = v.as_array().or_else(|| v["posts"].as_array()).cloned();
    posts
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p["text"].as_str().map(String::from))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_sent_three_times_is_made_once() {
    let n = ApiNode::start(171).await;
    let c = n
        .call(
            Method::POST,
            "/api/v1/communities",
            Some(json!({"name": "Once"})),
            StatusCode::CREATED,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let posts = format!("/api/v1/communities/{c}/posts");
    let send = |key: &str, text: &str| {
        n.req(Method::POST, &posts)
            .header("Idempotency-Key", key)
            .json(&json!({"text": text}))
            .send()
    };

    // Three at once, then once more: one post, one answer.
    let (a, b, d) = tokio::join!(
        send("key-1", "hello once"),
        send("key-1", "hello once"),
        send("key-1", "hello once")
    );
    let mut hashes = Vec::new();
    for r in [a, b, d, send("key-1", "hello once").await] {
        let r = r.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        hashes.push(r.json::<Value>().await.unwrap()["hash"].clone());
    }
    assert!(hashes.iter().all(|h| h == &hashes[0]), "{hashes:?}");
    assert_eq!(texts(&n, &c).await, vec!["hello once".to_string()]);

    // The same key for another text is another post; no key, always a new post.
    assert_eq!(
        send("key-1", "hello twice").await.unwrap().status(),
        StatusCode::CREATED
    );
    for _ in 0..2 {
        n.call(
            Method::POST,
            &posts,
            Some(json!({"text": "no key"})),
            StatusCode::CREATED,
        )
        .await;
    }
    assert_eq!(texts(&n, &c).await.len(), 4);

    // A key that is too long is refused, with a reason and a hint, and nothing is posted.
    let (s, v) = status_and_json(
        n.req(Method::POST, &posts)
            .header("Idempotency-Key", "k".repeat(200))
            .json(&json!({"text": "long key"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_error(&v, "long key");
    assert_eq!(texts(&n, &c).await.len(), 4);

    // The page's form: the same nonce twice (a double click without JavaScript) posts once.
    let cookie = login(&n).await;
    let form = |text: &str, nonce: &str| {
        n.http
            .post(format!("{}/c/{c}/post", n.url))
            .header(header::COOKIE, &cookie)
            .header("Sec-Fetch-Site", "same-origin")
            .form(&[("channel", "general"), ("text", text), ("nonce", nonce)])
            .send()
    };
    let (r1, r2) = tokio::join!(
        form("from the page", "0123456789abcdef"),
        form("from the page", "0123456789abcdef")
    );
    for r in [r1, r2] {
        let r = r.unwrap();
        assert!(r.status().is_redirection(), "{}", r.status());
    }
    let all = texts(&n, &c).await;
    assert_eq!(
        all.iter().filter(|t| *t == "from the page").count(),
        1,
        "{all:?}"
    );
    n.stop().await;
}
