//! Authentication of a batch of changes before any of them is ingested: size, the bounded
//! header pre-scan and the device signature of every change, the signatures checked by ZIP-215
//! batch verification on up to [`Community::verify_threads`] cores
//! (`qun_identity::consensus`).
//!
//! This is the part of `Community::ingest` that comes before anything the sender's bytes make
//! expensive, done for a whole sync message or gossip batch at once; `ingest_with` then takes
//! the verdicts at the point where it would have checked the signature itself, so a change
//! is judged exactly as when it comes alone (same checks, same order, same error). Batch and
//! single verification agree under ZIP-215, and a batch that fails is checked one signature at
//! a time, so one forged signature among valid ones refuses only that change, and costs the
//! forger's batch at most one extra single verification per change.

use super::Community;
use super::apply::signing_message;
use crate::ids::{DocId, Hash};
use crate::limits::Limits;
use crate::prescan::ChangeHeader;
use qun_identity::consensus::{ConsensusKey, Item, verify_each};
use std::collections::HashSet;

/// What authentication found out about one change of a batch.
#[derive(Debug, Clone, Default)]
pub(crate) struct Checked {
    /// Its header, when it passed the size check and the pre-scan.
    pub(crate) head: Option<ChangeHeader>,
    /// Its signature's verdict, when it was checked (not for duplicates, changes from actors
    /// that are no key, or anything refused before).
    pub(crate) sig_valid: Option<bool>,
}

impl Community {
    /// Threads a batch's signatures are checked on (1 unless the driver says otherwise: the
    /// simulator runs one node per thread; the node uses every core).
    pub fn verify_threads(&self) -> usize {
        self.verify_threads
    }

    /// Check batches' signatures on up to `n` threads (at least 1).
    pub fn set_verify_threads(&mut self, n: usize) {
        self.verify_threads = n.max(1);
    }

    /// Size, pre-scan and signature of every change in `batch` (in order), signatures in ZIP-215
    /// batches. Pass each result to `ingest_with` with its change.
    pub(crate) fn authenticate(&mut self, batch: &[(&DocId, &[u8], &[u8; 64])]) -> Vec<Checked> {
        let limits = self.limits;
        let community = self.genesis.id();
        let mut out = vec![Checked::default(); batch.len()];
        // (index in batch, key, message) of the signatures to check.
        let mut todo: Vec<(usize, ConsensusKey, Vec<u8>)> = Vec::new();
        let mut seen: HashSet<Hash> = HashSet::new();
        for (i, (doc, bytes, _)) in batch.iter().enumerate() {
            let max = if doc.is_governance() {
                limits.max_evidence_bytes()
            } else {
                limits.max_change_bytes
            };
            if Limits::check("change", max, bytes.len()).is_err() {
                continue;
            }
            let Ok(head) = limits.prescan(bytes) else {
                continue;
            };
            let held = self.doc_ref(doc).is_some_and(|d| d.has(&head.hash));
            if !held
                && seen.insert(head.hash)
                && let Ok((_, key)) = self.device_key(&head.actor)
            {
                todo.push((i, key, signing_message(&community, doc, &head.hash)));
            }
            out[i].head = Some(head);
        }
        let items: Vec<Item<'_>> = todo
            .iter()
            .map(|(i, key, msg)| Item {
                key,
                msg,
                sig: batch[*i].2,
            })
            .collect();
        let verdicts = verify_each(&items, self.verify_threads);
        for ((i, _, _), ok) in todo.iter().zip(verdicts) {
            out[*i].sig_valid = Some(ok);
        }
        out
    }
}
