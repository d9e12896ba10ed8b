//! Changes waiting for their dependencies.
//!
//! A change whose dependencies have not arrived is kept only when it is authentic (signed by
//! its actor) and its device is known here (or it is a join), deduplicated by hash, within a
//! per-peer and a byte budget, and for at most [`super::PENDING_TTL_MS`]. Each entry records
//! what it waits for; it is offered again only when one of those arrives, so an accepted batch
//! costs nothing for the entries it does not complete.

use super::wire::WireChange;
use crate::error::{Error, Result};
use crate::ids::{DocId, Hash};
use qun_identity::Timestamp;
use std::collections::BTreeMap;

/// Most changes one peer may have waiting in one community.
pub const MAX_PENDING_PER_PEER: usize = 1_024;
/// Most bytes of changes waiting in one community.
pub const MAX_PENDING_BYTES: usize = 16 * 1024 * 1024;

/// A change waiting for its dependencies.
#[derive(Debug, Clone)]
pub(crate) struct PendingChange<P> {
    pub(crate) doc: DocId,
    pub(crate) change: WireChange,
    pub(crate) since: Timestamp,
    pub(crate) from: P,
    missing: Vec<Hash>,
}

/// The waiting changes of one community.
#[derive(Debug)]
pub(crate) struct PendingQueue<P> {
    entries: BTreeMap<Hash, PendingChange<P>>,
    /// What is waited for → the entries waiting for it.
    waiting: BTreeMap<Hash, Vec<Hash>>,
    per_peer: BTreeMap<P, usize>,
    bytes: usize,
}

impl<P: Clone + Ord> Default for PendingQueue<P> {
    fn default() -> Self {
        PendingQueue {
            entries: BTreeMap::new(),
            waiting: BTreeMap::new(),
            per_peer: BTreeMap::new(),
            bytes: 0,
        }
    }
}

impl<P: Clone + Ord> PendingQueue<P> {
    /// Number of waiting changes.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Keep a change until one of `missing` arrives. Refused (typed) when a bound is reached;
    /// a change already waiting is not counted twice.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn insert(
        &mut self,
        hash: Hash,
        doc: DocId,
        change: WireChange,
        from: P,
        since: Timestamp,
        missing: Vec<Hash>,
        max_changes: usize,
    ) -> Result<()> {
        if self.entries.contains_key(&hash) {
            return Ok(());
        }
        if self.entries.len() >= max_changes {
            return Err(Error::PendingFull { limit: max_changes });
        }
        let size = change.bytes.len();
        if self.bytes + size > MAX_PENDING_BYTES {
            return Err(Error::PendingFull {
                limit: max_changes.min(self.entries.len()),
            });
        }
        let n = self.per_peer.entry(from.clone()).or_default();
        if *n >= MAX_PENDING_PER_PEER {
            return Err(Error::PendingFull {
                limit: MAX_PENDING_PER_PEER,
            });
        }
        *n += 1;
        self.bytes += size;
        for m in &missing {
            self.waiting.entry(*m).or_default().push(hash);
        }
        self.entries.insert(
            hash,
            PendingChange {
                doc,
                change,
                since,
                from,
                missing,
            },
        );
        Ok(())
    }

    fn remove(&mut self, hash: &Hash) -> Option<PendingChange<P>> {
        let p = self.entries.remove(hash)?;
        self.bytes -= p.change.bytes.len();
        if let Some(n) = self.per_peer.get_mut(&p.from) {
            *n -= 1;
            if *n == 0 {
                self.per_peer.remove(&p.from);
            }
        }
        for m in &p.missing {
            if let Some(list) = self.waiting.get_mut(m) {
                list.retain(|h| h != hash);
                if list.is_empty() {
                    self.waiting.remove(m);
                }
            }
        }
        Some(p)
    }

    /// Take out the entries waiting for any of `arrived`, to be offered again.
    pub(crate) fn take_ready(&mut self, arrived: &[Hash]) -> Vec<PendingChange<P>> {
        let mut hashes: Vec<Hash> = arrived
            .iter()
            .filter_map(|a| self.waiting.get(a))
            .flatten()
            .copied()
            .collect();
        hashes.sort();
        hashes.dedup();
        hashes.iter().filter_map(|h| self.remove(h)).collect()
    }

    /// Drop entries that have waited since before `cutoff`; returns how many.
    pub(crate) fn expire(&mut self, cutoff: Timestamp) -> usize {
        let old: Vec<Hash> = self
            .entries
            .iter()
            .filter(|(_, p)| p.since < cutoff)
            .map(|(h, _)| *h)
            .collect();
        for h in &old {
            self.remove(h);
        }
        old.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: u8) -> Hash {
        automerge::ChangeHash([n; 32])
    }

    fn wc(len: usize) -> WireChange {
        WireChange {
            bytes: vec![0; len],
            sig: [0; 64],
        }
    }

    #[test]
    fn dedup_caps_and_targeted_retry() {
        let mut q: PendingQueue<u8> = PendingQueue::default();
        let t = Timestamp::from_millis(10);
        q.insert(h(1), DocId::Governance, wc(10), 1, t, vec![h(100)], 10)
            .unwrap();
        // The same change again (from anyone) is not a second entry.
        q.insert(h(1), DocId::Governance, wc(10), 2, t, vec![h(100)], 10)
            .unwrap();
        q.insert(
            h(2),
            DocId::Governance,
            wc(10),
            1,
            t,
            vec![h(101), h(102)],
            10,
        )
        .unwrap();
        assert_eq!(q.len(), 2);
        // Something nobody waits for completes nothing.
        assert!(q.take_ready(&[h(99)]).is_empty());
        let r = q.take_ready(&[h(102)]);
        assert_eq!(r.len(), 1);
        assert_eq!(q.len(), 1);
        // The global cap.
        assert!(
            q.insert(h(3), DocId::Governance, wc(1), 3, t, vec![h(5)], 1)
                .is_err()
        );
        // Expiry.
        assert_eq!(q.expire(Timestamp::from_millis(11)), 1);
        assert_eq!(q.len(), 0);
        assert_eq!(q.bytes, 0);
        assert!(q.per_peer.is_empty() && q.waiting.is_empty());
    }

    #[test]
    fn per_peer_and_byte_budgets() {
        let mut q: PendingQueue<u8> = PendingQueue::default();
        let t = Timestamp::from_millis(0);
        for i in 0..MAX_PENDING_PER_PEER {
            let mut k = [0u8; 32];
            k[..8].copy_from_slice(&(i as u64).to_le_bytes());
            q.insert(
                automerge::ChangeHash(k),
                DocId::Governance,
                wc(1),
                7,
                t,
                vec![h(1)],
                usize::MAX,
            )
            .unwrap();
        }
        let err = q.insert(
            h(200),
            DocId::Governance,
            wc(1),
            7,
            t,
            vec![h(1)],
            usize::MAX,
        );
        assert!(matches!(err, Err(Error::PendingFull { .. })));
        // Another peer still has room, until the byte budget.
        q.insert(
            h(201),
            DocId::Governance,
            wc(1),
            8,
            t,
            vec![h(1)],
            usize::MAX,
        )
        .unwrap();
        let big = wc(MAX_PENDING_BYTES);
        assert!(
            q.insert(h(202), DocId::Governance, big, 9, t, vec![h(1)], usize::MAX)
                .is_err()
        );
    }
}
