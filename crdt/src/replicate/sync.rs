//! Catch-up: heads out, missing changes back, pushes, and joining; who may read, and how much.

use super::*;
use std::collections::HashMap;
use wire::AccessProof;

/// Most (community, peer) pairs remembered as having shown a right to read.
const MAX_READERS: usize = 4_096;
/// Most peers whose sync budget is tracked at once (old windows are dropped first).
const MAX_BUDGETS: usize = 4_096;
/// `more` answers in a row that bring nothing new before we stop asking that peer.
const MAX_IDLE_MORE: u32 = 3;

impl<P: Peer> Replicator<P> {
    /// What we show a peer that may not know us yet: our device certificate, and the
    /// invitation we join with (with its proof of possession).
    fn access(&self, invite: Option<&InviteKey>) -> Option<AccessProof> {
        let (invitation, proof) = match invite {
            Some(k) => k.for_join(&self.member),
            None => (None, None),
        };
        (invitation.is_some() || self.cert.is_some()).then(|| AccessProof {
            invitation,
            proof: proof.map(|p| p.to_vec()),
            cert: self.cert.clone(),
        })
    }

    /// Ask `peer` for what we lack of `id` (and for its genesis when joining).
    pub(super) fn start_sync(&mut self, id: &CommunityId, peer: P) {
        if let Some(j) = self.joining.get_mut(id) {
            if self.communities.contains_key(id) || !j.in_flight.insert(peer.clone()) {
                // Genesis already here: fall through to a normal sync below.
            } else {
                let invite = j.invitation.clone();
                let access = self.access(invite.as_ref());
                let req = SyncRequest::Heads {
                    community: *id,
                    want_genesis: true,
                    docs: Vec::new(),
                    access,
                };
                self.push(Output::SyncSend {
                    to: peer,
                    community: *id,
                    bytes: wire::encode(&req),
                });
                return;
            }
        }
        let access = match self.communities.get(id) {
            Some(e) if !matches!(e.my_status, MemberStatus::Member(_)) => {
                let invite = e
                    .invite
                    .clone()
                    .or_else(|| self.joining.get(id).and_then(|j| j.invitation.clone()));
                self.access(invite.as_ref())
            }
            _ => None,
        };
        let Some(e) = self.communities.get_mut(id) else {
            return;
        };
        if !e.in_flight.insert(peer.clone()) {
            return;
        }
        let docs: Vec<(DocId, Vec<WireHash>)> = e
            .community
            .docs()
            .into_iter()
            .map(|d| {
                let h = e.community.heads(&d).unwrap_or_default();
                (d, h.into_iter().map(WireHash::from).collect())
            })
            .collect();
        let req = SyncRequest::Heads {
            community: *id,
            want_genesis: false,
            docs,
            access,
        };
        self.push(Output::SyncSend {
            to: peer,
            community: *id,
            bytes: wire::encode(&req),
        });
    }

    pub(super) fn respond(&mut self, reply: ReplyId, msg: &SyncResponse) {
        self.push(Output::SyncRespond {
            reply,
            bytes: wire::encode(msg),
        });
    }

    /// Whether `from` (device `device`) may read community `id` now, with the proof it shows or
    /// the one it showed before (remembered for its later requests and pushes, and judged
    /// again each time: a removal or revocation takes effect at once).
    fn may_read(
        &mut self,
        id: &CommunityId,
        from: &P,
        device: Option<&qun_identity::DeviceId>,
        access: Option<&AccessProof>,
    ) -> bool {
        let key = (*id, from.clone());
        let access = access.cloned().or_else(|| self.readers.get(&key).cloned());
        let Some(e) = self.communities.get_mut(id) else {
            return false;
        };
        let ok = match device {
            Some(d) => e.community.may_read(
                d,
                access.as_ref().and_then(|a| a.invitation.as_deref()),
                access.as_ref().and_then(|a| a.proof.as_deref()),
                access.as_ref().and_then(|a| a.cert.as_deref()),
            ),
            None => e.community.state().policy == crate::AdmissionPolicy::Open,
        };
        match access {
            Some(a) if ok => {
                if self.readers.len() >= MAX_READERS {
                    self.readers.clear();
                }
                self.readers.insert(key, a);
            }
            _ => {
                self.readers.remove(&key);
            }
        }
        ok
    }

    /// Whether `from` may have `bytes` more of sync answers in this window (and count them).
    fn within_budget(&mut self, now: Timestamp, from: &P) -> bool {
        let window = super::SYNC_BUDGET_WINDOW_MS;
        if self.served.len() >= MAX_BUDGETS {
            let cutoff = now.as_millis().saturating_sub(window);
            self.served
                .retain(|_, (start, _)| start.as_millis() >= cutoff);
        }
        let e = self.served.entry(from.clone()).or_insert((now, 0));
        if now.as_millis() >= e.0.as_millis().saturating_add(window) {
            *e = (now, 0);
        }
        e.1 < self.config.sync_budget_bytes
    }

    fn charge(&mut self, from: &P, bytes: usize) {
        if let Some(e) = self.served.get_mut(from) {
            e.1 = e.1.saturating_add(bytes);
        }
    }

    pub(super) fn on_sync_request(
        &mut self,
        now: Timestamp,
        from: P,
        device: Option<qun_identity::DeviceId>,
        reply: ReplyId,
        bytes: &[u8],
    ) {
        let max = self.config.limits.max_sync_bytes;
        let req = match wire::decode::<SyncRequest>("sync request", bytes, max) {
            Ok(r) => r,
            Err(error) => {
                let reason = error.to_string();
                self.push(Output::Event(Event::Rejected {
                    community: None,
                    from,
                    error,
                }));
                self.respond(reply, &SyncResponse::Refused { reason });
                return;
            }
        };
        let community = req.community();
        if !self.communities.contains_key(&community) {
            self.respond(reply, &SyncResponse::Unknown { community });
            return;
        }
        let access = match &req {
            SyncRequest::Heads { access, .. } => access.as_ref(),
            SyncRequest::Push { .. } => None,
        };
        if !self.may_read(&community, &from, device.as_ref(), access) {
            self.respond(reply, &SyncResponse::Denied { community });
            return;
        }
        if !self.within_budget(now, &from) {
            let retry_ms = self
                .served
                .get(&from)
                .map(|(start, _)| {
                    start
                        .as_millis()
                        .saturating_add(super::SYNC_BUDGET_WINDOW_MS)
                        .saturating_sub(now.as_millis())
                })
                .unwrap_or(super::SYNC_BUDGET_WINDOW_MS);
            self.respond(
                reply,
                &SyncResponse::Busy {
                    community,
                    retry_ms,
                },
            );
            return;
        }
        match req {
            SyncRequest::Heads {
                community,
                want_genesis,
                docs,
                ..
            } => {
                let resp = self.changes_for(&community, want_genesis, &docs);
                let bytes = wire::encode(&resp);
                self.charge(&from, bytes.len());
                self.push(Output::SyncRespond { reply, bytes });
            }
            SyncRequest::Push { community, docs } => {
                let size: usize = docs
                    .iter()
                    .flat_map(|(_, cs)| cs.iter().map(|c| c.bytes.len()))
                    .sum();
                self.charge(&from, size);
                let r = self.ingest_batch(now, &community, &from, docs, Origin::Sync);
                self.respond(
                    reply,
                    &SyncResponse::Ack {
                        community,
                        accepted: u32::try_from(r.accepted).unwrap_or(u32::MAX),
                    },
                );
                self.outbox.extend(r.events);
                self.settle(now, &community);
            }
        }
    }

    /// Changes a peer with heads `theirs` lacks, within the sync size limit: the response's
    /// framing, genesis, heads (at most a quarter of the limit, newest documents first),
    /// samples and every change are counted, so it never exceeds what the peer accepts.
    pub(super) fn changes_for(
        &mut self,
        id: &CommunityId,
        want_genesis: bool,
        theirs: &[(DocId, Vec<WireHash>)],
    ) -> SyncResponse {
        let limits = self.config.limits;
        let Some(e) = self.communities.get_mut(id) else {
            return SyncResponse::Unknown { community: *id };
        };
        let genesis = want_genesis.then(|| e.community.genesis().to_bytes());
        let mut heads = Vec::new();
        let mut heads_used = 0;
        for d in recent_first(e.community.docs()) {
            let h: Vec<WireHash> = e
                .community
                .heads(&d)
                .unwrap_or_default()
                .into_iter()
                .map(WireHash::from)
                .collect();
            let size = doc_heads_wire_size(&d, h.len());
            if heads_used + size > limits.max_sync_heads_bytes() {
                // The oldest documents' heads are left out: the peer offers them whole.
                break;
            }
            heads_used += size;
            heads.push((d, h));
        }
        let budget = limits
            .max_sync_bytes
            .saturating_sub(SYNC_FRAMING_BYTES + heads_used);
        let mut used = genesis.as_ref().map(Vec::len).unwrap_or(0);
        let got = collect_changes(&mut e.community, theirs, &[], budget, &mut used);
        let mut samples = Vec::new();
        for d in got.diverged {
            let s: Vec<WireHash> = e
                .community
                .sample(&d, MAX_SAMPLE)
                .into_iter()
                .map(WireHash::from)
                .collect();
            let size = doc_heads_wire_size(&d, s.len());
            if used + size > budget {
                break;
            }
            used += size;
            samples.push((d, s));
        }
        let (docs, more) = (got.docs, got.more);
        SyncResponse::Changes {
            community: *id,
            genesis,
            docs,
            heads,
            samples,
            more,
        }
    }

    pub(super) fn on_sync_response(&mut self, now: Timestamp, from: P, bytes: &[u8]) {
        let max = self.config.limits.max_sync_bytes;
        let resp = match wire::decode::<SyncResponse>("sync response", bytes, max) {
            Ok(r) => r,
            Err(error) => {
                for e in self.communities.values_mut() {
                    e.in_flight.remove(&from);
                }
                for j in self.joining.values_mut() {
                    j.in_flight.remove(&from);
                }
                self.push(Output::Event(Event::Rejected {
                    community: None,
                    from,
                    error,
                }));
                return;
            }
        };
        let id = resp.community();
        if let Some(j) = self.joining.get_mut(&id) {
            j.in_flight.remove(&from);
        }
        if let Some(e) = self.communities.get_mut(&id) {
            e.in_flight.remove(&from);
        }
        match resp {
            SyncResponse::Ack {
                community,
                accepted,
            } => {
                // What we pushed went in: the peer now knows our heads, so one more round
                // brings what it has and we lack (after a partition, both sides wrote).
                if accepted > 0 {
                    self.start_sync(&community, from);
                }
            }
            SyncResponse::Unknown { .. }
            | SyncResponse::Refused { .. }
            | SyncResponse::Busy { .. } => {}
            SyncResponse::Denied { community } => {
                // Usually a peer that has not caught up with our membership yet (or a joiner
                // that has not caught up with anyone's): the periodic sync tries others.
                tracing::debug!(%community, peer = ?from, "peer denied us a sync");
                if let Some(j) = self.joining.get_mut(&community) {
                    j.denied.insert(from);
                }
            }
            SyncResponse::Changes {
                community,
                genesis,
                docs,
                heads,
                samples,
                more,
            } => {
                if !self.communities.contains_key(&community) {
                    if !self.joining.contains_key(&community) {
                        return;
                    }
                    let g = genesis
                        .ok_or_else(|| Error::BadGenesis("peer sent no genesis".into()))
                        .and_then(|b| CommunityGenesis::from_bytes(&b, &community));
                    match g {
                        Ok(g) => {
                            let bytes = g.to_bytes();
                            self.add_entry(now, g);
                            let invite = self
                                .joining
                                .get(&community)
                                .and_then(|j| j.invitation.clone());
                            if let Some(e) = self.communities.get_mut(&community) {
                                e.invite = invite;
                            }
                            self.push(Output::Persist(Persist::Genesis { community, bytes }));
                            self.push(Output::Event(Event::CommunityAdded { community }));
                        }
                        Err(error) => {
                            self.push(Output::Event(Event::Rejected {
                                community: Some(community),
                                from,
                                error,
                            }));
                            return;
                        }
                    }
                }
                if let Some(e) = self.communities.get_mut(&community) {
                    e.peers.insert(from.clone());
                }
                let r = self.ingest_batch(now, &community, &from, docs, Origin::Sync);
                let received = r.accepted;
                self.outbox.extend(r.events);
                self.settle(now, &community);
                self.try_join(now, &community, &from);
                self.push(Output::Event(Event::Synced {
                    community,
                    peer: from.clone(),
                    received,
                    more,
                }));
                // Ask again while the answers were cut short and bring something new; a peer
                // that keeps saying "more" with nothing new gets a few tries, then the periodic
                // sync.
                let key = (community, from.clone());
                let idle = if received == 0 {
                    let n = self.idle_more.entry(key.clone()).or_insert(0);
                    *n = n.saturating_add(1);
                    *n
                } else {
                    self.idle_more.remove(&key);
                    0
                };
                if more && idle <= MAX_IDLE_MORE {
                    self.start_sync(&community, from);
                } else {
                    if self.idle_more.len() > MAX_READERS {
                        self.idle_more.clear();
                    }
                    self.push_missing(&community, from, &heads, &samples);
                }
            }
        }
    }

    /// Push to `peer` the changes its heads (or, where we know none of them, its samples)
    /// show it lacks.
    pub(super) fn push_missing(
        &mut self,
        id: &CommunityId,
        peer: P,
        theirs: &[(DocId, Vec<WireHash>)],
        samples: &[(DocId, Vec<WireHash>)],
    ) {
        let budget = self
            .config
            .limits
            .max_sync_bytes
            .saturating_sub(SYNC_FRAMING_BYTES);
        let Some(e) = self.communities.get_mut(id) else {
            return;
        };
        let mut used = 0;
        let docs = collect_changes(&mut e.community, theirs, samples, budget, &mut used).docs;
        if docs.is_empty() || !e.in_flight.insert(peer.clone()) {
            return;
        }
        let req = SyncRequest::Push {
            community: *id,
            docs,
        };
        self.push(Output::SyncSend {
            to: peer,
            community: *id,
            bytes: wire::encode(&req),
        });
    }
}

/// Bytes of a document id and a list of `hashes` hashes on the wire (postcard: a document
/// id, a length, 32 bytes each); with `hashes` 0, a bound on a document's entry in a list of
/// changes.
pub(super) fn doc_heads_wire_size(doc: &DocId, hashes: usize) -> usize {
    let id = match doc {
        DocId::Governance => 1,
        // Tag, channel (length and bytes), window (varint).
        DocId::Content { channel, .. } => 1 + 1 + channel.as_str().len() + 5,
    };
    id + 5 + hashes * 32
}

/// Most sample hashes per document (doubling distances: 2^24 changes back).
pub(super) const MAX_SAMPLE: usize = 25;

/// What [`collect_changes`] found.
pub(super) struct Collected {
    /// Changes per document, in causal order.
    pub docs: Vec<(DocId, Vec<WireChange>)>,
    /// The budget cut them short.
    pub more: bool,
    /// Documents where none of the peer's heads is known here and it sent no samples: both
    /// sides wrote since they last met.
    pub diverged: Vec<DocId>,
}

/// The order in which documents are served: governance first (everything else is authorized
/// against it), then content from the newest window back, so a joiner whose catch-up takes
/// several rounds shows this week's posts after the first and fills history after that.
pub(super) fn recent_first(mut docs: Vec<DocId>) -> Vec<DocId> {
    docs.sort_by(|a, b| match (a, b) {
        (DocId::Governance, DocId::Governance) => std::cmp::Ordering::Equal,
        (DocId::Governance, _) => std::cmp::Ordering::Less,
        (_, DocId::Governance) => std::cmp::Ordering::Greater,
        (
            DocId::Content {
                channel: ca,
                window: wa,
            },
            DocId::Content {
                channel: cb,
                window: wb,
            },
        ) => wb.cmp(wa).then_with(|| ca.cmp(cb)),
    });
    docs
}

/// The changes of every document of `c` not in the past of `theirs`, in [`recent_first`] order,
/// each in causal order, until `budget` bytes. Where none of their heads of a document is known
/// here, their `samples` of it say what they share with us (nothing known: everything);
/// without samples the document is listed as diverged.
pub(super) fn collect_changes(
    c: &mut Community,
    theirs: &[(DocId, Vec<WireHash>)],
    samples: &[(DocId, Vec<WireHash>)],
    budget: usize,
    used: &mut usize,
) -> Collected {
    let mut out = Vec::new();
    let mut diverged = Vec::new();
    // Indexed once: a peer's lists are as long as it likes (within the message size), and
    // looking each of our documents up in them by a scan would be quadratic.
    let index = |list: &'_ [(DocId, Vec<WireHash>)]| -> HashMap<DocId, Vec<Hash>> {
        list.iter()
            .map(|(d, h)| (d.clone(), h.iter().map(|w| Hash::from(*w)).collect()))
            .collect()
    };
    let (theirs, samples) = (index(theirs), index(samples));
    let hashes = |m: &HashMap<DocId, Vec<Hash>>, doc: &DocId| m.get(doc).cloned();
    for doc in recent_first(c.docs()) {
        let have = hashes(&theirs, &doc).unwrap_or_default();
        let mut known: Vec<Hash> = have
            .iter()
            .copied()
            .filter(|h| c.has_change(&doc, h))
            .collect();
        if !have.is_empty() && known.is_empty() {
            // Heads we do not know mean they have news for us; whether they also lack some of
            // ours, only what we share can tell.
            match hashes(&samples, &doc) {
                Some(sample) => {
                    known = sample
                        .into_iter()
                        .filter(|h| c.has_change(&doc, h))
                        .collect();
                }
                None => {
                    diverged.push(doc);
                    continue;
                }
            }
        }
        let changes = c.signed_changes_since(&doc, &known).unwrap_or_default();
        let mut list = Vec::new();
        for (bytes, sig) in changes {
            // The first change also pays for the document's entry (its id, the list's length).
            let entry = if list.is_empty() {
                doc_heads_wire_size(&doc, 0)
            } else {
                0
            };
            let size = entry + wire::change_wire_size(bytes.len());
            if *used + size > budget {
                if !list.is_empty() {
                    out.push((doc, list));
                }
                return Collected {
                    docs: out,
                    more: true,
                    diverged,
                };
            }
            *used += size;
            list.push(WireChange { bytes, sig });
        }
        if !list.is_empty() {
            out.push((doc, list));
        }
    }
    Collected {
        docs: out,
        more: false,
        diverged,
    }
}
