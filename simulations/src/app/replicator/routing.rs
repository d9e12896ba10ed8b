//! Output routing: what the replicator asks for, done by the simulator — the right-hand
//! table of the crate README. `Publish` becomes a gossip message of the real bytes,
//! `Verdict` goes to the model (after `workload.validation_ms`), `SyncSend` and
//! `SyncRespond` become [`SyncFrame`]s with an app-allocated reply id and a timeout,
//! `Persist` goes to the node's store, `Event`s are counted; then the replica's next
//! wake-up is scheduled. Sync bytes count as data when they carry changes, else as
//! control, read from the encoding's prefix.

use std::sync::Arc;

use qun_crdt::{Event, Input, MemberStatus, Origin, Output, Replicator};

use super::{ReplicatorApp, Source, SyncFrame, WAKE, now_ts, sim_time};
use crate::ctx::Core;
use crate::dist::Dist;
use crate::gossip_model::Verdict;
use crate::metrics::round6;
use crate::queue::Time;
use crate::{MsgIx, NodeIx};

/// Whether an encoded `SyncRequest` is a `Push` (carries changes) rather than `Heads`.
fn request_carries_changes(bytes: &[u8]) -> bool {
    // 0x01 | postcard variant index (Heads = 0, Push = 1) | ...
    bytes.get(1) == Some(&1)
}

/// Whether an encoded `SyncResponse` carries a genesis or at least one change (data) rather
/// than heads only (control). Reads the prefix instead of decoding, which would copy every
/// change: `0x01 | variant (Changes = 0) | community (32 bytes) | genesis: Option | docs:
/// varint count | ...` (documents are only listed with changes in them). The unit tests
/// check this against real encodings.
fn response_carries_changes(bytes: &[u8]) -> bool {
    const GENESIS_TAG: usize = 2 + 32;
    if bytes.get(1) != Some(&0) {
        return false;
    }
    match bytes.get(GENESIS_TAG) {
        Some(1) => true,
        Some(0) => bytes.get(GENESIS_TAG + 1).is_some_and(|&n| n != 0),
        _ => false,
    }
}

impl ReplicatorApp {
    /// Runs the node's pending outputs; returns how many verdicts there were.
    pub(super) fn run_outputs<C>(
        &mut self,
        core: &mut Core<C, SyncFrame>,
        node: NodeIx,
        src: Source,
    ) -> u32 {
        let mut outs = std::mem::take(&mut self.buf);
        if let Some(rep) = self.nodes[node as usize].rep.as_mut() {
            outs.extend(rep.drain());
        }
        let mut verdicts = 0;
        let mut published: Option<MsgIx> = None;
        for o in outs.drain(..) {
            match o {
                // Membership is fixed by the scenario: the node is subscribed already.
                Output::Subscribe(c) => {
                    debug_assert!(
                        self.topic(&c)
                            .is_some_and(|t| core.membership.is_member(node, t)),
                        "node {node} subscribes to a community it is not a member of"
                    );
                }
                Output::Publish { community, bytes } => {
                    let Some(t) = self.topic(&community) else {
                        continue;
                    };
                    self.stats.gossip_payload_bytes += bytes.len() as u64;
                    let len = bytes.len() as u32;
                    published = Some(core.publish(node, t, len, false, Some(Arc::from(bytes))));
                }
                Output::Verdict { from, verdict, .. } => {
                    verdicts += 1;
                    let v = match verdict {
                        qun_crdt::Verdict::Accept => {
                            self.stats.verdicts.accept += 1;
                            Verdict::Accept
                        }
                        qun_crdt::Verdict::Reject => {
                            self.stats.verdicts.reject += 1;
                            Verdict::Reject
                        }
                        qun_crdt::Verdict::Ignore => {
                            self.stats.verdicts.ignore += 1;
                            Verdict::Ignore
                        }
                    };
                    if let Some(msg) = src.gossip {
                        self.give_verdict(core, node, msg, from, v);
                    }
                }
                Output::SyncSend {
                    to,
                    community,
                    bytes,
                } => {
                    self.next_reply += 1;
                    let reply = self.next_reply;
                    let data = request_carries_changes(&bytes);
                    self.count_sync(bytes.len(), data);
                    self.stats.sync.requests += 1;
                    self.nodes[node as usize].out.insert(reply, (to, community));
                    let len = bytes.len() as u32;
                    core.send_direct(node, to, SyncFrame::Request { reply, bytes }, len, data);
                    core.set_app_timer(node, core.now.plus(self.params.sync_timeout), reply);
                }
                Output::SyncRespond { reply, bytes } => {
                    let Some(to) = self.nodes[node as usize].inb.remove(&reply.0) else {
                        continue;
                    };
                    let data = response_carries_changes(&bytes);
                    self.count_sync(bytes.len(), data);
                    self.stats.sync.responses += 1;
                    let len = bytes.len() as u32;
                    core.send_direct(
                        node,
                        to,
                        SyncFrame::Response {
                            reply: reply.0,
                            bytes,
                        },
                        len,
                        data,
                    );
                }
                Output::Persist(p) => self.persist(core, node, p),
                Output::Event(e) => self.event(core, node, src, e, &mut published),
            }
        }
        self.buf = outs;
        for t in std::mem::take(&mut self.recheck) {
            self.check_converged(core, t);
        }
        self.schedule_wake(core, node);
        verdicts
    }

    fn count_sync(&mut self, len: usize, data: bool) {
        if data {
            self.stats.sync.data_bytes += len as u64;
        } else {
            self.stats.sync.control_bytes += len as u64;
        }
    }

    /// Hands a verdict to the model, after `workload.validation_ms` when that is not 0.
    pub(super) fn give_verdict<C>(
        &mut self,
        core: &mut Core<C, SyncFrame>,
        node: NodeIx,
        msg: MsgIx,
        from: NodeIx,
        v: Verdict,
    ) {
        match self.params.validation_ms {
            Dist::Const { value: 0.0 } => core.verdict(node, msg, from, v),
            ref d => {
                let at = core
                    .now
                    .plus(Time::from_millis_f64(d.sample(&mut core.rng)));
                core.verdict_at(at, node, msg, from, v);
            }
        }
    }

    /// Counts an event of the replicator: acceptances (latency, catch-up receipts, held
    /// changes), rejections by kind, admissions, sync rounds.
    fn event<C>(
        &mut self,
        core: &mut Core<C, SyncFrame>,
        node: NodeIx,
        src: Source,
        e: Event<NodeIx>,
        published: &mut Option<MsgIx>,
    ) {
        match e {
            Event::Accepted {
                community,
                change,
                origin,
            } => {
                let Some(t) = self.topic(&community) else {
                    return;
                };
                if origin == Origin::Local {
                    self.count_change(t, core.now);
                    if change.action.is_governance() {
                        self.stats.made.governance += 1;
                    }
                    self.table.published(&change.hash, published.take());
                } else if let Some(msg) = self.table.msg_of(&change.hash) {
                    if core.messages.expected(msg, node) {
                        let published_at = core.messages.meta[msg as usize].published;
                        let lat = core.now.since(published_at).0.max(1);
                        self.stats.latency_us.saturating_record(lat);
                        self.stats.accepted += 1;
                        if origin == Origin::Gossip {
                            self.stats.via_gossip += 1;
                        } else {
                            self.stats.via_sync += 1;
                        }
                    }
                    if origin == Origin::Sync
                        && let Some(from) = src.from
                    {
                        core.receive_via_sync(node, from, msg);
                    }
                }
                self.add_held(core, node, t, 1);
            }
            Event::Rejected { error, .. } => {
                self.stats.reject(&error);
            }
            Event::MembershipChanged {
                community,
                status: MemberStatus::Member(_),
            } => {
                let Some(t) = self.topic(&community) else {
                    return;
                };
                let Some(s) = Self::slot_ix(core, node, t) else {
                    return;
                };
                let n = &mut self.nodes[node as usize];
                if !n.slots[s].member {
                    n.slots[s].member = true;
                    self.stats.admitted += 1;
                    let since = n.first_up.unwrap_or(Time::ZERO);
                    self.stats
                        .join_times
                        .push(round6(core.now.since(since).as_secs_f64()));
                }
            }
            Event::Synced { received, .. } => {
                if received > 0 {
                    self.stats.sync.rounds_with_news += 1;
                }
            }
            Event::MembershipChanged { .. } | Event::CommunityAdded { .. } => {}
        }
    }

    /// One app timer at the replica's `poll_timeout()`, unless an earlier one is pending.
    pub(super) fn schedule_wake<C>(&mut self, core: &mut Core<C, SyncFrame>, node: NodeIx) {
        let n = &mut self.nodes[node as usize];
        let Some(ts) = n.rep.as_ref().and_then(Replicator::poll_timeout) else {
            return;
        };
        let at = sim_time(ts).max(core.now);
        if n.wake.is_none_or(|w| at < w) {
            n.wake = Some(at);
            core.set_app_timer(node, at, WAKE);
        }
    }

    /// Hands `input` to `node`'s replica (if it is up) and runs what comes out; returns
    /// how many verdicts there were.
    pub(super) fn handle<C>(
        &mut self,
        core: &mut Core<C, SyncFrame>,
        node: NodeIx,
        input: Input<NodeIx>,
        src: Source,
    ) -> u32 {
        let now = now_ts(core.now);
        match self.nodes[node as usize].rep.as_mut() {
            Some(rep) => rep.handle(now, input),
            None => return 0,
        }
        self.run_outputs(core, node, src)
    }

    /// Our request `reply` failed (timeout, or the peer left): `SyncFailed`, once.
    pub(super) fn fail_pending<C>(
        &mut self,
        core: &mut Core<C, SyncFrame>,
        node: NodeIx,
        reply: u64,
    ) {
        if let Some((peer, community)) = self.nodes[node as usize].out.remove(&reply) {
            self.stats.sync.failed += 1;
            self.handle(
                core,
                node,
                Input::SyncFailed { peer, community },
                Source::default(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qun_crdt::replicate::wire::{self, SyncRequest, SyncResponse, WireChange, WireHash};
    use qun_crdt::{CommunityId, DocId};

    #[test]
    fn sync_frames_are_classified_like_their_decoding() {
        let community = CommunityId(qun_identity::ContentId::of(b"c"));
        let change = WireChange {
            bytes: vec![7; 40],
            sig: [3; 64],
        };
        let heads = vec![(DocId::Governance, vec![WireHash([9; 32])])];
        let cases = [
            (
                SyncResponse::Changes {
                    community,
                    genesis: None,
                    docs: Vec::new(),
                    heads: heads.clone(),
                    samples: Vec::new(),
                    more: false,
                },
                false,
            ),
            (
                SyncResponse::Changes {
                    community,
                    genesis: Some(vec![1, 2, 3]),
                    docs: Vec::new(),
                    heads: heads.clone(),
                    samples: Vec::new(),
                    more: false,
                },
                true,
            ),
            (
                SyncResponse::Changes {
                    community,
                    genesis: None,
                    docs: vec![(DocId::Governance, vec![change.clone()])],
                    heads,
                    samples: Vec::new(),
                    more: true,
                },
                true,
            ),
            (SyncResponse::Unknown { community }, false),
            (
                SyncResponse::Ack {
                    community,
                    accepted: 3,
                },
                false,
            ),
        ];
        for (resp, data) in cases {
            assert_eq!(
                response_carries_changes(&wire::encode(&resp)),
                data,
                "{resp:?}"
            );
        }
        let heads_req = SyncRequest::Heads {
            community,
            want_genesis: true,
            docs: Vec::new(),
            access: None,
        };
        assert!(!request_carries_changes(&wire::encode(&heads_req)));
        let push = SyncRequest::Push {
            community,
            docs: vec![(DocId::Governance, vec![change])],
        };
        assert!(request_carries_changes(&wire::encode(&push)));
    }
}
