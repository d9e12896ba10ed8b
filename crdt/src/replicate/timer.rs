//! Timers of the replication core: one heap keyed by `(time, seq)`; the driver asks for the
//! earliest deadline with `poll_timeout` and sends `Input::Tick` when it has passed. An early or
//! repeated tick is a no-op.

use crate::ids::CommunityId;
use qun_identity::Timestamp;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// What a timer is for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// Anti-entropy: sync this community with a random peer.
    Sync(CommunityId),
    /// While joining: ask known peers for the genesis again.
    JoinRetry(CommunityId),
    /// Apply the gossip changes staged in this community.
    Flush(CommunityId),
    /// Drop pending changes that waited too long.
    ExpirePending(CommunityId),
    /// Publish expiry actions for expired certificates and endorsements.
    Expiry(CommunityId),
}

/// A min-heap of timers with a sequence number for a stable order among equal deadlines.
#[derive(Debug, Default)]
pub(crate) struct TimerMap {
    heap: BinaryHeap<Reverse<(Timestamp, u64, Timer)>>,
    seq: u64,
}

impl TimerMap {
    pub(crate) fn insert(&mut self, at: Timestamp, t: Timer) {
        self.seq += 1;
        self.heap.push(Reverse((at, self.seq, t)));
    }

    pub(crate) fn next_deadline(&self) -> Option<Timestamp> {
        self.heap.peek().map(|Reverse((t, _, _))| *t)
    }

    /// Remove and return every timer due at `now`, in deadline order.
    pub(crate) fn drain_due(&mut self, now: Timestamp) -> Vec<Timer> {
        let mut out = Vec::new();
        while let Some(Reverse((t, _, _))) = self.heap.peek() {
            if *t > now {
                break;
            }
            if let Some(Reverse((_, _, timer))) = self.heap.pop() {
                out.push(timer);
            }
        }
        out
    }
}
