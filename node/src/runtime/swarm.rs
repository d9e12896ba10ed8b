//! Swarm events into the core and the node's own state: the table at the top of
//! `super::driver` maps each to the core input it becomes (gossip, subscriptions, sync requests
//! and responses, connections), and to autorelay, the DHT and the store of known peers.

use super::driver::{Driver, MAX_PENDING_INBOUND};
use crate::dto::NodeEvent;
use crate::limits::{Hits, SYNC_BUSY_RETRY_MS};
use crate::net::autorelay;
use crate::net::behaviour::BehaviourEvent;
use crate::net::ip_limit::IpLimitExceeded;
use crate::net::swarm::KAD_PROTOCOL;
use libp2p::gossipsub::{self, MessageAcceptance};
use libp2p::request_response;
use libp2p::request_response::ResponseChannel;
use libp2p::swarm::{ConnectionDenied, DialError, ListenError, SwarmEvent};
use libp2p::{PeerId, autonat, identify, kad, mdns, relay};
use libp2p::{connection_limits, memory_connection_limits};
use qun_crdt::replicate::{Input, MsgId, ReplyId, wire};
use std::collections::BTreeSet;
use tracing::{debug, info, warn};

impl Driver {
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

    /// Over the node's catch-up serving rate, answer `Busy` at once (the asker comes back at
    /// its next periodic sync) instead of building an answer: `None` then. Requests that do
    /// not decode go to the core, which refuses them.
    fn shed_sync(
        &mut self,
        request: &[u8],
        channel: ResponseChannel<Vec<u8>>,
    ) -> Option<ResponseChannel<Vec<u8>>> {
        let Some(bucket) = self.sync_serves.as_mut() else {
            return Some(channel);
        };
        if bucket.take(std::time::Instant::now()) {
            return Some(channel);
        }
        let Ok(req) = wire::decode::<wire::SyncRequest>("sync request", request, request.len())
        else {
            return Some(channel);
        };
        Hits::hit(&self.load.hits.sync_busy);
        let bytes = wire::encode(&wire::SyncResponse::Busy {
            community: req.community(),
            retry_ms: SYNC_BUSY_RETRY_MS,
        });
        self.stats.sync_bytes_out += bytes.len() as u64;
        let _ = self
            .swarm
            .behaviour_mut()
            .sync
            .send_response(channel, bytes);
        None
    }

    /// Count a connection one of the limits refused (see `crate::limits`).
    fn count_denied(&self, cause: &ConnectionDenied) {
        let h = &self.load.hits;
        let counter = if let Some(e) = cause.downcast_ref::<connection_limits::Exceeded>() {
            // The kind of limit is private to connection-limits; its message names it.
            let msg = e.to_string();
            if msg.contains("per peer") {
                &h.connections_per_peer
            } else if msg.contains("pending incoming") {
                &h.pending_incoming
            } else {
                &h.connections_total
            }
        } else if cause.downcast_ref::<IpLimitExceeded>().is_some() {
            &h.connections_per_ip
        } else if cause
            .downcast_ref::<memory_connection_limits::MemoryUsageLimitExceeded>()
            .is_some()
        {
            &h.memory
        } else {
            return;
        };
        Hits::hit(counter);
    }

    pub(super) fn on_swarm(&mut self, ev: SwarmEvent<BehaviourEvent>) {
        let t = self.now();
        match ev {
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(g)) => match g {
                gossipsub::Event::Message {
                    propagation_source,
                    message_id,
                    message,
                } => {
                    self.stats.gossip_in += 1;
                    self.stats.gossip_bytes_in += message.data.len() as u64;
                    let limit = self.load.limits.gossip_per_peer_per_sec;
                    if !self
                        .gossip_rate
                        .allow(propagation_source, std::time::Instant::now(), limit)
                    {
                        // Over the sender's rate: dropped before any decoding, and rejected so
                        // gossipsub penalises the sender (soon graylisted: its messages are then
                        // dropped before they reach us). Sync fetches a valid one later.
                        Hits::hit(&self.load.hits.gossip_per_peer);
                        self.stats.gossip_rejected += 1;
                        debug!(peer = %propagation_source, limit, "gossip over the peer's rate");
                        self.swarm
                            .behaviour_mut()
                            .gossipsub
                            .report_message_validation_result(
                                &message_id,
                                &propagation_source,
                                MessageAcceptance::Reject,
                            );
                        return;
                    }
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
            SwarmEvent::Behaviour(BehaviourEvent::Dm(e)) => self.on_dm(e),
            SwarmEvent::Behaviour(BehaviourEvent::Sync(r)) => match r {
                request_response::Event::Message { peer, message, .. } => match message {
                    request_response::Message::Request {
                        request_id,
                        request,
                        channel,
                    } => {
                        self.stats.sync_bytes_in += request.len() as u64;
                        if self.pending_in.len() >= MAX_PENDING_INBOUND {
                            warn!(%peer, "too many sync requests in flight; dropping one");
                            self.metrics
                                .qun
                                .limits_hit
                                .get_or_create(&crate::metrics::kind("pending_sync_in"))
                                .inc();
                            return;
                        }
                        let limit = self.load.limits.sync_requests_per_peer;
                        if !self.sync_in_flight.admit(peer, request_id, limit) {
                            // The peer asks faster than it reads our answers: drop this one
                            // unanswered (its stream closes; it asks again later).
                            Hits::hit(&self.load.hits.sync_requests_per_peer);
                            debug!(%peer, limit, "too many sync requests in flight from one peer; dropping one");
                            return;
                        }
                        let channel = match self.shed_sync(request.as_slice(), channel) {
                            Some(c) => c,
                            None => return,
                        };
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
                    if matches!(
                        error,
                        request_response::OutboundFailure::UnsupportedProtocols
                    ) {
                        warn!(%peer, "the peer does not speak {}: not syncing with it (another qun version?)", crate::net::codec::SYNC_PROTOCOL);
                    } else {
                        debug!(%peer, "sync request failed: {error}");
                    }
                    if let Some((p, community)) = self.pending_out.remove(&request_id) {
                        self.repl
                            .handle(t, Input::SyncFailed { peer: p, community });
                    }
                }
                request_response::Event::InboundFailure {
                    peer,
                    error,
                    request_id,
                    ..
                } => {
                    self.sync_in_flight.done(request_id);
                    if matches!(
                        error,
                        request_response::InboundFailure::UnsupportedProtocols
                    ) {
                        warn!(%peer, "the peer asked for a sync protocol this node does not speak (ours: {}); refused", crate::net::codec::SYNC_PROTOCOL);
                    } else {
                        debug!(%peer, "inbound sync failed: {error}");
                    }
                }
                request_response::Event::ResponseSent { request_id, .. } => {
                    self.sync_in_flight.done(request_id);
                }
            },
            SwarmEvent::Behaviour(BehaviourEvent::Blobs(r)) => match r {
                request_response::Event::Message { peer, message, .. } => match message {
                    request_response::Message::Request {
                        request, channel, ..
                    } => self.serve_blob(peer, &request, channel),
                    request_response::Message::Response {
                        request_id,
                        response,
                    } => self.on_blob_response(peer, request_id, response),
                },
                request_response::Event::OutboundFailure {
                    request_id,
                    peer,
                    error,
                    ..
                } => self.on_blob_failure(peer, request_id, &error),
                request_response::Event::InboundFailure { peer, error, .. } => {
                    debug!(%peer, "inbound blob request failed: {error}");
                }
                request_response::Event::ResponseSent { .. } => {}
            },
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => {
                if let Some(reason) = crate::net::version::incompatible(&info.protocol_version) {
                    warn!(peer = %peer_id, agent = %info.agent_version, "{reason}; closing the connection");
                    self.emit(NodeEvent::Rejected {
                        community: None,
                        peer: peer_id.to_string(),
                        error: reason,
                    });
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                }
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
                self.note_connections();
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
                self.gossip_rate.forget(&peer_id);
                self.note_connections();
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
            SwarmEvent::IncomingConnectionError {
                error: ListenError::Denied { cause },
                send_back_addr,
                ..
            } => {
                debug!(%send_back_addr, "incoming connection refused: {cause}");
                self.count_denied(&cause);
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                if let DialError::Denied { cause } = &error {
                    self.count_denied(cause);
                }
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
