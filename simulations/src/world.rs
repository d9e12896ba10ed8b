//! The world: the run loop over the shared context.
//!
//! [`World`] owns the shared context ([`Core`], in `ctx.rs`), the dissemination model and
//! the application. It pops the earliest `(time, seq)` event, advances the virtual clock
//! to it, dispatches it to the model or the application, then drains what they produced
//! (publications → model, first copies → application validation, verdicts → model)
//! before the next event. It also plays the scenario: initial arrivals and late joiners,
//! attackers, the workload's posts, churn, partitions and the sampling of the series; at
//! the end it summarises into a [`RunResult`]. Nothing reads a wall clock or OS
//! randomness: the one [`SimRng`] is seeded from the run's seed, so a seed gives the same
//! bytes every time.

use rand::SeedableRng;

use crate::app::replicator::ReplicatorApp;
use crate::app::{Application, LightApp};
use crate::ctx::Core;
use crate::dist::{SimRng, below, chance, shuffle, unit};
use crate::error::Error;
use crate::event::{Event, Frame};
use crate::gossip_model::Dissemination;
use crate::gossip_model::flood::Flood;
use crate::gossip_model::gossipsub::GossipSub;
use crate::metrics::{
    BytesPerNode, ChurnCounts, Convergence, ForgedStats, Frames, Percentiles, Summary, round6,
};
use crate::net_model::Net;
use crate::queue::Time;
use crate::results::{MessageRow, RunResult};
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
        let core = Core::new(
            n,
            rng,
            net,
            membership,
            Time::from_secs_f64(raw.output.sample_interval_s),
            opts.record_receipts,
        );
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
