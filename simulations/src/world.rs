//! The world: nodes, the event queue, the network and the run loop.
//!
//! [`World`] pops the earliest `(time, seq)` event, advances the virtual clock to it,
//! dispatches it to the dissemination model or the application, then drains what they
//! produced (publications → model, first copies → application validation, verdicts →
//! model) before the next event. Nothing reads a wall clock or OS randomness: the one
//! [`SimRng`] is seeded from the run's seed, so a seed gives the same bytes every time.

use std::sync::Arc;

use hdrhistogram::Histogram;
use rand::SeedableRng;

use crate::app::replicator::ReplicatorApp;
use crate::app::{Application, LightApp};
use crate::dist::{SimRng, below, chance, shuffle, unit};
use crate::error::Error;
use crate::gossip_model::flood::Flood;
use crate::gossip_model::gossipsub::GossipSub;
use crate::gossip_model::{Dissemination, Frame, Verdict};
use crate::messages::{MessageMeta, Messages, Receipt};
use crate::metrics::{
    BytesPerNode, ChurnCounts, Convergence, ForgedStats, Frames, Metrics, Percentiles, Summary,
    round6,
};
use crate::net_model::{Net, Transmit};
use crate::queue::{EventQueue, Time};
use crate::scenario::{Arrival, Mode, Protocol, Publishers, Scenario};
use crate::topology::{Graph, Membership};
use crate::{MsgIx, NodeIx, TopicIx};

/// How many events ahead [`Dissemination::prefetch`] is first called for a frame.
const PREFETCH_AHEAD: usize = 4;
/// Events between two progress reports.
const PROGRESS_EVERY: u64 = 1 << 16;
/// A connection takes this many one-way latencies to establish (TCP + noise + yamux ≈ 1.5 RTT).
const HANDSHAKE_ONE_WAY_TRIPS: u64 = 3;
/// Tries to find an online publisher before a post is skipped.
const PUBLISHER_TRIES: u32 = 64;
/// FNV-1a 64-bit prime, for the event-log hash.
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
/// FNV-1a 64-bit offset basis.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// Everything that can happen.
#[derive(Debug)]
enum Event<C, D> {
    Frame {
        to: NodeIx,
        from: NodeIx,
        epoch: u32,
        slot: u32,
        stamp: u32,
        frame: Frame<C>,
    },
    Direct {
        to: NodeIx,
        from: NodeIx,
        epoch: u32,
        slot: u32,
        stamp: u32,
        msg: D,
    },
    ProtoTimer {
        node: NodeIx,
        inc: u32,
        timer: u32,
    },
    AppTimer {
        node: NodeIx,
        inc: u32,
        timer: u64,
    },
    Verdict {
        node: NodeIx,
        inc: u32,
        msg: MsgIx,
        from: NodeIx,
        verdict: Verdict,
    },
    Post,
    Forge {
        node: NodeIx,
    },
    Depart {
        node: NodeIx,
    },
    Arrive {
        node: NodeIx,
    },
    Notice {
        node: NodeIx,
        inc: u32,
        peer: NodeIx,
    },
    Connect {
        a: NodeIx,
        b: NodeIx,
    },
    PartitionStart(u32),
    PartitionEnd(u32),
    Sample,
}

impl<C, D> Event<C, D> {
    /// `(kind, a, b)` for the event-log hash.
    fn key(&self) -> (u64, u64, u64) {
        match self {
            Event::Frame {
                to, from, frame, ..
            } => {
                let m = match frame {
                    Frame::Data { msg, .. } => *msg as u64,
                    Frame::Control(_) => u64::MAX,
                };
                (1, ((*to as u64) << 32) | *from as u64, m)
            }
            Event::Direct { to, from, .. } => (2, *to as u64, *from as u64),
            Event::ProtoTimer { node, timer, .. } => (3, *node as u64, *timer as u64),
            Event::AppTimer { node, timer, .. } => (4, *node as u64, *timer),
            Event::Verdict { node, msg, .. } => (5, *node as u64, *msg as u64),
            Event::Post => (6, 0, 0),
            Event::Forge { node } => (7, *node as u64, 0),
            Event::Depart { node } => (8, *node as u64, 0),
            Event::Arrive { node } => (9, *node as u64, 0),
            Event::Notice { node, peer, .. } => (10, *node as u64, *peer as u64),
            Event::Connect { a, b } => (11, *a as u64, *b as u64),
            Event::PartitionStart(i) => (12, *i as u64, 0),
            Event::PartitionEnd(i) => (13, *i as u64, 0),
            Event::Sample => (14, 0, 0),
        }
    }
}

/// One first receipt, recorded when [`RunOptions::record_receipts`] is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiptRecord {
    /// Message.
    pub msg: MsgIx,
    /// Receiving node.
    pub node: NodeIx,
    /// Sender of the first copy.
    pub from: NodeIx,
    /// Arrival time.
    pub at: Time,
    /// Hops of the first copy.
    pub hops: u16,
    /// Came by catch-up sync, not gossip.
    pub via_sync: bool,
}

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
    queue: EventQueue<Event<C, D>>,
    to_validate: Vec<(NodeIx, NodeIx, MsgIx)>,
    verdicts: Vec<(NodeIx, MsgIx, NodeIx, Verdict)>,
    to_publish: Vec<(NodeIx, MsgIx)>,
    receipts: Option<Vec<ReceiptRecord>>,
}

impl<C, D> Core<C, D> {
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

/// Options that do not change results.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Keep every first receipt (for tests and calibration; memory grows with receipts).
    pub record_receipts: bool,
}

/// Progress reported every few tens of thousands of events.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Virtual time reached.
    pub now: Time,
    /// Run length.
    pub duration: Time,
    /// Events processed.
    pub events: u64,
}

/// One row of `messages.csv`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MessageRow {
    /// Message index.
    pub msg: MsgIx,
    /// Message id (hex blake3).
    pub id: String,
    /// Topic.
    pub topic: TopicIx,
    /// Publisher.
    pub origin: NodeIx,
    /// Publication second.
    pub published_s: f64,
    /// Payload bytes.
    pub bytes: u32,
    /// Forged by an attacker.
    pub forged: bool,
    /// Expected receivers.
    pub expected: u32,
    /// Receivers.
    pub delivered: u32,
    /// Seconds from publication to the last first receipt.
    pub spread_s: f64,
}

/// Everything a run produces.
pub struct RunResult {
    /// `summary.json`.
    pub summary: Summary,
    /// `metrics.csv` rows.
    pub series: Vec<crate::metrics::Bucket>,
    /// Latency histogram in µs (for the CDF plot).
    pub latency_us: Histogram<u64>,
    /// `copies[k]` = (member, message) pairs that received `k` copies (k ≤ 255).
    pub copies: Vec<u64>,
    /// `messages.csv` rows.
    pub messages: Vec<MessageRow>,
    /// First receipts, if recorded.
    pub receipts: Vec<ReceiptRecord>,
    /// The connection graph used.
    pub graph: Graph,
    /// The membership used.
    pub membership: Membership,
    /// Link latency of each graph edge (same order as `graph.edges`).
    pub edge_latency: Vec<Time>,
}

/// Runs a scenario with one seed.
pub fn run(
    scn: &Scenario,
    seed: u64,
    progress: &mut dyn FnMut(Progress),
) -> Result<RunResult, Error> {
    run_with(scn, seed, &RunOptions::default(), progress)
}

/// Runs a scenario with one seed and options.
pub fn run_with(
    scn: &Scenario,
    seed: u64,
    opts: &RunOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<RunResult, Error> {
    let raw = scn.raw();
    let mut result = match (raw.protocol, raw.mode) {
        (Protocol::Gossipsub, Mode::Light) => {
            World::<GossipSub, LightApp>::new(scn, seed, opts)?.run(progress)?
        }
        (Protocol::Flood, Mode::Light) => {
            World::<Flood, LightApp>::new(scn, seed, opts)?.run(progress)?
        }
        (Protocol::Gossipsub, Mode::Full) => {
            World::<GossipSub, ReplicatorApp>::new(scn, seed, opts)?.run(progress)?
        }
        (Protocol::Flood, Mode::Full) => {
            World::<Flood, ReplicatorApp>::new(scn, seed, opts)?.run(progress)?
        }
    };
    if let Some(t) = &scn.raw().trust {
        let resolve = |p: &std::path::Path| scn.resolve(p);
        result.summary.trust = Some(crate::attack::run(t, scn.nodes(), &resolve, seed)?);
    }
    Ok(result)
}

/// A simulated network running model `P` and application `A`.
pub struct World<P: Dissemination, A: Application> {
    scn: Scenario,
    seed: u64,
    core: Core<P::Control, A::Direct>,
    proto: P,
    app: A,
    graph: Graph,
    events: u64,
    peak_queue: usize,
    hash: u64,
    online_count: u64,
    ever_online: Vec<bool>,
    attackers: Vec<NodeIx>,
    posts: u32,
    mean_down_s: f64,
}

impl<P: Dissemination, A: Application> World<P, A> {
    /// Builds the network; nothing has happened yet.
    pub fn new(scn: &Scenario, seed: u64, opts: &RunOptions) -> Result<Self, Error> {
        let raw = scn.raw();
        let mut rng = SimRng::seed_from_u64(seed);
        let membership = Membership::generate(scn, &mut rng);
        let graph = Graph::generate(scn, &membership, &mut rng)?;
        let net = Net::new(
            scn.nodes(),
            &graph.edges,
            &scn.latency_ms,
            &scn.upload_mbit_s,
            scn.jitter_ms.clone(),
            raw.links.loss,
            &mut rng,
        );
        let n = scn.nodes() as usize;
        let core = Core {
            now: Time::ZERO,
            rng,
            net,
            messages: Messages::new(n, membership.members.len()),
            membership,
            metrics: Metrics::new(n, Time::from_secs_f64(raw.output.sample_interval_s)),
            attacker: vec![false; n],
            queue: EventQueue::new(),
            to_validate: Vec::new(),
            verdicts: Vec::new(),
            to_publish: Vec::new(),
            receipts: opts.record_receipts.then(Vec::new),
        };
        let f = raw.churn.offline_fraction;
        let app = A::new(scn, seed, &core)?;
        Ok(World {
            proto: P::new(scn),
            app,
            scn: scn.clone(),
            seed,
            core,
            graph,
            events: 0,
            peak_queue: 0,
            hash: FNV_OFFSET,
            online_count: 0,
            ever_online: vec![false; n],
            attackers: Vec::new(),
            posts: 0,
            mean_down_s: raw.churn.mean_session_s * f / (1.0 - f),
        })
    }

    fn schedule_initial(&mut self) {
        let raw = self.scn.raw().clone();
        let n = self.scn.nodes();
        let c = &mut self.core;
        // Late joiners.
        let mut late = vec![false; n as usize];
        if raw.churn.join_fraction > 0.0 {
            let mut order: Vec<NodeIx> = (0..n).collect();
            shuffle(&mut c.rng, &mut order);
            let k = (raw.churn.join_fraction * n as f64).round() as usize;
            for &v in &order[..k] {
                late[v as usize] = true;
                let at = Time::from_secs_f64(unit(&mut c.rng) * raw.churn.join_window_s);
                c.queue.push(at, Event::Arrive { node: v });
            }
        }
        // Attackers.
        if raw.attack.attacker_fraction > 0.0 && raw.attack.forged_per_second > 0.0 {
            let mut order: Vec<NodeIx> = (0..n).collect();
            shuffle(&mut c.rng, &mut order);
            let k = (raw.attack.attacker_fraction * n as f64).round() as usize;
            let mut att = order[..k].to_vec();
            att.sort_unstable();
            for &v in &att {
                c.attacker[v as usize] = true;
                let gap = -(1.0 - unit(&mut c.rng)).ln() / raw.attack.forged_per_second;
                let at = Time::from_secs_f64(raw.workload.start_s + gap);
                c.queue.push(at, Event::Forge { node: v });
            }
            self.attackers = att;
        }
        if raw.workload.messages > 0 {
            self.core
                .queue
                .push(Time::from_secs_f64(raw.workload.start_s), Event::Post);
        }
        for (i, p) in raw.partitions.iter().enumerate() {
            self.core.queue.push(
                Time::from_secs_f64(p.start_s),
                Event::PartitionStart(i as u32),
            );
            self.core
                .queue
                .push(Time::from_secs_f64(p.end_s), Event::PartitionEnd(i as u32));
        }
        let interval = self.core.metrics.interval();
        self.core.queue.push(interval, Event::Sample);
        for v in 0..n {
            if !late[v as usize] {
                self.bring_up(v);
            }
        }
    }

    /// Runs to the scenario's end and summarises.
    pub fn run(mut self, progress: &mut dyn FnMut(Progress)) -> Result<RunResult, Error> {
        self.schedule_initial();
        self.drain();
        let end = self.scn.duration;
        while let Some((at, ev)) = self.core.queue.pop() {
            if at > end {
                break;
            }
            self.core.now = at;
            self.events += 1;
            self.peak_queue = self.peak_queue.max(self.core.queue.len() + 1);
            let (k, a, b) = ev.key();
            for w in [at.0, k, a, b] {
                self.hash = (self.hash ^ w).wrapping_mul(FNV_PRIME);
            }
            self.core.metrics.bucket(at).events += 1;
            // Frames a few events ahead: warm the receiver's router state (a node's
            // state, then what it points to), which would otherwise miss the cache.
            for (k, stage) in [(PREFETCH_AHEAD, 0), (PREFETCH_AHEAD / 2, 1)] {
                if let Some(Event::Frame {
                    to, from, frame, ..
                }) = self.core.queue.ahead(k)
                {
                    self.proto.prefetch(*to, *from, stage);
                    if let (0, Frame::Data { msg, .. }) = (stage, frame) {
                        self.core.messages.prefetch(*msg, *to);
                    }
                }
            }
            self.dispatch(ev);
            self.drain();
            if self.events.is_multiple_of(PROGRESS_EVERY) {
                progress(Progress {
                    now: at,
                    duration: end,
                    events: self.events,
                });
            }
        }
        self.core.now = end;
        progress(Progress {
            now: end,
            duration: end,
            events: self.events,
        });
        Ok(self.finish())
    }

    fn dispatch(&mut self, ev: Event<P::Control, A::Direct>) {
        let c = &mut self.core;
        match ev {
            Event::Frame {
                to,
                from,
                epoch,
                slot,
                stamp,
                frame,
            } => {
                if c.net.deliverable(to, slot, epoch, stamp) {
                    self.proto.on_frame(c, to, from, frame);
                } else {
                    c.metrics.dropped_in_flight += 1;
                }
            }
            Event::Direct {
                to,
                from,
                epoch,
                slot,
                stamp,
                msg,
            } => {
                if c.net.deliverable(to, slot, epoch, stamp) {
                    self.app.on_direct(c, to, from, msg);
                } else {
                    c.metrics.dropped_in_flight += 1;
                }
            }
            Event::ProtoTimer { node, inc, timer } => {
                if c.net.online[node as usize] && c.net.incarnation[node as usize] == inc {
                    self.proto.on_timer(c, node, timer);
                }
            }
            Event::AppTimer { node, inc, timer } => {
                if c.net.online[node as usize] && c.net.incarnation[node as usize] == inc {
                    self.app.on_timer(c, node, timer);
                }
            }
            Event::Verdict {
                node,
                inc,
                msg,
                from,
                verdict,
            } => {
                if c.net.online[node as usize] && c.net.incarnation[node as usize] == inc {
                    self.proto.on_verdict(c, node, msg, from, verdict);
                }
            }
            Event::Post => self.post(),
            Event::Forge { node } => self.forge(node),
            Event::Depart { node } => self.depart(node),
            Event::Arrive { node } => self.arrive(node),
            Event::Notice { node, inc, peer } => {
                if c.net.online[node as usize]
                    && c.net.incarnation[node as usize] == inc
                    && !c.net.is_up(node, peer)
                {
                    self.proto.peer_down(c, node, peer);
                    self.app.peer_left(c, node, peer);
                }
            }
            Event::Connect { a, b } => self.connect(a, b),
            Event::PartitionStart(i) => self.partition_start(i),
            Event::PartitionEnd(_) => self.partition_end(),
            Event::Sample => {
                let now = c.now;
                let online = self.online_count;
                let iv = c.metrics.interval();
                if now.0 >= iv.0 {
                    c.metrics.bucket(Time(now.0 - iv.0)).online = online;
                }
                c.queue.push(now.plus(iv), Event::Sample);
            }
        }
    }

    /// Runs what the last handler produced until nothing is pending.
    fn drain(&mut self) {
        let mut i = 0;
        loop {
            if i < self.core.to_publish.len() {
                let (node, msg) = self.core.to_publish[i];
                i += 1;
                self.proto.publish(&mut self.core, node, msg);
                continue;
            }
            self.core.to_publish.clear();
            i = 0;
            if !self.core.to_validate.is_empty() {
                let batch = std::mem::take(&mut self.core.to_validate);
                for &(node, from, msg) in &batch {
                    self.app.on_gossip(&mut self.core, node, from, msg);
                }
                let mut batch = batch;
                batch.clear();
                if self.core.to_validate.is_empty() {
                    self.core.to_validate = batch;
                }
                continue;
            }
            if !self.core.verdicts.is_empty() {
                let batch = std::mem::take(&mut self.core.verdicts);
                for &(node, msg, from, v) in &batch {
                    self.proto.on_verdict(&mut self.core, node, msg, from, v);
                }
                let mut batch = batch;
                batch.clear();
                if self.core.verdicts.is_empty() {
                    self.core.verdicts = batch;
                }
                continue;
            }
            if self.core.to_publish.is_empty() {
                break;
            }
        }
    }

    fn bring_up(&mut self, node: NodeIx) {
        let c = &mut self.core;
        let v = node as usize;
        let restart = self.ever_online[v];
        c.net.online[v] = true;
        c.net.incarnation[v] += 1;
        self.online_count += 1;
        self.ever_online[v] = true;
        self.proto.node_up(c, node);
        self.app.node_up(c, node, restart);
        let now = c.now;
        for i in 0..c.net.links(node).len() {
            let l = &c.net.links(node)[i];
            let peer = l.peer;
            if c.net.can_connect(node, peer) && !l.up {
                let at = now.plus(Time(l.latency.0 * HANDSHAKE_ONE_WAY_TRIPS));
                c.queue.push(at, Event::Connect { a: node, b: peer });
            }
        }
        let churn = &self.scn.raw().churn;
        if churn.offline_fraction > 0.0 {
            let session = -churn.mean_session_s * (1.0 - unit(&mut c.rng)).ln();
            let at = Time::from_secs_f64(churn.start_s.max(now.as_secs_f64()) + session);
            c.queue.push(at, Event::Depart { node });
        }
    }

    fn connect(&mut self, a: NodeIx, b: NodeIx) {
        let c = &mut self.core;
        if !c.net.can_connect(a, b) || !c.net.set_up(a, b, true) {
            return;
        }
        self.proto.peer_up(c, a, b);
        self.proto.peer_up(c, b, a);
        let (ta, tb) = (
            c.membership.topics_of[a as usize].clone(),
            &c.membership.topics_of[b as usize],
        );
        let shared: Vec<TopicIx> = ta
            .into_iter()
            .filter(|t| tb.binary_search(t).is_ok())
            .collect();
        for t in shared {
            self.app.peer_joined(c, a, b, t);
            self.app.peer_joined(c, b, a, t);
        }
    }

    fn depart(&mut self, node: NodeIx) {
        let c = &mut self.core;
        let v = node as usize;
        if !c.net.online[v] {
            return;
        }
        let churn = self.scn.raw().churn.clone();
        let crash = chance(&mut c.rng, churn.crash_fraction);
        if crash {
            c.metrics.crashes += 1;
        } else {
            c.metrics.leaves += 1;
        }
        c.net.online[v] = false;
        self.online_count -= 1;
        let now = c.now;
        c.net.reset_uplink(node, now);
        let detect = Time::from_secs_f64(self.scn.raw().links.detect_s);
        let peers: Vec<NodeIx> = c
            .net
            .links(node)
            .iter()
            .filter(|l| l.up)
            .map(|l| l.peer)
            .collect();
        for &peer in &peers {
            c.net.set_up(node, peer, false);
        }
        self.proto.node_down(node);
        self.app.node_down(c, node, crash);
        for &peer in &peers {
            if crash {
                let inc = c.net.incarnation[peer as usize];
                c.queue.push(
                    now.plus(detect),
                    Event::Notice {
                        node: peer,
                        inc,
                        peer: node,
                    },
                );
            } else {
                self.proto.peer_down(c, peer, node);
                self.app.peer_left(c, peer, node);
            }
        }
        let down = -self.mean_down_s * (1.0 - unit(&mut c.rng)).ln();
        c.queue
            .push(now.plus(Time::from_secs_f64(down)), Event::Arrive { node });
    }

    fn arrive(&mut self, node: NodeIx) {
        if self.core.net.online[node as usize] {
            return;
        }
        if self.ever_online[node as usize] {
            self.core.metrics.restarts += 1;
        } else {
            self.core.metrics.joins += 1;
        }
        self.bring_up(node);
    }

    fn partition_start(&mut self, i: u32) {
        let c = &mut self.core;
        let n = self.scn.nodes();
        let frac = self.scn.raw().partitions[i as usize].fraction;
        let mut order: Vec<NodeIx> = (0..n).collect();
        shuffle(&mut c.rng, &mut order);
        let k = (frac * n as f64).round() as usize;
        for (j, &v) in order.iter().enumerate() {
            c.net.side[v as usize] = u8::from(j >= k);
        }
        c.net.partitioned = true;
        let now = c.now;
        let detect = Time::from_secs_f64(self.scn.raw().links.detect_s);
        for &(a, b) in &self.graph.edges {
            if c.net.blocked(a, b) && c.net.set_up(a, b, false) {
                for (x, y) in [(a, b), (b, a)] {
                    let inc = c.net.incarnation[x as usize];
                    c.queue.push(
                        now.plus(detect),
                        Event::Notice {
                            node: x,
                            inc,
                            peer: y,
                        },
                    );
                }
            }
        }
    }

    fn partition_end(&mut self) {
        let c = &mut self.core;
        let was: Vec<u8> = c.net.side.clone();
        c.net.partitioned = false;
        let now = c.now;
        for &(a, b) in &self.graph.edges {
            if was[a as usize] != was[b as usize] && c.net.can_connect(a, b) && !c.net.is_up(a, b) {
                let lat = c.net.link(a, b).map(|l| l.latency).unwrap_or(Time(1));
                c.queue.push(
                    now.plus(Time(lat.0 * HANDSHAKE_ONE_WAY_TRIPS)),
                    Event::Connect { a, b },
                );
            }
        }
    }

    fn post(&mut self) {
        let w = self.scn.raw().workload.clone();
        let c = &mut self.core;
        let topics = c.membership.members.len();
        let topic = below(&mut c.rng, topics) as TopicIx;
        let mut publisher = None;
        for _ in 0..PUBLISHER_TRIES {
            let cand = match w.publishers {
                Publishers::Members => {
                    let ms = &c.membership.members[topic as usize];
                    ms[below(&mut c.rng, ms.len())]
                }
                Publishers::Anyone => below(&mut c.rng, self.scn.nodes() as usize) as NodeIx,
            };
            if c.net.online[cand as usize] && self.attackers.binary_search(&cand).is_err() {
                publisher = Some(cand);
                break;
            }
        }
        if let Some(node) = publisher {
            self.app.post(c, node, topic);
            self.posts += 1;
        }
        if self.posts < w.messages {
            let gap = match w.arrival {
                Arrival::Poisson => -(1.0 - unit(&mut c.rng)).ln() / w.posts_per_second,
                Arrival::Uniform => 1.0 / w.posts_per_second,
            };
            let at = c.now.plus(Time::from_secs_f64(gap).max(Time(1)));
            c.queue.push(at, Event::Post);
        }
    }

    fn forge(&mut self, node: NodeIx) {
        let rate = self.scn.raw().attack.forged_per_second;
        let c = &mut self.core;
        if c.net.online[node as usize] {
            let mine = &c.membership.topics_of[node as usize];
            let topic = if mine.is_empty() {
                below(&mut c.rng, c.membership.members.len()) as TopicIx
            } else {
                mine[below(&mut c.rng, mine.len())]
            };
            self.app.forge(c, node, topic);
        }
        let gap = -(1.0 - unit(&mut c.rng)).ln() / rate;
        let at = c.now.plus(Time::from_secs_f64(gap).max(Time(1)));
        c.queue.push(at, Event::Forge { node });
    }

    fn finish(mut self) -> RunResult {
        let raw = self.scn.raw().clone();
        let c = &mut self.core;
        c.metrics.finish_series();
        let n = self.scn.nodes() as usize;
        let (mut expected, mut delivered, mut exp_on, mut del_on) = (0u64, 0u64, 0u64, 0u64);
        let (mut full, mut full_on) = (0u64, 0u64);
        let mut spreads = Vec::new();
        let mut last = Time::ZERO;
        let mut copies = vec![0u64; 256];
        let (mut forged_pub, mut forged_rx) = (0u64, 0u64);
        let mut rows = Vec::new();
        for (i, m) in c.messages.meta.iter().enumerate() {
            let spread = m.last_delivery.since(m.published);
            rows.push(MessageRow {
                msg: i as MsgIx,
                id: blake3::Hash::from_bytes(m.id).to_hex().to_string(),
                topic: m.topic,
                origin: m.origin,
                published_s: round6(m.published.as_secs_f64()),
                bytes: m.bytes,
                forged: m.forged,
                expected: m.expected,
                delivered: m.delivered,
                spread_s: round6(spread.as_secs_f64()),
            });
            if m.forged {
                forged_pub += 1;
                forged_rx += m.delivered as u64;
                continue;
            }
            expected += m.expected as u64;
            delivered += m.delivered as u64;
            exp_on += m.expected_online as u64;
            del_on += m.delivered_online as u64;
            full += u64::from(m.delivered == m.expected);
            full_on += u64::from(m.delivered_online == m.expected_online);
            if m.delivered > 0 {
                spreads.push(spread.as_secs_f64());
                last = last.max(m.last_delivery);
            }
            for &v in &c.membership.members[m.topic as usize] {
                if c.messages.expected(i as MsgIx, v) {
                    copies[c.messages.copies(i as MsgIx, v) as usize] += 1;
                }
            }
        }
        let ratio = |a: u64, b: u64| {
            if b == 0 {
                0.0
            } else {
                round6(a as f64 / b as f64)
            }
        };
        let copies_total = c.metrics.deliveries + c.metrics.duplicates;
        let mut data: Vec<f64> = c.metrics.data_sent.iter().map(|&b| b as f64).collect();
        let mut control: Vec<f64> = c.metrics.control_sent.iter().map(|&b| b as f64).collect();
        let members_mean = c
            .membership
            .members
            .iter()
            .map(|m| m.len() as f64)
            .sum::<f64>()
            / c.membership.members.len().max(1) as f64;
        let d = match raw.protocol {
            Protocol::Gossipsub => raw.gossip.d as f64,
            Protocol::Flood => 2.0 * self.graph.edges.len() as f64 / n.max(1) as f64,
        };
        let edge_latency: Vec<Time> = self
            .graph
            .edges
            .iter()
            .map(|&(a, b)| c.net.link(a, b).map(|l| l.latency).unwrap_or_default())
            .collect();
        let mean_lat = edge_latency.iter().map(|t| t.as_millis_f64()).sum::<f64>()
            / edge_latency.len().max(1) as f64;
        let summary = Summary {
            scenario: raw.name.clone(),
            seed: self.seed,
            protocol: self.proto.name().to_string(),
            mode: self.app.name().to_string(),
            nodes: n as u32,
            edges: self.graph.edges.len() as u64,
            communities: raw.workload.communities,
            duration_s: raw.duration_s,
            events: self.events,
            peak_queue: self.peak_queue as u64,
            event_log_hash: format!("{:016x}", self.hash),
            messages_published: c.messages.len() as u64 - forged_pub,
            delivery_ratio: ratio(delivered, expected),
            delivery_ratio_online: ratio(del_on, exp_on),
            latency_ms: Percentiles::from_hist(&c.metrics.latency_us, 1e-3),
            hops: Percentiles::from_hist(&c.metrics.hops, 1.0),
            hop_floor: if d > 1.0 && members_mean > 1.0 {
                round6(members_mean.ln() / d.ln())
            } else {
                0.0
            },
            mean_link_latency_ms: round6(mean_lat),
            copies_per_delivery: ratio(copies_total, c.metrics.deliveries),
            duplicates_per_delivery: ratio(c.metrics.duplicates, c.metrics.deliveries),
            deliveries: c.metrics.deliveries,
            sync_deliveries: c.metrics.sync_deliveries,
            duplicates: c.metrics.duplicates,
            bytes_per_node: BytesPerNode {
                data: Percentiles::from_values(&mut data),
                control: Percentiles::from_values(&mut control),
            },
            frames: Frames {
                data: c.metrics.data_frames,
                control: c.metrics.control_frames,
                lost: c.metrics.lost_frames,
                dropped_in_flight: c.metrics.dropped_in_flight,
                no_link: c.metrics.no_link_frames,
            },
            convergence: Convergence {
                last_delivery_s: round6(last.as_secs_f64()),
                spread_s: Percentiles::from_values(&mut spreads),
                fully_delivered: full,
                fully_delivered_online: full_on,
            },
            churn: ChurnCounts {
                crashes: c.metrics.crashes,
                leaves: c.metrics.leaves,
                restarts: c.metrics.restarts,
                joins: c.metrics.joins,
            },
            forged: ForgedStats {
                published: forged_pub,
                receipts: forged_rx,
                reach_mean: ratio(forged_rx, forged_pub),
            },
            gossip: self.proto.stats(),
            trust: None,
            full: self.app.report(c),
        };
        RunResult {
            summary,
            series: std::mem::take(&mut c.metrics.series),
            latency_us: c.metrics.latency_us.clone(),
            copies,
            messages: rows,
            receipts: c.receipts.take().unwrap_or_default(),
            graph: self.graph,
            membership: c.membership.clone(),
            edge_latency,
        }
    }
}
