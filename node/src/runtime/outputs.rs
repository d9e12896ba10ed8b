//! Running the core's outputs (`Output` → swarm, store, events) and turning the core's events
//! into [`NodeEvent`]s, in the order the core gave them: `Persist` returns only once the store
//! has flushed, before the verdict that lets gossipsub forward and before any event.

use super::driver::Driver;
use crate::dto::{MemberStatus, NodeEvent};
use crate::net::swarm::topic_score_params;
use crate::net::topic;
use libp2p::PeerId;
use libp2p::gossipsub::{self, MessageAcceptance};
use qun_crdt::replicate::{Event, Input, Output, Persist, Verdict, wire};
use tracing::{debug, info, warn};

impl Driver {
    pub(super) fn run_output(&mut self, o: Output<PeerId>) {
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
                let t = self.now();
                for peer in already {
                    self.repl
                        .handle(t, Input::PeerJoined { peer, community: c });
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
                    let t = self.now();
                    self.repl.handle(
                        t,
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
                    self.store_write_failed(&e);
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
            } => {
                let o = match origin {
                    qun_crdt::replicate::Origin::Local => "local",
                    qun_crdt::replicate::Origin::Gossip => "gossip",
                    qun_crdt::replicate::Origin::Sync => "sync",
                };
                self.metrics
                    .qun
                    .changes_accepted
                    .get_or_create(&crate::metrics::kind(o))
                    .inc();
                NodeEvent::Change {
                    community: community.to_string(),
                    doc: change.doc.to_string(),
                    hash: change.hash.to_string(),
                    action: change.action.tag().to_string(),
                    author: change.author.to_string(),
                    origin: origin.into(),
                    post: post_of(&change.doc, &change.action).map(|p| p.to_string()),
                }
            }
            Event::Rejected {
                community,
                from,
                error,
            } => {
                info!(peer = %from, "rejected: {error}");
                self.metrics.qun.changes_rejected.inc();
                if matches!(error, qun_crdt::Error::TooLarge { .. }) {
                    self.metrics
                        .qun
                        .limits_hit
                        .get_or_create(&crate::metrics::kind("too_large"))
                        .inc();
                }
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
                if !matches!(status, qun_crdt::MemberStatus::Outsider)
                    && let Err(e) = self.store.set_joining(&community, None)
                {
                    warn!("store: {e}");
                }
                NodeEvent::Membership {
                    community: community.to_string(),
                    status: MemberStatus::from(&status),
                }
            }
            Event::Synced {
                community,
                peer,
                received,
                more,
            } => {
                self.hold_synced(&community, more);
                NodeEvent::Synced {
                    community: community.to_string(),
                    peer: peer.to_string(),
                    received,
                    more,
                }
            }
        };
        self.emit(ev);
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

/// The post a change is about: the one it writes, edits or deletes (in its own document), or
/// the one it reacts to, hides or unhides.
fn post_of(doc: &qun_crdt::DocId, action: &qun_crdt::Action) -> Option<qun_crdt::PostId> {
    use qun_crdt::{Action, DocId, PostId};
    match (action, doc) {
        (
            Action::Post { key } | Action::Edit { key } | Action::Delete { key },
            DocId::Content { channel, window },
        ) => Some(PostId {
            channel: channel.clone(),
            window: *window,
            key: key.clone(),
        }),
        (Action::React { post, .. } | Action::Hide { post, .. } | Action::Unhide { post }, _) => {
            Some(post.clone())
        }
        _ => None,
    }
}
