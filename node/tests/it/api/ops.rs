//! The operator endpoints: `/health` without a token, `/metrics` with one (and without on the
//! separate scrape address), the headless router (no web page), and the metrics two connected
//! nodes report.
//!
//! ```text
//! founder -- alice          alice joins; the founder's metrics count her
//! ```

use super::support::*;
use crate::common::*;
use qun_crdt::AdmissionPolicy;
use qun_node::http::{self, AppState};
use reqwest::StatusCode;

/// The value of the first sample line of `name` with all `labels` (None: absent).
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .find(|l| labels.iter().all(|x| l.contains(x)))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_needs_no_token_and_metrics_need_one() {
    let mut n = ApiNode::start(231).await;
    listening(&mut n.node).await;
    // /health: no token needed; live and ready once listening.
    let (s, v) = status_and_json(n.http.get(format!("{}/health", n.url))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["live"], true);
    assert_eq!(v["ready"], true);
    assert_eq!(v["store_ok"], true);
    assert_eq!(v["catching_up"], false);
    let (s, _) = status_and_json(n.http.get(format!("{}/health/live", n.url))).await;
    assert_eq!(s, StatusCode::OK);
    // /metrics on the API address: the token is needed.
    let (s, v) = status_and_json(n.http.get(format!("{}/metrics", n.url))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_error(&v, "metrics without a token");
    let c = n
        .node
        .handle()
        .create_community("M", "", AdmissionPolicy::Invite)
        .await
        .unwrap();
    n.node.handle().edit(c, post("counted")).await.unwrap();
    let resp = n
        .req(reqwest::Method::GET, "/metrics")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    let text = resp.text().await.unwrap();
    for name in [
        "qun_build_info",
        "qun_connected_peers",
        "qun_communities",
        "qun_community_peers",
        "qun_pending_changes",
        "qun_pending_sync_in",
        "qun_store_bytes",
        "qun_sync_bytes_total",
        "qun_gossip_messages_total",
        "qun_gossip_verdicts_total",
        "libp2p_swarm_new_listen_addr_total",
    ] {
        assert!(text.contains(name), "no {name} in\n{text}");
    }
    assert_eq!(sample(&text, "qun_communities", &[]), Some(1.0));
    // The genesis' changes and the post, made here.
    assert!(sample(&text, "qun_changes_accepted_total", &["kind=\"local\""]).unwrap() >= 1.0);
    assert!(text.trim_end().ends_with("# EOF"));

    // The scrape address: /metrics and /health without a token, nothing else.
    let scrape = http::ops::serve_metrics("127.0.0.1:0".parse().unwrap(), n.node.handle().clone())
        .await
        .unwrap();
    let base = format!("http://{}", scrape.addr);
    let resp = n.http.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("qun_build_info"));
    let resp = n.http.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = n
        .http
        .get(format!("{base}/api/v1/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    scrape.task.abort();

    // Headless: the API without the web page.
    let headless = http::serve_with(
        "127.0.0.1:0".parse().unwrap(),
        AppState {
            search: qun_node::search::spawn(n.node.handle().clone(), None).unwrap(),
            prefs: std::sync::Arc::new(qun_node::http::prefs::Prefs::in_memory()),
            node: n.node.handle().clone(),
            auth: n.auth.clone(),
            keyfile: None,
        },
        false,
    )
    .await
    .unwrap();
    let base = format!("http://{}", headless.addr);
    let get = |p: &str| {
        n.http
            .get(format!("{base}{p}"))
            .bearer_auth(n.auth.token())
            .send()
    };
    assert_eq!(get("/").await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(
        get("/settings").await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get("/api/v1/status").await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(get("/health").await.unwrap().status(), StatusCode::OK);
    headless.task.abort();
    n.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_peers_per_community_and_gossip() {
    let mut f = spawn(232).await;
    let c = create(&mut f, AdmissionPolicy::Open).await;
    let mut a = spawn(233).await;
    join(&f, &mut a, c).await;
    let label = format!("topic=\"{}\"", qun_node::net::topic::topic(&c).hash());
    wait_until(&mut f, "alice on the topic in the metrics", |h| {
        let label = label.clone();
        async move {
            let text = h.metrics().await.unwrap();
            sample(&text, "qun_connected_peers", &[]) == Some(1.0)
                && sample(&text, "qun_community_peers", &[&label]) == Some(1.0)
        }
    })
    .await;
    a.handle().edit(c, post("gossiped")).await.unwrap();
    sees(&mut f, c, "gossiped").await;
    let text = f.handle().metrics().await.unwrap();
    let by_network = sample(&text, "qun_changes_accepted_total", &["kind=\"gossip\""])
        .unwrap_or(0.0)
        + sample(&text, "qun_changes_accepted_total", &["kind=\"sync\""]).unwrap_or(0.0);
    assert!(by_network >= 1.0, "{text}");
    assert!(sample(&text, "libp2p_swarm_connections_established_total", &[]).unwrap_or(0.0) >= 1.0);
}
