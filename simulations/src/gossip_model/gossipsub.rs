//! GossipSub v1.1 router model: publishing, forwarding, GRAFT/PRUNE (the per-node state it
//! works on is in `state.rs`).
//!
//! What is modelled, following rust-libp2p `protocols/gossipsub/src/behaviour.rs`:
//! - meshes per topic kept between D_lo and D_hi by the heartbeat (`mesh.rs`), with
//!   D_score peers retained by score, D_out outbound peers, prune backoff, and
//!   opportunistic grafting;
//! - fanout for topics a node publishes to without being subscribed, expiring after
//!   `fanout_ttl`;
//! - a message cache of `mcache_len` heartbeats, the last `mcache_gossip` advertised by
//!   IHAVE to max(D_lazy, gossip_factor · others) non-mesh peers; IWANT answers from the
//!   cache at most `gossip_retransmission` times per peer; broken IWANT promises count
//!   towards P₇ (`ihave.rs`);
//! - flood publishing, validation before forwarding (`validate_messages()`), and the
//!   v1.2 IDONTWANT option;
//! - peer scores P₁, P₂, P₃, P₃b, P₄, P₇ with decay and the gossip / publish / graylist
//!   thresholds (`score.rs`).
//!
//! Not modelled: peer exchange on PRUNE, P₅/P₆, retaining scores of disconnected peers,
//! subscription messages (subscriptions are known as soon as a connection is up).

use crate::ctx::Core;
use std::collections::VecDeque;

use crate::dist::unit;
use crate::gossip_model::state::{FanoutState, GsNode, PeerIds, PeerState, PeerTopics, TopicState};
use crate::gossip_model::{DATA_OVERHEAD_BYTES, Dissemination, Frame, Verdict};
use crate::messages::Receipt;
use crate::metrics::ProtoStats;
use crate::queue::Time;
use crate::scenario::{GossipConfig, Scenario};
use crate::{MsgIx, NodeIx, TopicIx};

/// Bytes of an RPC envelope plus a topic id (`qun/<community-id>/v1`).
pub(crate) const RPC_TOPIC_BYTES: u32 = 70;
/// Extra bytes of a PRUNE (backoff field).
pub(crate) const PRUNE_EXTRA_BYTES: u32 = 10;
/// Bytes per message id in IHAVE / IWANT / IDONTWANT (32-byte blake3 id + tag and length).
pub(crate) const MSG_ID_BYTES: u32 = 34;
/// Bytes of an RPC envelope without a topic.
pub(crate) const RPC_BYTES: u32 = 8;
/// Timer id of the heartbeat.
pub(crate) const TIMER_HEARTBEAT: u32 = 0;

/// GossipSub control frames.
#[derive(Debug, Clone)]
pub enum Control {
    /// Join the sender's mesh for `topic`.
    Graft {
        /// Topic.
        topic: TopicIx,
    },
    /// Leave the sender's mesh for `topic`; do not graft again within the backoff.
    Prune {
        /// Topic.
        topic: TopicIx,
    },
    /// "I have these recent messages of `topic`."
    IHave {
        /// Topic.
        topic: TopicIx,
        /// Message ids.
        ids: Box<[MsgIx]>,
    },
    /// "Send me these."
    IWant {
        /// Message ids.
        ids: Box<[MsgIx]>,
    },
    /// v1.2: "I already have these; do not send them."
    IDontWant {
        /// Message ids.
        ids: Box<[MsgIx]>,
    },
}

/// The GossipSub v1.1 model.
pub struct GossipSub {
    pub(crate) cfg: GossipConfig,
    pub(crate) nodes: Vec<GsNode>,
    pub(crate) stats: ProtoStats,
    pub(crate) heartbeat: Time,
    /// Per-heartbeat decay factors (the configured decays are per `decay_interval`).
    pub(crate) decay: crate::gossip_model::score::Decay,
}

impl GossipSub {
    /// Score of `peer` as seen by `node` (0 when scoring is off), as cached at the last
    /// heartbeat or counter change: libp2p recomputes on demand, the model refreshes on
    /// every change that can cross a threshold (P₄, P₇, mesh membership) and each heartbeat.
    pub(crate) fn score_of(&self, node: NodeIx, peer: NodeIx, _now: Time) -> f64 {
        self.nodes[node as usize]
            .peer(peer)
            .map(|p| p.score)
            .unwrap_or(0.0)
    }

    /// Recomputes the cached score of `peer` at `node`.
    pub(crate) fn refresh_score(&mut self, node: NodeIx, peer: NodeIx, now: Time) {
        if !self.cfg.score.enabled {
            return;
        }
        let s = &self.cfg.score;
        let n = &mut self.nodes[node as usize];
        if let Ok(i) = n.peer_ids.binary_search(&peer) {
            let score = crate::gossip_model::score::score(s, &n.peers[i], now);
            n.set_score(i, score, s.graylist_threshold);
        }
    }

    pub(crate) fn send_control<D>(
        &mut self,
        core: &mut Core<Control, D>,
        from: NodeIx,
        to: NodeIx,
        c: Control,
    ) {
        let bytes = match &c {
            Control::Graft { .. } => {
                self.stats.grafts += 1;
                RPC_TOPIC_BYTES
            }
            Control::Prune { .. } => {
                self.stats.prunes += 1;
                RPC_TOPIC_BYTES + PRUNE_EXTRA_BYTES
            }
            Control::IHave { ids, .. } => {
                self.stats.ihaves += 1;
                RPC_TOPIC_BYTES + MSG_ID_BYTES * ids.len() as u32
            }
            Control::IWant { ids } => {
                self.stats.iwants += 1;
                RPC_BYTES + MSG_ID_BYTES * ids.len() as u32
            }
            Control::IDontWant { ids } => {
                self.stats.idontwants += 1;
                RPC_BYTES + MSG_ID_BYTES * ids.len() as u32
            }
        };
        core.send_frame(from, to, Frame::Control(c), bytes);
    }

    pub(crate) fn send_data<D>(
        &mut self,
        core: &mut Core<Control, D>,
        from: NodeIx,
        to: NodeIx,
        msg: MsgIx,
    ) {
        let bytes = core.messages.meta[msg as usize].bytes + DATA_OVERHEAD_BYTES;
        let hops = core.messages.hops(msg, from);
        core.send_frame(from, to, Frame::Data { msg, hops }, bytes);
    }

    /// Sends PRUNE and starts the backoff on our side.
    pub(crate) fn prune<D>(
        &mut self,
        core: &mut Core<Control, D>,
        node: NodeIx,
        peer: NodeIx,
        topic: TopicIx,
    ) {
        let until = core.now.plus(Time::from_secs_f64(self.cfg.prune_backoff_s));
        if let Some(t) = self.nodes[node as usize].topic_mut(topic) {
            t.set_backoff(peer, until);
        }
        self.send_control(core, node, peer, Control::Prune { topic });
    }

    /// Removes `peer` from `node`'s mesh for `topic`, applying the P₃b penalty.
    pub(crate) fn leave_mesh(&mut self, node: NodeIx, peer: NodeIx, topic: TopicIx, now: Time) {
        let s = &self.cfg.score;
        let n = &mut self.nodes[node as usize];
        if let Some(t) = n.topic_mut(topic) {
            t.mesh.retain(|&p| p != peer);
        }
        if let Some(p) = n.peer_mut(peer) {
            let pt = p.topic_mut(topic);
            if let Some(since) = pt.mesh_since.take() {
                let active =
                    now.since(since).as_secs_f64() >= s.mesh_message_deliveries_activation_s;
                if active && pt.mesh_deliveries < s.mesh_message_deliveries_threshold {
                    let deficit = s.mesh_message_deliveries_threshold - pt.mesh_deliveries;
                    pt.mesh_failure += deficit * deficit;
                }
            }
        }
        self.refresh_score(node, peer, now);
    }

    /// Adds `peer` to `node`'s mesh for `topic`.
    pub(crate) fn join_mesh(&mut self, node: NodeIx, peer: NodeIx, topic: TopicIx, now: Time) {
        let n = &mut self.nodes[node as usize];
        if let Some(t) = n.topic_mut(topic)
            && !t.mesh.contains(&peer)
        {
            t.mesh.push(peer);
            if let Some(p) = n.peer_mut(peer) {
                let pt = p.topic_mut(topic);
                pt.mesh_since = Some(now);
                pt.mesh_deliveries = 0.0;
            }
        }
        self.refresh_score(node, peer, now);
    }

    fn forward<D>(&mut self, core: &mut Core<Control, D>, node: NodeIx, msg: MsgIx, from: NodeIx) {
        let meta = &core.messages.meta[msg as usize];
        let (topic, origin) = (meta.topic, meta.origin);
        let n = &self.nodes[node as usize];
        let Some(t) = n.topic(topic) else {
            return;
        };
        let mut targets: Vec<NodeIx> = Vec::with_capacity(t.mesh.len());
        let mut saved = 0;
        for &p in &t.mesh {
            if p == from || p == origin {
                continue;
            }
            if self.cfg.idontwant
                && n.peer(p)
                    .is_some_and(|ps| ps.dontwant.iter().any(|&(m, _)| m == msg))
            {
                saved += 1;
                continue;
            }
            targets.push(p);
        }
        self.stats.idontwant_saved += saved;
        for p in targets {
            self.send_data(core, node, p, msg);
        }
    }

    fn on_graft<D>(
        &mut self,
        core: &mut Core<Control, D>,
        node: NodeIx,
        from: NodeIx,
        topic: TopicIx,
    ) {
        let now = core.now;
        let n = &self.nodes[node as usize];
        let Some(t) = n.topic(topic) else {
            // Not subscribed: refuse without backoff (libp2p sends PRUNE).
            self.send_control(core, node, from, Control::Prune { topic });
            return;
        };
        if t.mesh.contains(&from) {
            return;
        }
        if t.in_backoff(from, now) {
            // Grafting during backoff is misbehaviour (P₇).
            if let Some(p) = self.nodes[node as usize].peer_mut(from) {
                p.behaviour += 1.0;
            }
            self.refresh_score(node, from, now);
            self.prune(core, node, from, topic);
            return;
        }
        let outbound = n.peer(from).is_some_and(|p| p.outbound);
        let full = t.mesh.len() >= self.cfg.d_hi as usize;
        if self.score_of(node, from, now) < 0.0 || (full && !outbound) {
            self.prune(core, node, from, topic);
            return;
        }
        self.join_mesh(node, from, topic, now);
    }

    fn on_prune(&mut self, node: NodeIx, from: NodeIx, topic: TopicIx, now: Time) {
        let until = now.plus(Time::from_secs_f64(self.cfg.prune_backoff_s));
        self.leave_mesh(node, from, topic, now);
        if let Some(t) = self.nodes[node as usize].topic_mut(topic) {
            t.set_backoff(from, until);
        }
    }

    fn on_data<D>(
        &mut self,
        core: &mut Core<Control, D>,
        node: NodeIx,
        from: NodeIx,
        msg: MsgIx,
        hops: u16,
    ) {
        let now = core.now;
        let receipt = core.receive(node, from, msg, hops.saturating_add(1));
        let meta = &core.messages.meta[msg as usize];
        let (topic, bytes) = (meta.topic, meta.bytes);
        let window = Time::from_millis_f64(self.cfg.score.mesh_message_deliveries_window_ms);
        let (cap_first, cap_mesh) = (
            self.cfg.score.first_message_deliveries_cap,
            self.cfg.score.mesh_message_deliveries_cap,
        );
        let n = &mut self.nodes[node as usize];
        if !n.promises.is_empty() {
            n.promises.retain(|p| p.msg != msg);
        }
        // A connected peer is in our mesh for `topic` exactly when its `mesh_since` is set
        // (`join_mesh` / `leave_mesh` / `peer_down` keep the two together), so the
        // counters' own record answers "in mesh?" without touching the mesh.
        debug_assert!(n.peer(from).is_none_or(|p| {
            p.topics.get(topic).is_some_and(|t| t.mesh_since.is_some())
                == n.topic(topic).is_some_and(|t| t.mesh.contains(&from))
        }));
        match receipt {
            Receipt::First => {
                if let Some(p) = n.peer_mut(from) {
                    let pt = p.topic_mut(topic);
                    pt.first = (pt.first + 1.0).min(cap_first);
                    if pt.mesh_since.is_some() {
                        pt.mesh_deliveries = (pt.mesh_deliveries + 1.0).min(cap_mesh);
                    }
                }
                if self.cfg.idontwant && bytes >= self.cfg.idontwant_min_bytes {
                    let mesh: Vec<NodeIx> = n
                        .topic(topic)
                        .map(|t| t.mesh.iter().copied().filter(|&p| p != from).collect())
                        .unwrap_or_default();
                    for p in mesh {
                        self.send_control(
                            core,
                            node,
                            p,
                            Control::IDontWant {
                                ids: Box::new([msg]),
                            },
                        );
                    }
                }
                core.validate(node, from, msg);
            }
            Receipt::Duplicate { first_at } => {
                // Cheapest test first: most duplicates come after the window.
                if now.since(first_at) <= window
                    && let Some(p) = n.peer_mut(from)
                    && let Some(pt) = p.topic_get_mut(topic)
                    && pt.mesh_since.is_some()
                {
                    pt.mesh_deliveries = (pt.mesh_deliveries + 1.0).min(cap_mesh);
                }
            }
        }
    }
}

impl Dissemination for GossipSub {
    type Control = Control;

    fn new(scn: &Scenario) -> Self {
        let cfg = scn.raw().gossip.clone();
        let heartbeat = Time::from_millis_f64(cfg.heartbeat_ms).max(Time(1));
        let decay = crate::gossip_model::score::Decay::new(&cfg.score, heartbeat);
        GossipSub {
            nodes: vec![GsNode::default(); scn.nodes() as usize],
            stats: ProtoStats::default(),
            heartbeat,
            decay,
            cfg,
        }
    }

    fn name(&self) -> &'static str {
        if self.cfg.idontwant {
            "gossipsub-v1.2"
        } else {
            "gossipsub-v1.1"
        }
    }

    fn node_up<D>(&mut self, core: &mut Core<Control, D>, node: NodeIx) {
        let topics = core.membership.topics_of[node as usize]
            .iter()
            .map(|&topic| TopicState {
                topic,
                mesh: Vec::new(),
                backoff: Vec::new(),
            })
            .collect();
        let mut mcache = VecDeque::with_capacity(self.cfg.mcache_len as usize);
        mcache.push_front(Vec::new());
        self.nodes[node as usize] = GsNode {
            online: true,
            peer_ids: PeerIds::default(),
            peers: Vec::new(),
            topics,
            fanout: Vec::new(),
            mcache,
            ticks: 0,
            promises: Vec::new(),
            graylisted: 0,
        };
        // Heartbeats of different nodes are out of phase, as nodes start at different times.
        let phase = Time((self.heartbeat.0 as f64 * unit(&mut core.rng)) as u64);
        core.set_proto_timer(node, core.now.plus(phase), TIMER_HEARTBEAT);
    }

    fn node_down(&mut self, node: NodeIx) {
        self.nodes[node as usize] = GsNode::default();
    }

    fn peer_up<D>(&mut self, core: &mut Core<Control, D>, node: NodeIx, peer: NodeIx) {
        let outbound = core.net.link(node, peer).is_some_and(|l| l.outbound);
        // A reconnection replaces whatever we still believed about the old connection.
        self.peer_down(core, node, peer);
        let n = &mut self.nodes[node as usize];
        let state = PeerState {
            id: peer,
            outbound,
            ihaves_this_hb: 0,
            asked_this_hb: 0,
            behaviour: 0.0,
            score: 0.0,
            topics: PeerTopics::default(),
            dontwant: Vec::new(),
            retransmits: Vec::new(),
        };
        let graylist = self.cfg.score.graylist_threshold;
        match n.peer_ids.binary_search(&peer) {
            Ok(i) => {
                n.set_score(i, 0.0, graylist);
                n.peers[i] = state;
            }
            Err(i) => {
                n.peer_ids.insert(i, peer);
                n.peers.insert(i, state);
                n.graylisted += u32::from(0.0 < graylist);
            }
        }
    }

    fn peer_down<D>(&mut self, _core: &mut Core<Control, D>, node: NodeIx, peer: NodeIx) {
        let n = &mut self.nodes[node as usize];
        for t in &mut n.topics {
            t.mesh.retain(|&p| p != peer);
        }
        for f in &mut n.fanout {
            f.peers.retain(|&p| p != peer);
        }
        n.promises.retain(|p| p.peer != peer);
        if let Ok(i) = n.peer_ids.binary_search(&peer) {
            n.peer_ids.remove(i);
            let gone = n.peers.remove(i);
            n.graylisted -= u32::from(gone.score < self.cfg.score.graylist_threshold);
        }
    }

    fn publish<D>(&mut self, core: &mut Core<Control, D>, node: NodeIx, msg: MsgIx) {
        let now = core.now;
        let topic = core.messages.meta[msg as usize].topic;
        let publish_threshold = self.cfg.score.publish_threshold;
        let d = self.cfg.d as usize;
        let subscribed = self.nodes[node as usize].topic(topic).is_some();
        let topic_peers: Vec<NodeIx> = self.nodes[node as usize]
            .peers
            .iter()
            .map(|p| p.id)
            .filter(|&p| core.membership.is_member(p, topic))
            .collect();
        let targets: Vec<NodeIx> = if self.cfg.flood_publish {
            topic_peers
                .into_iter()
                .filter(|&p| self.score_of(node, p, now) >= publish_threshold)
                .collect()
        } else if subscribed {
            self.nodes[node as usize]
                .topic(topic)
                .map(|t| t.mesh.clone())
                .unwrap_or_default()
        } else {
            let existing = self.nodes[node as usize]
                .fanout
                .iter()
                .position(|f| f.topic == topic);
            match existing {
                Some(i) => {
                    let f = &mut self.nodes[node as usize].fanout[i];
                    f.last_pub = now;
                    f.peers.clone()
                }
                None => {
                    let mut cands: Vec<NodeIx> = topic_peers
                        .into_iter()
                        .filter(|&p| self.score_of(node, p, now) >= publish_threshold)
                        .collect();
                    crate::dist::choose_k(&mut core.rng, &mut cands, d);
                    cands.sort_unstable();
                    self.nodes[node as usize].fanout.push(FanoutState {
                        topic,
                        peers: cands.clone(),
                        last_pub: now,
                    });
                    cands
                }
            }
        };
        if let Some(w) = self.nodes[node as usize].mcache.front_mut() {
            w.push(msg);
        }
        for p in targets {
            self.send_data(core, node, p, msg);
        }
    }

    fn on_frame<D>(
        &mut self,
        core: &mut Core<Control, D>,
        node: NodeIx,
        from: NodeIx,
        frame: Frame<Control>,
    ) {
        debug_assert_eq!(
            self.nodes[node as usize].graylisted as usize,
            self.nodes[node as usize]
                .peers
                .iter()
                .filter(|p| p.score < self.cfg.score.graylist_threshold)
                .count(),
            "graylisted count out of date"
        );
        if self.cfg.score.enabled
            && self.nodes[node as usize].graylisted > 0
            && self.score_of(node, from, core.now) < self.cfg.score.graylist_threshold
        {
            return; // graylisted: every RPC from the peer is ignored
        }
        match frame {
            Frame::Data { msg, hops } => self.on_data(core, node, from, msg, hops),
            Frame::Control(Control::Graft { topic }) => self.on_graft(core, node, from, topic),
            Frame::Control(Control::Prune { topic }) => self.on_prune(node, from, topic, core.now),
            Frame::Control(Control::IHave { topic, ids }) => {
                self.on_ihave(core, node, from, topic, &ids)
            }
            Frame::Control(Control::IWant { ids }) => self.on_iwant(core, node, from, &ids),
            Frame::Control(Control::IDontWant { ids }) => {
                let tick = self.nodes[node as usize].ticks;
                if let Some(p) = self.nodes[node as usize].peer_mut(from) {
                    p.dontwant.extend(ids.iter().map(|&m| (m, tick)));
                }
            }
        }
    }

    fn on_verdict<D>(
        &mut self,
        core: &mut Core<Control, D>,
        node: NodeIx,
        msg: MsgIx,
        from: NodeIx,
        verdict: Verdict,
    ) {
        match verdict {
            Verdict::Accept => {
                if let Some(w) = self.nodes[node as usize].mcache.front_mut() {
                    w.push(msg);
                }
                self.forward(core, node, msg, from);
            }
            Verdict::Reject => {
                let topic = core.messages.meta[msg as usize].topic;
                if let Some(p) = self.nodes[node as usize].peer_mut(from) {
                    p.topic_mut(topic).invalid += 1.0;
                }
                self.refresh_score(node, from, core.now);
            }
            Verdict::Ignore => {}
        }
    }

    fn on_timer<D>(&mut self, core: &mut Core<Control, D>, node: NodeIx, timer: u32) {
        if timer == TIMER_HEARTBEAT {
            self.heartbeat(core, node);
            core.set_proto_timer(node, core.now.plus(self.heartbeat), TIMER_HEARTBEAT);
        }
    }

    fn prefetch(&self, node: NodeIx, from: NodeIx, stage: u8) {
        let Some(n) = self.nodes.get(node as usize) else {
            return;
        };
        if stage == 0 {
            let p = (n as *const GsNode).cast::<u8>();
            for off in (0..std::mem::size_of::<GsNode>()).step_by(64) {
                crate::prefetch(p.wrapping_add(off));
            }
        } else if let Ok(i) = n.peer_ids.binary_search(&from) {
            crate::prefetch((&raw const n.peers[i]).cast());
        }
    }

    fn stats(&self) -> ProtoStats {
        let mut s = self.stats.clone();
        let (mut sum, mut k) = (0usize, 0usize);
        for n in self.nodes.iter().filter(|n| n.online) {
            for t in &n.topics {
                sum += t.mesh.len();
                k += 1;
            }
        }
        s.mesh_degree_mean = if k == 0 {
            0.0
        } else {
            crate::metrics::round6(sum as f64 / k as f64)
        };
        s
    }
}
