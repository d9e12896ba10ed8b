//! The only way into a document: size → bounded header pre-scan → duplicate → signature by the
//! actor's device key → message → dependencies → sequence (equivocation) → window → full parse
//! → admission at the change's dependencies (raw state) → ownership of every operation → stage.
//!
//! Authentication comes before any work whose cost the sender controls: the pre-scan reads the
//! header in one bounded pass and counts operations without expanding them, refuses compressed
//! chunks, and gives the change hash the signature covers; Automerge's full parse runs only for
//! changes signed by their actor. Peer bytes never reach Automerge before all of these pass; a
//! change that fails is neither stored nor forwarded. Automerge's own `receive_sync_message` is
//! never used on a trusted document (a sync message can carry a whole document in one chunk).
//!
//! Admission (this file) is stable: it depends only on the change's causal past, so every node
//! admits the same changes whatever order they arrive in. Whether an admitted change *counts*
//! once revocations are resolved is `validity`'s business.

use super::Community;
use super::auth::authorize;
use super::authentic::Checked;
use super::doc::{ContentMeta, DocState, Record, actor_device};
use crate::error::{Error, Result};
use crate::gov::index::{ChangeInfo, View};
use crate::ids::{DocId, Hash};
use crate::limits::Limits;
use crate::model::action::{Action, ChangeMeta};
use automerge::Change;
use qun_identity::{ConsensusKey, DeviceId, MemberId, Timestamp};
use std::sync::Arc;

/// Domain tag of change signatures.
pub const CHANGE_SIG_TAG: &[u8] = b"qun-change-v2";

/// The bytes a change signature covers: `"qun-change-v2" || community id || doc key || 0 ||
/// change hash`.
///
/// Every change also depends, transitively, on its document's genesis (derived from community
/// and document ids), so it cannot be replayed elsewhere; naming the document in the signature
/// makes that checkable from the signed bytes alone, which equivocation evidence needs (two
/// changes with one sequence number are only evidence when they are in one document).
pub fn signing_message(community: &crate::ids::CommunityId, doc: &DocId, hash: &Hash) -> Vec<u8> {
    let key = doc.key();
    let mut m = Vec::with_capacity(CHANGE_SIG_TAG.len() + 65 + key.len());
    m.extend_from_slice(CHANGE_SIG_TAG);
    m.extend_from_slice(community.as_bytes());
    m.extend_from_slice(key.as_bytes());
    m.push(0);
    m.extend_from_slice(&hash.0);
    m
}

/// The key a change waits on when its device's previous change (`seq`) in `doc` is missing:
/// a hash no real change has, announced when that change arrives.
pub(crate) fn seq_key(doc: &DocId, device: &DeviceId, seq: u64) -> Hash {
    let mut h = blake3::Hasher::new();
    h.update(b"qun-seq-key-v1");
    h.update(doc.key().as_bytes());
    h.update(&device.to_bytes());
    h.update(&seq.to_le_bytes());
    automerge::ChangeHash(*h.finalize().as_bytes())
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
    /// Its sequence number in the document.
    pub seq: u64,
    /// Its time (signer's clock; informational).
    pub time: Timestamp,
}

/// What became of a change offered to a community.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // short-lived: returned and matched at once
pub enum Ingested {
    /// Validated and staged (applied at the next flush, before anything reads the document).
    Accepted(Accepted),
    /// Already held.
    Duplicate(Hash),
}

impl Community {
    /// The device key an actor names, prepared for ZIP-215 verification (cached per device).
    /// Small-order and non-canonically encoded keys are refused: no one holds their secret
    /// alone (see `qun_identity::consensus`).
    pub(crate) fn device_key(&mut self, actor: &[u8]) -> Result<(DeviceId, ConsensusKey)> {
        let bytes = <[u8; 32]>::try_from(actor).map_err(|_| Error::BadActor {
            reason: format!("{} bytes, expected 32", actor.len()),
        })?;
        if let Some(k) = self.keys.get(&bytes) {
            return Ok(*k);
        }
        let device = actor_device(&automerge::ActorId::from(&bytes[..]))?;
        let key = ConsensusKey::from_bytes(&bytes).map_err(|e| Error::BadActor {
            reason: e.to_string(),
        })?;
        if self.keys.len() >= super::MAX_CACHED_KEYS {
            self.keys.clear();
        }
        self.keys.insert(bytes, (device, key));
        Ok((device, key))
    }

    /// Offer a signed change (from a peer or the store) to document `doc`.
    ///
    /// `Err(e)` with `e.is_pending()` means its dependencies are not here yet: keep it and
    /// offer it again when one of `missing` arrives. Any other error means it is invalid for
    /// good.
    pub fn ingest(&mut self, doc: &DocId, bytes: &[u8], sig: &[u8; 64]) -> Result<Ingested> {
        self.ingest_with(doc, bytes, sig, Checked::default())
    }

    /// Offer a batch of signed changes, in order: all of them authenticated first (signatures
    /// in ZIP-215 batches on [`Community::verify_threads`] threads), then each ingested. The
    /// result for each change is what [`Community::ingest`] would give it.
    pub fn ingest_many(&mut self, batch: &[(&DocId, &[u8], &[u8; 64])]) -> Vec<Result<Ingested>> {
        let checked = self.authenticate(batch);
        batch
            .iter()
            .zip(checked)
            .map(|((doc, bytes, sig), c)| self.ingest_with(doc, bytes, sig, c))
            .collect()
    }

    /// [`Community::ingest`] with what authentication already found out (`checked` must come
    /// from [`Community::authenticate`] for these very bytes, or be empty).
    pub(crate) fn ingest_with(
        &mut self,
        doc: &DocId,
        bytes: &[u8],
        sig: &[u8; 64],
        checked: Checked,
    ) -> Result<Ingested> {
        let limits = self.limits;
        let max_bytes = if doc.is_governance() {
            limits.max_evidence_bytes()
        } else {
            limits.max_change_bytes
        };
        Limits::check("change", max_bytes, bytes.len())?;
        let head = match checked.head {
            Some(h) => h,
            None => limits.prescan(bytes)?,
        };
        let hash = head.hash;

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
        {
            let target = self.target(doc, fresh.as_ref())?;
            if target.has(&hash) {
                return Ok(Ingested::Duplicate(hash));
            }
            if target.stranded.contains(&hash) {
                return Err(Error::Stranded { hash });
            }
            if head.deps.is_empty() {
                return Err(Error::InvalidChange {
                    hash,
                    reason: "no dependencies: only the document genesis has none".into(),
                });
            }
            if target.bytes + bytes.len() > limits.max_doc_bytes {
                return Err(Error::DocTooLarge {
                    doc: doc.key(),
                    limit: limits.max_doc_bytes,
                });
            }
        }
        // Authenticate before anything the sender's bytes make expensive.
        let (device, key) = self.device_key(&head.actor)?;
        let valid = match checked.sig_valid {
            Some(v) => v,
            None => key
                .verify(&signing_message(&self.genesis.id(), doc, &hash), sig)
                .is_ok(),
        };
        if !valid {
            return Err(Error::BadSignature { hash });
        }

        let (action, cited) = ChangeMeta::decode(head.message.as_deref())?;
        if !matches!(action, Action::Equivocation { .. }) {
            Limits::check("change", limits.max_change_bytes, bytes.len())?;
        }
        let time = u64::try_from(head.time)
            .map(Timestamp::from_millis)
            .map_err(|_| Error::InvalidChange {
                hash,
                reason: "negative timestamp".into(),
            })?;

        // Dependencies: in this document, and the cited governance heads. A change built on the
        // side of a fork that is not applied is kept with that side (it counts as support).
        let target = self.target(doc, fresh.as_ref())?;
        let gov_stranded = &self.gov.stranded;
        if head.deps.iter().any(|d| target.stranded.contains(d))
            || cited.iter().any(|h| gov_stranded.contains(h))
        {
            if fresh.is_some() {
                return Err(Error::Stranded { hash });
            }
            return self.keep_stranded(doc, hash, bytes, sig, &head.deps, device);
        }
        let mut missing: Vec<Hash> = head
            .deps
            .iter()
            .filter(|d| !target.has(d))
            .copied()
            .collect();
        let frontier: Vec<Hash> = if doc.is_governance() {
            if !cited.is_empty() {
                return Err(Error::InvalidChange {
                    hash,
                    reason: "governance changes cite their dependencies only".into(),
                });
            }
            head.deps.clone()
        } else {
            if cited.is_empty() {
                return Err(Error::InvalidChange {
                    hash,
                    reason: "content change cites no governance heads".into(),
                });
            }
            missing.extend(cited.iter().filter(|h| !self.index.contains(h)).copied());
            cited.clone()
        };
        if head.seq == 0 {
            return Err(Error::InvalidChange {
                hash,
                reason: "sequence numbers start at 1".into(),
            });
        }
        let expected = target.next_seq(&device);
        if head.seq > expected {
            missing.push(seq_key(doc, &device, head.seq - 1));
        }
        if !missing.is_empty() {
            let known = matches!(action, Action::Join { .. }) || self.knows_device(&device);
            return Err(Error::MissingDeps {
                hash,
                missing,
                known,
            });
        }
        // A sequence number the device used already: a twin. Judged in full like any change
        // first; only a twin that would be admitted on its own makes a fork.
        let twin_of = if head.seq < expected {
            match target.by_seq.get(&(device, head.seq)).copied() {
                Some(other) => Some(other),
                None => {
                    return Err(Error::InvalidChange {
                        hash,
                        reason: "sequence number below the device's next".into(),
                    });
                }
            }
        } else {
            None
        };

        if let DocId::Content { window, .. } = doc {
            // Windows are bounded: none well before the community's genesis (a fact every node
            // shares), none far ahead of this node's clock (not yet: sync brings it again).
            let first = self.first_window();
            if *window < first {
                return Err(Error::InvalidChange {
                    hash,
                    reason: format!("window {window} is before the community began ({first})"),
                });
            }
            if let Some(now) = self.clock {
                let latest = self
                    .genesis
                    .window_of(now)
                    .saturating_add(super::FUTURE_WINDOWS);
                if *window > latest {
                    return Err(Error::FutureWindow {
                        hash,
                        window: *window,
                        latest,
                    });
                }
            }
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
            let target = self.target(doc, fresh.as_ref())?;
            for d in &head.deps {
                if let Some(dc) = target.cited(d)
                    && !dc
                        .iter()
                        .all(|h| self.index.ix(h).is_some_and(|i| anc.contains(i)))
                {
                    return Err(Error::InvalidChange {
                        hash,
                        reason: "cites governance heads older than its dependencies did".into(),
                    });
                }
            }
        }

        // Only now: Automerge's full parse (bounded by the pre-scan's op count).
        let change = Change::from_bytes(bytes.to_vec()).map_err(|e| Error::decode("change", e))?;
        if change.hash() != hash {
            return Err(Error::decode("change", "pre-scan and parse disagree"));
        }
        // Automerge registers an actor with its first change and panics on a change naming an
        // actor it has not registered (found by fuzzing: one signed change from any member
        // stopped every node). Every other actor a change names must have a change here
        // already; until then the change waits for that device's first one, as for a missing
        // dependency (an honest change names only actors in its causal past).
        let mut waits = Vec::new();
        {
            let target = self.target(doc, fresh.as_ref())?;
            for a in change.other_actor_ids() {
                let unregistered = target.unregistered(a).map_err(|e| Error::InvalidChange {
                    hash,
                    reason: format!("names an actor that is not a device: {e}"),
                })?;
                if let Some(d) = unregistered {
                    waits.push(seq_key(doc, &d, 1));
                }
            }
        }
        if !waits.is_empty() {
            let known = matches!(action, Action::Join { .. }) || self.knows_device(&device);
            return Err(Error::MissingDeps {
                hash,
                missing: waits,
                known,
            });
        }
        let state = self.admission_state(&frontier);
        let auth = authorize(&self.genesis, &state, doc, &device, &action)?;
        let member = auth.member(&device);
        let created = self.target(doc, fresh.as_ref())?.check_ownership(
            &change.decode(),
            &device,
            action.section(),
        )?;

        if let Some(other) = twin_of {
            return self.on_twin(doc, bytes, sig, hash, other, device, head.seq);
        }
        let meta = (!doc.is_governance()).then(|| ContentMeta {
            device,
            seq: head.seq,
            member,
            cited: self.intern(cited),
            action: action.clone(),
        });
        let rec = Record {
            sig: *sig,
            device,
            seq: head.seq,
            meta,
            created,
        };
        let target = self.target_mut(doc, &mut fresh)?;
        target.stage(change, rec, true);
        if doc.is_governance() {
            self.index_gov(
                hash, &head.deps, device, head.seq, member, time, &action, auth,
            );
        }
        if fresh.is_some() {
            self.content.insert(
                doc.clone(),
                fresh
                    .take()
                    .ok_or_else(|| Error::UnknownCommunity(doc.to_string()))?,
            );
        }
        Ok(Ingested::Accepted(Accepted {
            hash,
            doc: doc.clone(),
            action,
            author: member,
            device,
            seq: head.seq,
            time,
        }))
    }

    /// Whether `device` is a member's root key or linked device, or someone who asked to join
    /// (raw state at the current heads).
    pub(crate) fn knows_device(&mut self, device: &DeviceId) -> bool {
        let st = self.index.current(View::Raw);
        let m = st.member_of(device);
        st.is_member(&m) || st.requests.contains(&m) || st.devices.contains_key(device)
    }

    /// Record an admitted governance change in the index.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn index_gov(
        &mut self,
        hash: Hash,
        deps: &[Hash],
        device: DeviceId,
        seq: u64,
        member: MemberId,
        time: Timestamp,
        action: &Action,
        auth: super::auth::Authorized,
    ) {
        let info = ChangeInfo {
            device,
            seq,
            member,
            time,
            action: Arc::new(action.clone()),
            invitation: auth.invitation,
            revokes: auth.revokes,
            endorsement: auth.endorsement,
            evidence: auth.evidence,
        };
        let i = self.index.add(hash, deps, info, auth.writes);
        self.extend_validity(i);
    }

    fn target<'a>(&'a self, doc: &DocId, fresh: Option<&'a DocState>) -> Result<&'a DocState> {
        match (doc, fresh) {
            (DocId::Governance, _) => Ok(&self.gov),
            (_, Some(f)) => Ok(f),
            (_, None) => self
                .content
                .get(doc)
                .ok_or_else(|| Error::UnknownCommunity(doc.to_string())),
        }
    }

    fn target_mut<'a>(
        &'a mut self,
        doc: &DocId,
        fresh: &'a mut Option<DocState>,
    ) -> Result<&'a mut DocState> {
        match (doc, fresh) {
            (DocId::Governance, _) => Ok(&mut self.gov),
            (_, Some(f)) => Ok(f),
            (_, None) => self
                .content
                .get_mut(doc)
                .ok_or_else(|| Error::UnknownCommunity(doc.to_string())),
        }
    }
}
