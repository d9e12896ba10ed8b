//! Equivocation: a device that signs two different changes with one sequence number in one
//! document (a *fork*). Automerge can hold only one of them.
//!
//! * A twin is judged in full first (window, parse, admission at its own past, ownership):
//!   only a twin that would be admitted on its own makes a fork, so nobody can strand history
//!   with a twin that fails a rule.
//! * Which side is applied: the side more other devices built on (its *supporters*), then the
//!   lower twin hash. The other side is kept aside (bounded), with what is built on it, and its
//!   supporters are counted as they arrive; when it overtakes, the document *flips*. Every node
//!   that holds the same changes applies the same side, whatever came first; history others
//!   built on cannot be stranded by a fresh twin of an old change (it has no supporters).
//! * The two signed changes are evidence, published as a governance action, that voids the
//!   device's writes in that document from that sequence number on (see `validity`), counted
//!   only while both twins' dependencies are applied here: a change whose side was stranded and
//!   that its author made again is not evidence against the author.

use super::Community;
use super::apply::signing_message;
use super::doc::{DocState, Fork, Kept, Side, actor_device};
use crate::error::{Error, Result};
use crate::gov::index::Evidence;
use crate::ids::{CommunityId, DocId, Hash};
use crate::limits::Limits;
use crate::model::action::Action;
use qun_identity::DeviceId;
use std::collections::{BTreeSet, HashSet};

/// One side of the evidence: parse (bounded), check the signature, return actor and sequence.
fn side(
    community: &CommunityId,
    doc: &DocId,
    bytes: &[u8],
    sig: &[u8],
) -> Result<(DeviceId, u64, crate::Hash, Vec<Hash>)> {
    let limits = Limits::default();
    Limits::check("evidence change", limits.max_change_bytes, bytes.len())?;
    let head = limits.prescan(bytes)?;
    let sig: [u8; 64] = sig
        .try_into()
        .map_err(|_| Error::decode("evidence", "a signature is 64 bytes"))?;
    let actor = <[u8; 32]>::try_from(head.actor.as_slice()).map_err(|_| Error::BadActor {
        reason: "evidence actor is not 32 bytes".into(),
    })?;
    let device = actor_device(&automerge::ActorId::from(&actor[..]))?;
    // The same rules as every change signature (ZIP-215, no weak keys): evidence is judged by
    // what ingest would have accepted.
    qun_identity::ConsensusKey::from_bytes(&actor)
        .map_err(|e| Error::BadActor {
            reason: e.to_string(),
        })?
        .verify(&signing_message(community, doc, &head.hash), &sig)
        .map_err(|_| Error::BadSignature { hash: head.hash })?;
    Ok((device, head.seq, head.hash, head.deps))
}

/// Check equivocation evidence: two changes, both signed by one device for this community,
/// in document `doc` (the signatures name it), with one sequence number and different hashes.
pub(crate) fn verify_evidence(
    community: &CommunityId,
    doc: &str,
    a: &[u8],
    a_sig: &[u8],
    b: &[u8],
    b_sig: &[u8],
) -> Result<Evidence> {
    let doc: DocId = doc.parse()?;
    let (da, sa, ha, mut deps) = side(community, &doc, a, a_sig)?;
    let (db, sb, hb, deps_b) = side(community, &doc, b, b_sig)?;
    if da != db || sa != sb {
        return Err(Error::decode(
            "evidence",
            "the two changes differ in device or sequence number",
        ));
    }
    if ha == hb {
        return Err(Error::decode("evidence", "the same change twice"));
    }
    deps.extend(deps_b);
    deps.sort();
    deps.dedup();
    Ok(Evidence {
        doc,
        device: da,
        seq: sa,
        deps,
    })
}

impl Community {
    /// A change built on a side of a fork that is not applied: kept with that side when its
    /// device is known (its support counts), and the document flips when that side overtakes.
    pub(crate) fn keep_stranded(
        &mut self,
        doc: &DocId,
        hash: Hash,
        bytes: &[u8],
        sig: &[u8; 64],
        deps: &[Hash],
        device: DeviceId,
    ) -> Result<super::apply::Ingested> {
        let refused = Err(Error::Stranded { hash });
        if !self.knows_device(&device) {
            return refused;
        }
        let Some(d) = self.doc_mut(doc) else {
            return refused;
        };
        let kept = Kept {
            bytes: bytes.to_vec(),
            sig: *sig,
        };
        if !d.keep(hash, kept, false) {
            return refused;
        }
        let mut flip = None;
        for (i, f) in d.forks.iter_mut().enumerate() {
            if deps.iter().any(|x| f.other.closure.contains(x)) {
                f.other.closure.insert(hash);
                if device != f.device {
                    f.other.supporters.insert(device);
                }
                if flip.is_none() && f.other.beats(&f.applied) {
                    flip = Some(i);
                }
            }
        }
        if let Some(i) = flip {
            self.flip(doc, i)?;
        }
        refused
    }

    /// A twin that passed every check: record the evidence and the fork, and apply whichever
    /// side wins.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn on_twin(
        &mut self,
        doc: &DocId,
        bytes: &[u8],
        sig: &[u8; 64],
        hash: Hash,
        other: Hash,
        device: DeviceId,
        seq: u64,
    ) -> Result<super::apply::Ingested> {
        let refused = Err(Error::Equivocation {
            hash,
            device: device.to_string(),
            seq,
        });
        let Some(d) = self.doc_mut(doc) else {
            return refused;
        };
        if let Some((ob, os)) = d.signed_change(&other) {
            self.evidence_out.push(Action::Equivocation {
                doc: doc.key(),
                a: ob,
                a_sig: os.to_vec(),
                b: bytes.to_vec(),
                b_sig: sig.to_vec(),
            });
        }
        let Some(d) = self.doc_mut(doc) else {
            return refused;
        };
        if d.forks.iter().any(|f| f.device == device && f.seq == seq) {
            // A third twin: the fork is decided between the first two.
            return refused;
        }
        let closure = d.descendants(other)?;
        let supporters: BTreeSet<DeviceId> = d
            .devices_of(&closure)
            .into_iter()
            .filter(|x| *x != device)
            .collect();
        let kept = Kept {
            bytes: bytes.to_vec(),
            sig: *sig,
        };
        d.keep(hash, kept, true);
        d.forks.push(Fork {
            device,
            seq,
            applied: Side {
                root: other,
                closure,
                supporters,
            },
            other: Side {
                root: hash,
                closure: std::iter::once(hash).collect(),
                supporters: BTreeSet::new(),
            },
        });
        let i = d.forks.len() - 1;
        if d.forks[i].other.beats(&d.forks[i].applied) {
            self.flip(doc, i)?;
        }
        refused
    }

    /// Apply the other side of fork `i` of `doc`: strand the applied side (keeping its changes)
    /// and take in the kept side's changes, in causal order.
    fn flip(&mut self, doc: &DocId, i: usize) -> Result<()> {
        let Some(d) = self.doc_mut(doc) else {
            return Ok(());
        };
        let Some(fork) = d.forks.get(i).cloned() else {
            return Ok(());
        };
        // Keep what is about to be stranded (it may win again).
        let closure = d.descendants(fork.applied.root)?;
        for h in &closure {
            if let Some((bytes, sig)) = d.signed_change(h) {
                d.keep(*h, Kept { bytes, sig }, true);
            }
        }
        let incoming: Vec<Hash> = fork.other.closure.iter().copied().collect();
        if let Some(d) = self.doc_mut(doc)
            && let Some(f) = d.forks.get_mut(i)
        {
            f.applied = Side {
                closure: closure.clone(),
                ..fork.applied.clone()
            };
            std::mem::swap(&mut f.applied, &mut f.other);
        }
        self.strand(doc, &closure)?;
        // Take in the winning side: offer its kept changes until nothing more goes in.
        let mut waiting: Vec<(Hash, Kept)> = Vec::new();
        if let Some(d) = self.doc_mut(doc) {
            for h in &incoming {
                if let Some(k) = d.unkeep(h) {
                    waiting.push((*h, k));
                }
            }
        }
        loop {
            let mut progress = false;
            let mut still = Vec::new();
            for (h, k) in waiting {
                match self.ingest(doc, &k.bytes, &k.sig) {
                    Ok(super::apply::Ingested::Accepted(a)) => {
                        progress = true;
                        self.flipped_in.push((doc.clone(), a, k.bytes, k.sig));
                    }
                    Ok(_) => {}
                    Err(e) if e.is_pending() => still.push((h, k)),
                    Err(_) => {}
                }
            }
            waiting = still;
            if waiting.is_empty() || !progress {
                break;
            }
        }
        if let Some(d) = self.doc_mut(doc) {
            for (h, k) in waiting {
                d.keep(h, k, false);
            }
        }
        self.index.stale = true;
        Ok(())
    }

    /// Remove `drop` (and everything depending on it) from document `doc`, rebuilding it and,
    /// for the governance document, the index and every content document citing what went.
    pub(crate) fn strand(&mut self, doc: &DocId, drop: &HashSet<Hash>) -> Result<()> {
        let community = self.genesis.id();
        let me = self.device;
        let Some(d) = self.doc_mut(doc) else {
            return Ok(());
        };
        let (mut rebuilt, dropped) = d.without(&community, drop)?;
        // What goes is kept (bounded): it may come back if its side of a fork wins later.
        for h in &dropped {
            if let Some((bytes, sig)) = d.signed_change(h) {
                rebuilt.keep(*h, Kept { bytes, sig }, false);
            }
        }
        let own: Vec<(Hash, Option<super::Reissue>)> = dropped
            .iter()
            .filter(|h| d.by_seq.iter().any(|((dev, _), x)| *dev == me && x == *h))
            .map(|h| (*h, reissue_content(d, h)))
            .collect();
        *d = rebuilt;
        let own: Vec<(DocId, Hash, Option<super::Reissue>)> = own
            .into_iter()
            .map(|(h, r)| {
                let r = r.or_else(|| {
                    let i = self.index.ix(&h)?;
                    let a = (*self.index.nodes[i as usize].info.as_ref()?.action).clone();
                    Some(match a {
                        Action::Follow { member, on } => {
                            super::Reissue::Edit(super::edit::Edit::Follow { member, on })
                        }
                        // Profile data went with the change; the member sets it again.
                        Action::Profile => return None,
                        a => super::Reissue::Govern(a),
                    })
                });
                (doc.clone(), h, r)
            })
            .collect();
        self.stranded_own.extend(own);
        if doc.is_governance() {
            self.index = self.index.without(&dropped);
            let affected: Vec<DocId> = self
                .content
                .iter()
                .filter(|(_, c)| {
                    c.meta
                        .values()
                        .any(|m| m.cited.iter().any(|h| dropped.contains(h)))
                })
                .map(|(k, _)| k.clone())
                .collect();
            for cd in affected {
                let Some(c) = self.content.get(&cd) else {
                    continue;
                };
                let citing: HashSet<Hash> = c
                    .meta
                    .iter()
                    .filter(|(_, m)| m.cited.iter().any(|h| dropped.contains(h)))
                    .map(|(h, _)| *h)
                    .collect();
                self.strand(&cd, &citing)?;
            }
        }
        Ok(())
    }
}

/// The edit that makes a stranded content change of ours again: read from the document
/// before it is rebuilt without it.
fn reissue_content(d: &DocState, h: &Hash) -> Option<super::Reissue> {
    use super::edit::Edit;
    use super::view::{read_post, section, slots};
    let m = d.meta.get(h)?;
    let DocId::Content { channel, window } = &d.id else {
        return None;
    };
    let post_id = |key: &str| crate::ids::PostId {
        channel: channel.clone(),
        window: *window,
        key: key.to_string(),
    };
    let edit = match &m.action {
        Action::Post { key } | Action::Edit { key } => {
            let (_, slot) = slots(&d.am).into_iter().find(|(dev, _)| *dev == m.device)?;
            let posts = section(&d.am, &slot, crate::model::schema::POSTS)?;
            let heads = [*h];
            let p = match automerge::ReadDoc::get_at(&d.am, &posts, key.as_str(), &heads) {
                Ok(Some((automerge::Value::Object(automerge::ObjType::Map), p))) => p,
                _ => return None,
            };
            let (text, _, _, reply_to, attachments, _) = read_post(&d.am, &p, Some(&heads));
            match &m.action {
                Action::Post { .. } => Edit::Post {
                    channel: channel.clone(),
                    text,
                    reply_to,
                    attachments,
                },
                _ => Edit::EditPost {
                    post: post_id(key),
                    text,
                },
            }
        }
        Action::Delete { key } => Edit::DeletePost { post: post_id(key) },
        Action::React { post, emoji, on } => Edit::React {
            post: post.clone(),
            emoji: emoji.clone(),
            on: *on,
        },
        _ => return None,
    };
    Some(super::Reissue::Edit(edit))
}
