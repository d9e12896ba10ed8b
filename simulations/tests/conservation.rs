//! Conservation checks: every receipt is of a published message, no node receives a
//! message before the fastest path from its publisher allows, hop counts are at least the
//! graph distance, and the summary's counters agree with the receipts.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use qun_sim::Time;
use qun_sim::results::RunResult;
use qun_sim::scenario::Scenario;
use qun_sim::world::{RunOptions, run_with};

fn scenario(protocol: &str, extra: &str) -> Scenario {
    let src = format!(
        r#"
name = "conservation"
nodes = 150
duration_s = 40
protocol = "{protocol}"
[topology]
degree = 8
[links]
latency_ms = {{ dist = "uniform", min = 5, max = 80 }}
jitter_ms = {{ dist = "exp", mean = 3 }}
upload_mbit_s = 10
loss = 0.02
[workload]
messages = 25
posts_per_second = 2
message_bytes = {{ dist = "lognormal", median = 600, sigma = 0.5 }}
{extra}
"#
    );
    Scenario::from_toml_str("conservation.toml", &src).expect("valid")
}

/// Earliest possible arrival (sum of link latencies) from `src` to every node.
fn dijkstra(r: &RunResult, n: usize, src: u32) -> Vec<u64> {
    let mut adj = vec![Vec::new(); n];
    for (&(a, b), lat) in r.graph.edges.iter().zip(&r.edge_latency) {
        adj[a as usize].push((b as usize, lat.0));
        adj[b as usize].push((a as usize, lat.0));
    }
    let mut dist = vec![u64::MAX; n];
    let mut heap = BinaryHeap::new();
    dist[src as usize] = 0;
    heap.push(Reverse((0u64, src as usize)));
    while let Some(Reverse((d, v))) = heap.pop() {
        if d > dist[v] {
            continue;
        }
        for &(w, l) in &adj[v] {
            if d + l < dist[w] {
                dist[w] = d + l;
                heap.push(Reverse((d + l, w)));
            }
        }
    }
    dist
}

fn check(r: &RunResult, n: usize) {
    let msgs = &r.messages;
    let mut per_msg = vec![0u32; msgs.len()];
    for rec in &r.receipts {
        let m = msgs
            .get(rec.msg as usize)
            .expect("receipt of an unpublished message");
        assert_ne!(rec.node, m.origin, "origin received its own message");
        let published = Time::from_secs_f64(m.published_s);
        let floor = dijkstra(r, n, m.origin)[rec.node as usize];
        // published_s is rounded to the µs in output; allow 1 µs.
        assert!(
            rec.at.0 + 1 >= published.0 + floor,
            "msg {} reached node {} at {:?}, before publication {:?} + fastest path {} µs",
            rec.msg,
            rec.node,
            rec.at,
            published,
            floor
        );
        assert!(rec.hops >= 1);
        per_msg[rec.msg as usize] += 1;
    }
    for (m, row) in msgs.iter().enumerate() {
        if !row.forged {
            assert_eq!(per_msg[m], row.delivered, "receipts of msg {m}");
            assert!(row.delivered <= row.expected);
        }
    }
    let s = &r.summary;
    assert_eq!(s.deliveries + s.sync_deliveries, r.receipts.len() as u64);
    assert_eq!(
        s.messages_published as usize,
        msgs.iter().filter(|m| !m.forged).count()
    );
    let copies: u64 = r
        .copies
        .iter()
        .enumerate()
        .map(|(k, &c)| k as u64 * c)
        .sum();
    assert_eq!(
        copies,
        s.deliveries + s.sync_deliveries + s.duplicates,
        "copies histogram vs counters"
    );
}

#[test]
fn gossipsub_conserves_messages_under_churn_loss_and_partition() {
    let scn = scenario(
        "gossipsub",
        "catch_up = true\ncatch_up_interval_s = 4\n[churn]\noffline_fraction = 0.2\nmean_session_s = 10\n[[partitions]]\nstart_s = 12\nend_s = 20\n",
    );
    let opts = RunOptions {
        record_receipts: true,
    };
    let r = run_with(&scn, 3, &opts, &mut |_| {}).expect("run");
    assert!(r.summary.churn.crashes + r.summary.churn.leaves > 0);
    assert!(r.summary.frames.lost > 0);
    check(&r, 150);
}

#[test]
fn flood_conserves_messages() {
    let scn = scenario("flood", "");
    let opts = RunOptions {
        record_receipts: true,
    };
    let r = run_with(&scn, 4, &opts, &mut |_| {}).expect("run");
    check(&r, 150);
    assert!(
        r.summary.delivery_ratio > 0.95,
        "{}",
        r.summary.delivery_ratio
    );
}
