//! The driver: one task owns the swarm, the replication core, the store, the clock and the one
//! timer.
//!
//! `tokio::select!` over swarm events, commands (`super::command`, answered in
//! `super::dispatch`) and `sleep_until(poll_timeout)`; each arm turns what happened into a
//! `qun_crdt::Input`, and [`Driver::execute`] runs the outputs in order
//! (persist and flush before the verdict that lets gossipsub forward, see `qun_crdt::replicate`).
//!
//! | swarm / API / store | core |
//! |---|---|
//! | gossipsub `Message{propagation_source, message_id, message}` | `Input::Gossip` |
//! | `report_message_validation_result` | `Output::Verdict` |
//! | gossipsub `publish` (no peers yet: logged; sync catches up) | `Output::Publish` |
//! | gossipsub `Subscribed{peer_id, topic}` | `Input::PeerJoined` |
//! | last `ConnectionClosed` | `Input::PeerLeft` |
//! | `send_request` → `pending_out` | `Output::SyncSend` |
//! | inbound request → `pending_in` | `Input::SyncRequest` |
//! | `send_response(pending_in.remove(reply))` | `Output::SyncRespond` |
//! | response / `OutboundFailure` | `Input::SyncResponse` / `Input::SyncFailed` |
//! | `Store::append_changes` (flushed) | `Output::Persist` |
//! | `sleep_until(poll_timeout())` | `Input::Tick` |
//!
//! Finding members. At start the node dials the peers it met in earlier runs (identify
//! addresses kept in the store, see `redial::redial_known_peers`, and again with a backoff while
//! the node has no connection at all, see [`crate::redial`]). Each community is announced
//! in the Kademlia DHT under its provider key (`start_providing`; a hash of the id, see
//! [`topic::provider_key`]) and its providers are dialled;
//! [`Driver::discover_peers`] does both again every [`DISCOVERY_INTERVAL`] for communities
//! with fewer than [`DISCOVERY_TARGET`] peers on their topic, and as soon as the first DHT
//! server is identified (an announcement made with an empty routing table reached nobody).
//! DHT servers are nodes with a confirmed public address (bootstrap/relay nodes); the rest run
//! Kademlia in client mode.
//!
//! Relays. `--listen <relay addr>/p2p/<relay>/p2p-circuit` addresses are opened once the relay
//! is connected (`circuit_listens`). Besides those, autorelay ([`AutoRelay`], a sans-IO state
//! machine) reserves slots by itself: while the node has no confirmed public address (no
//! `--public-addr`, not serving as a relay, AutoNAT status not `Public`), each connected peer
//! whose identify lists the relay v2 hop protocol (`/libp2p/circuit/relay/0.2.0/hop`) and a
//! usable address becomes a candidate, and the node listens on
//! `<that addr>/p2p/<relay>/p2p-circuit` at up to `max_relays` of them (default 2, 0 disables),
//! skipping relays already used by explicit circuits and itself. When the relay's last
//! connection closes or its listener closes (reservation refused or lost), the relay is
//! forgotten and another candidate takes the slot; it is a candidate again at its next
//! identify. AutoNAT turning `Public` stops new reservations but keeps the ones held (its
//! verdict can flip back, and relayed addresses may already be in invite codes). Relayed
//! listen addresses are part of [`Driver::reachable_addrs`], so invite codes carry them.
//!
//! | swarm | autorelay |
//! |---|---|
//! | identify `Received{peer_id, info}` | `AutoRelay::identified` |
//! | last `ConnectionClosed` | `AutoRelay::disconnected` |
//! | `ListenerClosed{listener_id}` | `AutoRelay::listener_closed` |
//! | AutoNAT `StatusChanged{new}` | `AutoRelay::nat_status` |
//! | `listen_on` / `remove_listener` | `Action::Listen` / `Action::Close` |

use super::command::Command;
use super::restore::CoreSpec;
use crate::clock::Clock;
use crate::dto::{NodeEvent, Stats};
use crate::limits::{GossipRate, Load, SyncInFlight, TokenBucket};
use crate::net::autorelay::{self, AutoRelay};
use crate::net::behaviour::Behaviour;
use crate::net::topic;
use crate::store::Store;
use futures::StreamExt;
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{OutboundRequestId, ResponseChannel};
use libp2p::{Multiaddr, PeerId, Swarm};
use qun_crdt::replicate::{Input, Output, ReplyId};
use qun_crdt::{CommunityId, Replicator};
use qun_identity::keyfile::KeyBundle;
use qun_identity::{MemberId, Timestamp};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc};
use tracing::{debug, info, trace, warn};

/// Most inbound sync requests awaiting our answer.
pub const MAX_PENDING_INBOUND: usize = 1024;
/// How often [`Driver::discover_peers`] runs.
pub const DISCOVERY_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);
/// Fewer peers than this on a community's topic make the node look for more (gossipsub's
/// mesh degree D).
pub const DISCOVERY_TARGET: usize = 6;

/// What a driver is made of, assembled by `crate::node::start`.
pub(crate) struct Parts {
    /// The libp2p swarm.
    pub swarm: Swarm<Behaviour>,
    /// The replication core, restored from the store.
    pub repl: Replicator<PeerId>,
    /// What the core was built from (to build it again, see `super::recover`).
    pub core: CoreSpec,
    /// Durable storage.
    pub store: Box<dyn Store>,
    /// Keys (root, device, certificate).
    pub keys: KeyBundle,
    /// The member this node acts for.
    pub member: MemberId,
    /// Addresses announced besides the listen addresses.
    pub public_addrs: Vec<Multiaddr>,
    /// Where the node reads the time.
    pub clock: Arc<dyn Clock>,
    /// Automatic relay reservations.
    pub autorelay: AutoRelay,
    /// Relayed listen addresses to open once connected to their relay.
    pub circuit_listens: Vec<(PeerId, Multiaddr)>,
    /// Gossipsub's, libp2p's and qun's metrics.
    pub metrics: crate::metrics::Metrics,
    /// Set on a node restored from a backup: its own writes wait until it caught up.
    pub write_hold: Option<super::ops::WriteHold>,
    /// Load limits and their counters (shared with the handle and the HTTP layer).
    pub load: Arc<Load>,
    /// Images and attachments (shared with the handle and the HTTP layer).
    pub blobs: Arc<crate::blobs::BlobStore>,
    /// Direct messages: the DM device, conversations, mailbox (see `super::dm`).
    pub dm: super::dm::Dm,
}

/// The node's state, owned by its task. Its fields are seen only by the runtime's modules.
pub(crate) struct Driver {
    /// The libp2p swarm.
    pub(super) swarm: Swarm<Behaviour>,
    /// The replication core.
    pub(super) repl: Replicator<PeerId>,
    /// What the core was built from (to build it again, see `super::recover`).
    pub(super) core: CoreSpec,
    /// Durable storage.
    pub(super) store: Box<dyn Store>,
    /// Keys (root, device, certificate).
    pub(super) keys: KeyBundle,
    /// The member this node acts for.
    pub(super) member: MemberId,
    /// Addresses announced besides the listen addresses.
    pub(super) public_addrs: Vec<Multiaddr>,
    /// Where the node reads the time.
    clock: Arc<dyn Clock>,
    commands: mpsc::Receiver<Command>,
    events: broadcast::Sender<NodeEvent>,
    pub(super) pending_out: HashMap<OutboundRequestId, (PeerId, CommunityId)>,
    pub(super) pending_in: HashMap<ReplyId, ResponseChannel<Vec<u8>>>,
    pub(super) next_reply: u64,
    /// Set when a write to the store failed: from then on nothing is acknowledged or
    /// forwarded — no publish, `Ignore` instead of `Accept`, no sync requests, `Refused` to
    /// every sync request, no events but rejections, and local edits fail — until the store
    /// takes writes again (see `super::recover`, tried at `store_retry` and before a local
    /// edit) or the node restarts.
    pub(super) store_failed: Option<String>,
    /// When to try bringing a failed store back next.
    pub(super) store_retry: Option<tokio::time::Instant>,
    /// Results of edits made with an idempotency key (see `super::recent_edits`).
    pub(super) recent_edits: super::recent_edits::RecentEdits,
    /// The last notifications read, and the state they were read at (see `super::notify`).
    pub(super) notify_cache: Option<(super::notify::StateKey, Vec<crate::dto::Notification>)>,
    /// Traffic counters (application level); read them with [`Driver::stats`].
    pub(super) stats: Stats,
    /// Connected peers serving the DHT, with an address to reach them at when they announce
    /// a usable one (invite codes carry a few, so joiners reach the DHT too).
    pub(super) dht_servers: BTreeMap<PeerId, Option<Multiaddr>>,
    /// Gossipsub's, libp2p's and qun's metrics (see [`crate::metrics`]).
    pub(super) metrics: crate::metrics::Metrics,
    /// While set, this node was restored from a backup and has not caught up yet: its own
    /// writes are refused (see `super::ops`).
    pub(super) write_hold: Option<super::ops::WriteHold>,
    /// Relayed listen addresses (`…/p2p/<relay>/p2p-circuit`) to open once connected to
    /// their relay.
    pub(super) circuit_listens: Vec<(PeerId, Multiaddr)>,
    /// Automatic relay reservations (see the module documentation).
    pub(super) autorelay: AutoRelay,
    /// Gossip topic hash → community, for the topics this node subscribed to (topics are
    /// hashes of community ids, see [`topic`]).
    pub(super) topics: topic::Topics,
    /// Peers named by the invite codes of joins in progress: asked for the community directly
    /// as soon as we are connected to them, without waiting for gossip to announce them.
    pub(super) join_peers: BTreeMap<CommunityId, BTreeSet<PeerId>>,
    /// When to dial the known peers again while the node has no connection (it started
    /// before its network was up, or everyone went away).
    pub(super) redial: crate::redial::Redial,
    /// Load limits and how often each was hit.
    pub(super) load: Arc<Load>,
    /// Gossip messages per peer in the current second.
    pub(super) gossip_rate: GossipRate,
    /// Catch-up requests per peer whose answer is not written yet.
    pub(super) sync_in_flight: SyncInFlight,
    /// Catch-up requests this node may serve now (`None`: no limit).
    pub(super) sync_serves: Option<TokenBucket>,
    /// Images and attachments (see `super::blobs`).
    pub(super) blobs: Arc<crate::blobs::BlobStore>,
    /// Blob fetches in progress.
    pub(super) fetches: super::blobs::Fetches,
    /// Direct messages (see `super::dm`).
    pub(super) dm: super::dm::Dm,
}

impl Driver {
    pub(crate) fn new(
        p: Parts,
        commands: mpsc::Receiver<Command>,
        events: broadcast::Sender<NodeEvent>,
    ) -> Self {
        Driver {
            swarm: p.swarm,
            repl: p.repl,
            core: p.core,
            store: p.store,
            keys: p.keys,
            member: p.member,
            public_addrs: p.public_addrs,
            clock: p.clock,
            commands,
            events,
            pending_out: HashMap::new(),
            pending_in: HashMap::new(),
            next_reply: 0,
            store_failed: None,
            store_retry: None,
            recent_edits: Default::default(),
            notify_cache: None,
            stats: Stats::default(),
            dht_servers: Default::default(),
            metrics: p.metrics,
            write_hold: p.write_hold,
            circuit_listens: p.circuit_listens,
            autorelay: p.autorelay,
            topics: Default::default(),
            join_peers: Default::default(),
            redial: Default::default(),
            sync_serves: TokenBucket::per_sec(
                p.load.limits.sync_serves_per_sec,
                std::time::Instant::now(),
            ),
            load: p.load,
            blobs: p.blobs,
            fetches: Default::default(),
            dm: p.dm,
            gossip_rate: Default::default(),
            sync_in_flight: Default::default(),
        }
    }

    /// The node's current time (its configured clock).
    pub(super) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Traffic counters, with the copies of gossip messages gossipsub received.
    pub(super) fn stats(&self) -> Stats {
        let (copies, unique) = crate::net::swarm::gossip_copies(self.metrics.registry());
        Stats {
            gossip_copies_in: copies,
            gossip_unique_in: unique,
            ..self.stats
        }
    }

    /// Our peer id.
    pub(super) fn peer_id(&self) -> PeerId {
        *self.swarm.local_peer_id()
    }

    /// Full addresses (with `/p2p/<peer id>`) others can dial us at: `--public-addr`
    /// addresses first, then relayed (`/p2p-circuit`) ones, then the other external and
    /// listen addresses, each group sorted. Relayed addresses come early so that invite codes,
    /// which carry at most [`crate::invite::MAX_ADDRS`], keep them on hosts with many
    /// interfaces: behind NAT they are often the only ones that work.
    pub(super) fn reachable_addrs(&self) -> Vec<Multiaddr> {
        let me = self.peer_id();
        let relayed = |a: &Multiaddr| a.iter().any(|p| matches!(p, Protocol::P2pCircuit));
        let full = |a: &Multiaddr| a.clone().with_p2p(me).unwrap_or_else(|a| a);
        let mut public: Vec<Multiaddr> = self.public_addrs.iter().map(full).collect();
        let (mut circuits, mut others): (Vec<Multiaddr>, Vec<Multiaddr>) = self
            .swarm
            .external_addresses()
            .chain(self.swarm.listeners())
            .map(full)
            .partition(relayed);
        let mut out = Vec::new();
        for group in [&mut public, &mut circuits, &mut others] {
            group.sort();
            for a in group.drain(..) {
                if !out.contains(&a) {
                    out.push(a);
                }
            }
        }
        out
    }

    /// Carry out autorelay's decisions.
    pub(super) fn autorelay_run(&mut self, actions: Vec<autorelay::Action>) {
        let mut queue = actions;
        while !queue.is_empty() {
            for action in std::mem::take(&mut queue) {
                match action {
                    autorelay::Action::Listen { relay, addr } => {
                        match self.swarm.listen_on(addr.clone()) {
                            Ok(id) => {
                                info!(%relay, "autorelay: reserving a slot, listening on {addr}");
                                self.autorelay.listening(&relay, id);
                            }
                            Err(e) => {
                                warn!(%relay, "autorelay: listen on {addr}: {e}");
                                queue.extend(self.autorelay.listen_failed(&relay));
                            }
                        }
                    }
                    autorelay::Action::Close(id) => {
                        self.swarm.remove_listener(id);
                    }
                }
            }
        }
    }

    pub(super) fn emit(&self, e: NodeEvent) {
        let _ = self.events.send(e);
    }

    /// Look for more members of the communities this node holds through few peers: ask the
    /// DHT for their providers (and announce ourselves as one again: an announcement made
    /// with an empty routing table reached nobody). Runs every [`DISCOVERY_INTERVAL`] and when
    /// the first DHT server is identified.
    pub(super) fn discover_peers(&mut self) {
        let communities: Vec<CommunityId> = self
            .repl
            .communities()
            .chain(self.repl.joining())
            .copied()
            .collect();
        for c in communities {
            let hash = topic::topic(&c).hash();
            let peers = self
                .swarm
                .behaviour()
                .gossipsub
                .all_peers()
                .filter(|(_, topics)| topics.contains(&&hash))
                .count();
            if peers >= DISCOVERY_TARGET {
                continue;
            }
            debug!(%c, peers, "looking for more members");
            let key = topic::provider_key(&c);
            let kad = &mut self.swarm.behaviour_mut().kad;
            let _ = kad.start_providing(key.clone());
            kad.get_providers(key);
        }
    }

    /// Run what restoring the store produced, then the event loop on its own task.
    pub(crate) fn spawn(mut self) -> tokio::task::JoinHandle<()> {
        self.execute();
        self.release_hold_if_done();
        tokio::spawn(self.run())
    }

    /// Tell the redial schedule how many connections the node has now.
    pub(super) fn note_connections(&mut self) {
        let n = self.swarm.connected_peers().count();
        self.redial.connections(n, std::time::Instant::now());
    }

    /// The event loop. Returns when shut down or when every handle is dropped.
    async fn run(mut self) {
        let mut discovery = tokio::time::interval_at(
            tokio::time::Instant::now() + DISCOVERY_INTERVAL,
            DISCOVERY_INTERVAL,
        );
        discovery.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut dm_tick = tokio::time::interval(super::dm::DM_TICK);
        dm_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        self.note_connections();
        loop {
            let deadline = self.repl.poll_timeout().map(|t| {
                let wait = t.as_millis().saturating_sub(self.now().as_millis());
                tokio::time::Instant::now() + std::time::Duration::from_millis(wait)
            });
            let far = tokio::time::Instant::now() + std::time::Duration::from_secs(3600);
            tokio::select! {
                ev = self.swarm.select_next_some() => {
                    self.metrics.record(&ev);
                    self.on_swarm(ev)
                }
                cmd = self.commands.recv() => match cmd {
                    Some(Command::Shutdown(tx)) => {
                        info!("shutting down");
                        self.close_store();
                        let _ = tx.send(());
                        return;
                    }
                    Some(cmd) => self.on_command(cmd),
                    None => {
                        self.close_store();
                        return;
                    }
                },
                _ = discovery.tick() => self.discover_peers(),
                Some(io) = self.fetches.io_rx.recv() => self.on_blob_io(io),
                _ = dm_tick.tick() => self.dm_tick(),
                _ = tokio::time::sleep_until(
                    self.redial.deadline().map(tokio::time::Instant::from_std).unwrap_or(far)
                ) => {
                    if self.redial.due(std::time::Instant::now()) {
                        debug!("no connection: dialling the peers known from earlier runs");
                        crate::redial::redial_known_peers(&mut self.swarm, self.store.as_ref());
                    }
                }
                _ = tokio::time::sleep_until(self.store_retry.unwrap_or(far)) => {
                    self.recover_store();
                }
                _ = tokio::time::sleep_until(deadline.unwrap_or(far)) => {
                    trace!("tick");
                    let t = self.now();
                    self.repl.handle(t, Input::Tick);
                }
            }
            self.execute();
        }
    }

    /// Run the core's outputs in order.
    pub(super) fn execute(&mut self) {
        // Running an output may feed the core again (a subscription finds peers already on
        // the topic); run what that produced too.
        loop {
            let outputs: Vec<Output<PeerId>> = self.repl.drain().collect();
            if outputs.is_empty() {
                return;
            }
            for o in outputs {
                self.run_output(o);
            }
        }
    }

    /// A peer an invite code named is connected: ask it for the communities we are joining
    /// through it (it holds them: it invited us).
    pub(crate) fn ask_join_peer(&mut self, peer: PeerId) {
        self.join_peers
            .retain(|c, _| self.repl.join_progress(c).is_some());
        let ids: Vec<CommunityId> = self
            .join_peers
            .iter()
            .filter(|(_, ps)| ps.contains(&peer))
            .map(|(c, _)| *c)
            .collect();
        for community in ids {
            let t = self.now();
            self.repl.handle(t, Input::PeerJoined { peer, community });
        }
    }
}
