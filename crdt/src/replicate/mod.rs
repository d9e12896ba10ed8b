//! The sans-IO replication core: [`Replicator`].
//!
//! It owns the communities this node holds and turns inputs (a gossip message, a sync request
//! or response, a peer subscribing or leaving, a timer tick) into outputs (publish, send,
//! respond, persist, verdict, event). It reads no clock (`now` comes with every call), opens
//! no socket or file, and draws randomness from a seeded RNG: the node and the simulator drive
//! the same code.
//!
//! Dissemination: a local change is published on the community's gossip topic as one small
//! [`wire::GossipMsg`]. Catch-up: when a peer subscribes, and every [`SYNC_INTERVAL_MS`] with
//! one random peer, the node sends its heads of every document ([`wire::SyncRequest::Heads`]);
//! the peer answers with the changes not in the past of those heads, and its own heads
//! ([`wire::SyncResponse::Changes`]); if the peer lacks changes of ours we push them
//! ([`wire::SyncRequest::Push`]). Usually one round trip, two when both sides had news. Every
//! change, from gossip, sync or the store, goes through [`Community::ingest`].
//!
//! Applying: validated changes are staged and applied to Automerge in one call per batch — per
//! sync message, per restore, and for gossip per [`FLUSH_DELAY_MS`] (or [`FLUSH_MAX_STAGED`]
//! changes), because each Automerge call costs time in proportion to the document. Reads
//! always apply what is staged first. Figures: `BENCHMARKS.md`, section qun-crdt.
//!
//! Output order is part of the contract: for every accepted change, `Persist` comes before
//! `Publish`, before `Verdict::Accept` and before the `Event`. A driver that runs outputs in
//! order, with `Persist` returning only once the store has flushed, never acknowledges or
//! forwards a change it could lose.

mod expiry;
mod gossip;
mod io;
mod join;
mod pending;
mod sync;
mod timer;
pub mod wire;

use crate::community::apply::Ingested;
use crate::community::edit::{Edit, LocalChange};
use crate::community::{Community, CommunityReader};
use crate::error::{Error, Result};
use crate::ids::{CommunityId, DocId, Hash};
use crate::model::genesis::CommunityGenesis;
use crate::{Action, MemberStatus};
use qun_identity::{MemberId, SecretIdentity, Timestamp};
use rand::SeedableRng;
use rand::seq::IteratorRandom;
use rand_chacha::ChaCha12Rng;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Debug;
use timer::{Timer, TimerMap};
use wire::{GossipMsg, SyncRequest, SyncResponse, WireChange, WireHash};

/// Anti-entropy period: sync each community with one random peer this often.
pub const SYNC_INTERVAL_MS: u64 = 30_000;
/// How long a change may wait for its dependencies before it is dropped.
pub const PENDING_TTL_MS: u64 = 10 * 60 * 1000;
/// While joining, ask known peers for the genesis again this often.
pub const JOIN_RETRY_MS: u64 = 5_000;
/// Changes that come by gossip are validated, persisted and forwarded at once, but applied to
/// Automerge in batches: at most this long after the first of a batch arrived. Automerge 0.12
/// spends time in proportion to the whole document on every `apply_changes` call, so one call
/// per gossip message makes a busy document quadratic. Nothing sees the delay: every read
/// (views, heads, sync answers, local edits) applies what is staged first.
pub const FLUSH_DELAY_MS: u64 = 50;
/// ... or as soon as this many gossip changes wait to be applied.
pub const FLUSH_MAX_STAGED: usize = 1_024;
/// Stored changes authenticated together at a restore (their signatures in ZIP-215 batches of
/// 256, spread over `Config::verify_threads`): large enough for the batches to pay, small
/// enough that the pre-scanned headers and signed messages held meanwhile stay ~2 MiB (8,192
/// added 9 MiB to the peak heap of a 100k-post restore).
pub const RESTORE_CHUNK: usize = 2_048;
use crate::limits::SYNC_FRAMING_BYTES;

pub use expiry::{EXPIRY_CHECK_MS, EXPIRY_SPREAD_MS};
pub use io::{
    Config, DEFAULT_SYNC_BUDGET_BYTES, Event, Input, MsgId, Origin, Output, Peer, Persist, ReplyId,
    SYNC_BUDGET_WINDOW_MS, Verdict,
};
pub use join::JoinProgress;
pub use pending::{MAX_PENDING_BYTES, MAX_PENDING_PER_PEER};

struct Entry<P> {
    community: Community,
    peers: BTreeSet<P>,
    /// Peers we have a sync request in flight with.
    in_flight: BTreeSet<P>,
    pending: pending::PendingQueue<P>,
    my_status: MemberStatus,
    /// Gossip changes accepted but not yet applied to Automerge (see [`FLUSH_DELAY_MS`]).
    unflushed: usize,
    /// A `Timer::Flush` is set.
    flush_due: bool,
    /// The peer that sent the last of them (named if applying them fails).
    unflushed_from: Option<P>,
    /// The invitation we joined with, kept until we are a member: shown with every sync
    /// request so peers that have not seen our join yet still answer.
    invite: Option<InviteKey>,
}

/// An invitation as a joiner holds it: the signed invitation, and for a bearer invitation the
/// secret half of its key (from the invite code), which proves possession without being sent.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct InviteKey {
    /// The signed invitation envelope.
    pub invitation: Vec<u8>,
    /// The bearer key's secret seed (bearer invitations only).
    pub secret: Option<[u8; 32]>,
}

impl std::fmt::Debug for InviteKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InviteKey")
            .field("invitation", &format_args!("<{}b>", self.invitation.len()))
            .field("secret", &self.secret.map(|_| "<secret>"))
            .finish()
    }
}

impl InviteKey {
    /// Encoded for the store (postcard).
    pub fn to_bytes(&self) -> Vec<u8> {
        postcard::to_allocvec(self).unwrap_or_default()
    }

    /// Decode what [`InviteKey::to_bytes`] made.
    pub fn from_bytes(b: &[u8]) -> Result<Self> {
        postcard::from_bytes(b).map_err(|e| Error::decode("invite key", e))
    }

    /// The join action's invitation and proof of possession for `joiner`.
    pub(crate) fn for_join(&self, joiner: &MemberId) -> (Option<Vec<u8>>, Option<[u8; 64]>) {
        let proof = self.secret.and_then(|s| {
            let inv = qun_identity::Signed::<qun_identity::Invitation>::from_bytes_untimed(
                &self.invitation,
                &qun_identity::Limits::default(),
            )
            .ok()?;
            let key = SecretIdentity::from_seed(&s);
            Some(inv.value().prove(&key, joiner))
        });
        (Some(self.invitation.clone()), proof)
    }
}

/// A community we want to join but whose genesis we do not have yet.
#[derive(Debug, Clone)]
struct Joining<P> {
    invitation: Option<InviteKey>,
    peers: BTreeSet<P>,
    in_flight: BTreeSet<P>,
    /// Peers that refused to let us read the community.
    denied: BTreeSet<P>,
}

/// The replication state machine. See the module docs.
pub struct Replicator<P: Peer> {
    key: SecretIdentity,
    member: MemberId,
    cert: Option<Vec<u8>>,
    config: Config,
    communities: BTreeMap<CommunityId, Entry<P>>,
    joining: BTreeMap<CommunityId, Joining<P>>,
    outbox: VecDeque<Output<P>>,
    timers: TimerMap,
    rng: ChaCha12Rng,
    /// Sync bytes served per peer in the current budget window: `(window start, bytes)`.
    served: BTreeMap<P, (Timestamp, usize)>,
    /// The access proof each peer last showed for a community that is not open (judged
    /// again, against the current state, on each of its requests).
    readers: BTreeMap<(CommunityId, P), wire::AccessProof>,
    /// Consecutive `more` answers from a peer that brought nothing new.
    idle_more: BTreeMap<(CommunityId, P), u32>,
    /// Joins started and not finished or cancelled (for `join_progress`).
    joins: BTreeMap<CommunityId, join::JoinTrack>,
}

impl<P: Peer> Debug for Replicator<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replicator")
            .field("device", &self.key.device_id())
            .field("communities", &self.communities.len())
            .finish()
    }
}

impl<P: Peer> Replicator<P> {
    /// A replicator signing with device `key` for `member`; `cert` is the root-signed device
    /// certificate (`None` when the device key is the member's root key).
    pub fn new(
        key: SecretIdentity,
        member: MemberId,
        cert: Option<Vec<u8>>,
        config: Config,
    ) -> Result<Self> {
        let limits = config.limits.validated()?;
        let config = Config { limits, ..config };
        if cert.is_none() && key.member_id() != member {
            return Err(Error::edit(
                "start",
                "a device key other than the member's root needs a certificate",
            ));
        }
        Ok(Replicator {
            rng: ChaCha12Rng::seed_from_u64(config.seed),
            key,
            member,
            cert,
            config,
            communities: BTreeMap::new(),
            joining: BTreeMap::new(),
            outbox: VecDeque::new(),
            timers: TimerMap::default(),
            served: BTreeMap::new(),
            readers: BTreeMap::new(),
            idle_more: BTreeMap::new(),
            joins: BTreeMap::new(),
        })
    }

    /// The member this node acts for.
    pub fn member(&self) -> MemberId {
        self.member
    }

    /// The device key this node signs with.
    pub fn device(&self) -> qun_identity::DeviceId {
        self.key.device_id()
    }

    /// The communities held.
    pub fn communities(&self) -> impl Iterator<Item = &CommunityId> {
        self.communities.keys()
    }

    /// Communities being joined (genesis not received yet).
    pub fn joining(&self) -> impl Iterator<Item = &CommunityId> {
        self.joining.keys()
    }

    /// A community, for reading. Edits go through [`Replicator::edit`] and the other inputs,
    /// which persist and publish what they change.
    pub fn community(&mut self, id: &CommunityId) -> Option<CommunityReader<'_>> {
        self.communities
            .get_mut(id)
            .map(|e| CommunityReader(&mut e.community))
    }

    /// The community itself, mutable: for tests that play an attacker who changes its own
    /// state behind its replicator's back.
    #[cfg(any(test, feature = "test-utils"))]
    pub fn community_mut(&mut self, id: &CommunityId) -> Option<&mut Community> {
        self.communities.get_mut(id).map(|e| &mut e.community)
    }

    /// Peers known to hold a community.
    pub fn peers(&self, id: &CommunityId) -> Vec<P> {
        self.communities
            .get(id)
            .map(|e| e.peers.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Changes waiting for dependencies in a community.
    pub fn pending(&self, id: &CommunityId) -> usize {
        self.communities
            .get(id)
            .map(|e| e.pending.len())
            .unwrap_or(0)
    }

    /// The earliest time the replicator wants a `Tick`.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.timers.next_deadline()
    }

    /// Take the outputs produced so far, in order.
    pub fn drain(&mut self) -> std::collections::vec_deque::Drain<'_, Output<P>> {
        self.outbox.drain(..)
    }

    fn push(&mut self, o: Output<P>) {
        self.outbox.push_back(o);
    }

    fn add_entry(&mut self, now: Timestamp, genesis: CommunityGenesis) -> CommunityId {
        let id = genesis.id();
        let mut community = Community::new(genesis, self.key.device_id(), self.config.limits);
        community.set_verify_threads(self.config.verify_threads);
        self.communities.insert(
            id,
            Entry {
                community,
                peers: BTreeSet::new(),
                in_flight: BTreeSet::new(),
                pending: pending::PendingQueue::default(),
                my_status: MemberStatus::Outsider,
                unflushed: 0,
                flush_due: false,
                unflushed_from: None,
                invite: None,
            },
        );
        self.timers.insert(
            now.plus_millis(self.config.sync_interval_ms),
            Timer::Sync(id),
        );
        self.timers
            .insert(now.plus_millis(PENDING_TTL_MS), Timer::ExpirePending(id));
        self.timers
            .insert(now.plus_millis(expiry::EXPIRY_CHECK_MS), Timer::Expiry(id));
        id
    }

    /// Start a community from a genesis signed by this node's member (its root key).
    pub fn create(&mut self, now: Timestamp, genesis: CommunityGenesis) -> Result<CommunityId> {
        if !genesis.is_founder(&self.member) {
            return Err(Error::edit(
                "create community",
                "this member is not a founder",
            ));
        }
        let id = genesis.id();
        if self.communities.contains_key(&id) {
            return Err(Error::edit("create community", "already held"));
        }
        let bytes = genesis.to_bytes();
        self.add_entry(now, genesis);
        self.push(Output::Persist(Persist::Genesis {
            community: id,
            bytes,
        }));
        self.push(Output::Subscribe(id));
        self.push(Output::Event(Event::CommunityAdded { community: id }));
        if let Some(cert) = self.cert.clone() {
            self.edit(now, &id, Edit::Govern(Action::LinkDevice { cert }))?;
        }
        self.note_status(&id);
        Ok(id)
    }

    /// Start joining a community: subscribe, fetch its genesis from the first peer that has it,
    /// catch up, then ask to join (with `invitation`, if any).
    pub fn join(
        &mut self,
        now: Timestamp,
        id: CommunityId,
        invitation: Option<InviteKey>,
    ) -> Result<()> {
        if let Some(e) = self.communities.get(&id)
            && matches!(e.my_status, MemberStatus::Member(_))
        {
            return Err(Error::edit("join", "already a member"));
        }
        self.joining.insert(
            id,
            Joining {
                invitation,
                peers: BTreeSet::new(),
                in_flight: BTreeSet::new(),
                denied: BTreeSet::new(),
            },
        );
        self.joins.insert(
            id,
            join::JoinTrack {
                since: now,
                error: None,
            },
        );
        self.timers
            .insert(now.plus_millis(JOIN_RETRY_MS), Timer::JoinRetry(id));
        self.push(Output::Subscribe(id));
        Ok(())
    }

    /// Load a community from the store at start-up: genesis, then stored changes (re-verified
    /// through the same path as everything else). Produces no `Persist` outputs.
    pub fn restore(
        &mut self,
        now: Timestamp,
        id: &CommunityId,
        genesis: &[u8],
        changes: Vec<(DocId, WireChange)>,
    ) -> Result<RestoreReport> {
        let g = CommunityGenesis::from_bytes(genesis, id)?;
        self.add_entry(now, g);
        if let Some(e) = self.communities.get_mut(id) {
            e.community.observe_time(now);
        }
        let mut report = RestoreReport::default();
        let entry = self
            .communities
            .get_mut(id)
            .ok_or_else(|| Error::UnknownCommunity(id.to_string()))?;
        // First pass, a chunk at a time (bounded memory): every change of the chunk
        // authenticated in ZIP-215 batches, then ingested in order.
        let mut waiting: Vec<(DocId, WireChange)> = Vec::new();
        let mut progress = false;
        let mut changes = changes.into_iter();
        loop {
            let chunk: Vec<(DocId, WireChange)> = changes.by_ref().take(RESTORE_CHUNK).collect();
            if chunk.is_empty() {
                break;
            }
            let checked = {
                let flat: Vec<(&DocId, &[u8], &[u8; 64])> = chunk
                    .iter()
                    .map(|(d, c)| (d, c.bytes.as_slice(), &c.sig))
                    .collect();
                entry.community.authenticate(&flat)
            };
            for ((doc, c), checked) in chunk.into_iter().zip(checked) {
                match entry.community.ingest_with(&doc, &c.bytes, &c.sig, checked) {
                    Ok(Ingested::Accepted(_)) => {
                        report.restored += 1;
                        progress = true;
                    }
                    Ok(Ingested::Duplicate(_)) => {}
                    Err(e) if e.is_pending() => waiting.push((doc, c)),
                    Err(e) => report.invalid.push(e),
                }
            }
        }
        // Then what waited for a later change, again until nothing moves (their signatures
        // were checked: ingest reports missing dependencies only after the signature).
        while !waiting.is_empty() && progress {
            progress = false;
            let mut still = Vec::new();
            for (doc, c) in waiting {
                let authentic = crate::community::authentic::Checked {
                    head: None,
                    sig_valid: Some(true),
                };
                match entry
                    .community
                    .ingest_with(&doc, &c.bytes, &c.sig, authentic)
                {
                    Ok(Ingested::Accepted(_)) => {
                        report.restored += 1;
                        progress = true;
                    }
                    Ok(Ingested::Duplicate(_)) => {}
                    Err(e) if e.is_pending() => still.push((doc, c)),
                    Err(e) => report.invalid.push(e),
                }
            }
            waiting = still;
        }
        report.unresolved = waiting.len();
        if let Some(e) = self.communities.get_mut(id) {
            e.community.flush()?;
        }
        self.push(Output::Subscribe(*id));
        let status = self.status_of(id);
        if let Some(e) = self.communities.get_mut(id) {
            e.my_status = status;
        }
        Ok(report)
    }

    fn status_of(&mut self, id: &CommunityId) -> MemberStatus {
        let me = self.member;
        self.communities
            .get_mut(id)
            .map(|e| e.community.state().status(&me))
            .unwrap_or(MemberStatus::Outsider)
    }

    /// Emit `MembershipChanged` when our status moved.
    fn note_status(&mut self, id: &CommunityId) {
        let status = self.status_of(id);
        if matches!(status, MemberStatus::Member(_)) {
            self.joins.remove(id);
        }
        if let Some(e) = self.communities.get_mut(id)
            && e.my_status != status
        {
            e.my_status = status.clone();
            self.outbox
                .push_back(Output::Event(Event::MembershipChanged {
                    community: *id,
                    status,
                }));
        }
    }

    /// After changes came in: publish equivocation evidence found, claim admission when the
    /// policy now admits a pending request of ours, re-issue our own governance changes an
    /// equivocation stranded, and report our status.
    fn settle(&mut self, now: Timestamp, id: &CommunityId) {
        let Some(e) = self.communities.get_mut(id) else {
            return;
        };
        let evidence = e.community.take_evidence();
        let stranded = e.community.take_stranded_own();
        let known: Vec<(DocId, qun_identity::DeviceId, u64)> = {
            e.community.ensure_validity();
            e.community
                .index
                .validity()
                .equivocations
                .iter()
                .map(|((d, dev), s)| (d.clone(), *dev, *s))
                .collect()
        };
        let member = matches!(self.status_of(id), MemberStatus::Member(_));
        if member {
            for a in evidence {
                if let Action::Equivocation {
                    ref doc, a: ref ab, ..
                } = a
                {
                    let head = self.config.limits.prescan(ab).ok();
                    let dup = head.is_some_and(|h| {
                        known.iter().any(|(d, dev, s)| {
                            d.key() == *doc && dev.to_bytes()[..] == h.actor[..] && *s <= h.seq
                        })
                    });
                    if dup {
                        continue;
                    }
                }
                if let Err(error) = self.edit(now, id, Edit::Govern(a)) {
                    tracing::debug!(community = %id, "could not publish equivocation evidence: {error}");
                }
            }
            for (doc, h, redo) in stranded {
                self.reissue(now, id, &doc, &h, redo);
            }
        }
        self.claim_admission(now, id);
        self.note_status(id);
    }

    /// Make again, on the winning side, a change of ours that an equivocation stranded.
    fn reissue(
        &mut self,
        now: Timestamp,
        id: &CommunityId,
        doc: &DocId,
        h: &Hash,
        redo: Option<crate::community::Reissue>,
    ) {
        let edit = match redo {
            Some(crate::community::Reissue::Govern(a)) => Edit::Govern(a),
            Some(crate::community::Reissue::Edit(e)) => e,
            None => {
                tracing::info!(community = %id, %doc, change = %h, "a stranded change of ours cannot be made again");
                return;
            }
        };
        if let Err(error) = self.edit(now, id, edit) {
            tracing::debug!(community = %id, "could not re-issue a stranded change: {error}");
        }
    }

    /// While our join is only a request: when the policy at the current heads admits us
    /// (enough endorsements, trust flow), make the join again; it admits us this time.
    fn claim_admission(&mut self, now: Timestamp, id: &CommunityId) {
        if self.status_of(id) != MemberStatus::Requested {
            return;
        }
        let action = Action::Join {
            cert: self.cert.clone(),
            invitation: None,
            proof: None,
        };
        let admits = self
            .communities
            .get_mut(id)
            .is_some_and(|e| e.community.would_admit(&action));
        if admits && let Err(error) = self.edit(now, id, Edit::Govern(action)) {
            tracing::debug!(community = %id, "could not claim admission: {error}");
        }
    }

    /// Make a local edit: persist, publish, event. Returns what was made.
    pub fn edit(&mut self, now: Timestamp, id: &CommunityId, edit: Edit) -> Result<LocalChange> {
        let entry = self
            .communities
            .get_mut(id)
            .ok_or_else(|| Error::UnknownCommunity(id.to_string()))?;
        entry.community.observe_time(now);
        let lc = entry.community.edit(&self.key, now, edit)?;
        let wc = WireChange {
            bytes: lc.bytes.clone(),
            sig: lc.sig,
        };
        self.push(Output::Persist(Persist::Changes {
            community: *id,
            changes: vec![(lc.accepted.doc.clone(), lc.accepted.hash, wc.clone())],
        }));
        let msg = GossipMsg {
            community: *id,
            doc: lc.accepted.doc.clone(),
            changes: vec![wc],
        };
        self.push(Output::Publish {
            community: *id,
            bytes: wire::encode(&msg),
        });
        self.push(Output::Event(Event::Accepted {
            community: *id,
            change: lc.accepted.clone(),
            origin: Origin::Local,
        }));
        self.note_status(id);
        Ok(lc)
    }

    /// Feed an input; take the outputs with [`Replicator::drain`].
    pub fn handle(&mut self, now: Timestamp, input: Input<P>) {
        match input {
            Input::Gossip { from, id, bytes } => self.on_gossip(now, from, id, &bytes),
            Input::SyncRequest {
                from,
                device,
                reply,
                bytes,
            } => self.on_sync_request(now, from, device, reply, &bytes),
            Input::SyncResponse { from, bytes } => self.on_sync_response(now, from, &bytes),
            Input::SyncFailed { peer, community } => {
                if let Some(e) = self.communities.get_mut(&community) {
                    e.in_flight.remove(&peer);
                }
                if let Some(j) = self.joining.get_mut(&community) {
                    j.in_flight.remove(&peer);
                }
            }
            Input::PeerJoined { peer, community } => {
                if let Some(e) = self.communities.get_mut(&community) {
                    e.peers.insert(peer.clone());
                }
                if let Some(j) = self.joining.get_mut(&community) {
                    j.peers.insert(peer.clone());
                }
                self.start_sync(&community, peer);
            }
            Input::PeerLeft { peer } => {
                for e in self.communities.values_mut() {
                    e.peers.remove(&peer);
                    e.in_flight.remove(&peer);
                }
            }
            Input::Tick => self.on_tick(now),
        }
    }

    fn on_tick(&mut self, now: Timestamp) {
        for t in self.timers.drain_due(now) {
            match t {
                Timer::Sync(id) => {
                    if !self.communities.contains_key(&id) {
                        continue;
                    }
                    let peer = self
                        .communities
                        .get(&id)
                        .and_then(|e| e.peers.iter().choose(&mut self.rng).cloned());
                    if let Some(p) = peer {
                        self.start_sync(&id, p);
                    }
                    self.timers.insert(
                        now.plus_millis(self.config.sync_interval_ms),
                        Timer::Sync(id),
                    );
                }
                Timer::JoinRetry(id) => {
                    let Some(j) = self.joining.get(&id) else {
                        continue;
                    };
                    let idle: Vec<P> = j.peers.difference(&j.in_flight).cloned().collect();
                    for p in idle {
                        self.start_sync(&id, p);
                    }
                    if self.joining.contains_key(&id) {
                        self.timers
                            .insert(now.plus_millis(JOIN_RETRY_MS), Timer::JoinRetry(id));
                    }
                }
                Timer::Flush(id) => {
                    if let Some(e) = self.communities.get_mut(&id) {
                        e.flush_due = false;
                        e.unflushed = 0;
                        let from = e.unflushed_from.take();
                        if let (Err(error), Some(from)) = (e.community.flush(), from) {
                            self.outbox.push_back(Output::Event(Event::Rejected {
                                community: Some(id),
                                from,
                                error,
                            }));
                        }
                    }
                }
                Timer::ExpirePending(id) => {
                    if let Some(e) = self.communities.get_mut(&id) {
                        let cutoff = now.as_millis().saturating_sub(PENDING_TTL_MS);
                        e.pending.expire(Timestamp::from_millis(cutoff));
                        self.timers
                            .insert(now.plus_millis(PENDING_TTL_MS), Timer::ExpirePending(id));
                    }
                }
                Timer::Expiry(id) => {
                    if self.communities.contains_key(&id) {
                        self.publish_expiries(now, &id);
                        self.timers
                            .insert(now.plus_millis(expiry::EXPIRY_CHECK_MS), Timer::Expiry(id));
                    }
                }
            }
        }
    }
}

/// What a restore did.
#[derive(Debug, Default)]
pub struct RestoreReport {
    /// Changes that went back in.
    pub restored: usize,
    /// Changes that failed verification (a damaged or tampered store).
    pub invalid: Vec<Error>,
    /// Changes whose dependencies were never found.
    pub unresolved: usize,
}
