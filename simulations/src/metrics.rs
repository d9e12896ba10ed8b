//! Counters, HDR histograms and the time series of a run, and the [`Summary`] built from them.
//!
//! Definitions (all over honest, non-forged messages unless named otherwise):
//! - delivery ratio = first receipts by members / (members − origin), summed over messages;
//!   `delivery_ratio_online` counts only members online when the message was published;
//! - latency = first receipt − publication; hops = hops of the first copy;
//! - copies per delivery = data frames received by members (first and duplicate copies)
//!   / first receipts; duplicates per delivery = copies − 1 (the "about 6 copies" figure of
//!   the gossipsub evaluations counts copies);
//! - bytes per node = bytes a node put on the wire, data (message frames) and control
//!   (GRAFT, PRUNE, IHAVE, IWANT, IDONTWANT, sync requests).

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::queue::Time;

/// Highest latency the histogram resolves, in µs (one hour).
pub const MAX_LATENCY_US: u64 = 3_600_000_000;
/// Significant figures of the HDR histograms.
const HDR_SIGFIG: u8 = 3;
/// Highest hop count recorded.
pub const MAX_HOPS: u64 = 255;

/// One row of `metrics.csv`: what happened during one sample interval.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// Interval start, seconds.
    pub t_s: f64,
    /// Honest messages published.
    pub published: u64,
    /// Expected receipts of those messages (members minus origin).
    pub expected: u64,
    /// First receipts (gossip and sync).
    pub delivered: u64,
    /// Cumulative delivery ratio up to the end of this interval.
    pub delivery_ratio_cum: f64,
    /// Duplicate data copies received.
    pub duplicates: u64,
    /// Data bytes sent.
    pub data_bytes: u64,
    /// Control bytes sent.
    pub control_bytes: u64,
    /// Nodes online at the end of the interval.
    pub online: u64,
    /// Events processed.
    pub events: u64,
}

/// Live counters of a run.
pub struct Metrics {
    /// First-receipt latency in µs.
    pub latency_us: Histogram<u64>,
    /// Hops of first receipts.
    pub hops: Histogram<u64>,
    /// First receipts of honest messages by gossip.
    pub deliveries: u64,
    /// First receipts by catch-up sync.
    pub sync_deliveries: u64,
    /// Duplicate data copies at members.
    pub duplicates: u64,
    /// First receipts of forged messages.
    pub forged_deliveries: u64,
    /// Data bytes sent, per node.
    pub data_sent: Vec<u64>,
    /// Control bytes sent, per node.
    pub control_sent: Vec<u64>,
    /// Data frames sent.
    pub data_frames: u64,
    /// Control frames sent.
    pub control_frames: u64,
    /// Frames lost by the link model.
    pub lost_frames: u64,
    /// Frames whose connection closed (churn, partition) before they arrived.
    pub dropped_in_flight: u64,
    /// Frames addressed over a connection that was not up.
    pub no_link_frames: u64,
    /// Crashes (silent departures).
    pub crashes: u64,
    /// Graceful departures.
    pub leaves: u64,
    /// Restarts after a departure.
    pub restarts: u64,
    /// First joins of late-joining nodes.
    pub joins: u64,
    /// Time series.
    pub series: Vec<Bucket>,
    interval: Time,
}

impl Metrics {
    /// Counters for `nodes` nodes with rows every `interval`.
    pub fn new(nodes: usize, interval: Time) -> Metrics {
        let hist = |max| {
            Histogram::new_with_bounds(1, max, HDR_SIGFIG).unwrap_or_else(|_| {
                // The bounds are constants that hdrhistogram accepts; keep a usable fallback.
                Histogram::new(HDR_SIGFIG).unwrap_or_else(|_| unreachable!("sigfig 3 is valid"))
            })
        };
        Metrics {
            latency_us: hist(MAX_LATENCY_US),
            hops: hist(MAX_HOPS),
            deliveries: 0,
            sync_deliveries: 0,
            duplicates: 0,
            forged_deliveries: 0,
            data_sent: vec![0; nodes],
            control_sent: vec![0; nodes],
            data_frames: 0,
            control_frames: 0,
            lost_frames: 0,
            dropped_in_flight: 0,
            no_link_frames: 0,
            crashes: 0,
            leaves: 0,
            restarts: 0,
            joins: 0,
            series: Vec::new(),
            interval: interval.max(Time(1)),
        }
    }

    /// The row covering `now`.
    pub fn bucket(&mut self, now: Time) -> &mut Bucket {
        let i = (now.0 / self.interval.0) as usize;
        while self.series.len() <= i {
            let t_s = Time(self.series.len() as u64 * self.interval.0).as_secs_f64();
            self.series.push(Bucket {
                t_s,
                ..Bucket::default()
            });
        }
        &mut self.series[i]
    }

    /// Sample interval.
    pub fn interval(&self) -> Time {
        self.interval
    }

    /// Fills the cumulative columns.
    pub fn finish_series(&mut self) {
        let (mut exp, mut del) = (0u64, 0u64);
        for b in &mut self.series {
            exp += b.expected;
            del += b.delivered;
            b.delivery_ratio_cum = if exp == 0 {
                0.0
            } else {
                del as f64 / exp as f64
            };
        }
    }
}

/// Percentiles of a distribution.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Maximum.
    pub max: f64,
}

impl Percentiles {
    /// From a histogram, each value multiplied by `scale`.
    pub fn from_hist(h: &Histogram<u64>, scale: f64) -> Percentiles {
        if h.is_empty() {
            return Percentiles::default();
        }
        Percentiles {
            mean: round6(h.mean() * scale),
            p50: round6(h.value_at_quantile(0.5) as f64 * scale),
            p90: round6(h.value_at_quantile(0.9) as f64 * scale),
            p99: round6(h.value_at_quantile(0.99) as f64 * scale),
            max: round6(h.max() as f64 * scale),
        }
    }

    /// From raw values (sorted in place).
    pub fn from_values(v: &mut [f64]) -> Percentiles {
        if v.is_empty() {
            return Percentiles::default();
        }
        v.sort_by(f64::total_cmp);
        let q = |p: f64| v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Percentiles {
            mean: round6(v.iter().sum::<f64>() / v.len() as f64),
            p50: round6(q(0.5)),
            p90: round6(q(0.9)),
            p99: round6(q(0.99)),
            max: round6(v[v.len() - 1]),
        }
    }
}

/// Rounds to 6 decimals so JSON stays readable (and still deterministic).
pub fn round6(x: f64) -> f64 {
    if x.is_finite() {
        (x * 1e6).round() / 1e6
    } else {
        x
    }
}

/// Bytes each node sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BytesPerNode {
    /// Data bytes sent per node.
    pub data: Percentiles,
    /// Control bytes sent per node.
    pub control: Percentiles,
}

/// Frame counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Frames {
    /// Data frames sent.
    pub data: u64,
    /// Control frames sent.
    pub control: u64,
    /// Lost by the link model.
    pub lost: u64,
    /// Connection closed before arrival.
    pub dropped_in_flight: u64,
    /// Sent over a connection that was down.
    pub no_link: u64,
}

/// How long messages took to reach everyone who got them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Convergence {
    /// Time of the last first receipt of any honest message, seconds since start.
    pub last_delivery_s: f64,
    /// Per message: last first receipt − publication, seconds.
    pub spread_s: Percentiles,
    /// Honest messages every member received.
    pub fully_delivered: u64,
    /// Honest messages every member online at publication received.
    pub fully_delivered_online: u64,
}

/// Churn counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChurnCounts {
    /// Silent departures.
    pub crashes: u64,
    /// Graceful departures.
    pub leaves: u64,
    /// Restarts.
    pub restarts: u64,
    /// Late first joins.
    pub joins: u64,
}

/// Forged-message attack outcome.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ForgedStats {
    /// Forged messages published.
    pub published: u64,
    /// Receipts of forged messages (they are rejected, not forwarded).
    pub receipts: u64,
    /// Mean receipts per forged message.
    pub reach_mean: f64,
}

/// Protocol counters reported by the dissemination model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProtoStats {
    /// GRAFTs sent.
    pub grafts: u64,
    /// PRUNEs sent.
    pub prunes: u64,
    /// IHAVE frames sent.
    pub ihaves: u64,
    /// IWANT frames sent.
    pub iwants: u64,
    /// Messages sent in answer to IWANT.
    pub iwant_replies: u64,
    /// IDONTWANT frames sent.
    pub idontwants: u64,
    /// Forwards skipped thanks to IDONTWANT.
    pub idontwant_saved: u64,
    /// Broken IWANT promises (P₇).
    pub broken_promises: u64,
    /// Mean mesh size over subscribed topics of online nodes at the end.
    pub mesh_degree_mean: f64,
}

/// Everything `summary.json` holds. Same seed ⇒ same bytes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Seed of the run.
    pub seed: u64,
    /// Dissemination model.
    pub protocol: String,
    /// Application mode.
    pub mode: String,
    /// Nodes.
    pub nodes: u32,
    /// Connections in the graph.
    pub edges: u64,
    /// Communities (topics).
    pub communities: u32,
    /// Simulated seconds.
    pub duration_s: f64,
    /// Events processed.
    pub events: u64,
    /// Most events pending at once (the queue's peak size).
    pub peak_queue: u64,
    /// Hash of the event log (time, kind and endpoints of every event), hex.
    pub event_log_hash: String,
    /// Honest messages published.
    pub messages_published: u64,
    /// Delivery ratio over all members.
    pub delivery_ratio: f64,
    /// Delivery ratio over members online at publication.
    pub delivery_ratio_online: f64,
    /// First-receipt latency, ms.
    pub latency_ms: Percentiles,
    /// Hops of first receipts.
    pub hops: Percentiles,
    /// ln N / ln D: the hop floor of a D-regular random mesh (N = mean community size).
    pub hop_floor: f64,
    /// Mean link latency drawn, ms.
    pub mean_link_latency_ms: f64,
    /// Data copies received per first receipt.
    pub copies_per_delivery: f64,
    /// Duplicates per first receipt (copies − 1).
    pub duplicates_per_delivery: f64,
    /// First receipts by gossip.
    pub deliveries: u64,
    /// First receipts by catch-up sync.
    pub sync_deliveries: u64,
    /// Duplicate copies.
    pub duplicates: u64,
    /// Bytes sent per node.
    pub bytes_per_node: BytesPerNode,
    /// Frame counters.
    pub frames: Frames,
    /// Spread and convergence.
    pub convergence: Convergence,
    /// Churn.
    pub churn: ChurnCounts,
    /// Forged messages.
    pub forged: ForgedStats,
    /// Protocol counters.
    pub gossip: ProtoStats,
    /// Trust layer: one qun-trust Sybil report per attack-edge count (absent without `[trust]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust: Option<Vec<qun_trust::eval::SybilReport>>,
    /// Full-fidelity mode: what the real replicators did (absent in light mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full: Option<FullStats>,
}

/// Full-fidelity mode: counters of the real `qun_crdt::Replicator`s of a run.
///
/// A "change" is one signed Automerge change (a post, reply, reaction or join) made by a
/// local edit; each is published as one gossip message. Acceptance counts
/// `Event::Accepted` at honest members other than the author, whether the change came by
/// gossip or by sync.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FullStats {
    /// How members got in: `preadmitted` or `join`.
    pub setup: String,
    /// Admission policy of the communities.
    pub policy: String,
    /// Changes every replica started from (genesis excluded), summed over communities.
    pub base_changes: u64,
    /// Changes made during the run, by kind.
    pub made: MadeCounts,
    /// Local edits the replicator refused (e.g. posting before being admitted).
    pub edit_errors: u64,
    /// Expected acceptances: published changes × honest members other than the author.
    pub expected: u64,
    /// Acceptances among those.
    pub accepted: u64,
    /// `accepted / expected`.
    pub accepted_ratio: f64,
    /// Of the acceptances, by gossip.
    pub accepted_via_gossip: u64,
    /// Of the acceptances, by sync.
    pub accepted_via_sync: u64,
    /// Publication to acceptance, ms.
    pub accept_latency_ms: Percentiles,
    /// `Event::Rejected` at any node (0 without attackers), by error kind.
    pub rejected: BTreeMapU64,
    /// Gossip verdicts given by the replicators.
    pub verdicts: VerdictCounts,
    /// Sync traffic.
    pub sync: SyncCounts,
    /// Gossip payload bytes published (changes, before gossipsub framing).
    pub gossip_payload_bytes: u64,
    /// Bytes handed to the store (change bytes and signatures, genesis).
    pub persist_bytes: u64,
    /// Restarts rebuilt from the store with `Replicator::restore`.
    pub restores: u64,
    /// Changes those restores re-verified and loaded.
    pub restored_changes: u64,
    /// `setup = "join"`: members admitted during the run, and the time each took from its
    /// first start to `MembershipChanged` (member), seconds.
    pub joins: JoinStats,
    /// Convergence of community state.
    pub state: StateConvergence,
}

/// Counts by error kind, in key order.
pub type BTreeMapU64 = std::collections::BTreeMap<String, u64>;

/// Changes made, by kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MadeCounts {
    /// Top-level posts.
    pub posts: u64,
    /// Replies.
    pub replies: u64,
    /// Reactions.
    pub reactions: u64,
    /// Governance changes (joins).
    pub governance: u64,
}

/// Verdicts on gossip messages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VerdictCounts {
    /// Valid and new.
    pub accept: u64,
    /// Invalid (costs the sender P₄).
    pub reject: u64,
    /// Duplicate, unknown community or waiting for dependencies.
    pub ignore: u64,
}

/// Request-response sync traffic.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncCounts {
    /// Requests sent (heads, and pushes of what a peer lacks).
    pub requests: u64,
    /// Responses sent.
    pub responses: u64,
    /// Requests that failed (peer left, or no answer within `full.sync_timeout_s`).
    pub failed: u64,
    /// Sync rounds that brought at least one change.
    pub rounds_with_news: u64,
    /// Request bytes carrying only heads (control).
    pub control_bytes: u64,
    /// Request and response bytes carrying changes (data).
    pub data_bytes: u64,
}

/// Joins through the protocol.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JoinStats {
    /// Members that became members during the run.
    pub admitted: u64,
    /// Members still outside at the end (online or not).
    pub outside_at_end: u64,
    /// First start to admission, seconds.
    pub time_s: Percentiles,
}

/// Convergence of community state: every online honest member holding the same changes
/// (attackers are left out: honest peers graylist them, so they fall behind by design).
///
/// Tracked exactly, event by event (each member's change count against the community's
/// total); each time a community converges, and at the end of the run, every online
/// member's `Community::heads` of every document are compared to confirm it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StateConvergence {
    /// Communities.
    pub communities: u32,
    /// Communities whose online members all held the same state at some point after the
    /// community's last change.
    pub converged: u32,
    /// Per community: last change → first instant all online members were identical, s.
    pub convergence_s: Percentiles,
    /// Time of the last change of any community, seconds since start.
    pub last_change_s: f64,
    /// Time every community had converged after its last change, seconds since start.
    pub all_converged_at_s: Option<f64>,
    /// Communities whose online members have identical heads at the end of the run.
    pub identical_at_end: u32,
    /// Online members (summed over communities) whose heads differ at the end from those
    /// of a member holding every change.
    pub divergent_members_at_end: u64,
    /// Heads comparisons made (at each convergence and at the end).
    pub heads_checks: u64,
    /// Comparisons where the change counts said "identical" but the heads differed
    /// (must be 0).
    pub heads_mismatches: u64,
}
