//! The API's load limits over real HTTP: the request rate (429 with a JSON error) and the
//! number of SSE clients (503), each counted in the status, and the API answering again after.

use super::support::*;
use crate::common::TIMEOUT;
use qun_node::limits::LoadLimits;
use reqwest::{Method, StatusCode, header};
use serde_json::Value;

/// The node's `limits` counters, through the API (retried while rate-limited).
async fn limits(n: &ApiNode) -> Value {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let r = n.req(Method::GET, "/api/v1/status").send().await.unwrap();
        if r.status() == StatusCode::OK {
            let v: Value = r.json().await.unwrap();
            return v["limits"].clone();
        }
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(tokio::time::Instant::now() < deadline, "API never answered");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_requests_over_the_rate_get_429() {
    let n = ApiNode::start_with_limits(
        230,
        LoadLimits {
            api_requests_per_sec: 5,
            ..LoadLimits::default()
        },
    )
    .await;
    // The bucket holds 10: 40 at once must meet an empty one.
    let mut refused = None;
    for _ in 0..40 {
        let r = n.req(Method::GET, "/api/v1/identity").send().await.unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(r.headers()[header::RETRY_AFTER], "1");
            refused = Some(r.json::<Value>().await.unwrap());
            break;
        }
        assert_eq!(r.status(), StatusCode::OK);
    }
    let body = refused.expect("no request was refused");
    assert_error(&body, "429");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("too many requests")
    );
    // Counted, and the API answers again once the bucket refills.
    let l = limits(&n).await;
    assert!(l["api_rate"].as_u64().unwrap() >= 1, "{l}");
    n.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_clients_over_the_cap_get_503() {
    let n = ApiNode::start_with_limits(
        231,
        LoadLimits {
            max_sse_clients: 2,
            ..LoadLimits::default()
        },
    )
    .await;
    let a = n.req(Method::GET, "/api/v1/events").send().await.unwrap();
    let b = n.req(Method::GET, "/api/v1/events").send().await.unwrap();
    assert_eq!((a.status(), b.status()), (StatusCode::OK, StatusCode::OK));
    let c = n.req(Method::GET, "/api/v1/events").send().await.unwrap();
    assert_eq!(c.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = c.json().await.unwrap();
    assert_error(&body, "503");
    assert_eq!(limits(&n).await["sse_clients"], 1);
    // A client that goes away frees its slot (the server notices the closed connection).
    drop(a);
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let r = n.req(Method::GET, "/api/v1/events").send().await.unwrap();
        if r.status() == StatusCode::OK {
            break;
        }
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slot was never freed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    drop(b);
    n.stop().await;
}
