//! The report: counters kept while the run goes, and the `full` section of
//! `summary.json` built from them at the end (changes made, acceptance and its latency,
//! rejections by kind, verdicts, sync traffic, persisted bytes, restores, joins, and the
//! `state` section from `convergence.rs`).

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use super::{Counters, ReplicatorApp, SyncFrame};
use crate::NodeIx;
use crate::ctx::Core;
use crate::metrics::{
    FullStats, JoinStats, MAX_LATENCY_US, MadeCounts, Percentiles, SyncCounts, VerdictCounts,
    round6,
};
use crate::scenario::Setup;

/// Significant figures of the acceptance-latency histogram.
const HDR_SIGFIG: u8 = 3;

/// The variant name of an error, for counting rejections by kind.
fn error_kind(e: &qun_crdt::Error) -> String {
    let d = format!("{e:?}");
    d.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

impl Counters {
    /// All zero.
    pub(super) fn new() -> Self {
        let hist = Histogram::new_with_bounds(1, MAX_LATENCY_US, HDR_SIGFIG).unwrap_or_else(|_| {
            // The bounds are constants that hdrhistogram accepts; keep a usable fallback.
            Histogram::new(HDR_SIGFIG).unwrap_or_else(|_| unreachable!("sigfig 3 is valid"))
        });
        Counters {
            made: MadeCounts::default(),
            edit_errors: 0,
            accepted: 0,
            via_gossip: 0,
            via_sync: 0,
            latency_us: hist,
            rejected: BTreeMap::new(),
            verdicts: VerdictCounts::default(),
            sync: SyncCounts::default(),
            gossip_payload_bytes: 0,
            persist_bytes: 0,
            restores: 0,
            restored_changes: 0,
            admitted: 0,
            join_times: Vec::new(),
            heads_checks: 0,
            heads_mismatches: 0,
        }
    }

    /// One more rejection of kind `error_kind(e)`.
    pub(super) fn reject(&mut self, e: &qun_crdt::Error) {
        *self.rejected.entry(error_kind(e)).or_default() += 1;
    }
}

impl ReplicatorApp {
    /// The `full` section of `summary.json` (`core.now` is the end of the run).
    pub(super) fn full_stats<C>(&mut self, core: &Core<C, SyncFrame>) -> FullStats {
        let mut expected = 0u64;
        for m in &core.messages.meta {
            if !m.forged {
                expected += m.expected as u64;
            }
        }
        let s = &self.stats;
        let accepted_ratio = if expected == 0 {
            0.0
        } else {
            round6(s.accepted as f64 / expected as f64)
        };
        let state = self.state_at_end(core);
        let mut outside = 0u64;
        for (v, n) in self.nodes.iter().enumerate() {
            for (s, &t) in core.membership.topics_of[v].iter().enumerate() {
                if !n.slots[s].member && self.communities[t as usize].founder != v as NodeIx {
                    outside += 1;
                }
            }
        }
        let s = &mut self.stats;
        let base_changes = self.communities.iter().map(|c| c.base.len() as u64).sum();
        FullStats {
            setup: match self.params.setup {
                Setup::Preadmitted => "preadmitted".into(),
                Setup::Join => "join".into(),
            },
            policy: self.params.policy.name(),
            base_changes,
            made: s.made.clone(),
            edit_errors: s.edit_errors,
            expected,
            accepted: s.accepted,
            accepted_ratio,
            accepted_via_gossip: s.via_gossip,
            accepted_via_sync: s.via_sync,
            accept_latency_ms: Percentiles::from_hist(&s.latency_us, 1e-3),
            rejected: s.rejected.clone(),
            verdicts: s.verdicts.clone(),
            sync: s.sync.clone(),
            gossip_payload_bytes: s.gossip_payload_bytes,
            persist_bytes: s.persist_bytes,
            restores: s.restores,
            restored_changes: s.restored_changes,
            joins: JoinStats {
                admitted: s.admitted,
                outside_at_end: outside,
                time_s: Percentiles::from_values(&mut s.join_times),
            },
            state,
        }
    }
}
