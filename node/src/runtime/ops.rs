//! What an operator asks of the driver: metrics, health, a store snapshot for backups, a clean
//! stop; and the write hold of a node restored from a backup.
//!
//! Write hold. A backup holds the node's changes up to the moment it was made; the node's
//! device may have signed more changes after that, which its peers hold. Were the restored node
//! to write at once, Automerge would give its next change a sequence number its device has
//! used already (an equivocation every node would then have to resolve). So a node started
//! from a restored data directory ([`WriteHold`]) refuses its own writes
//! ([`crate::Error::CatchingUp`]) until each community it holds has completed a sync round
//! with a peer (`Event::Synced` with nothing more to come): by then it holds what its peers
//! hold of its own changes, and its next change gets the next sequence number. The marker file
//! `qun restore` wrote is removed then, so the next start is a normal one. An operator sure
//! that no other copy exists starts with `--i-know-this-is-the-only-copy` instead.

use super::driver::Driver;
use crate::dto::Health;
use crate::error::{Error, Result};
use crate::metrics::gauge_value;
use crate::net::topic;
use qun_crdt::CommunityId;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use tracing::{info, warn};

/// The communities a restored node has not yet synced with a peer, and the marker file to
/// remove once it has.
#[derive(Debug)]
pub(crate) struct WriteHold {
    marker: PathBuf,
    waiting: BTreeSet<CommunityId>,
}

impl WriteHold {
    /// Hold writes until each of `held` has synced with a peer.
    pub(crate) fn new(marker: PathBuf, held: &[CommunityId]) -> Self {
        WriteHold {
            marker,
            waiting: held.iter().copied().collect(),
        }
    }
}

impl Driver {
    /// `Err` while this node, restored from a backup, has not caught up yet.
    pub(super) fn restore_hold_ok(&self) -> Result<()> {
        match &self.write_hold {
            Some(h) => Err(Error::CatchingUp {
                communities: h.waiting.len(),
            }),
            None => Ok(()),
        }
    }

    /// A sync round about `community` finished (`more`: another one follows).
    pub(super) fn hold_synced(&mut self, community: &CommunityId, more: bool) {
        if more {
            return;
        }
        if let Some(h) = &mut self.write_hold
            && h.waiting.remove(community)
        {
            info!(%community, left = h.waiting.len(), "restored node: caught up on a community");
        }
        self.release_hold_if_done();
    }

    /// Lift the write hold once every community has synced (at once when there is none).
    pub(super) fn release_hold_if_done(&mut self) {
        let Some(h) = &self.write_hold else {
            return;
        };
        if !h.waiting.is_empty() {
            return;
        }
        if let Err(e) = std::fs::remove_file(&h.marker)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            warn!(marker = %h.marker.display(), "removing the restore marker: {e}");
        }
        info!("restored node caught up with its peers: its own writes are allowed again");
        self.write_hold = None;
    }

    /// Health for `GET /health`.
    pub(super) fn health(&self) -> Health {
        let listening = self.swarm.listeners().next().is_some();
        let store_ok = self.store_failed.is_none();
        Health {
            live: true,
            ready: listening && store_ok,
            listening,
            store_ok,
            store_error: self.store_failed.clone(),
            connected_peers: self.swarm.connected_peers().count(),
            catching_up: self.write_hold.is_some(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }

    /// Every metric as OpenMetrics text, gauges read now.
    pub(super) fn scrape(&mut self) -> String {
        let stats = self.stats();
        let q = &self.metrics.qun;
        q.connected_peers
            .set(gauge_value(self.swarm.connected_peers().count()));
        let held: Vec<CommunityId> = self.repl.communities().copied().collect();
        q.communities.set(gauge_value(held.len()));
        q.joins.set(gauge_value(self.repl.joining().count()));
        let gs = &self.swarm.behaviour().gossipsub;
        for c in &held {
            let t = topic::topic(c).hash();
            let label = crate::metrics::TopicLabel {
                topic: t.to_string(),
            };
            let peers = gs
                .all_peers()
                .filter(|(_, topics)| topics.contains(&&t))
                .count();
            q.community_peers
                .get_or_create(&label)
                .set(gauge_value(peers));
            q.pending_changes
                .get_or_create(&label)
                .set(gauge_value(self.repl.pending(c)));
        }
        q.pending_sync_in.set(gauge_value(self.pending_in.len()));
        q.pending_sync_out.set(gauge_value(self.pending_out.len()));
        q.store_bytes
            .set(gauge_value(self.store.size_bytes().unwrap_or(0)));
        q.store_failed.set(i64::from(self.store_failed.is_some()));
        q.write_hold.set(i64::from(self.write_hold.is_some()));
        // The load limits' counters (`crate::limits`), under their status names.
        if let Ok(serde_json::Value::Object(hits)) = serde_json::to_value(self.load.hits.snapshot())
        {
            for (kind, n) in hits {
                let c = q
                    .limits_hit
                    .get_or_create(&crate::metrics::KindLabel { kind });
                let (now, seen) = (n.as_u64().unwrap_or(0), c.get());
                if now > seen {
                    c.inc_by(now - seen);
                }
            }
        }
        self.metrics.sync_stats(&stats);
        self.metrics.encode()
    }

    /// Write a consistent copy of the store to `dest`: nothing else runs on the driver's task
    /// meanwhile, so no write lands half-way.
    pub(super) fn snapshot(&mut self, dest: &Path) -> Result<()> {
        let r = tokio::task::block_in_place(|| self.store.snapshot(dest));
        match &r {
            Ok(()) => info!(dest = %dest.display(), "store snapshot written"),
            Err(e) => warn!(dest = %dest.display(), "store snapshot failed: {e}"),
        }
        r
    }

    /// Flush the store before the driver ends, and say so.
    pub(super) fn close_store(&mut self) {
        match tokio::task::block_in_place(|| self.store.flush()) {
            Ok(()) => info!("store flushed; node stopped cleanly"),
            Err(e) => warn!("flushing the store at shutdown failed: {e}"),
        }
    }
}
