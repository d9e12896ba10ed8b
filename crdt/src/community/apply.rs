//! The only way into a document: decode → limits → signature → placement → dependencies →
//! sequence → authorization at the dependencies → ownership of every operation → stage.
//!
//! Peer bytes never reach Automerge before all of these pass; a change that fails is neither
//! stored nor forwarded. Automerge's own `receive_sync_message` is never used on a trusted
//! document (a sync message can carry a whole document in one chunk).

use super::Community;
use super::action::{Action, ChangeMeta};
use super::auth::authorize;
use super::doc::{DocState, actor_device};
use crate::error::{Error, Result};
use crate::ids::{DocId, Hash};
use crate::limits::Limits;
use automerge::Change;
use qun_identity::{DeviceId, MemberId, Timestamp};
use std::sync::Arc;

/// Domain tag of change signatures.
pub const CHANGE_SIG_TAG: &[u8] = b"qun-change-v1";

/// The bytes a change signature covers: `"qun-change-v1" || community id || change hash`.
///
/// The document is not in the message: every change depends, transitively, on its
/// document's genesis, whose hash is derived from community and document ids, so a change
/// cannot be replayed into another document or community either way.
pub fn signing_message(community: &crate::ids::CommunityId, hash: &Hash) -> Vec<u8> {
    let mut m = Vec::with_capacity(CHANGE_SIG_TAG.len() + 64);
    m.extend_from_slice(CHANGE_SIG_TAG);
    m.extend_from_slice(community.as_bytes());
    m.extend_from_slice(&hash.0);
    m
}

/// A change that went in.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    /// Its hash.
    pub hash: Hash,
    /// The document.
    pub doc: DocId,
    /// What it did.
    pub action: Action,
    /// The member it acted for.
    pub author: MemberId,
    /// The device that signed it.
    pub device: DeviceId,
    /// Its time (signer's clock).
    pub time: Timestamp,
}

/// What became of a change offered to a community.
#[derive(Debug, Clone, PartialEq)]
pub enum Ingested {
    /// Validated and staged (applied at the next flush, before anything reads the document).
    Accepted(Accepted),
    /// Already held.
    Duplicate(Hash),
}

impl Community {
    /// Offer a signed change (from a peer or the store) to document `doc`.
    ///
    /// `Err(e)` with `e.is_pending()` means its dependencies are not here yet: keep it and
    /// offer it again later. Any other error means it is invalid for good.
    pub fn ingest(&mut self, doc: &DocId, bytes: &[u8], sig: &[u8; 64]) -> Result<Ingested> {
        let limits = self.limits;
        Limits::check("change", limits.max_change_bytes, bytes.len())?;
        let change = Change::from_bytes(bytes.to_vec()).map_err(|e| Error::decode("change", e))?;
        let hash = change.hash();

        // Content documents come into being on first valid use; until then validate against
        // a fresh one so garbage cannot make us allocate documents.
        let mut fresh = None;
        if let DocId::Content { .. } = doc
            && !self.content.contains_key(doc)
        {
            if self.content.len() >= super::MAX_CONTENT_DOCS {
                return Err(Error::TooLarge {
                    what: "content documents",
                    limit: super::MAX_CONTENT_DOCS,
                    actual: self.content.len() + 1,
                });
            }
            fresh = Some(DocState::new(&self.genesis.id(), doc.clone(), &self.device));
        }
        let target: &DocState = match (doc, &fresh) {
            (DocId::Governance, _) => &self.gov,
            (_, Some(f)) => f,
            (_, None) => self
                .content
                .get(doc)
                .ok_or_else(|| Error::UnknownCommunity(doc.to_string()))?,
        };
        if target.has(&hash) {
            return Ok(Ingested::Duplicate(hash));
        }
        Limits::check("operations", limits.max_ops_per_change, change.len())?;
        if change.deps().is_empty() {
            return Err(Error::InvalidChange {
                hash,
                reason: "no dependencies: only the document genesis has none".into(),
            });
        }
        if target.bytes + bytes.len() > limits.max_doc_bytes {
            return Err(Error::DocTooLarge {
                doc: doc.clone(),
                limit: limits.max_doc_bytes,
            });
        }
        // The same check as `qun_identity::verify_raw` (strict ed25519), with the key's point
        // decompressed once per device rather than twice per change.
        let cached = <[u8; 32]>::try_from(change.actor_id().to_bytes())
            .ok()
            .and_then(|a| self.keys.get(&a).copied());
        let (device, key) = match cached {
            Some(k) => k,
            None => {
                let device = actor_device(change.actor_id())?;
                let key =
                    ed25519_dalek::VerifyingKey::from_bytes(&device.to_bytes()).map_err(|e| {
                        Error::BadActor {
                            reason: e.to_string(),
                        }
                    })?;
                (device, key)
            }
        };
        key.verify_strict(
            &signing_message(&self.genesis.id(), &hash),
            &ed25519_dalek::Signature::from_bytes(sig),
        )
        .map_err(|_| Error::BadSignature { hash })?;
        if cached.is_none() {
            if self.keys.len() >= super::MAX_CACHED_KEYS {
                self.keys.clear();
            }
            self.keys.insert(device.to_bytes(), (device, key));
        }
        let (action, cited) = ChangeMeta::decode(change.message())?;
        let time = u64::try_from(change.timestamp())
            .map(Timestamp::from_millis)
            .map_err(|_| Error::InvalidChange {
                hash,
                reason: "negative timestamp".into(),
            })?;

        // Dependencies: in this document, and the cited governance heads.
        let mut missing = change.deps().iter().filter(|d| !target.has(d)).count();
        let frontier: Vec<Hash> = if doc.is_governance() {
            if !cited.is_empty() {
                return Err(Error::InvalidChange {
                    hash,
                    reason: "governance changes cite their dependencies only".into(),
                });
            }
            change.deps().to_vec()
        } else {
            if cited.is_empty() {
                return Err(Error::InvalidChange {
                    hash,
                    reason: "content change cites no governance heads".into(),
                });
            }
            missing += cited.iter().filter(|h| !self.index.contains(h)).count();
            cited.clone()
        };
        let expected = target.next_seq(&device);
        if change.seq() > expected {
            missing += 1;
        }
        if missing > 0 {
            return Err(Error::MissingDeps { hash, missing });
        }
        if change.seq() < expected {
            return Err(Error::InvalidChange {
                hash,
                reason: format!(
                    "device reused sequence number {} (next is {expected})",
                    change.seq()
                ),
            });
        }

        if let DocId::Content { window, .. } = doc {
            let (start, end) = self.genesis.window_range(*window);
            if time.as_millis() < start || time.as_millis() >= end {
                return Err(Error::InvalidChange {
                    hash,
                    reason: format!("time {time} outside the document's window {window}"),
                });
            }
            // Removal and revocation take effect for everything that causally follows them:
            // the cited heads must cover the heads every dependency cited.
            let anc = self.index.ancestors(&frontier);
            for d in change.deps() {
                if let Some(dc) = target.cited(d)
                    && !dc.iter().all(|h| anc.contains(h))
                {
                    return Err(Error::InvalidChange {
                        hash,
                        reason: "cites governance heads older than its dependencies did".into(),
                    });
                }
            }
        }

        let state = self.index.state_at(&frontier);
        let auth = authorize(&self.genesis, &state, doc, &device, time, &action)?;
        let created = target.check_ownership(&change.decode(), &device, action.section())?;

        let seq = change.seq();
        let deps = change.deps().to_vec();
        let cited_arc: Option<Arc<[Hash]>> = (!doc.is_governance()).then(|| self.intern(cited));
        let target: &mut DocState = match doc {
            DocId::Governance => &mut self.gov,
            _ => match fresh {
                Some(f) => self.content.entry(doc.clone()).or_insert(f),
                None => self
                    .content
                    .get_mut(doc)
                    .ok_or_else(|| Error::UnknownCommunity(doc.to_string()))?,
            },
        };
        target.stage(change, *sig, device, seq, cited_arc, created);
        if doc.is_governance() {
            self.index.add(
                hash,
                &deps,
                time,
                auth.effects.writes,
                auth.effects.endorsement,
            );
        }
        Ok(Ingested::Accepted(Accepted {
            hash,
            doc: doc.clone(),
            action,
            author: auth.member,
            device,
            time,
        }))
    }
}
