//! Cross-field validation of a raw scenario: one small validator per section, run in
//! file order by [`Scenario::validate`] (the first rule broken is the error reported).
//! Each names the dotted key at fault; `mod.rs` turns that into a line.

use std::path::PathBuf;

use super::{
    AttackConfig, ChurnConfig, FullConfig, GossipConfig, LinkConfig, MAX_MESSAGE_BYTES, MAX_NODES,
    Mode, PartitionConfig, Publishers, RawScenario, Scenario, ScoreConfig, Setup, TopologyConfig,
    TopologyKind, WorkloadConfig,
};
use crate::dist::{Dist, DistSpec};
use crate::queue::Time;

/// A validation failure before it is located in the source.
pub(super) struct Invalid {
    /// Dotted key at fault (`gossip.d_lo`, `partitions[1].end_s`).
    pub(super) key: String,
    /// What is wrong and what would be accepted.
    pub(super) message: String,
}

/// An error at `key`.
fn invalid(key: &str, message: impl Into<String>) -> Invalid {
    Invalid {
        key: key.to_string(),
        message: message.into(),
    }
}

impl Scenario {
    /// Cross-field validation of a raw scenario, section by section in file order.
    pub(super) fn validate(mut raw: RawScenario, base_dir: PathBuf) -> Result<Scenario, Invalid> {
        top_level(&raw)?;
        topology(&raw.topology)?;
        let (latency_ms, jitter_ms, upload_mbit_s) = links(&raw.links)?;
        gossip(&raw.gossip)?;
        let (message_bytes, validation_ms) = workload(&mut raw.workload, raw.nodes, raw.mode)?;
        full(&raw.full)?;
        churn(&raw.churn)?;
        partitions(&raw.partitions)?;
        attack(&raw.attack)?;
        pos("output.sample_interval_s", raw.output.sample_interval_s)?;
        if let Some(t) = &raw.trust {
            t.check()
                .map_err(|(k, m)| invalid(&format!("trust.{k}"), m))?;
        }
        let duration = Time::from_secs_f64(raw.duration_s);
        Ok(Scenario {
            raw,
            base_dir,
            latency_ms,
            jitter_ms,
            upload_mbit_s,
            message_bytes,
            validation_ms,
            duration,
        })
    }
}

/// `v` in `[0, 1]`.
fn frac(key: &str, v: f64) -> Result<(), Invalid> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(invalid(key, format!("must be in [0, 1], got {v}")))
    }
}

/// `v` finite and `> 0`.
fn pos(key: &str, v: f64) -> Result<(), Invalid> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(invalid(key, format!("must be > 0, got {v}")))
    }
}

/// `v` finite and `>= 0`.
fn nonneg(key: &str, v: f64) -> Result<(), Invalid> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(invalid(key, format!("must be >= 0, got {v}")))
    }
}

/// A distribution whose parameters make sense.
fn dist(key: &str, d: &DistSpec) -> Result<Dist, Invalid> {
    let d = d.to_dist();
    d.check().map_err(|m| invalid(key, m))?;
    Ok(d)
}

/// Name, seeds, node count and duration.
fn top_level(raw: &RawScenario) -> Result<(), Invalid> {
    if raw.name.trim().is_empty() {
        return Err(invalid("name", "must not be empty"));
    }
    if raw.seeds.is_empty() {
        return Err(invalid("seeds", "list at least one seed"));
    }
    if raw.nodes < 2 || raw.nodes > MAX_NODES {
        return Err(invalid(
            "nodes",
            format!("must be in 2..={MAX_NODES}, got {}", raw.nodes),
        ));
    }
    pos("duration_s", raw.duration_s)?;
    Ok(())
}

/// `[topology]`.
fn topology(topo: &TopologyConfig) -> Result<(), Invalid> {
    if topo.degree == 0 {
        return Err(invalid("topology.degree", "must be >= 1"));
    }
    frac("topology.rewire", topo.rewire)?;
    if topo.kind == TopologyKind::Edges && topo.edges_file.is_none() {
        return Err(invalid(
            "topology.edges_file",
            "required when topology.kind = \"edges\"",
        ));
    }
    Ok(())
}

/// `[links]`: the latency, jitter and upload distributions, checked.
fn links(l: &LinkConfig) -> Result<(Dist, Dist, Dist), Invalid> {
    let latency_ms = dist("links.latency_ms", &l.latency_ms)?;
    let jitter_ms = dist("links.jitter_ms", &l.jitter_ms)?;
    let upload_mbit_s = dist("links.upload_mbit_s", &l.upload_mbit_s)?;
    frac("links.loss", l.loss)?;
    nonneg("links.detect_s", l.detect_s)?;
    Ok((latency_ms, jitter_ms, upload_mbit_s))
}

/// `[gossip]` (the mesh bounds follow libp2p's `ConfigBuilder`), then `[gossip.score]`.
fn gossip(g: &GossipConfig) -> Result<(), Invalid> {
    if g.d == 0 {
        return Err(invalid("gossip.d", "must be >= 1"));
    }
    if g.d_lo > g.d {
        return Err(invalid(
            "gossip.d_lo",
            format!("must be <= gossip.d ({}), got {}", g.d, g.d_lo),
        ));
    }
    if g.d_hi < g.d {
        return Err(invalid(
            "gossip.d_hi",
            format!("must be >= gossip.d ({}), got {}", g.d, g.d_hi),
        ));
    }
    if g.d_score > g.d {
        return Err(invalid(
            "gossip.d_score",
            format!("must be <= gossip.d ({}), got {}", g.d, g.d_score),
        ));
    }
    // libp2p ConfigBuilder: mesh_outbound_min <= mesh_n_low and < mesh_n / 2 + 1.
    if g.d_out > g.d_lo || g.d_out > g.d / 2 {
        return Err(invalid(
            "gossip.d_out",
            format!(
                "must be <= gossip.d_lo ({}) and <= gossip.d / 2 ({}), got {}",
                g.d_lo,
                g.d / 2,
                g.d_out
            ),
        ));
    }
    pos("gossip.heartbeat_ms", g.heartbeat_ms)?;
    nonneg("gossip.fanout_ttl_s", g.fanout_ttl_s)?;
    if g.mcache_gossip == 0 || g.mcache_gossip > g.mcache_len {
        return Err(invalid(
            "gossip.mcache_gossip",
            format!(
                "must be in 1..=gossip.mcache_len ({}), got {}",
                g.mcache_len, g.mcache_gossip
            ),
        ));
    }
    frac("gossip.gossip_factor", g.gossip_factor)?;
    nonneg("gossip.prune_backoff_s", g.prune_backoff_s)?;
    nonneg("gossip.iwant_followup_ms", g.iwant_followup_ms)?;
    score(&g.score)
}

/// `[gossip.score]`: weights' signs, decays in `[0, 1]`, thresholds in order.
fn score(s: &ScoreConfig) -> Result<(), Invalid> {
    for (k, v) in [
        ("time_in_mesh_weight", s.time_in_mesh_weight),
        (
            "first_message_deliveries_weight",
            s.first_message_deliveries_weight,
        ),
        ("topic_weight", s.topic_weight),
    ] {
        nonneg(&format!("gossip.score.{k}"), v)?;
    }
    for (k, v) in [
        (
            "mesh_message_deliveries_weight",
            s.mesh_message_deliveries_weight,
        ),
        ("mesh_failure_penalty_weight", s.mesh_failure_penalty_weight),
        (
            "invalid_message_deliveries_weight",
            s.invalid_message_deliveries_weight,
        ),
        ("behaviour_penalty_weight", s.behaviour_penalty_weight),
    ] {
        if !(v.is_finite() && v <= 0.0) {
            return Err(invalid(
                &format!("gossip.score.{k}"),
                format!("must be <= 0, got {v}"),
            ));
        }
    }
    for (k, v) in [
        (
            "first_message_deliveries_decay",
            s.first_message_deliveries_decay,
        ),
        (
            "mesh_message_deliveries_decay",
            s.mesh_message_deliveries_decay,
        ),
        ("mesh_failure_penalty_decay", s.mesh_failure_penalty_decay),
        (
            "invalid_message_deliveries_decay",
            s.invalid_message_deliveries_decay,
        ),
        ("behaviour_penalty_decay", s.behaviour_penalty_decay),
    ] {
        frac(&format!("gossip.score.{k}"), v)?;
    }
    pos(
        "gossip.score.time_in_mesh_quantum_s",
        s.time_in_mesh_quantum_s,
    )?;
    pos("gossip.score.decay_interval_s", s.decay_interval_s)?;
    if !(s.graylist_threshold <= s.publish_threshold
        && s.publish_threshold <= s.gossip_threshold
        && s.gossip_threshold <= 0.0)
    {
        return Err(invalid(
            "gossip.score.gossip_threshold",
            "need graylist_threshold <= publish_threshold <= gossip_threshold <= 0",
        ));
    }
    Ok(())
}

/// `[workload]`; `posts_per_second_per_community`, when set, sets `posts_per_second`.
/// Returns the message-size and validation-time distributions.
fn workload(w: &mut WorkloadConfig, nodes: u32, mode: Mode) -> Result<(Dist, Dist), Invalid> {
    if w.communities == 0 || w.communities > u16::MAX as u32 {
        return Err(invalid("workload.communities", "must be in 1..=65535"));
    }
    if w.members == 1 || w.members > nodes {
        return Err(invalid(
            "workload.members",
            format!(
                "must be 0 (all nodes) or in 2..=nodes ({}), got {}",
                nodes, w.members
            ),
        ));
    }
    nonneg("workload.posts_per_second", w.posts_per_second)?;
    if w.posts_per_second_per_community > 0.0 {
        w.posts_per_second = w.posts_per_second_per_community * w.communities as f64;
    }
    if w.messages > 0 && w.posts_per_second <= 0.0 {
        return Err(invalid(
            "workload.posts_per_second",
            "must be > 0 when workload.messages > 0",
        ));
    }
    nonneg("workload.start_s", w.start_s)?;
    let message_bytes = dist("workload.message_bytes", &w.message_bytes)?;
    if message_bytes.mean() > MAX_MESSAGE_BYTES {
        return Err(invalid(
            "workload.message_bytes",
            format!("mean must be <= {MAX_MESSAGE_BYTES} bytes"),
        ));
    }
    let validation_ms = dist("workload.validation_ms", &w.validation_ms)?;
    nonneg("workload.catch_up_interval_s", w.catch_up_interval_s)?;
    nonneg(
        "workload.posts_per_second_per_community",
        w.posts_per_second_per_community,
    )?;
    frac("workload.reply_fraction", w.reply_fraction)?;
    frac("workload.react_fraction", w.react_fraction)?;
    if w.reply_fraction + w.react_fraction > 1.0 {
        return Err(invalid(
            "workload.react_fraction",
            "reply_fraction + react_fraction must be <= 1",
        ));
    }
    if mode == Mode::Light && (w.reply_fraction > 0.0 || w.react_fraction > 0.0) {
        return Err(invalid(
            "workload.reply_fraction",
            "replies and reactions need mode = \"full\" (light mode only carries sizes)",
        ));
    }
    if mode == Mode::Full {
        if w.catch_up {
            return Err(invalid(
                "workload.catch_up",
                "light-mode catch-up; in mode = \"full\" the replicator syncs by itself (see full.sync_interval_s)",
            ));
        }
        if w.publishers == Publishers::Anyone {
            return Err(invalid(
                "workload.publishers",
                "in mode = \"full\" only members can post (\"members\")",
            ));
        }
    }
    Ok((message_bytes, validation_ms))
}

/// `[full]`.
fn full(f: &FullConfig) -> Result<(), Invalid> {
    let policy: qun_crdt::AdmissionPolicy = f
        .policy
        .parse()
        .map_err(|e| invalid("full.policy", format!("{e}")))?;
    if f.setup == Setup::Join
        && !matches!(
            policy,
            qun_crdt::AdmissionPolicy::Open | qun_crdt::AdmissionPolicy::Invite
        )
    {
        return Err(invalid(
            "full.policy",
            "with full.setup = \"join\" use \"open\" or \"invite\" (the other policies need endorsements in the history first)",
        ));
    }
    if !(f.window_s.is_finite() && f.window_s >= 60.0) {
        return Err(invalid(
            "full.window_s",
            format!(
                "must be >= 60 (the shortest content window), got {}",
                f.window_s
            ),
        ));
    }
    pos("full.sync_interval_s", f.sync_interval_s)?;
    pos("full.sync_timeout_s", f.sync_timeout_s)?;
    Ok(())
}

/// `[churn]`.
fn churn(c: &ChurnConfig) -> Result<(), Invalid> {
    if !(0.0..0.95).contains(&c.offline_fraction) {
        return Err(invalid(
            "churn.offline_fraction",
            format!("must be in [0, 0.95), got {}", c.offline_fraction),
        ));
    }
    pos("churn.mean_session_s", c.mean_session_s)?;
    frac("churn.crash_fraction", c.crash_fraction)?;
    nonneg("churn.start_s", c.start_s)?;
    frac("churn.join_fraction", c.join_fraction)?;
    nonneg("churn.join_window_s", c.join_window_s)?;
    Ok(())
}

/// `[[partitions]]`: each well formed, in time order, not overlapping.
fn partitions(ps: &[PartitionConfig]) -> Result<(), Invalid> {
    let mut last_end = 0.0;
    for (i, p) in ps.iter().enumerate() {
        let key = |f: &str| format!("partitions[{i}].{f}");
        nonneg(&key("start_s"), p.start_s)?;
        if p.start_s < last_end {
            return Err(invalid(
                &key("start_s"),
                format!(
                    "partitions must not overlap: starts before the previous one ends ({last_end})"
                ),
            ));
        }
        if p.end_s <= p.start_s {
            return Err(invalid(
                &key("end_s"),
                format!("must be > start_s ({}), got {}", p.start_s, p.end_s),
            ));
        }
        if !(p.fraction > 0.0 && p.fraction < 1.0) {
            return Err(invalid(
                &key("fraction"),
                format!("must be in (0, 1), got {}", p.fraction),
            ));
        }
        last_end = p.end_s;
    }
    Ok(())
}

/// `[attack]`.
fn attack(a: &AttackConfig) -> Result<(), Invalid> {
    frac("attack.attacker_fraction", a.attacker_fraction)?;
    nonneg("attack.forged_per_second", a.forged_per_second)
}
