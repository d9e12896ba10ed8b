//! Coming back from a failed store write without a restart.
//!
//! A failed write (disk full, I/O error) puts the node in its failed state (see
//! `Driver::store_failed`): nothing is acknowledged or forwarded, because the core's memory is
//! ahead of the disk. Every [`STORE_RETRY`], and before a local edit, the driver asks the store
//! to take writes again ([`crate::store::Store::recover`]: reopen, flushed probe write). Once
//! it does, the core is built again from what the store holds ([`super::restore`], the path of
//! a restart), so memory and disk agree again: what failed to be stored is gone from memory
//! too (it was never acknowledged; peers send it again through sync), and the node resumes.

use super::driver::Driver;
use super::restore::restore_core;
use crate::dto::NodeEvent;
use crate::error::{Error, Result};
use libp2p::PeerId;
use std::time::Duration;
use tracing::{debug, info, warn};

/// How often a failed store is tried again.
pub const STORE_RETRY: Duration = Duration::from_secs(5);

impl Driver {
    /// A store write failed: stop acknowledging, say so, and try again later.
    pub(super) fn store_write_failed(&mut self, e: &Error) {
        warn!(
            "store write failed: {e}; no longer acknowledging changes until it takes writes again"
        );
        self.emit(NodeEvent::Rejected {
            community: None,
            peer: "store".into(),
            error: e.to_string(),
        });
        self.store_failed = Some(e.to_string());
        self.store_retry = Some(tokio::time::Instant::now() + STORE_RETRY);
    }

    /// `Err` while a store write has failed and the store does not take writes again: a local
    /// edit tries to bring it back first.
    pub(super) fn writable(&mut self) -> Result<()> {
        self.recover_store();
        self.store_ok()
    }

    /// If the store failed: bring it back if it takes writes again, and rebuild the core from
    /// it. Otherwise try again after [`STORE_RETRY`].
    pub(super) fn recover_store(&mut self) {
        if self.store_failed.is_none() {
            self.store_retry = None;
            return;
        }
        let t = self.now();
        let rebuilt = tokio::task::block_in_place(|| {
            self.store.recover()?;
            restore_core(&self.core, &self.keys, self.store.as_ref(), t)
        });
        let repl = match rebuilt {
            Ok(repl) => repl,
            Err(e) => {
                // The status and the API's answers show the latest reason.
                let e = e.to_string();
                if self.store_failed.as_deref() != Some(e.as_str()) {
                    info!("the store does not take writes yet: {e}");
                    self.store_failed = Some(e);
                } else {
                    debug!("the store does not take writes yet: {e}");
                }
                self.store_retry = Some(tokio::time::Instant::now() + STORE_RETRY);
                return;
            }
        };
        info!("the store takes writes again: state reloaded from it, acknowledging changes again");
        self.repl = repl;
        self.store_failed = None;
        self.store_retry = None;
        // Requests and answers in flight belong to the old core.
        self.pending_out.clear();
        self.pending_in.clear();
        self.emit(NodeEvent::StoreRecovered);
        // The new core subscribes again (finding the peers already on each topic, when its
        // outputs run); peers named by invite codes of joins in progress are asked again if
        // connected.
        let connected: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        for peer in connected {
            self.ask_join_peer(peer);
        }
        self.execute();
    }
}
