//! The shared context, [`Core`]: what the run loop, the dissemination models and the
//! applications all work on — the virtual clock, the run's one RNG, the network, the
//! membership, the published messages, the metrics and the event queue.
//!
//! Models and applications act only through it: [`Core::send_frame`],
//! [`Core::set_proto_timer`], [`Core::receive`] and [`Core::validate`] (models);
//! [`Core::verdict`] / [`Core::verdict_at`], [`Core::publish`], [`Core::send_direct`],
//! [`Core::receive_via_sync`] and [`Core::set_app_timer`] (applications). What they
//! produce is queued here and drained by [`crate::world::World`] after each event.
//!
//! It depends only on the leaf modules (events, queue, network, messages, metrics,
//! topology, results), never on the world, the models or the applications, so those can
//! all import it without forming an import cycle.

use std::sync::Arc;

use crate::dist::SimRng;
use crate::event::{Event, Frame, Verdict};
use crate::messages::{MessageMeta, Messages, Receipt};
use crate::metrics::Metrics;
use crate::net_model::{Net, Transmit};
use crate::queue::{EventQueue, Time};
use crate::results::ReceiptRecord;
use crate::topology::Membership;
use crate::{MsgIx, NodeIx, TopicIx};

/// Shared simulation state handed to the model and the application.
pub struct Core<C, D> {
    /// Current virtual time.
    pub now: Time,
    /// The run's only RNG.
    pub rng: SimRng,
    /// Connections.
    pub net: Net,
    /// Communities.
    pub membership: Membership,
    /// Published messages and receipts.
    pub messages: Messages,
    /// Counters.
    pub metrics: Metrics,
    /// Which nodes are attackers (they publish forged messages).
    pub attacker: Vec<bool>,
    /// Pending events; the run loop pops them.
    pub(crate) queue: EventQueue<Event<C, D>>,
    /// First copies waiting for the application: `(node, from, msg)`.
    pub(crate) to_validate: Vec<(NodeIx, NodeIx, MsgIx)>,
    /// Verdicts effective now, waiting for the model: `(node, msg, from, verdict)`.
    pub(crate) verdicts: Vec<(NodeIx, MsgIx, NodeIx, Verdict)>,
    /// Publications waiting for the model: `(node, msg)`.
    pub(crate) to_publish: Vec<(NodeIx, MsgIx)>,
    /// First receipts, when [`crate::world::RunOptions::record_receipts`] is set.
    pub(crate) receipts: Option<Vec<ReceiptRecord>>,
}

impl<C, D> Core<C, D> {
    /// The context at time zero: `nodes` nodes, all offline, no message yet.
    pub(crate) fn new(
        nodes: usize,
        rng: SimRng,
        net: Net,
        membership: Membership,
        sample_interval: Time,
        record_receipts: bool,
    ) -> Self {
        Core {
            now: Time::ZERO,
            rng,
            net,
            messages: Messages::new(nodes, membership.members.len()),
            membership,
            metrics: Metrics::new(nodes, sample_interval),
            attacker: vec![false; nodes],
            queue: EventQueue::new(),
            to_validate: Vec::new(),
            verdicts: Vec::new(),
            to_publish: Vec::new(),
            receipts: record_receipts.then(Vec::new),
        }
    }

    /// Sends a frame of `bytes` bytes; `data` says whether it counts as data or control.
    pub fn send_frame(&mut self, from: NodeIx, to: NodeIx, frame: Frame<C>, bytes: u32) {
        let data = matches!(frame, Frame::Data { .. });
        self.count_sent(from, bytes, data);
        match self.net.transmit(&mut self.rng, self.now, from, to, bytes) {
            Transmit::Arrives {
                at,
                epoch,
                slot,
                stamp,
            } => self.queue.push(
                at,
                Event::Frame {
                    to,
                    from,
                    epoch,
                    slot,
                    stamp,
                    frame,
                },
            ),
            Transmit::Lost => self.metrics.lost_frames += 1,
            Transmit::NoLink => self.metrics.no_link_frames += 1,
        }
    }

    /// Sends an application message (sync request or response) of `bytes` bytes.
    pub fn send_direct(&mut self, from: NodeIx, to: NodeIx, msg: D, bytes: u32, data: bool) {
        self.count_sent(from, bytes, data);
        match self.net.transmit(&mut self.rng, self.now, from, to, bytes) {
            Transmit::Arrives {
                at,
                epoch,
                slot,
                stamp,
            } => self.queue.push(
                at,
                Event::Direct {
                    to,
                    from,
                    epoch,
                    slot,
                    stamp,
                    msg,
                },
            ),
            Transmit::Lost => self.metrics.lost_frames += 1,
            Transmit::NoLink => self.metrics.no_link_frames += 1,
        }
    }

    fn count_sent(&mut self, from: NodeIx, bytes: u32, data: bool) {
        let now = self.now;
        let b = self.metrics.bucket(now);
        if data {
            b.data_bytes += bytes as u64;
            self.metrics.data_sent[from as usize] += bytes as u64;
            self.metrics.data_frames += 1;
        } else {
            b.control_bytes += bytes as u64;
            self.metrics.control_sent[from as usize] += bytes as u64;
            self.metrics.control_frames += 1;
        }
    }

    /// Wakes the model at `node` at `at` with `timer` (dropped if the node restarts meanwhile).
    pub fn set_proto_timer(&mut self, node: NodeIx, at: Time, timer: u32) {
        let inc = self.net.incarnation[node as usize];
        self.queue.push(at, Event::ProtoTimer { node, inc, timer });
    }

    /// Wakes the application at `node` at `at` with `timer`.
    pub fn set_app_timer(&mut self, node: NodeIx, at: Time, timer: u64) {
        let inc = self.net.incarnation[node as usize];
        self.queue.push(at, Event::AppTimer { node, inc, timer });
    }

    /// Records a data copy of `msg` from `from` arriving at `node`; `hops` counts this hop.
    pub fn receive(&mut self, node: NodeIx, from: NodeIx, msg: MsgIx, hops: u16) -> Receipt {
        let r = self.messages.receive(msg, node, self.now, hops);
        self.count_receipt(node, from, msg, hops, r, false);
        r
    }

    /// Records `msg` reaching `node` by catch-up sync; returns whether it was new.
    pub fn receive_via_sync(&mut self, node: NodeIx, from: NodeIx, msg: MsgIx) -> bool {
        if self.messages.has(msg, node) {
            return false;
        }
        let hops = self.messages.hops(msg, from).saturating_add(1);
        let r = self.messages.receive(msg, node, self.now, hops);
        self.count_receipt(node, from, msg, hops, r, true);
        true
    }

    fn count_receipt(
        &mut self,
        node: NodeIx,
        from: NodeIx,
        msg: MsgIx,
        hops: u16,
        r: Receipt,
        via_sync: bool,
    ) {
        let meta = &self.messages.meta[msg as usize];
        let (forged, published) = (meta.forged, meta.published);
        let now = self.now;
        match r {
            Receipt::First if forged => self.metrics.forged_deliveries += 1,
            // Receipts at nodes that do not count (attackers, non-members) are not metrics.
            _ if !self.messages.expected(msg, node) => {}
            Receipt::First => {
                let lat = now.since(published).0.max(1);
                self.metrics.latency_us.saturating_record(lat);
                self.metrics.hops.saturating_record(hops as u64);
                if via_sync {
                    self.metrics.sync_deliveries += 1;
                } else {
                    self.metrics.deliveries += 1;
                }
                self.metrics.bucket(now).delivered += 1;
                if let Some(log) = &mut self.receipts {
                    log.push(ReceiptRecord {
                        msg,
                        node,
                        from,
                        at: now,
                        hops,
                        via_sync,
                    });
                }
            }
            Receipt::Duplicate { .. } => {
                if !forged {
                    self.metrics.duplicates += 1;
                    self.metrics.bucket(now).duplicates += 1;
                }
            }
        }
    }

    /// Hands the first copy of `msg` at `node` (from `from`) to the application.
    pub fn validate(&mut self, node: NodeIx, from: NodeIx, msg: MsgIx) {
        self.to_validate.push((node, from, msg));
    }

    /// The application's verdict, effective now.
    pub fn verdict(&mut self, node: NodeIx, msg: MsgIx, from: NodeIx, verdict: Verdict) {
        self.verdicts.push((node, msg, from, verdict));
    }

    /// The application's verdict, effective at `at` (validation takes time).
    pub fn verdict_at(
        &mut self,
        at: Time,
        node: NodeIx,
        msg: MsgIx,
        from: NodeIx,
        verdict: Verdict,
    ) {
        let inc = self.net.incarnation[node as usize];
        self.queue.push(
            at,
            Event::Verdict {
                node,
                inc,
                msg,
                from,
                verdict,
            },
        );
    }

    /// Publishes a message from `node` to `topic`: registers it (id = blake3 of the
    /// payload, or of a synthetic header in light mode) and hands it to the model.
    pub fn publish(
        &mut self,
        node: NodeIx,
        topic: TopicIx,
        bytes: u32,
        forged: bool,
        payload: Option<Arc<[u8]>>,
    ) -> MsgIx {
        let seq = self.messages.len() as u64;
        let id = match &payload {
            Some(p) => *blake3::hash(p).as_bytes(),
            None => {
                let mut h = blake3::Hasher::new();
                h.update(b"qun-sim/light/v1");
                h.update(&seq.to_le_bytes());
                h.update(&node.to_le_bytes());
                h.update(&topic.to_le_bytes());
                h.update(&bytes.to_le_bytes());
                *h.finalize().as_bytes()
            }
        };
        let meta = MessageMeta {
            id,
            topic,
            origin: node,
            published: self.now,
            bytes,
            forged,
            expected: 0,
            expected_online: 0,
            delivered: 0,
            delivered_online: 0,
            last_delivery: self.now,
            payload,
        };
        let msg = self.messages.register(
            meta,
            &self.net.online,
            &self.membership.members[topic as usize],
            &self.attacker,
        );
        if !forged {
            let expected = self.messages.meta[msg as usize].expected as u64;
            let b = self.metrics.bucket(self.now);
            b.published += 1;
            b.expected += expected;
        }
        self.to_publish.push((node, msg));
        msg
    }

    /// Whether `node` is running.
    pub fn is_online(&self, node: NodeIx) -> bool {
        self.net.online[node as usize]
    }
}
