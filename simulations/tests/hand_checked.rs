//! Small cases whose results are worked out by hand.

use std::io::Write;

use qun_sim::Time;
use qun_sim::results::RunResult;
use qun_sim::scenario::Scenario;
use qun_sim::world::{RunOptions, run_with};

/// Runs `body` (TOML after the header) over the given edge list, recording receipts.
fn run(edges: &str, nodes: u32, body: &str) -> RunResult {
    let mut f = tempfile::NamedTempFile::new().expect("tmp");
    f.write_all(edges.as_bytes()).expect("write");
    let src = format!(
        "name = \"hand\"\nnodes = {nodes}\nduration_s = 20\n{body}\n[topology]\nkind = \"edges\"\nedges_file = \"{}\"\n",
        f.path().display()
    );
    let scn = Scenario::from_toml_str("hand.toml", &src).expect("valid");
    run_with(
        &scn,
        1,
        &RunOptions {
            record_receipts: true,
        },
        &mut |_| {},
    )
    .expect("run")
}

const ONE_MESSAGE: &str =
    "[workload]\nmessages = 1\nposts_per_second = 1\nstart_s = 5\nmessage_bytes = 1000\n";

#[test]
fn flooding_a_line_takes_one_latency_per_hop() {
    // 0 -- 1 -- 2 -- 3 -- 4, 10 ms per link, no bandwidth limit.
    let r = run(
        "0 1\n1 2\n2 3\n3 4\n",
        5,
        &format!("protocol = \"flood\"\n[links]\nlatency_ms = 10\n{ONE_MESSAGE}"),
    );
    let origin = r.messages[0].origin;
    let published = Time::from_secs_f64(r.messages[0].published_s);
    assert_eq!(r.receipts.len(), 4);
    for rec in &r.receipts {
        let d = (rec.node as i64 - origin as i64).unsigned_abs();
        assert_eq!(rec.hops as u64, d, "{rec:?}");
        assert_eq!(
            rec.at.since(published),
            Time::from_millis(10 * d),
            "{rec:?}"
        );
    }
    // On a line every node gets exactly one copy.
    assert_eq!(r.summary.copies_per_delivery, 1.0);
    assert_eq!(r.summary.duplicates, 0);
    assert_eq!(r.summary.delivery_ratio, 1.0);
}

#[test]
fn flooding_a_clique_gives_n_minus_2_duplicates() {
    // K4: the origin reaches the 3 others in one hop (10 ms); each of them forwards to the
    // 2 nodes that are neither sender nor origin, so every node gets 1 + 2 = 3 copies.
    let r = run(
        "0 1\n0 2\n0 3\n1 2\n1 3\n2 3\n",
        4,
        &format!("protocol = \"flood\"\n[links]\nlatency_ms = 10\n{ONE_MESSAGE}"),
    );
    assert_eq!(r.summary.deliveries, 3);
    assert_eq!(r.summary.duplicates, 6);
    assert_eq!(r.summary.copies_per_delivery, 3.0);
    // HDR histograms keep 3 significant digits.
    assert!(
        (r.summary.latency_ms.max - 10.0).abs() <= 0.01,
        "{:?}",
        r.summary.latency_ms
    );
    assert_eq!(r.summary.hops.max, 1.0);
}

#[test]
fn upload_bandwidth_serialises_frames() {
    // Star: the origin's 8 Mbit/s uplink sends 1000 B + 160 B overhead = 1.16 ms per frame.
    // Flood publishing sends to the leaves one after the other: arrivals at
    // 10 + 1.16·k ms, k = 1..3. The publisher is drawn at random, so the expectation
    // depends on whether it is the hub.
    let r = run(
        "0 1\n0 2\n0 3\n",
        4,
        &format!(
            "protocol = \"flood\"\n[links]\nlatency_ms = 10\nupload_mbit_s = 8\n{ONE_MESSAGE}"
        ),
    );
    let origin = r.messages[0].origin;
    let published = Time::from_secs_f64(r.messages[0].published_s);
    let mut lat: Vec<u64> = r.receipts.iter().map(|x| x.at.since(published).0).collect();
    lat.sort_unstable();
    if origin == 0 {
        assert_eq!(lat, vec![11_160, 12_320, 13_480]);
    } else {
        // Leaf → hub (1 frame), hub → the two other leaves (2 frames queued).
        assert_eq!(lat, vec![11_160, 22_320, 23_480]);
    }
}

#[test]
fn gossipsub_small_clique_is_one_hop() {
    // 5 nodes fully connected: every mesh holds all 4 peers (< D_lo), flood publishing
    // reaches everyone directly; each non-origin node also gets the copies forwarded by
    // the 3 other non-origin nodes: 1 + 3 = 4 copies.
    let r = run(
        "0 1\n0 2\n0 3\n0 4\n1 2\n1 3\n1 4\n2 3\n2 4\n3 4\n",
        5,
        &format!("[links]\nlatency_ms = 10\n{ONE_MESSAGE}"),
    );
    assert_eq!(r.summary.deliveries, 4);
    assert_eq!(r.summary.hops.max, 1.0);
    assert!(
        (r.summary.latency_ms.max - 10.0).abs() <= 0.01,
        "{:?}",
        r.summary.latency_ms
    );
    assert_eq!(r.summary.copies_per_delivery, 4.0);
    assert_eq!(r.summary.gossip.mesh_degree_mean, 4.0);
}

#[test]
fn forged_messages_are_not_forwarded_and_senders_get_graylisted() {
    // Line 0 -- 1 -- 2 -- 3; every node an attacker would be degenerate, so use a larger
    // random graph: forged messages reach only the attacker's direct neighbours (one hop).
    let scn = Scenario::from_toml_str(
        "forged.toml",
        "name = \"f\"\nnodes = 60\nduration_s = 30\n[workload]\nmessages = 10\nposts_per_second = 1\n[attack]\nattacker_fraction = 0.1\nforged_per_second = 1\n",
    )
    .expect("valid");
    let r = run_with(&scn, 2, &RunOptions::default(), &mut |_| {}).expect("run");
    let f = &r.summary.forged;
    assert!(f.published > 0);
    // Neighbours reject and never forward: reach ≤ degree of the attacker (≤ ~2·12).
    assert!(f.reach_mean < 25.0, "{f:?}");
    assert!(
        r.summary.delivery_ratio > 0.99,
        "{}",
        r.summary.delivery_ratio
    );
}

#[test]
fn trust_layer_reports_one_experiment_per_attack_edge_count() {
    let scn = Scenario::from_toml_str(
        "t.toml",
        "name = \"t\"\nnodes = 20\nduration_s = 5\n[workload]\nmessages = 1\n[trust]\nmembers = 400\nsybils = 100\nattack_edges = [5, 20]\n",
    )
    .expect("valid");
    let r = run_with(&scn, 1, &RunOptions::default(), &mut |_| {}).expect("run");
    let t = r.summary.trust.expect("trust reports");
    assert_eq!(t.len(), 2);
    assert_eq!((t[0].attack_edges, t[1].attack_edges), (5, 20));
    for rep in &t {
        assert_eq!(rep.sybils, 100);
        // Advogato's guarantee: admitted Sybils never exceed the attack edges' capacity.
        assert!(rep.sybils_admitted as u64 <= rep.admission_bound, "{rep:?}");
    }
}
