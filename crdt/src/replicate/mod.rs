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

mod timer;
pub mod wire;

use crate::community::Community;
use crate::community::apply::Ingested;
use crate::community::edit::{Edit, LocalChange};
use crate::community::genesis::CommunityGenesis;
use crate::error::{Error, Result};
use crate::ids::{CommunityId, DocId, Hash};
use crate::limits::Limits;
use crate::{Accepted, Action, MemberStatus};
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
/// Room kept in a sync response for framing and heads.
const SYNC_RESPONSE_MARGIN: usize = 64 * 1024;

/// How the driver names a peer (libp2p `PeerId` in the node, an index in the simulator).
pub trait Peer: Clone + Ord + Debug {}
impl<T: Clone + Ord + Debug> Peer for T {}

/// The id the gossip layer gave a message (gossipsub message id: blake3 of the data).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MsgId(pub Vec<u8>);

impl Debug for MsgId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hex: String = self.0.iter().take(6).map(|b| format!("{b:02x}")).collect();
        write!(f, "MsgId({hex})")
    }
}

/// The driver's handle for an inbound request it must answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReplyId(pub u64);

/// Gossip validation result (gossipsub `MessageAcceptance`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Valid and new: forward it.
    Accept,
    /// Invalid: drop it and penalise the sender.
    Reject,
    /// Not invalid, not worth forwarding (duplicate, unknown community, waiting for deps).
    Ignore,
}

/// Where a change came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Made on this node.
    Local,
    /// Received by gossip.
    Gossip,
    /// Received by sync.
    Sync,
}

/// Everything that happens to the replicator from outside.
#[derive(Clone, Debug)]
pub enum Input<P> {
    /// A gossip message arrived (gossipsub `Event::Message`, validation pending).
    Gossip {
        /// The peer that forwarded it.
        from: P,
        /// Its message id.
        id: MsgId,
        /// Its data.
        bytes: Vec<u8>,
    },
    /// A peer sent a sync request; answer with `Output::SyncRespond { reply }`.
    SyncRequest {
        /// The peer.
        from: P,
        /// Handle for the response.
        reply: ReplyId,
        /// Request bytes.
        bytes: Vec<u8>,
    },
    /// A peer answered our sync request.
    SyncResponse {
        /// The peer.
        from: P,
        /// Response bytes.
        bytes: Vec<u8>,
    },
    /// A sync request of ours failed (timeout, connection closed, refused).
    SyncFailed {
        /// The peer.
        peer: P,
        /// The community the request was about.
        community: CommunityId,
    },
    /// A peer subscribed to a community's topic.
    PeerJoined {
        /// The peer.
        peer: P,
        /// The community.
        community: CommunityId,
    },
    /// A peer went away (last connection closed).
    PeerLeft {
        /// The peer.
        peer: P,
    },
    /// Time passed: run due timers.
    Tick,
}

/// Changes to store, in order; the driver must flush them before running the next output.
#[derive(Clone, Debug, PartialEq)]
pub enum Persist {
    /// A community's signed genesis.
    Genesis {
        /// The community.
        community: CommunityId,
        /// Genesis envelope bytes.
        bytes: Vec<u8>,
    },
    /// Accepted changes.
    Changes {
        /// The community.
        community: CommunityId,
        /// `(doc, hash, change bytes, signature)`, in the order they were accepted.
        changes: Vec<(DocId, Hash, WireChange)>,
    },
}

/// Things worth telling the user interface and the metrics.
#[derive(Clone, Debug, PartialEq)]
pub enum Event<P> {
    /// A change went in.
    Accepted {
        /// The community.
        community: CommunityId,
        /// The change.
        change: Accepted,
        /// From where.
        origin: Origin,
    },
    /// A change or message was refused.
    Rejected {
        /// The community, if known.
        community: Option<CommunityId>,
        /// The peer that sent it.
        from: P,
        /// Why.
        error: Error,
    },
    /// We hold a community's genesis now (created or fetched while joining).
    CommunityAdded {
        /// The community.
        community: CommunityId,
    },
    /// Our own membership changed (admitted, removed...).
    MembershipChanged {
        /// The community.
        community: CommunityId,
        /// New status.
        status: MemberStatus,
    },
    /// A sync round with a peer finished.
    Synced {
        /// The community.
        community: CommunityId,
        /// The peer.
        peer: P,
        /// Changes received in this round.
        received: usize,
        /// Whether more rounds follow.
        more: bool,
    },
}

/// What the replicator asks the driver to do.
#[derive(Clone, Debug)]
pub enum Output<P> {
    /// Subscribe to a community's gossip topic.
    Subscribe(CommunityId),
    /// Publish on a community's gossip topic.
    Publish {
        /// The community.
        community: CommunityId,
        /// Message bytes.
        bytes: Vec<u8>,
    },
    /// Report the validation result of a gossip message.
    Verdict {
        /// The message.
        id: MsgId,
        /// Its forwarder.
        from: P,
        /// The result.
        verdict: Verdict,
    },
    /// Send a sync request.
    SyncSend {
        /// The peer.
        to: P,
        /// The community (for `SyncFailed`).
        community: CommunityId,
        /// Request bytes.
        bytes: Vec<u8>,
    },
    /// Answer a sync request.
    SyncRespond {
        /// The handle from `Input::SyncRequest`.
        reply: ReplyId,
        /// Response bytes.
        bytes: Vec<u8>,
    },
    /// Store durably before running the next output.
    Persist(Persist),
    /// Tell the UI.
    Event(Event<P>),
}

/// Replicator settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Input limits.
    pub limits: Limits,
    /// Anti-entropy period, ms.
    pub sync_interval_ms: u64,
    /// RNG seed (peer choice).
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            limits: Limits::default(),
            sync_interval_ms: SYNC_INTERVAL_MS,
            seed: 0,
        }
    }
}

/// A change waiting for its dependencies.
#[derive(Debug, Clone)]
struct PendingChange {
    doc: DocId,
    change: WireChange,
    since: Timestamp,
}

struct Entry<P> {
    community: Community,
    peers: BTreeSet<P>,
    /// Peers we have a sync request in flight with.
    in_flight: BTreeSet<P>,
    pending: Vec<PendingChange>,
    my_status: MemberStatus,
    /// Gossip changes accepted but not yet applied to Automerge (see [`FLUSH_DELAY_MS`]).
    unflushed: usize,
    /// A `Timer::Flush` is set.
    flush_due: bool,
    /// The peer that sent the last of them (named if applying them fails).
    unflushed_from: Option<P>,
}

/// A community we want to join but whose genesis we do not have yet.
#[derive(Debug, Clone)]
struct Joining<P> {
    invitation: Option<Vec<u8>>,
    peers: BTreeSet<P>,
    in_flight: BTreeSet<P>,
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
        })
    }

    /// The member this node acts for.
    pub fn member(&self) -> MemberId {
        self.member
    }

    /// The communities held.
    pub fn communities(&self) -> impl Iterator<Item = &CommunityId> {
        self.communities.keys()
    }

    /// Communities being joined (genesis not received yet).
    pub fn joining(&self) -> impl Iterator<Item = &CommunityId> {
        self.joining.keys()
    }

    /// A community, for reading views and making edits through [`Replicator::edit`].
    pub fn community(&mut self, id: &CommunityId) -> Option<&mut Community> {
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
        let community = Community::new(genesis, self.key.device_id(), self.config.limits);
        self.communities.insert(
            id,
            Entry {
                community,
                peers: BTreeSet::new(),
                in_flight: BTreeSet::new(),
                pending: Vec::new(),
                my_status: MemberStatus::Outsider,
                unflushed: 0,
                flush_due: false,
                unflushed_from: None,
            },
        );
        self.timers.insert(
            now.plus_millis(self.config.sync_interval_ms),
            Timer::Sync(id),
        );
        self.timers
            .insert(now.plus_millis(PENDING_TTL_MS), Timer::ExpirePending(id));
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
        invitation: Option<Vec<u8>>,
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
        let mut report = RestoreReport::default();
        let mut waiting: Vec<(DocId, WireChange)> = changes;
        loop {
            let mut progress = false;
            let mut still = Vec::new();
            let entry = self
                .communities
                .get_mut(id)
                .ok_or_else(|| Error::UnknownCommunity(id.to_string()))?;
            for (doc, c) in waiting {
                match entry.community.ingest(&doc, &c.bytes, &c.sig) {
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
            if waiting.is_empty() || !progress {
                break;
            }
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

    /// Make a local edit: persist, publish, event. Returns what was made.
    pub fn edit(&mut self, now: Timestamp, id: &CommunityId, edit: Edit) -> Result<LocalChange> {
        let entry = self
            .communities
            .get_mut(id)
            .ok_or_else(|| Error::UnknownCommunity(id.to_string()))?;
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
            Input::SyncRequest { from, reply, bytes } => {
                self.on_sync_request(now, from, reply, &bytes)
            }
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
                        e.pending.retain(|p| p.since.as_millis() >= cutoff);
                        self.timers
                            .insert(now.plus_millis(PENDING_TTL_MS), Timer::ExpirePending(id));
                    }
                }
            }
        }
    }

    /// Ask `peer` for what we lack of `id` (and for its genesis when joining).
    fn start_sync(&mut self, id: &CommunityId, peer: P) {
        if let Some(j) = self.joining.get_mut(id) {
            if self.communities.contains_key(id) || !j.in_flight.insert(peer.clone()) {
                // Genesis already here: fall through to a normal sync below.
            } else {
                let req = SyncRequest::Heads {
                    community: *id,
                    want_genesis: true,
                    docs: Vec::new(),
                };
                self.push(Output::SyncSend {
                    to: peer,
                    community: *id,
                    bytes: wire::encode(&req),
                });
                return;
            }
        }
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
        };
        self.push(Output::SyncSend {
            to: peer,
            community: *id,
            bytes: wire::encode(&req),
        });
    }

    fn on_gossip(&mut self, now: Timestamp, from: P, id: MsgId, bytes: &[u8]) {
        let limits = self.config.limits;
        let msg = match wire::decode::<GossipMsg>("gossip message", bytes, limits.max_gossip_bytes)
        {
            Ok(m) => m,
            Err(error) => {
                self.push(Output::Verdict {
                    id,
                    from: from.clone(),
                    verdict: Verdict::Reject,
                });
                self.push(Output::Event(Event::Rejected {
                    community: None,
                    from,
                    error,
                }));
                return;
            }
        };
        if msg.changes.is_empty() || msg.changes.len() > limits.max_changes_per_gossip {
            self.push(Output::Verdict {
                id,
                from: from.clone(),
                verdict: Verdict::Reject,
            });
            self.push(Output::Event(Event::Rejected {
                community: Some(msg.community),
                from,
                error: Error::TooLarge {
                    what: "changes per gossip message",
                    limit: limits.max_changes_per_gossip,
                    actual: msg.changes.len(),
                },
            }));
            return;
        }
        if !self.communities.contains_key(&msg.community) {
            self.push(Output::Verdict {
                id,
                from,
                verdict: Verdict::Ignore,
            });
            return;
        }
        let docs = vec![(msg.doc, msg.changes)];
        let r = self.ingest_batch(now, &msg.community, &from, docs, Origin::Gossip);
        let verdict = if r.invalid > 0 {
            Verdict::Reject
        } else if r.accepted > 0 {
            Verdict::Accept
        } else {
            Verdict::Ignore
        };
        // ingest_batch queued Persist already: the verdict comes after it, events after that.
        self.push(Output::Verdict {
            id,
            from: from.clone(),
            verdict,
        });
        self.outbox.extend(r.events);
        self.note_status(&msg.community);
        if r.pending > 0 {
            self.start_sync(&msg.community, from);
        }
    }

    /// Ingest changes from `from` into community `id`: accepted ones are persisted (queued now),
    /// waiting ones kept, invalid ones reported. Events are returned for the caller to queue.
    fn ingest_batch(
        &mut self,
        now: Timestamp,
        id: &CommunityId,
        from: &P,
        docs: Vec<(DocId, Vec<WireChange>)>,
        origin: Origin,
    ) -> BatchResult<P> {
        let max_pending = self.config.limits.max_pending;
        let mut r = BatchResult {
            accepted: 0,
            invalid: 0,
            pending: 0,
            events: Vec::new(),
        };
        let Some(entry) = self.communities.get_mut(id) else {
            return r;
        };
        let mut persisted: Vec<(DocId, Hash, WireChange)> = Vec::new();
        let offer = |entry: &mut Entry<P>,
                     doc: DocId,
                     c: WireChange,
                     r: &mut BatchResult<P>,
                     persisted: &mut Vec<(DocId, Hash, WireChange)>|
         -> bool {
            match entry.community.ingest(&doc, &c.bytes, &c.sig) {
                Ok(Ingested::Accepted(a)) => {
                    r.accepted += 1;
                    persisted.push((doc, a.hash, c));
                    r.events.push(Output::Event(Event::Accepted {
                        community: *id,
                        change: a,
                        origin,
                    }));
                    true
                }
                Ok(Ingested::Duplicate(_)) => false,
                Err(e) if e.is_pending() => {
                    r.pending += 1;
                    if entry.pending.len() < max_pending {
                        entry.pending.push(PendingChange {
                            doc,
                            change: c,
                            since: now,
                        });
                    } else {
                        r.events.push(Output::Event(Event::Rejected {
                            community: Some(*id),
                            from: from.clone(),
                            error: Error::PendingFull { limit: max_pending },
                        }));
                    }
                    false
                }
                Err(error) => {
                    r.invalid += 1;
                    r.events.push(Output::Event(Event::Rejected {
                        community: Some(*id),
                        from: from.clone(),
                        error,
                    }));
                    false
                }
            }
        };
        let mut progress = false;
        for (doc, changes) in docs {
            for c in changes {
                progress |= offer(entry, doc.clone(), c, &mut r, &mut persisted);
            }
        }
        // Whatever went in may complete what was waiting.
        while progress && !entry.pending.is_empty() {
            progress = false;
            let waiting = std::mem::take(&mut entry.pending);
            for p in waiting {
                let before = r.pending;
                progress |= offer(entry, p.doc, p.change, &mut r, &mut persisted);
                // A change that is still waiting was counted again; it is not new.
                if r.pending > before {
                    r.pending = before;
                    if let Some(last) = entry.pending.last_mut() {
                        last.since = p.since;
                    }
                }
            }
        }
        // Sync batches are applied now; gossip ones on the flush timer, unless many wait.
        if r.accepted > 0 {
            entry.unflushed += r.accepted;
            entry.unflushed_from = Some(from.clone());
        }
        if origin != Origin::Gossip || entry.unflushed >= FLUSH_MAX_STAGED {
            entry.unflushed = 0;
            if let Err(e) = entry.community.flush() {
                r.events.push(Output::Event(Event::Rejected {
                    community: Some(*id),
                    from: from.clone(),
                    error: e,
                }));
            }
        } else if entry.unflushed > 0 && !entry.flush_due {
            entry.flush_due = true;
            self.timers
                .insert(now.plus_millis(FLUSH_DELAY_MS), Timer::Flush(*id));
        }
        if !persisted.is_empty() {
            self.outbox.push_back(Output::Persist(Persist::Changes {
                community: *id,
                changes: persisted,
            }));
        }
        r
    }

    fn respond(&mut self, reply: ReplyId, msg: &SyncResponse) {
        self.push(Output::SyncRespond {
            reply,
            bytes: wire::encode(msg),
        });
    }

    fn on_sync_request(&mut self, now: Timestamp, from: P, reply: ReplyId, bytes: &[u8]) {
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
        match req {
            SyncRequest::Heads {
                community,
                want_genesis,
                docs,
            } => {
                let resp = self.changes_for(&community, want_genesis, &docs);
                self.respond(reply, &resp);
            }
            SyncRequest::Push { community, docs } => {
                let r = self.ingest_batch(now, &community, &from, docs, Origin::Sync);
                self.respond(
                    reply,
                    &SyncResponse::Ack {
                        community,
                        accepted: u32::try_from(r.accepted).unwrap_or(u32::MAX),
                    },
                );
                self.outbox.extend(r.events);
                self.note_status(&community);
            }
        }
    }

    /// Changes a peer with heads `theirs` lacks, within the sync size budget.
    fn changes_for(
        &mut self,
        id: &CommunityId,
        want_genesis: bool,
        theirs: &[(DocId, Vec<WireHash>)],
    ) -> SyncResponse {
        let budget = self
            .config
            .limits
            .max_sync_bytes
            .saturating_sub(SYNC_RESPONSE_MARGIN);
        let Some(e) = self.communities.get_mut(id) else {
            return SyncResponse::Unknown { community: *id };
        };
        let genesis = want_genesis.then(|| e.community.genesis().to_bytes());
        let mut used = genesis.as_ref().map(Vec::len).unwrap_or(0);
        let (docs, more) = collect_changes(&mut e.community, theirs, budget, &mut used);
        let heads = e
            .community
            .docs()
            .into_iter()
            .map(|d| {
                let h = e.community.heads(&d).unwrap_or_default();
                (d, h.into_iter().map(WireHash::from).collect())
            })
            .collect();
        SyncResponse::Changes {
            community: *id,
            genesis,
            docs,
            heads,
            more,
        }
    }

    fn on_sync_response(&mut self, now: Timestamp, from: P, bytes: &[u8]) {
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
            SyncResponse::Unknown { .. }
            | SyncResponse::Ack { .. }
            | SyncResponse::Refused { .. } => {}
            SyncResponse::Changes {
                community,
                genesis,
                docs,
                heads,
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
                self.note_status(&community);
                self.try_join(now, &community, &from);
                self.push(Output::Event(Event::Synced {
                    community,
                    peer: from.clone(),
                    received,
                    more,
                }));
                if more {
                    self.start_sync(&community, from);
                } else {
                    self.push_missing(&community, from, &heads);
                }
            }
        }
    }

    /// After catching up while joining, ask to join (once).
    fn try_join(&mut self, now: Timestamp, id: &CommunityId, peer: &P) {
        let Some(invitation) = self.joining.get(id).map(|j| j.invitation.clone()) else {
            return;
        };
        match self.status_of(id) {
            MemberStatus::Outsider => {}
            MemberStatus::Removed(_) => {
                self.joining.remove(id);
                return;
            }
            _ => {
                self.joining.remove(id);
                return;
            }
        }
        let action = Action::Join {
            cert: self.cert.clone(),
            invitation,
        };
        match self.edit(now, id, Edit::Govern(action)) {
            Ok(lc) => {
                self.joining.remove(id);
                // Gossip may have no mesh yet: hand the request to the peer directly too.
                let req = SyncRequest::Push {
                    community: *id,
                    docs: vec![(
                        lc.accepted.doc,
                        vec![WireChange {
                            bytes: lc.bytes,
                            sig: lc.sig,
                        }],
                    )],
                };
                self.push(Output::SyncSend {
                    to: peer.clone(),
                    community: *id,
                    bytes: wire::encode(&req),
                });
            }
            Err(error) => {
                // Not admitted by the state we have; a later sync may bring what is missing.
                self.push(Output::Event(Event::Rejected {
                    community: Some(*id),
                    from: peer.clone(),
                    error,
                }));
            }
        }
    }

    /// Push to `peer` the changes its heads show it lacks.
    fn push_missing(&mut self, id: &CommunityId, peer: P, theirs: &[(DocId, Vec<WireHash>)]) {
        let budget = self
            .config
            .limits
            .max_sync_bytes
            .saturating_sub(SYNC_RESPONSE_MARGIN);
        let Some(e) = self.communities.get_mut(id) else {
            return;
        };
        let mut used = 0;
        let (docs, _more) = collect_changes(&mut e.community, theirs, budget, &mut used);
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

/// What one batch of changes did.
struct BatchResult<P> {
    accepted: usize,
    invalid: usize,
    pending: usize,
    events: Vec<Output<P>>,
}

/// The changes of every document of `c` not in the past of `theirs`, governance first, in
/// causal order, until `budget` bytes; returns them and whether the budget cut them short.
fn collect_changes(
    c: &mut Community,
    theirs: &[(DocId, Vec<WireHash>)],
    budget: usize,
    used: &mut usize,
) -> (Vec<(DocId, Vec<WireChange>)>, bool) {
    let mut out = Vec::new();
    for doc in c.docs() {
        let have: Vec<Hash> = theirs
            .iter()
            .find(|(d, _)| *d == doc)
            .map(|(_, h)| h.iter().map(|w| Hash::from(*w)).collect())
            .unwrap_or_default();
        // Heads we do not know mean they have news for us, not that they lack everything.
        let known: Vec<Hash> = have
            .iter()
            .copied()
            .filter(|h| c.has_change(&doc, h))
            .collect();
        if !have.is_empty() && known.is_empty() {
            continue;
        }
        let changes = c.signed_changes_since(&doc, &known).unwrap_or_default();
        let mut list = Vec::new();
        for (bytes, sig) in changes {
            let size = wire::change_wire_size(bytes.len());
            if *used + size > budget {
                if !list.is_empty() {
                    out.push((doc, list));
                }
                return (out, true);
            }
            *used += size;
            list.push(WireChange { bytes, sig });
        }
        if !list.is_empty() {
            out.push((doc, list));
        }
    }
    (out, false)
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
