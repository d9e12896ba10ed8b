//! Full-fidelity mode: one real [`qun_crdt::Replicator`] per node, driven the way `node/`'s
//! driver drives it (STYLE §5, §6; wiring table in the crate README).
//!
//! | simulator → app                      | replicator                                          |
//! |--------------------------------------|-----------------------------------------------------|
//! | `post` (a workload item)             | `edit(now, community, Edit::Post / React)`          |
//! | `on_gossip` (first copy)             | `handle(Input::Gossip)`; exactly one verdict back   |
//! | `on_direct(Request { reply, .. })`   | `handle(Input::SyncRequest { reply: ReplyId })`     |
//! | `on_direct(Response { reply, .. })`  | `handle(Input::SyncResponse)` (dropped if it timed out) |
//! | `peer_joined` / `peer_left`          | `PeerJoined` / `PeerLeft`, plus `SyncFailed` for requests pending to the peer |
//! | wake timer / request timeout         | `Tick` / `SyncFailed`                               |
//! | `node_down`, then `node_up(restart)` | the replicator is dropped; rebuilt from the node's store with `restore` |
//!
//! Outputs: `Publish` → [`Core::publish`] with the real bytes (message id = blake3 of the
//! bytes, as qun's gossipsub `message_id_fn`); `Verdict` → [`Core::verdict`]; `SyncSend` and
//! `SyncRespond` → [`Core::send_direct`] with an app-allocated reply id; `Persist` → the
//! node's store (kept for restarts, bytes counted); `Event` → metrics. After every call the
//! node's `poll_timeout()` becomes one app timer.
//!
//! Time: simulator µs map to `Timestamp::from_millis(EPOCH_MS + t / 1000)`, so content
//! windows and signatures carry realistic dates. Keys: `SecretIdentity::from_seed(blake3(
//! "qun-sim/key/v1" ‖ seed ‖ node))`. Changes are interned once per run (a node's store is a
//! list of indices into that table), so a thousand stores of the same history cost little.
//!
//! The application is split by concern. This file holds its state (every type below)
//! and maps the simulator's calls onto replicator inputs (the [`Application`] impl);
//! the others add `impl ReplicatorApp` blocks:
//!
//! | file             | concern                                                              |
//! |------------------|----------------------------------------------------------------------|
//! | `bootstrap.rs`   | seeded keys, each community's genesis, admissions or invitations; starting a node's replica (restore, create or join) and stopping it |
//! | `routing.rs`     | running the replicator's outputs (publish, verdicts, sync frames, persist, events) and its wake-ups |
//! | `store.rs`       | the per-node store: one table of every change, a store as indices into it |
//! | `workload.rs`    | workload items as posts, replies and reactions with random-word text  |
//! | `forgery.rs`     | an attacker's forged change: a post in the founder's name, signed by another key |
//! | `convergence.rs` | when every online member holds every change; heads compared at that instant and at the end |
//! | `report.rs`      | counters and the `full` section of `summary.json`                    |
//!
//! Those files import this one (and `forgery.rs` imports `workload.rs`'s text), never the
//! reverse, so the files form no import cycle.

mod bootstrap;
mod convergence;
mod forgery;
mod report;
mod routing;
mod store;
mod workload;

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use hdrhistogram::Histogram;
use qun_crdt::replicate::wire::WireChange;
use qun_crdt::test_utils::T0;
use qun_crdt::{
    AdmissionPolicy, CommunityGenesis, CommunityId, DocId, Hash, Input, MsgId, Output, PostId,
    Replicator, ReplyId,
};
use qun_identity::{SecretIdentity, Timestamp};

use super::Application;
use crate::ctx::Core;
use crate::dist::Dist;
use crate::error::Error;
use crate::gossip_model::Verdict;
use crate::metrics::{FullStats, MadeCounts, SyncCounts, VerdictCounts};
use crate::queue::Time;
use crate::scenario::{Scenario, Setup};
use crate::{MsgIx, NodeIx, TopicIx};

/// Wall-clock time of simulated second 0: 2023-11-14T22:13:20Z, the core tests' `T0`.
pub const EPOCH_MS: u64 = T0.as_millis();
/// App timer id of the replicator's wake-up; request timeouts use their reply id (≥ 1).
const WAKE: u64 = 0;

/// A request-response frame between two nodes (libp2p request-response with qun's sync
/// codec). `reply` correlates a response with its request, as libp2p's request ids do.
#[derive(Clone)]
pub enum SyncFrame {
    /// `SyncRequest` bytes.
    Request {
        /// Correlation id (the responder's `ReplyId`).
        reply: u64,
        /// Encoded request.
        bytes: Vec<u8>,
    },
    /// `SyncResponse` bytes.
    Response {
        /// The request's id.
        reply: u64,
        /// Encoded response.
        bytes: Vec<u8>,
    },
}

impl fmt::Debug for SyncFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncFrame::Request { reply, bytes } => {
                write!(f, "Request({reply}, <{}b>)", bytes.len())
            }
            SyncFrame::Response { reply, bytes } => {
                write!(f, "Response({reply}, <{}b>)", bytes.len())
            }
        }
    }
}

/// Run parameters, from the scenario.
struct Params {
    /// The run's seed (keys, nonces and replicator seeds derive from it).
    seed: u64,
    setup: Setup,
    policy: AdmissionPolicy,
    sync_interval_ms: u64,
    sync_timeout: Time,
    validation_ms: Dist,
}

/// One community of the run.
struct CommunityInfo {
    id: CommunityId,
    genesis: CommunityGenesis,
    genesis_bytes: Vec<u8>,
    founder: NodeIx,
    /// Changes every member starts from (`setup = "preadmitted"`), indices into the table.
    base: Vec<u32>,
    /// The founder's invitation for each member (`policy = "invite"`, join setup).
    invitations: BTreeMap<NodeIx, Vec<u8>>,
}

/// A change held by some store.
struct StoredChange {
    doc: DocId,
    change: WireChange,
    /// The gossip message that published it (none for the pre-admitted history).
    msg: Option<MsgIx>,
}

/// Every change of the run, once.
#[derive(Default)]
struct ChangeTable {
    entries: Vec<StoredChange>,
    index: HashMap<Hash, u32>,
}

/// What a node keeps of one of its communities.
#[derive(Default)]
struct Slot {
    /// The store holds the genesis.
    genesis: bool,
    /// The store's changes (indices into the table), in the order they were persisted.
    changes: Vec<u32>,
    /// Changes the running replica holds (0 while offline).
    held: u32,
    /// Admitted (join statistics).
    member: bool,
}

/// One simulated node.
#[derive(Default)]
struct NodeState {
    rep: Option<Replicator<NodeIx>>,
    /// One slot per community of the node, in `membership.topics_of` order.
    slots: Vec<Slot>,
    /// Our requests awaiting an answer: reply id → (peer, community).
    out: BTreeMap<u64, (NodeIx, CommunityId)>,
    /// Requests to us awaiting our answer: reply id → requester.
    inb: BTreeMap<u64, NodeIx>,
    /// Earliest wake-up timer scheduled and not fired yet.
    wake: Option<Time>,
    /// First start (join statistics).
    first_up: Option<Time>,
    /// Starts so far (seeds each replicator differently).
    starts: u32,
}

/// Convergence bookkeeping of one community.
#[derive(Default, Clone)]
struct Conv {
    /// Changes in the community (base history plus every local edit so far).
    total: u32,
    /// Online members.
    online: u32,
    /// Online members holding `total` changes.
    complete: u32,
    /// Time of the last change.
    last_change: Time,
    /// Changes made during the run.
    made: u32,
    /// First instant after the last change at which every online member held everything.
    converged: Option<Time>,
}

/// What the workload draws from, and what it remembers.
struct Workload {
    reply_fraction: f64,
    react_fraction: f64,
    message_bytes: Dist,
    /// Per community: its latest posts as (message, post), oldest first.
    recent: Vec<Vec<(MsgIx, PostId)>>,
}

/// Where the outputs being run came from.
#[derive(Clone, Copy, Default)]
struct Source {
    /// The peer whose input is being handled.
    from: Option<NodeIx>,
    /// The gossip message being validated.
    gossip: Option<MsgIx>,
}

/// Running counters.
struct Counters {
    made: MadeCounts,
    edit_errors: u64,
    accepted: u64,
    via_gossip: u64,
    via_sync: u64,
    latency_us: Histogram<u64>,
    rejected: BTreeMap<String, u64>,
    verdicts: VerdictCounts,
    sync: SyncCounts,
    gossip_payload_bytes: u64,
    persist_bytes: u64,
    restores: u64,
    restored_changes: u64,
    admitted: u64,
    join_times: Vec<f64>,
    heads_checks: u64,
    heads_mismatches: u64,
}

/// The full-fidelity application.
pub struct ReplicatorApp {
    params: Params,
    keys: Vec<SecretIdentity>,
    /// Signs forged changes: a key no node holds.
    forger: SecretIdentity,
    communities: Vec<CommunityInfo>,
    topic_of: BTreeMap<CommunityId, TopicIx>,
    table: ChangeTable,
    nodes: Vec<NodeState>,
    conv: Vec<Conv>,
    workload: Workload,
    /// Last reply id handed out (ids start at 1: 0 is [`WAKE`]).
    next_reply: u64,
    /// Reused output buffer.
    buf: Vec<Output<NodeIx>>,
    /// Communities whose convergence to check once the current outputs are all run (a node's
    /// outputs can hold a change it made right after the one that completed its set).
    recheck: Vec<TopicIx>,
    stats: Counters,
}

/// The replicator's clock at simulated time `now`.
fn now_ts(now: Time) -> Timestamp {
    Timestamp::from_millis(EPOCH_MS + now.as_millis())
}

/// Simulated time of a replicator timestamp (0 for anything before the start).
fn sim_time(t: Timestamp) -> Time {
    Time::from_millis(t.as_millis().saturating_sub(EPOCH_MS))
}

impl ReplicatorApp {
    fn slot_ix<C>(core: &Core<C, SyncFrame>, node: NodeIx, topic: TopicIx) -> Option<usize> {
        core.membership.topics_of[node as usize]
            .binary_search(&topic)
            .ok()
    }

    fn topic(&self, c: &CommunityId) -> Option<TopicIx> {
        self.topic_of.get(c).copied()
    }
}

/// Simulator → replicator: each call becomes replicator inputs (the first table above).
impl Application for ReplicatorApp {
    type Direct = SyncFrame;

    fn new<C>(scn: &Scenario, seed: u64, core: &Core<C, SyncFrame>) -> Result<Self, Error> {
        Self::bootstrap(scn, seed, core)
    }

    fn name(&self) -> &'static str {
        "full"
    }

    fn node_up<C>(&mut self, core: &mut Core<C, SyncFrame>, node: NodeIx, restart: bool) {
        self.start_node(core, node, restart);
    }

    fn node_down<C>(&mut self, core: &mut Core<C, SyncFrame>, node: NodeIx, _crashed: bool) {
        self.stop_node(core, node);
    }

    fn peer_joined<C>(
        &mut self,
        core: &mut Core<C, SyncFrame>,
        node: NodeIx,
        peer: NodeIx,
        topic: TopicIx,
    ) {
        let community = self.communities[topic as usize].id;
        self.handle(
            core,
            node,
            Input::PeerJoined { peer, community },
            Source::default(),
        );
    }

    fn peer_left<C>(&mut self, core: &mut Core<C, SyncFrame>, node: NodeIx, peer: NodeIx) {
        self.handle(core, node, Input::PeerLeft { peer }, Source::default());
        let pending: Vec<u64> = self.nodes[node as usize]
            .out
            .iter()
            .filter(|(_, (p, _))| *p == peer)
            .map(|(r, _)| *r)
            .collect();
        for reply in pending {
            self.fail_pending(core, node, reply);
        }
    }

    fn post<C>(&mut self, core: &mut Core<C, SyncFrame>, node: NodeIx, topic: TopicIx) {
        self.make_post(core, node, topic);
    }

    fn forge<C>(&mut self, core: &mut Core<C, SyncFrame>, node: NodeIx, topic: TopicIx) {
        self.publish_forgery(core, node, topic);
    }

    fn on_gossip<C>(
        &mut self,
        core: &mut Core<C, SyncFrame>,
        node: NodeIx,
        from: NodeIx,
        msg: MsgIx,
    ) {
        let meta = &core.messages.meta[msg as usize];
        let (id, bytes) = match &meta.payload {
            Some(p) => (MsgId(meta.id.to_vec()), p.to_vec()),
            None => (MsgId(meta.id.to_vec()), Vec::new()),
        };
        let verdicts = self.handle(
            core,
            node,
            Input::Gossip { from, id, bytes },
            Source {
                from: Some(from),
                gossip: Some(msg),
            },
        );
        // The contract is exactly one verdict per message; never leave the model waiting.
        debug_assert_eq!(
            verdicts, 1,
            "node {node}: {verdicts} verdicts for one message"
        );
        if verdicts == 0 {
            self.give_verdict(core, node, msg, from, Verdict::Ignore);
        }
    }

    fn on_direct<C>(
        &mut self,
        core: &mut Core<C, SyncFrame>,
        node: NodeIx,
        from: NodeIx,
        m: SyncFrame,
    ) {
        let src = Source {
            from: Some(from),
            gossip: None,
        };
        match m {
            SyncFrame::Request { reply, bytes } => {
                if self.nodes[node as usize].rep.is_none() {
                    return;
                }
                self.nodes[node as usize].inb.insert(reply, from);
                self.handle(
                    core,
                    node,
                    Input::SyncRequest {
                        from,
                        device: Some(self.keys[from as usize].device_id()),
                        reply: ReplyId(reply),
                        bytes,
                    },
                    src,
                );
            }
            SyncFrame::Response { reply, bytes } => {
                // After a timeout the request has failed already: the answer is dropped.
                if self.nodes[node as usize].out.remove(&reply).is_none() {
                    return;
                }
                self.handle(core, node, Input::SyncResponse { from, bytes }, src);
            }
        }
    }

    fn on_timer<C>(&mut self, core: &mut Core<C, SyncFrame>, node: NodeIx, timer: u64) {
        if timer != WAKE {
            self.fail_pending(core, node, timer);
            return;
        }
        let n = &mut self.nodes[node as usize];
        if n.wake.is_some_and(|w| w <= core.now) {
            n.wake = None;
        }
        let due = n
            .rep
            .as_ref()
            .and_then(Replicator::poll_timeout)
            .is_some_and(|t| t <= now_ts(core.now));
        if due {
            self.handle(core, node, Input::Tick, Source::default());
        } else {
            self.schedule_wake(core, node);
        }
    }

    fn report<C>(&mut self, core: &mut Core<C, SyncFrame>) -> Option<FullStats> {
        Some(self.full_stats(core))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_time_maps_onto_wall_clock_milliseconds() {
        let t = Time::from_millis(1_234).plus(Time(999));
        assert_eq!(now_ts(t).as_millis(), EPOCH_MS + 1_234);
        assert_eq!(sim_time(now_ts(t)), Time::from_millis(1_234));
    }
}
