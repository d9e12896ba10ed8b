//! Full-fidelity mode: real `qun_crdt::Replicator`s on every node.

use qun_sim::metrics::{FullStats, Summary};
use qun_sim::scenario::Scenario;
use qun_sim::{determinism, world};

/// Test seed; override with QUN_SIM_TEST_SEED to explore (STYLE §35).
fn seed() -> u64 {
    std::env::var("QUN_SIM_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
}

/// 20 nodes, 2 communities of 12, posts, replies and reactions.
const SMALL: &str = r#"
name = "full-small"
nodes = 20
duration_s = 40
mode = "full"
[topology]
degree = 6
[links]
latency_ms = { dist = "lognormal", median = 40, sigma = 0.5 }
jitter_ms = { dist = "exp", mean = 2 }
upload_mbit_s = 20
[workload]
communities = 2
members = 12
posts_per_second_per_community = 1
messages = 30
start_s = 3
reply_fraction = 0.3
react_fraction = 0.2
"#;

fn run(src: &str) -> Summary {
    let scn = Scenario::from_toml_str("full.toml", src).expect("valid scenario");
    world::run(&scn, seed(), &mut |_| {}).expect("run").summary
}

fn full(s: &Summary) -> &FullStats {
    s.full
        .as_ref()
        .expect("full-mode summary has a `full` section")
}

/// Every online member of every community ends with identical heads of every document,
/// each converged after its last change, and nothing was refused.
fn assert_converged(s: &Summary) {
    let f = full(s);
    let st = &f.state;
    assert_eq!(
        st.identical_at_end, st.communities,
        "identical heads at the end: {st:?}"
    );
    assert_eq!(st.divergent_members_at_end, 0, "{st:?}");
    assert_eq!(
        st.heads_mismatches, 0,
        "change counts and heads disagree: {st:?}"
    );
    assert_eq!(st.converged, st.communities, "{st:?}");
    assert!(st.heads_checks > st.communities as u64, "{st:?}");
}

#[test]
fn small_network_converges_to_identical_heads() {
    let s = run(SMALL);
    assert_eq!(s.mode, "full");
    assert_eq!(s.messages_published, 30);
    let f = full(&s);
    assert_converged(&s);
    assert_eq!(f.setup, "preadmitted");
    assert_eq!(f.base_changes, 2 * 11, "founders admitted 11 members each");
    assert_eq!(f.made.posts + f.made.replies + f.made.reactions, 30);
    assert!(f.made.replies > 0 && f.made.reactions > 0, "{:?}", f.made);
    assert_eq!(f.edit_errors, 0);
    assert_eq!(
        f.accepted, f.expected,
        "every change accepted at every member"
    );
    assert_eq!(f.expected, 30 * 11);
    assert!(
        f.rejected.is_empty(),
        "no attackers, no rejections: {:?}",
        f.rejected
    );
    assert_eq!(f.verdicts.reject, 0);
    assert_eq!(s.delivery_ratio, 1.0);
    // Real payloads: a ~500-byte post is an Automerge change plus a signature.
    let mean_payload = f.gossip_payload_bytes as f64 / 30.0;
    assert!((150.0..3000.0).contains(&mean_payload), "{mean_payload}");
    assert!(f.accept_latency_ms.p50 > 0.0 && f.accept_latency_ms.max < 2000.0);
    assert!(f.persist_bytes > f.gossip_payload_bytes);
}

#[test]
fn same_seed_gives_identical_summary_bytes() {
    let scn = Scenario::from_toml_str("full.toml", SMALL).expect("valid");
    let r = determinism::check(&scn, seed(), 2).expect("check");
    assert!(
        r.identical,
        "{r:?}; reproduce: QUN_SIM_TEST_SEED={} cargo test -p qun-sim --test full",
        seed()
    );
    let a = world::run(&scn, seed(), &mut |_| {}).expect("run");
    let b = world::run(&scn, seed(), &mut |_| {}).expect("run");
    assert_eq!(
        serde_json::to_string(&a.summary).expect("json"),
        serde_json::to_string(&b.summary).expect("json")
    );
    let other = world::run(&scn, seed() + 1, &mut |_| {}).expect("run");
    assert_ne!(a.summary.event_log_hash, other.summary.event_log_hash);
}

#[test]
fn members_join_through_the_protocol_with_invitations() {
    let src = SMALL
        .replace("start_s = 3", "start_s = 12")
        .replace("name = \"full-small\"", "name = \"full-join\"")
        + "[full]\nsetup = \"join\"\npolicy = \"invite\"\n";
    let s = run(&src);
    let f = full(&s);
    assert_eq!(f.setup, "join");
    assert_eq!(f.base_changes, 0);
    assert_eq!(f.joins.admitted, 2 * 11, "{:?}", f.joins);
    assert_eq!(f.joins.outside_at_end, 0);
    assert_eq!(f.made.governance, 2 * 11, "one member.join per member");
    assert!(f.joins.time_s.max < 10.0, "{:?}", f.joins);
    assert!(f.accepted_via_sync > 0, "joiners catch up by sync");
    assert_eq!(f.accepted, f.expected);
    assert!(f.rejected.is_empty(), "{:?}", f.rejected);
    assert_eq!(f.edit_errors, 0);
    assert_converged(&s);
}

#[test]
fn restarted_nodes_restore_from_their_store_and_catch_up() {
    let src = r#"
name = "full-churn"
nodes = 40
duration_s = 90
mode = "full"
[topology]
degree = 6
[links]
latency_ms = { dist = "lognormal", median = 40, sigma = 0.5 }
loss = 0.01
detect_s = 5
[churn]
offline_fraction = 0.3
mean_session_s = 20
crash_fraction = 0.5
start_s = 5
[workload]
communities = 2
members = 20
posts_per_second_per_community = 1
messages = 60
start_s = 3
[full]
sync_interval_s = 10
"#;
    let s = run(src);
    let f = full(&s);
    assert!(s.churn.restarts > 0, "{:?}", s.churn);
    assert_eq!(f.restores, s.churn.restarts);
    assert!(f.restored_changes > 0);
    assert!(f.accepted_via_sync > 0, "restarted nodes catch up by sync");
    assert!(f.sync.failed > 0, "requests to departed peers fail");
    assert!(f.rejected.is_empty(), "{:?}", f.rejected);
    assert_eq!(f.state.heads_mismatches, 0);
    assert_eq!(f.state.converged, f.state.communities, "{:?}", f.state);
    // Members offline at publication get the change when they come back.
    assert!(
        s.delivery_ratio_online > 0.95,
        "{}",
        s.delivery_ratio_online
    );
}

#[test]
fn forged_changes_get_real_reject_verdicts() {
    let src = SMALL.replace("name = \"full-small\"", "name = \"full-forged\"")
        + "[attack]\nattacker_fraction = 0.1\nforged_per_second = 0.5\n";
    let s = run(&src);
    let f = full(&s);
    assert!(s.forged.published > 0);
    // Every forged copy that reached an honest replicator was refused for its signature.
    assert_eq!(f.rejected.keys().collect::<Vec<_>>(), vec!["BadSignature"]);
    assert_eq!(f.verdicts.reject, f.rejected["BadSignature"]);
    assert!(f.verdicts.reject > 0);
    // Rejected messages are never forwarded: the attackers' direct peers at most.
    assert!(s.forged.reach_mean < 7.0, "{:?}", s.forged);
    assert_eq!(f.accepted, f.expected, "honest changes all arrive");
    assert_converged(&s);
}

#[test]
fn light_mode_refuses_full_mode_keys() {
    let err = Scenario::from_toml_str(
        "x.toml",
        "name = \"x\"\nnodes = 10\nduration_s = 5\n[workload]\nreply_fraction = 0.2\n",
    )
    .expect_err("replies need full mode");
    assert!(err.to_string().contains("workload.reply_fraction"), "{err}");
    let err = Scenario::from_toml_str(
        "x.toml",
        "name = \"x\"\nnodes = 10\nduration_s = 5\nmode = \"full\"\n[full]\nwindow_s = 10\n",
    )
    .expect_err("window too short");
    assert!(err.to_string().contains("full.window_s"), "{err}");
    let err = Scenario::from_toml_str(
        "x.toml",
        "name = \"x\"\nnodes = 10\nduration_s = 5\nmode = \"full\"\n[full]\nsetup = \"join\"\npolicy = \"trust-flow\"\n",
    )
    .expect_err("join needs open or invite");
    assert!(err.to_string().contains("full.policy"), "{err}");
}
