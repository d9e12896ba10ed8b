//! The driver: one task owns the swarm, the replication core, the store and the one timer.
//!
//! `tokio::select!` over swarm events, commands and `sleep_until(poll_timeout)`; each arm turns
//! what happened into a `qun_crdt::Input`, and [`Driver::execute`] runs the outputs in order
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
//! addresses kept in the store, see `node::redial_known_peers`, and again with a backoff while
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

use crate::handle::{Command, NodeEvent};
use crate::net::autorelay::{self, AutoRelay};
use crate::net::behaviour::{Behaviour, BehaviourEvent};
use crate::net::swarm::{KAD_PROTOCOL, topic_score_params};
use crate::net::topic;
use crate::ops::status_text;
use crate::store::Store;
use futures::StreamExt;
use libp2p::gossipsub::{self, MessageAcceptance};
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, OutboundRequestId, ResponseChannel};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm, autonat, identify, kad, mdns, relay};
use qun_crdt::replicate::{Event, Input, MsgId, Origin, Output, Persist, ReplyId, Verdict, wire};
use qun_crdt::{CommunityId, MemberStatus, Replicator};
use qun_identity::keyfile::KeyBundle;
use qun_identity::{MemberId, Timestamp};
use std::collections::{BTreeSet, HashMap};
use tokio::sync::{broadcast, mpsc};
use tracing::{debug, info, trace, warn};

/// Most inbound sync requests awaiting our answer.
pub const MAX_PENDING_INBOUND: usize = 1024;

/// The node's state, owned by its task.
pub struct Driver {
    /// The libp2p swarm.
    pub swarm: Swarm<Behaviour>,
    /// The replication core.
    pub repl: Replicator<PeerId>,
    /// Durable storage.
    pub store: Box<dyn Store>,
    /// Keys (root, device, certificate).
    pub keys: KeyBundle,
    /// The member this node acts for.
    pub member: MemberId,
    /// Addresses announced besides the listen addresses.
    pub public_addrs: Vec<Multiaddr>,
    pub(crate) commands: mpsc::Receiver<Command>,
    pub(crate) events: broadcast::Sender<NodeEvent>,
    pending_out: HashMap<OutboundRequestId, (PeerId, CommunityId)>,
    pending_in: HashMap<ReplyId, ResponseChannel<Vec<u8>>>,
    next_reply: u64,
    /// Set when a write to the store failed: from then on nothing is acknowledged or
    /// forwarded — no publish, `Ignore` instead of `Accept`, no sync requests, `Refused` to
    /// every sync request, no events but rejections, and local edits fail — until restart.
    pub store_failed: Option<String>,
    /// Traffic counters (application level); read them with [`Driver::stats`].
    stats: Stats,
    /// Connected peers serving the DHT, with an address to reach them at when they announce
    /// a usable one (invite codes carry a few, so joiners reach the DHT too).
    pub(crate) dht_servers: std::collections::BTreeMap<PeerId, Option<Multiaddr>>,
    /// Gossipsub's metrics (duplicates received, bytes per topic, mesh sizes).
    pub(crate) metrics: prometheus_client::registry::Registry,
    /// Relayed listen addresses (`…/p2p/<relay>/p2p-circuit`) to open once connected to
    /// their relay.
    pub(crate) circuit_listens: Vec<(PeerId, Multiaddr)>,
    /// Automatic relay reservations (see the module documentation).
    pub autorelay: AutoRelay,
    /// Gossip topic hash → community, for the topics this node subscribed to (topics are
    /// hashes of community ids, see [`topic`]).
    pub topics: topic::Topics,
    /// Peers named by the invite codes of joins in progress: asked for the community directly
    /// as soon as we are connected to them, without waiting for gossip to announce them.
    pub(crate) join_peers: std::collections::BTreeMap<CommunityId, BTreeSet<PeerId>>,
    /// When to dial the known peers again while the node has no connection (it started
    /// before its network was up, or everyone went away).
    redial: crate::redial::Redial,
}

/// Application-level traffic counters.
#[derive(Clone, Copy, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    /// Gossip messages handed to the core (gossipsub has already dropped duplicates).
    pub gossip_in: u64,
    /// Bytes of those messages.
    pub gossip_bytes_in: u64,
    /// Messages published.
    pub gossip_out: u64,
    /// Bytes published.
    pub gossip_bytes_out: u64,
    /// Sync requests and responses received, bytes.
    pub sync_bytes_in: u64,
    /// Sync requests and responses sent, bytes.
    pub sync_bytes_out: u64,
    /// Sync requests sent.
    pub sync_requests_out: u64,
    /// Gossip messages gossipsub received, duplicates included.
    pub gossip_copies_in: u64,
    /// Distinct gossip messages gossipsub received (`gossip_copies_in / gossip_unique_in`
    /// copies per message).
    pub gossip_unique_in: u64,
    /// Gossip messages this node accepted (so gossipsub forwards them).
    #[serde(default)]
    pub gossip_accepted: u64,
    /// Gossip messages this node ignored (duplicates, waiting for dependencies, not stored).
    #[serde(default)]
    pub gossip_ignored: u64,
    /// Gossip messages this node rejected (invalid: the sender is penalised).
    #[serde(default)]
    pub gossip_rejected: u64,
}

/// How often [`Driver::discover_peers`] runs.
pub const DISCOVERY_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);
/// Fewer peers than this on a community's topic make the node look for more (gossipsub's
/// mesh degree D).
pub const DISCOVERY_TARGET: usize = 6;

/// The node's wall-clock time ([`crate::clock::now`]: the system time, plus a test-only offset).
pub fn now() -> Timestamp {
    crate::clock::now()
}

impl Driver {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        swarm: Swarm<Behaviour>,
        repl: Replicator<PeerId>,
        store: Box<dyn Store>,
        keys: KeyBundle,
        member: MemberId,
        public_addrs: Vec<Multiaddr>,
        commands: mpsc::Receiver<Command>,
        events: broadcast::Sender<NodeEvent>,
    ) -> Self {
        let me = *swarm.local_peer_id();
        Driver {
            swarm,
            repl,
            store,
            keys,
            member,
            public_addrs,
            commands,
            events,
            pending_out: HashMap::new(),
            pending_in: HashMap::new(),
            next_reply: 0,
            autorelay: AutoRelay::disabled(me),
            store_failed: None,
            circuit_listens: Vec::new(),
            stats: Stats::default(),
            metrics: prometheus_client::registry::Registry::default(),
            dht_servers: Default::default(),
            topics: Default::default(),
            join_peers: Default::default(),
            redial: Default::default(),
        }
    }

    /// Traffic counters, with the copies of gossip messages gossipsub received.
    pub fn stats(&self) -> Stats {
        let (copies, unique) = crate::net::swarm::gossip_copies(&self.metrics);
        Stats {
            gossip_copies_in: copies,
            gossip_unique_in: unique,
            ..self.stats
        }
    }

    /// Our peer id.
    pub fn peer_id(&self) -> PeerId {
        *self.swarm.local_peer_id()
    }

    /// Full addresses (with `/p2p/<peer id>`) others can dial us at: `--public-addr`
    /// addresses first, then relayed (`/p2p-circuit`) ones, then the other external and
    /// listen addresses, each group sorted. Relayed addresses come early so that invite codes,
    /// which carry at most [`crate::invite::MAX_ADDRS`], keep them on hosts with many
    /// interfaces: behind NAT they are often the only ones that work.
    pub fn reachable_addrs(&self) -> Vec<Multiaddr> {
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
    fn autorelay_run(&mut self, actions: Vec<autorelay::Action>) {
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

    fn emit(&self, e: NodeEvent) {
        let _ = self.events.send(e);
    }

    /// Look for more members of the communities this node holds through few peers: ask the
    /// DHT for their providers (and announce ourselves as one again: an announcement made
    /// with an empty routing table reached nobody). Runs every [`DISCOVERY_INTERVAL`] and when
    /// the first DHT server is identified.
    pub fn discover_peers(&mut self) {
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

    /// The event loop. Returns when shut down or when every handle is dropped.
    pub async fn run(mut self) {
        let mut discovery = tokio::time::interval_at(
            tokio::time::Instant::now() + DISCOVERY_INTERVAL,
            DISCOVERY_INTERVAL,
        );
        discovery.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        self.redial.connections(
            self.swarm.connected_peers().count(),
            std::time::Instant::now(),
        );
        loop {
            let deadline = self.repl.poll_timeout().map(|t| {
                let wait = t.as_millis().saturating_sub(now().as_millis());
                tokio::time::Instant::now() + std::time::Duration::from_millis(wait)
            });
            let far = tokio::time::Instant::now() + std::time::Duration::from_secs(3600);
            tokio::select! {
                ev = self.swarm.select_next_some() => self.on_swarm(ev),
                cmd = self.commands.recv() => match cmd {
                    Some(Command::With(f)) => f(&mut self),
                    Some(Command::Shutdown(tx)) => {
                        info!("shutting down");
                        let _ = tx.send(());
                        return;
                    }
                    None => return,
                },
                _ = discovery.tick() => self.discover_peers(),
                _ = tokio::time::sleep_until(
                    self.redial.deadline().map(tokio::time::Instant::from_std).unwrap_or(far)
                ) => {
                    if self.redial.due(std::time::Instant::now()) {
                        debug!("no connection: dialling the peers known from earlier runs");
                        crate::node::redial_known_peers(&mut self.swarm, self.store.as_ref());
                    }
                }
                _ = tokio::time::sleep_until(deadline.unwrap_or(far)) => {
                    trace!("tick");
                    self.repl.handle(now(), Input::Tick);
                }
            }
            self.execute();
        }
    }

    /// Run the core's outputs in order.
    pub fn execute(&mut self) {
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
            self.repl
                .handle(now(), Input::PeerJoined { peer, community });
        }
    }

    fn run_output(&mut self, o: Output<PeerId>) {
        debug!(output = ?OutputSummary(&o), "output");
        match o {
            Output::Subscribe(c) => {
                let t = self.topics.insert(&c);
                let gs = &mut self.swarm.behaviour_mut().gossipsub;
                if let Err(e) = gs.subscribe(&t) {
                    warn!(%c, "subscribe failed: {e}");
                }
                let hash = t.hash();
                let _ = gs.set_topic_params(t, topic_score_params());
                // Peers that announced this topic before we knew it stood for `c` (the
                // topic is a hash: their subscription could not be mapped then).
                let already: Vec<PeerId> = gs
                    .all_peers()
                    .filter(|(_, topics)| topics.contains(&&hash))
                    .map(|(p, _)| *p)
                    .collect();
                for peer in already {
                    self.repl
                        .handle(now(), Input::PeerJoined { peer, community: c });
                }
                let key = topic::provider_key(&c);
                let kad = &mut self.swarm.behaviour_mut().kad;
                let _ = kad.start_providing(key.clone());
                kad.get_providers(key);
            }
            Output::Publish { community, bytes } => {
                if self.store_failed.is_some() {
                    debug!(%community, "not publishing: the store failed");
                    return;
                }
                let t = topic::topic(&community);
                self.stats.gossip_out += 1;
                self.stats.gossip_bytes_out += bytes.len() as u64;
                if let Err(e) = self.swarm.behaviour_mut().gossipsub.publish(t, bytes) {
                    // No mesh yet (or a duplicate): sync delivers it instead.
                    debug!(%community, "publish: {e}");
                }
            }
            Output::Verdict { id, from, verdict } => {
                let acceptance = match verdict {
                    Verdict::Accept if self.store_failed.is_some() => MessageAcceptance::Ignore,
                    Verdict::Accept => MessageAcceptance::Accept,
                    Verdict::Reject => MessageAcceptance::Reject,
                    Verdict::Ignore => MessageAcceptance::Ignore,
                };
                match acceptance {
                    MessageAcceptance::Accept => self.stats.gossip_accepted += 1,
                    MessageAcceptance::Ignore => self.stats.gossip_ignored += 1,
                    MessageAcceptance::Reject => self.stats.gossip_rejected += 1,
                }
                let id = gossipsub::MessageId::new(&id.0);
                self.swarm
                    .behaviour_mut()
                    .gossipsub
                    .report_message_validation_result(&id, &from, acceptance);
            }
            Output::SyncSend {
                to,
                community,
                bytes,
            } => {
                if self.store_failed.is_some() {
                    // What comes back could not be stored, and a push would spread changes
                    // this node may not have stored.
                    self.repl.handle(
                        now(),
                        Input::SyncFailed {
                            peer: to,
                            community,
                        },
                    );
                    return;
                }
                self.stats.sync_requests_out += 1;
                self.stats.sync_bytes_out += bytes.len() as u64;
                let id = self.swarm.behaviour_mut().sync.send_request(&to, bytes);
                self.pending_out.insert(id, (to, community));
            }
            Output::SyncRespond { reply, bytes } => {
                // After a store failure, an answer could acknowledge a push that was not
                // stored (`Ack`) or hand out changes that were not (`Changes`): refuse instead.
                let bytes = match &self.store_failed {
                    Some(e) => wire::encode(&wire::SyncResponse::Refused {
                        reason: format!("store failed: {e}"),
                    }),
                    None => bytes,
                };
                self.stats.sync_bytes_out += bytes.len() as u64;
                if let Some(ch) = self.pending_in.remove(&reply) {
                    let _ = self.swarm.behaviour_mut().sync.send_response(ch, bytes);
                }
            }
            Output::Persist(p) => {
                let r = tokio::task::block_in_place(|| match &p {
                    Persist::Genesis { community, bytes } => {
                        self.store.put_genesis(community, bytes)
                    }
                    Persist::Changes { community, changes } => {
                        self.store.append_changes(community, changes)
                    }
                });
                if let Err(e) = r {
                    warn!("store write failed: {e}; no longer acknowledging changes");
                    self.emit(NodeEvent::Rejected {
                        community: None,
                        peer: "store".into(),
                        error: e.to_string(),
                    });
                    self.store_failed = Some(e.to_string());
                }
            }
            Output::Event(e) => {
                // After a store failure nothing is reported as having gone in: it may not
                // have been stored.
                let acknowledges = !matches!(e, Event::Rejected { .. });
                if acknowledges && self.store_failed.is_some() {
                    debug!("event not reported: the store failed");
                    return;
                }
                self.on_core_event(e)
            }
        }
    }

    fn on_core_event(&mut self, e: Event<PeerId>) {
        let ev = match e {
            Event::Accepted {
                community,
                change,
                origin,
            } => NodeEvent::Change {
                community: community.to_string(),
                doc: change.doc.to_string(),
                hash: change.hash.to_string(),
                action: change.action.tag().to_string(),
                author: change.author.to_string(),
                origin: match origin {
                    Origin::Local => "local",
                    Origin::Gossip => "gossip",
                    Origin::Sync => "sync",
                }
                .into(),
            },
            Event::Rejected {
                community,
                from,
                error,
            } => {
                info!(peer = %from, "rejected: {error}");
                NodeEvent::Rejected {
                    community: community.map(|c| c.to_string()),
                    peer: from.to_string(),
                    error: error.to_string(),
                }
            }
            Event::CommunityAdded { community } => NodeEvent::CommunityAdded {
                community: community.to_string(),
            },
            Event::MembershipChanged { community, status } => {
                if !matches!(status, MemberStatus::Outsider)
                    && let Err(e) = self.store.set_joining(&community, None)
                {
                    warn!("store: {e}");
                }
                NodeEvent::Membership {
                    community: community.to_string(),
                    status: status_text(&status),
                }
            }
            Event::Synced {
                community,
                peer,
                received,
                more,
            } => NodeEvent::Synced {
                community: community.to_string(),
                peer: peer.to_string(),
                received,
                more,
            },
        };
        self.emit(ev);
    }

    /// A gossip message must travel on its community's topic: on a topic we do not know it is
    /// ignored, and one carrying another community's changes than its topic's is rejected
    /// (it would spread a community's id and changes to the mesh of another). `None`: the
    /// topic fits (or the message does not decode, which the core rejects).
    fn topic_mismatch(&self, m: &gossipsub::Message) -> Option<MessageAcceptance> {
        let Some(c) = self.topics.community_of(&m.topic) else {
            return Some(MessageAcceptance::Ignore);
        };
        // Gossipsub bounds the size already (max transmit size); the core checks the limit.
        match wire::decode::<wire::GossipMsg>("gossip message", &m.data, m.data.len()) {
            Ok(msg) if msg.community != c => Some(MessageAcceptance::Reject),
            _ => None,
        }
    }

    fn on_swarm(&mut self, ev: SwarmEvent<BehaviourEvent>) {
        let t = now();
        match ev {
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(g)) => match g {
                gossipsub::Event::Message {
                    propagation_source,
                    message_id,
                    message,
                } => {
                    self.stats.gossip_in += 1;
                    self.stats.gossip_bytes_in += message.data.len() as u64;
                    if let Some(acceptance) = self.topic_mismatch(&message) {
                        match acceptance {
                            MessageAcceptance::Reject => self.stats.gossip_rejected += 1,
                            _ => self.stats.gossip_ignored += 1,
                        }
                        debug!(peer = %propagation_source, ?acceptance, "gossip on a topic not its community's");
                        if acceptance == MessageAcceptance::Reject {
                            self.emit(NodeEvent::Rejected {
                                community: self
                                    .topics
                                    .community_of(&message.topic)
                                    .map(|c| c.to_string()),
                                peer: propagation_source.to_string(),
                                error: "a gossip message for another community than its topic's"
                                    .into(),
                            });
                        }
                        self.swarm
                            .behaviour_mut()
                            .gossipsub
                            .report_message_validation_result(
                                &message_id,
                                &propagation_source,
                                acceptance,
                            );
                        return;
                    }
                    self.repl.handle(
                        t,
                        Input::Gossip {
                            from: propagation_source,
                            id: MsgId(message_id.0),
                            bytes: message.data,
                        },
                    );
                }
                gossipsub::Event::Subscribed { peer_id, topic } => {
                    if let Some(c) = self.topics.community_of(&topic) {
                        self.repl.handle(
                            t,
                            Input::PeerJoined {
                                peer: peer_id,
                                community: c,
                            },
                        );
                    }
                }
                _ => {}
            },
            SwarmEvent::Behaviour(BehaviourEvent::Sync(r)) => match r {
                request_response::Event::Message { peer, message, .. } => match message {
                    request_response::Message::Request {
                        request, channel, ..
                    } => {
                        self.stats.sync_bytes_in += request.len() as u64;
                        if self.pending_in.len() >= MAX_PENDING_INBOUND {
                            warn!(%peer, "too many sync requests in flight; dropping one");
                            return;
                        }
                        self.next_reply += 1;
                        let reply = ReplyId(self.next_reply);
                        self.pending_in.insert(reply, channel);
                        self.repl.handle(
                            t,
                            Input::SyncRequest {
                                from: peer,
                                device: qun_identity::DeviceId::from_peer_id(&peer).ok(),
                                reply,
                                bytes: request,
                            },
                        );
                    }
                    request_response::Message::Response {
                        request_id,
                        response,
                    } => {
                        self.stats.sync_bytes_in += response.len() as u64;
                        self.pending_out.remove(&request_id);
                        self.repl.handle(
                            t,
                            Input::SyncResponse {
                                from: peer,
                                bytes: response,
                            },
                        );
                    }
                },
                request_response::Event::OutboundFailure {
                    request_id,
                    peer,
                    error,
                    ..
                } => {
                    debug!(%peer, "sync request failed: {error}");
                    if let Some((p, community)) = self.pending_out.remove(&request_id) {
                        self.repl
                            .handle(t, Input::SyncFailed { peer: p, community });
                    }
                }
                request_response::Event::InboundFailure { peer, error, .. } => {
                    debug!(%peer, "inbound sync failed: {error}");
                }
                request_response::Event::ResponseSent { .. } => {}
            },
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => {
                let addrs: Vec<String> = info.listen_addrs.iter().map(|a| a.to_string()).collect();
                for a in &info.listen_addrs {
                    self.swarm
                        .behaviour_mut()
                        .kad
                        .add_address(&peer_id, a.clone());
                }
                let hop = info.protocols.contains(&relay::HOP_PROTOCOL_NAME);
                let actions = self.autorelay.identified(peer_id, hop, &info.listen_addrs);
                self.autorelay_run(actions);
                if info.protocols.contains(&KAD_PROTOCOL) {
                    let first = self.dht_servers.is_empty();
                    let addr = autorelay::usable_relay_addr(&info.listen_addrs, false);
                    self.dht_servers.insert(peer_id, addr);
                    if first {
                        // The first DHT server since we had none: it can answer now.
                        self.discover_peers();
                    }
                }
                if let Err(e) = self.store.put_peer(&peer_id.to_string(), &addrs, t) {
                    debug!("store peer: {e}");
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Mdns(mdns::Event::Discovered(list))) => {
                let peers: BTreeSet<PeerId> = list.iter().map(|(p, _)| *p).collect();
                for (p, a) in list {
                    self.swarm.behaviour_mut().kad.add_address(&p, a);
                }
                for p in peers {
                    if !self.swarm.is_connected(&p) {
                        let _ = self.swarm.dial(p);
                    }
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Kad(kad::Event::OutboundQueryProgressed {
                result:
                    kad::QueryResult::GetProviders(Ok(kad::GetProvidersOk::FoundProviders {
                        providers,
                        ..
                    })),
                ..
            })) => {
                let me = self.peer_id();
                for p in providers {
                    if p != me && !self.swarm.is_connected(&p) {
                        let _ = self.swarm.dial(p);
                    }
                }
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                num_established,
                ..
            } => {
                debug!(%peer_id, waiting = self.circuit_listens.len(), "connection established");
                let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.circuit_listens)
                    .into_iter()
                    .partition(|(relay, _)| *relay == peer_id);
                self.circuit_listens = waiting;
                for (_, addr) in ready {
                    info!("connected to relay: listening on {addr}");
                    if let Err(e) = self.swarm.listen_on(addr.clone()) {
                        warn!("listen on {addr}: {e}");
                    }
                }
                self.redial.connections(
                    self.swarm.connected_peers().count(),
                    std::time::Instant::now(),
                );
                if num_established.get() == 1 {
                    self.emit(NodeEvent::PeerConnected {
                        peer: peer_id.to_string(),
                    });
                    self.ask_join_peer(peer_id);
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                self.repl.handle(t, Input::PeerLeft { peer: peer_id });
                self.redial.connections(
                    self.swarm.connected_peers().count(),
                    std::time::Instant::now(),
                );
                self.dht_servers.remove(&peer_id);
                let actions = self.autorelay.disconnected(&peer_id);
                self.autorelay_run(actions);
                self.emit(NodeEvent::PeerDisconnected {
                    peer: peer_id.to_string(),
                });
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                // A relay must announce addresses in its reservations; without --public-addr
                // it announces what it listens on.
                if self.public_addrs.is_empty() && self.swarm.behaviour().relay.is_enabled() {
                    self.swarm.add_external_address(address.clone());
                }
                let full = address.clone().with_p2p(self.peer_id()).unwrap_or(address);
                info!("listening on {full}");
                self.emit(NodeEvent::Listening {
                    addr: full.to_string(),
                });
            }
            SwarmEvent::ListenerClosed {
                listener_id,
                reason,
                addresses,
            } => {
                let (relay, actions) = self.autorelay.listener_closed(listener_id);
                match (relay, reason) {
                    (Some(relay), Err(e)) => info!(%relay, "autorelay: relay listener failed: {e}"),
                    (Some(relay), Ok(())) => info!(%relay, "autorelay: relay listener closed"),
                    (None, Err(e)) => warn!(?addresses, "listener closed: {e}"),
                    (None, Ok(())) => debug!(?addresses, "listener closed"),
                }
                self.autorelay_run(actions);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Autonat(autonat::Event::StatusChanged {
                old,
                new,
            })) => {
                info!(?old, ?new, "AutoNAT status changed");
                let public = matches!(new, autonat::NatStatus::Public(_));
                let actions = self.autorelay.nat_status(public);
                self.autorelay_run(actions);
            }
            SwarmEvent::Behaviour(BehaviourEvent::RelayClient(
                relay::client::Event::ReservationReqAccepted {
                    relay_peer_id,
                    renewal: false,
                    ..
                },
            )) => {
                info!(relay = %relay_peer_id, "relay accepted our reservation");
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                debug!(?peer_id, "dial failed: {error}");
                self.emit(NodeEvent::DialFailed {
                    peer: peer_id.map(|p| p.to_string()),
                    error: error.to_string(),
                });
            }
            _ => {}
        }
    }
}

/// Outputs at debug level without their payloads.
struct OutputSummary<'a>(&'a Output<PeerId>);

impl std::fmt::Debug for OutputSummary<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Output::Subscribe(c) => write!(f, "Subscribe({c:?})"),
            Output::Publish { community, bytes } => {
                write!(f, "Publish({community:?}, <{}b>)", bytes.len())
            }
            Output::Verdict { verdict, from, .. } => write!(f, "Verdict({verdict:?}, {from})"),
            Output::SyncSend { to, bytes, .. } => write!(f, "SyncSend({to}, <{}b>)", bytes.len()),
            Output::SyncRespond { reply, bytes } => {
                write!(f, "SyncRespond({reply:?}, <{}b>)", bytes.len())
            }
            Output::Persist(Persist::Genesis { community, .. }) => {
                write!(f, "Persist(genesis {community:?})")
            }
            Output::Persist(Persist::Changes { changes, .. }) => {
                write!(f, "Persist({} changes)", changes.len())
            }
            Output::Event(_) => write!(f, "Event"),
        }
    }
}
