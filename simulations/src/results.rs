//! What a run produces, before it is written anywhere: [`RunResult`] (the summary, the
//! sampled series, the latency histogram, per-message rows, recorded receipts, the graph
//! and membership used) and what is derived from it for the plots ([`CdfPoint`]).
//!
//! `output` writes these into files and `plot` draws them; both depend on this module and
//! neither on the other's types.

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::metrics::{Bucket, Summary, round6};
use crate::queue::Time;
use crate::topology::{Graph, Membership};
use crate::{MsgIx, NodeIx, TopicIx};

/// One first receipt, recorded when [`crate::world::RunOptions::record_receipts`] is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiptRecord {
    /// Message.
    pub msg: MsgIx,
    /// Receiving node.
    pub node: NodeIx,
    /// Sender of the first copy.
    pub from: NodeIx,
    /// Arrival time.
    pub at: Time,
    /// Hops of the first copy.
    pub hops: u16,
    /// Came by catch-up sync, not gossip.
    pub via_sync: bool,
}

/// One row of `messages.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageRow {
    /// Message index.
    pub msg: MsgIx,
    /// Message id (hex blake3).
    pub id: String,
    /// Topic.
    pub topic: TopicIx,
    /// Publisher.
    pub origin: NodeIx,
    /// Publication second.
    pub published_s: f64,
    /// Payload bytes.
    pub bytes: u32,
    /// Forged by an attacker.
    pub forged: bool,
    /// Expected receivers.
    pub expected: u32,
    /// Receivers.
    pub delivered: u32,
    /// Seconds from publication to the last first receipt.
    pub spread_s: f64,
}

/// Everything a run produces.
pub struct RunResult {
    /// `summary.json`.
    pub summary: Summary,
    /// `metrics.csv` rows.
    pub series: Vec<Bucket>,
    /// Latency histogram in µs (for the CDF plot).
    pub latency_us: Histogram<u64>,
    /// `copies[k]` = (member, message) pairs that received `k` copies (k ≤ 255).
    pub copies: Vec<u64>,
    /// `messages.csv` rows.
    pub messages: Vec<MessageRow>,
    /// First receipts, if recorded.
    pub receipts: Vec<ReceiptRecord>,
    /// The connection graph used.
    pub graph: Graph,
    /// The membership used.
    pub membership: Membership,
    /// Link latency of each graph edge (same order as `graph.edges`).
    pub edge_latency: Vec<Time>,
}

/// One point of the latency CDF.
#[derive(Debug, Clone, Serialize)]
pub struct CdfPoint {
    /// Latency, ms.
    pub latency_ms: f64,
    /// Share of first receipts at or below it.
    pub fraction: f64,
}

impl RunResult {
    /// Latency CDF points from the HDR histogram (one per recorded bucket).
    pub fn latency_cdf(&self) -> Vec<CdfPoint> {
        let h = &self.latency_us;
        let total = h.len();
        if total == 0 {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut seen = 0u64;
        for v in h.iter_recorded() {
            seen += v.count_at_value();
            out.push(CdfPoint {
                latency_ms: round6(h.highest_equivalent(v.value_iterated_to()) as f64 / 1e3),
                fraction: round6(seen as f64 / total as f64),
            });
        }
        out
    }
}
