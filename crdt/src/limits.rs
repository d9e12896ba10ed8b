//! Size limits enforced on every input before it reaches Automerge or ed25519.

use crate::error::{Error, Result};

/// Default largest encoded change (64 KiB): a post is ~200 bytes; a long post with markdown a
/// few KiB.
pub const DEFAULT_MAX_CHANGE_BYTES: usize = 64 * 1024;
/// Default most operations in one change.
pub const DEFAULT_MAX_OPS_PER_CHANGE: usize = 2_000;
/// Default largest document, counted as the sum of its changes' encoded sizes (64 MiB).
pub const DEFAULT_MAX_DOC_BYTES: usize = 64 * 1024 * 1024;
/// Default most changes waiting for missing dependencies, per community.
pub const DEFAULT_MAX_PENDING: usize = 10_000;
/// Default largest gossip message (256 KiB; gossipsub's own limit is set from this).
pub const DEFAULT_MAX_GOSSIP_BYTES: usize = 256 * 1024;
/// Default largest sync message (4 MiB): a 10k-change catch-up fits in one response.
pub const DEFAULT_MAX_SYNC_BYTES: usize = 4 * 1024 * 1024;
/// Room kept in a sync message for its framing (ids, tags, list lengths, flags). A response's
/// heads, samples and per-document entries are counted exactly besides this.
pub const SYNC_FRAMING_BYTES: usize = 4 * 1024;
/// Most changes in one gossip message (default).
pub const DEFAULT_MAX_CHANGES_PER_GOSSIP: usize = 64;

/// Limits applied to everything that arrives from peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest encoded change, bytes.
    pub max_change_bytes: usize,
    /// Most operations in one change.
    pub max_ops_per_change: usize,
    /// Largest document (sum of change sizes), bytes.
    pub max_doc_bytes: usize,
    /// Most changes waiting for dependencies, per community.
    pub max_pending: usize,
    /// Largest gossip message, bytes.
    pub max_gossip_bytes: usize,
    /// Largest sync request or response, bytes.
    pub max_sync_bytes: usize,
    /// Most changes in one gossip message.
    pub max_changes_per_gossip: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_change_bytes: DEFAULT_MAX_CHANGE_BYTES,
            max_ops_per_change: DEFAULT_MAX_OPS_PER_CHANGE,
            max_doc_bytes: DEFAULT_MAX_DOC_BYTES,
            max_pending: DEFAULT_MAX_PENDING,
            max_gossip_bytes: DEFAULT_MAX_GOSSIP_BYTES,
            max_sync_bytes: DEFAULT_MAX_SYNC_BYTES,
            max_changes_per_gossip: DEFAULT_MAX_CHANGES_PER_GOSSIP,
        }
    }
}

impl Limits {
    /// Check the limits are coherent: a change must fit in a gossip message and a sync message.
    pub fn validated(self) -> Result<Self> {
        let bad = |reason: &str| Err(Error::decode("limits", reason));
        if self.max_change_bytes == 0 || self.max_ops_per_change == 0 {
            return bad("max_change_bytes and max_ops_per_change must be positive");
        }
        // A gossip message carries at least one change (or one governance change carrying
        // equivocation evidence) plus ~200 bytes of framing.
        if self.max_gossip_bytes < self.max_evidence_bytes() + 256 {
            return bad("max_gossip_bytes must exceed 3 x max_change_bytes + 4 KiB");
        }
        if self.max_sync_bytes < self.max_gossip_bytes {
            return bad("max_sync_bytes must be at least max_gossip_bytes");
        }
        // A sync response must have room for the largest change besides its framing and
        // heads (which get at most a quarter), or a catch-up answers `more` with nothing,
        // forever.
        if self.max_sync_bytes - self.max_sync_heads_bytes()
            < self.max_evidence_bytes() + SYNC_FRAMING_BYTES
        {
            return bad("max_sync_bytes must exceed 4/3 x (3 x max_change_bytes + 8 KiB)");
        }
        if self.max_doc_bytes < self.max_change_bytes {
            return bad("max_doc_bytes must be at least max_change_bytes");
        }
        if self.max_changes_per_gossip == 0 {
            return bad("max_changes_per_gossip must be positive");
        }
        Ok(self)
    }

    /// Most bytes of heads (and samples) in one sync response: a quarter of it; beyond that,
    /// the heads of the oldest documents are left out (the peer then offers those documents
    /// whole, which costs bytes, never correctness).
    pub fn max_sync_heads_bytes(&self) -> usize {
        self.max_sync_bytes / 4
    }

    /// Largest governance change carrying equivocation evidence: two changes of up to
    /// `max_change_bytes`, base64 in the message (every other change must fit
    /// `max_change_bytes`).
    pub fn max_evidence_bytes(&self) -> usize {
        self.max_change_bytes.saturating_mul(3).saturating_add(4096)
    }

    /// Pre-scan change bytes under these limits (operations, and predecessor references at
    /// twice that), as the first thing done with bytes from anyone: see [`crate::prescan`].
    pub fn prescan(&self, bytes: &[u8]) -> Result<crate::prescan::ChangeHeader> {
        let ops = self.max_ops_per_change as u64;
        crate::prescan::prescan(bytes, ops, ops.saturating_mul(2))
            .map_err(|e| Error::decode("change", e))
    }

    pub(crate) fn check(what: &'static str, limit: usize, actual: usize) -> Result<()> {
        if actual > limit {
            Err(Error::TooLarge {
                what,
                limit,
                actual,
            })
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_incoherent_is_refused() {
        assert!(Limits::default().validated().is_ok());
        let l = Limits {
            max_gossip_bytes: 100,
            ..Limits::default()
        };
        assert!(l.validated().is_err());
    }

    /// A sync size that leaves no room for one change besides the margin would make every
    /// catch-up answer "more" with nothing in it, forever.
    #[test]
    fn a_sync_size_without_room_for_a_change_is_refused() {
        let l = Limits {
            max_change_bytes: 4 * 1024,
            max_gossip_bytes: 17 * 1024,
            max_sync_bytes: 20 * 1024,
            ..Limits::default()
        };
        assert!(l.validated().is_err());
        let l = Limits {
            max_sync_bytes: (l.max_evidence_bytes() + SYNC_FRAMING_BYTES) * 4 / 3 + 4,
            ..l
        };
        assert!(l.validated().is_ok());
    }
}
