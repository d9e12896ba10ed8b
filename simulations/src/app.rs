//! The application layer: what a node does with messages, behind [`Application`].
//!
//! The contract mirrors how `node/`'s driver wires `qun_crdt::Replicator` to gossipsub
//! (STYLE §3, §6): the model hands every first copy to [`Application::on_gossip`]; the
//! application answers exactly once per copy with [`Core::verdict`] or
//! [`Core::verdict_at`] (`Accept` lets the model forward, `Reject` costs the sender P₄);
//! posts go out through [`Core::publish`]; catch-up traffic between two peers goes through
//! [`Core::send_direct`] and arrives as [`Application::on_direct`]; timers through
//! [`Core::set_app_timer`]. A full-fidelity `ReplicatorApp` maps these one to one onto
//! `Replicator::handle(now, Input)` and its outputs (see the crate README).
//!
//! [`replicator::ReplicatorApp`] is the full-fidelity application: one real
//! `qun_crdt::Replicator` per node.
//!
//! [`LightApp`] is the messages-only application for scale: it stores which messages each
//! node holds (one bit per message), rejects forged messages, and optionally reconciles
//! message sets with peers on (re)connection and periodically — a stand-in for qun's
//! have/need sync, sized as a Bloom-filter summary plus the missing messages.

use std::fmt::Debug;

pub mod replicator;

use crate::ctx::Core;
use crate::dist::{Dist, below};
use crate::error::Error;
use crate::gossip_model::{DATA_OVERHEAD_BYTES, Verdict};
use crate::metrics::FullStats;
use crate::queue::Time;
use crate::scenario::Scenario;
use crate::{MsgIx, NodeIx, TopicIx};

/// Fixed part of a sync request (community id, heads), bytes.
const SYNC_REQUEST_BASE_BYTES: u32 = 96;
/// Bloom-filter bits per message summarised in a sync request (≈1 % false positives).
const SYNC_BLOOM_BITS_PER_MESSAGE: u32 = 10;
/// Fixed part of a sync response, bytes.
const SYNC_RESPONSE_BASE_BYTES: u32 = 64;
/// Timer id of the periodic catch-up.
const TIMER_CATCH_UP: u64 = 1;

/// The application run on every node.
pub trait Application: Sized {
    /// Messages exchanged directly between two nodes (sync requests and responses).
    type Direct: Debug;

    /// State for the scenario's nodes, seeded from the run's `seed` (membership and
    /// attackers are in `core` already; no node is online yet).
    fn new<C>(scn: &Scenario, seed: u64, core: &Core<C, Self::Direct>) -> Result<Self, Error>;
    /// Mode name for output.
    fn name(&self) -> &'static str;
    /// `node` starts; `restart` when it ran before (its store survived).
    fn node_up<C>(&mut self, core: &mut Core<C, Self::Direct>, node: NodeIx, restart: bool);
    /// `node` stops (crash or graceful leave); volatile state is gone, the store stays.
    fn node_down<C>(&mut self, core: &mut Core<C, Self::Direct>, node: NodeIx, crashed: bool);
    /// `peer`, a member of `topic`, is now connected to `node` (libp2p `Subscribed`).
    fn peer_joined<C>(
        &mut self,
        core: &mut Core<C, Self::Direct>,
        node: NodeIx,
        peer: NodeIx,
        topic: TopicIx,
    );
    /// The connection to `peer` is gone.
    fn peer_left<C>(&mut self, core: &mut Core<C, Self::Direct>, node: NodeIx, peer: NodeIx);
    /// The workload asks `node` to post in `topic`.
    fn post<C>(&mut self, core: &mut Core<C, Self::Direct>, node: NodeIx, topic: TopicIx);
    /// An attacker at `node` publishes an invalid message in `topic`.
    fn forge<C>(&mut self, core: &mut Core<C, Self::Direct>, node: NodeIx, topic: TopicIx);
    /// First copy of `msg` at `node`, from `from`: answer with exactly one verdict.
    fn on_gossip<C>(
        &mut self,
        core: &mut Core<C, Self::Direct>,
        node: NodeIx,
        from: NodeIx,
        msg: MsgIx,
    );
    /// A direct message from `from`.
    fn on_direct<C>(
        &mut self,
        core: &mut Core<C, Self::Direct>,
        node: NodeIx,
        from: NodeIx,
        m: Self::Direct,
    );
    /// A timer set with `Core::set_app_timer` fired.
    fn on_timer<C>(&mut self, core: &mut Core<C, Self::Direct>, node: NodeIx, timer: u64);
    /// The run is over (`core.now` is its end): what goes into `summary.json` under `full`.
    fn report<C>(&mut self, _core: &mut Core<C, Self::Direct>) -> Option<FullStats> {
        None
    }
}

/// Light-mode catch-up messages.
#[derive(Debug, Clone)]
pub enum LightSync {
    /// "Here is a summary of what I hold in `topic`; send me what I lack."
    Request {
        /// Community.
        topic: TopicIx,
    },
    /// The messages the requester lacked.
    Response {
        /// Community.
        topic: TopicIx,
        /// Messages sent.
        msgs: Vec<MsgIx>,
    },
}

/// Messages-only application.
pub struct LightApp {
    message_bytes: Dist,
    validation_ms: Dist,
    catch_up: bool,
    catch_up_interval: Time,
}

impl LightApp {
    fn request<C>(
        &self,
        core: &mut Core<C, LightSync>,
        node: NodeIx,
        peer: NodeIx,
        topic: TopicIx,
    ) {
        let held = core.messages.by_topic[topic as usize]
            .iter()
            .filter(|&&m| core.messages.has(m, node))
            .count() as u32;
        let bytes = SYNC_REQUEST_BASE_BYTES + (held * SYNC_BLOOM_BITS_PER_MESSAGE).div_ceil(8);
        core.send_direct(node, peer, LightSync::Request { topic }, bytes, false);
    }
}

impl Application for LightApp {
    type Direct = LightSync;

    fn new<C>(scn: &Scenario, _seed: u64, _core: &Core<C, LightSync>) -> Result<Self, Error> {
        let w = &scn.raw().workload;
        Ok(LightApp {
            message_bytes: scn.message_bytes.clone(),
            validation_ms: scn.validation_ms.clone(),
            catch_up: w.catch_up,
            catch_up_interval: Time::from_secs_f64(w.catch_up_interval_s),
        })
    }

    fn name(&self) -> &'static str {
        "light"
    }

    fn node_up<C>(&mut self, core: &mut Core<C, LightSync>, node: NodeIx, _restart: bool) {
        if self.catch_up && self.catch_up_interval > Time::ZERO {
            let first =
                Time((self.catch_up_interval.0 as f64 * crate::dist::unit(&mut core.rng)) as u64);
            core.set_app_timer(node, core.now.plus(first), TIMER_CATCH_UP);
        }
    }

    fn node_down<C>(&mut self, _core: &mut Core<C, LightSync>, _node: NodeIx, _crashed: bool) {}

    fn peer_joined<C>(
        &mut self,
        core: &mut Core<C, LightSync>,
        node: NodeIx,
        peer: NodeIx,
        topic: TopicIx,
    ) {
        if self.catch_up {
            self.request(core, node, peer, topic);
        }
    }

    fn peer_left<C>(&mut self, _core: &mut Core<C, LightSync>, _node: NodeIx, _peer: NodeIx) {}

    fn post<C>(&mut self, core: &mut Core<C, LightSync>, node: NodeIx, topic: TopicIx) {
        let bytes = self.message_bytes.sample(&mut core.rng).round().max(1.0) as u32;
        core.publish(node, topic, bytes, false, None);
    }

    fn forge<C>(&mut self, core: &mut Core<C, LightSync>, node: NodeIx, topic: TopicIx) {
        let bytes = self.message_bytes.sample(&mut core.rng).round().max(1.0) as u32;
        core.publish(node, topic, bytes, true, None);
    }

    fn on_gossip<C>(
        &mut self,
        core: &mut Core<C, LightSync>,
        node: NodeIx,
        from: NodeIx,
        msg: MsgIx,
    ) {
        let verdict = if core.messages.meta[msg as usize].forged {
            Verdict::Reject
        } else {
            Verdict::Accept
        };
        match self.validation_ms {
            Dist::Const { value: 0.0 } => core.verdict(node, msg, from, verdict),
            ref d => {
                let at = core
                    .now
                    .plus(Time::from_millis_f64(d.sample(&mut core.rng)));
                core.verdict_at(at, node, msg, from, verdict);
            }
        }
    }

    fn on_direct<C>(
        &mut self,
        core: &mut Core<C, LightSync>,
        node: NodeIx,
        from: NodeIx,
        m: LightSync,
    ) {
        match m {
            LightSync::Request { topic } => {
                // Simulation shortcut: the requester's summary is exact, so the responder
                // sends exactly the honest messages it holds and the requester lacks.
                let msgs: Vec<MsgIx> = core.messages.by_topic[topic as usize]
                    .iter()
                    .copied()
                    .filter(|&m| {
                        !core.messages.meta[m as usize].forged
                            && core.messages.has(m, node)
                            && !core.messages.has(m, from)
                    })
                    .collect();
                let bytes = SYNC_RESPONSE_BASE_BYTES
                    + msgs
                        .iter()
                        .map(|&m| core.messages.meta[m as usize].bytes + DATA_OVERHEAD_BYTES)
                        .sum::<u32>();
                core.send_direct(node, from, LightSync::Response { topic, msgs }, bytes, true);
            }
            LightSync::Response { msgs, .. } => {
                for m in msgs {
                    core.receive_via_sync(node, from, m);
                }
            }
        }
    }

    fn on_timer<C>(&mut self, core: &mut Core<C, LightSync>, node: NodeIx, timer: u64) {
        if timer != TIMER_CATCH_UP {
            return;
        }
        let topics = core.membership.topics_of[node as usize].clone();
        let up: Vec<NodeIx> = core
            .net
            .links(node)
            .iter()
            .filter(|l| l.up)
            .map(|l| l.peer)
            .collect();
        if !topics.is_empty() && !up.is_empty() {
            let topic = topics[below(&mut core.rng, topics.len())];
            let members: Vec<NodeIx> = up
                .into_iter()
                .filter(|&p| core.membership.is_member(p, topic))
                .collect();
            if !members.is_empty() {
                let peer = members[below(&mut core.rng, members.len())];
                self.request(core, node, peer, topic);
            }
        }
        core.set_app_timer(node, core.now.plus(self.catch_up_interval), TIMER_CATCH_UP);
    }
}
