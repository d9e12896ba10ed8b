//! Clock skew, injected (`QUN_CLOCK_OFFSET_MS`, honoured by debug builds only: see
//! `node/src/clock.rs`), never slept: one node's clock a day ahead, one a day behind.
//!
//! Content lives in weekly windows (`window = time / 7 days`); a node refuses a change more
//! than one window ahead of its own clock ("not yet", sync brings it again later) and one in
//! a window before the community's genesis. Every clock below is shifted by the same base
//! offset too, so that the run does not depend on where in the week it happens:
//!
//! * `clock_skew`: the base clock is mid-window. A node a day ahead and one a day behind post
//!   and react; nothing they write may be refused, and all nodes must converge. A fifth node
//!   15 days ahead (two windows) must have its posts refused as "not yet" (nothing accepted
//!   that should not be).
//! * `clock_skew_at_window_boundary`: the base clock is an hour before a window boundary, so
//!   the node a day ahead already writes into the next window. In a community founded by a
//!   node with a correct clock everything must be accepted. In one founded by the node a day
//!   ahead (its genesis dated in the next window), members with correct clocks — and the one
//!   a day behind — must be able to post too: a one-day skew is well inside the weekly
//!   tolerance the windows promise.

use super::cluster::{Cluster, Ledger, join_via, my_status, post};
use qun_crdt::community::genesis::DEFAULT_WINDOW_MS;
use serde_json::json;
use std::time::Duration;

const DAY: i64 = 86_400_000;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn env(offset: i64) -> Vec<(String, String)> {
    vec![("QUN_CLOCK_OFFSET_MS".into(), offset.to_string())]
}

/// The window a post id names (`<channel>/<window>/<key>`).
fn window_of_post(id: &str) -> u64 {
    id.split('/')
        .nth(1)
        .and_then(|w| w.parse().ok())
        .unwrap_or(0)
}

/// Each of `writers` posts `k` posts in `c`; acknowledged ones go into `ledger`, refusals are
/// returned (writer, error).
async fn write_some(
    cl: &Cluster,
    c: &str,
    writers: &[usize],
    k: usize,
    label: &str,
    ledger: &Ledger,
) -> Vec<(usize, String)> {
    let mut refused = Vec::new();
    for round in 0..k {
        for &i in writers {
            let text = format!("{label} n{i} #{round}");
            match post(&cl.api(i), c, &text).await {
                Ok((id, hash)) => ledger.push(super::cluster::Ack::Post {
                    node: i,
                    text,
                    id,
                    hash,
                    at: crate::now_s(),
                }),
                Err(e) => refused.push((i, e.to_string())),
            }
        }
    }
    refused
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_skew() {
    let Some(mut cl) = Cluster::new("clock-skew", false) else {
        return;
    };
    let w = DEFAULT_WINDOW_MS as i64;
    let now = now_ms();
    let base = (now / w) * w + w / 2 - now;
    let offsets = [base, base + DAY, base - DAY, base, base + 15 * DAY];
    // n0..n3 form the community; n4 (15 days ahead) joins after.
    cl.community_env(offsets[..4].iter().map(|o| env(*o)).collect())
        .await;
    let far = cl.add_node();
    cl.nodes[far].env = env(offsets[far]);
    cl.start(far).await;
    let c = cl.community.clone();
    let join_far = join_via(&cl.api(0), &cl.api(far), &c, Duration::from_secs(20)).await;

    let ledger = Ledger::default();
    let refused = write_some(&cl, &c, &[0, 1, 2, 3], 3, "skew", &ledger).await;
    let far_refused = write_some(&cl, &c, &[far], 3, "far future", &ledger).await;
    // Reactions across the skew: each node reacts to a post of the next one.
    let mut react_refused = Vec::new();
    for i in 0..4 {
        let target = ledger
            .all()
            .into_iter()
            .find_map(|a| match a {
                super::cluster::Ack::Post { node, id, .. } if node == (i + 1) % 4 => Some(id),
                _ => None,
            })
            .unwrap();
        // It may need a moment to arrive.
        let api = cl.api(i);
        let mut r = Err(String::new());
        for _ in 0..50 {
            r = api
                .post(
                    &format!("/api/v1/communities/{c}/posts/react"),
                    json!({"post": target, "emoji": "⏰"}),
                )
                .await
                .map_err(|e| e.to_string());
            if r.is_ok() {
                ledger.push(super::cluster::Ack::React {
                    node: i,
                    post: target.clone(),
                    emoji: "⏰".into(),
                });
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        if let Err(e) = r {
            react_refused.push((i, e));
        }
    }
    let four = [0, 1, 2, 3];
    let t = cl.converge(&four, Duration::from_secs(60)).await;
    let v = cl.view(0).await.unwrap();
    let members: Vec<String> = cl.nodes.iter().map(|n| n.member.clone()).collect();
    let lost = ledger.lost(&v, &members, &[far]);
    let far_posts: Vec<String> = ledger
        .all()
        .into_iter()
        .filter_map(|a| match a {
            super::cluster::Ack::Post { node, text, .. } if node == far => Some(text),
            _ => None,
        })
        .collect();
    let far_seen: Vec<&String> = far_posts
        .iter()
        .filter(|t| v.post_by_text(t).is_some())
        .collect();
    let far_peer = cl.nodes[far].peer_id.clone();
    let mut wrong_rejections = Vec::new();
    let mut not_yet = 0;
    for i in four {
        for e in cl.nodes[i].events_of("rejected") {
            if e["peer"] == far_peer.as_str() {
                not_yet += 1;
            } else {
                wrong_rejections.push(format!("n{i}: {e}"));
            }
        }
    }
    let windows: Vec<String> = (0..5)
        .map(|i| {
            let ws: std::collections::BTreeSet<u64> = ledger
                .all()
                .iter()
                .filter_map(|a| match a {
                    super::cluster::Ack::Post { node, id, .. } if *node == i => {
                        Some(window_of_post(id))
                    }
                    _ => None,
                })
                .collect();
            format!(
                "n{i} {:+.1} d → windows {ws:?}",
                offsets[i] as f64 / DAY as f64
            )
        })
        .collect();
    cl.report(&format!(
        "base clock mid-window ({:+.1} d); {}",
        base as f64 / DAY as f64,
        windows.join(", ")
    ));
    cl.report(&format!(
        "n1 (+1 d) and n2 (−1 d) with n0, n3: {} writes acknowledged, refused locally: {refused:?} {react_refused:?}; identical after {:.2} s; changes lost: {}; rejections of the skewed nodes' changes: {wrong_rejections:?}",
        ledger.all().len() - far_posts.len(),
        t.as_secs_f64(),
        lost.len()
    ));
    cl.report(&format!(
        "n4 (+15 d): join {}; its {} posts (refused at n4 itself: {far_refused:?}) seen by the others: {}, rejections of n4's changes at n0–n3: {not_yet}",
        match &join_far {
            Ok(t) => format!("admitted after {:.2} s", t.as_secs_f64()),
            Err(e) => format!("not admitted ({e})"),
        },
        far_posts.len(),
        far_seen.len()
    ));
    assert!(refused.is_empty(), "posts refused: {refused:?}");
    assert!(
        react_refused.is_empty(),
        "reactions refused: {react_refused:?}"
    );
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    assert!(
        wrong_rejections.is_empty(),
        "changes of nodes a day off refused: {wrong_rejections:?}"
    );
    assert!(
        far_seen.is_empty(),
        "posts dated two windows ahead were accepted: {far_seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_skew_at_window_boundary() {
    let Some(mut cl) = Cluster::new("clock-skew-boundary", false) else {
        return;
    };
    let w = DEFAULT_WINDOW_MS as i64;
    let now = now_ms();
    let base = (now / w + 1) * w - 3_600_000 - now;
    let offsets = [base, base + DAY, base - DAY, base];
    cl.community_env(offsets.iter().map(|o| env(*o)).collect())
        .await;
    let four = [0usize, 1, 2, 3];
    let c1 = cl.community.clone();
    let ledger = Ledger::default();
    let refused1 = write_some(&cl, &c1, &four, 3, "boundary", &ledger).await;
    let t1 = cl.converge(&four, Duration::from_secs(60)).await;
    let v = cl.view(0).await.unwrap();
    let members: Vec<String> = cl.nodes.iter().map(|n| n.member.clone()).collect();
    let lost1 = ledger.lost(&v, &members, &[]);
    let windows: Vec<String> = four
        .iter()
        .map(|&i| {
            let ws: std::collections::BTreeSet<u64> = ledger
                .all()
                .iter()
                .filter_map(|a| match a {
                    super::cluster::Ack::Post { node, id, .. } if *node == i => {
                        Some(window_of_post(id))
                    }
                    _ => None,
                })
                .collect();
            format!(
                "n{i} {:+.2} d → windows {ws:?}",
                offsets[i] as f64 / DAY as f64
            )
        })
        .collect();
    cl.report(&format!(
        "base clock 1 h before a window boundary; community founded by n0 (correct clock): {}; refused: {refused1:?}; identical after {:.2} s; changes lost: {}",
        windows.join(", "),
        t1.as_secs_f64(),
        lost1.len()
    ));

    // A second community, founded by the node a day ahead: its genesis is in the next window.
    let c2 = cl
        .api(1)
        .post(
            "/api/v1/communities",
            json!({"name": "founded a day ahead", "policy": "invite"}),
        )
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut joins = Vec::new();
    for i in [0, 2, 3] {
        let r = join_via(&cl.api(1), &cl.api(i), &c2, Duration::from_secs(30)).await;
        joins.push((i, r.map(|t| format!("{:.2} s", t.as_secs_f64()))));
    }
    let ledger2 = Ledger::default();
    let refused2 = write_some(&cl, &c2, &four, 2, "ahead-founded", &ledger2).await;
    let mut statuses = Vec::new();
    for i in four {
        statuses.push((i, my_status(&cl.api(i), &c2).await));
    }
    let converged2 = cl.try_converge(&c2, &four, Duration::from_secs(20)).await;
    let mut lost2 = Vec::new();
    for i in four {
        if let Ok(v) = super::cluster::view(&cl.api(i), &c2).await {
            for a in ledger2.lost(&v, &members, &[]) {
                if let super::cluster::Ack::Post { node, text, .. } = a {
                    lost2.push(format!("n{node}'s {text:?} missing at n{i}"));
                }
            }
        }
    }
    cl.report(&format!(
        "community founded by n1 (+1 d, genesis in the next window): joins {joins:?}; {} posts acknowledged (refused locally: {refused2:?}); {}; acknowledged posts missing elsewhere: {}",
        ledger2.posts(),
        match &converged2 {
            Ok(t) => format!("identical after {:.2} s", t.as_secs_f64()),
            Err(_) => "the four never agree".to_string(),
        },
        lost2.len()
    ));
    let mut why: Vec<String> = cl
        .rejections()
        .into_iter()
        .flat_map(|(n, v)| v.into_iter().map(move |e| format!("{n}: {e}")))
        .collect();
    why.sort();
    why.dedup();
    if !why.is_empty() {
        cl.report(&format!("rejections: {}", why.join("; ")));
    }
    assert!(refused1.is_empty(), "posts refused: {refused1:?}");
    assert!(lost1.is_empty(), "acknowledged writes lost: {lost1:?}");
    assert!(
        joins.iter().all(|(_, r)| r.is_ok()),
        "joins failed: {joins:?} (statuses {statuses:?})"
    );
    assert!(
        lost2.is_empty() && converged2.is_ok(),
        "in a community whose founder's clock is a day ahead, near a window boundary, posts acknowledged to members whose clocks are right (n0, n3) or a day behind (n2) are refused by everyone else: {lost2:?}; rejections: {why:?}"
    );
    assert!(
        refused2.is_empty(),
        "in a community whose founder's clock is a day ahead, near a window boundary, posts of members whose clocks are right (n0, n3) or a day behind (n2) are refused: {refused2:?}"
    );
}
