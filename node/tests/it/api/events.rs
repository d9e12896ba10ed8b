//! Server-sent events.

use super::support::*;
use crate::common::TIMEOUT;
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_sent_events_deliver_a_change_after_a_post() {
    let n = ApiNode::start(13).await;
    let v = n
        .call(
            Method::POST,
            "/api/v1/communities",
            Some(json!({"name": "Live", "policy": "open"})),
            StatusCode::CREATED,
        )
        .await;
    let c = v["id"].as_str().unwrap().to_string();
    let mut sse = n.req(Method::GET, "/api/v1/events").send().await.unwrap();
    assert_eq!(sse.status(), StatusCode::OK);
    assert!(
        sse.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    // The stream is subscribed once its headers are out: post now.
    n.call(
        Method::POST,
        &format!("/api/v1/communities/{c}/posts"),
        Some(json!({"channel": "general", "text": "hello, stream"})),
        StatusCode::CREATED,
    )
    .await;
    let mut buf = String::new();
    let found = tokio::time::timeout(TIMEOUT, async {
        loop {
            let chunk = sse.chunk().await.unwrap().expect("the stream ended");
            buf.push_str(&String::from_utf8_lossy(&chunk));
            for line in buf.lines() {
                if let Some(data) = line.strip_prefix("data: ") {
                    let e: Value = serde_json::from_str(data).unwrap();
                    if e["type"] == "change"
                        && e["community"] == c.as_str()
                        && e["action"] == "post.create"
                    {
                        return e;
                    }
                }
            }
        }
    })
    .await
    .expect("a change event within the timeout");
    assert_eq!(found["origin"], "local");
    assert!(found["author"].as_str().unwrap().starts_with("z6Mk"));
    n.stop().await;
}
