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

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use hdrhistogram::Histogram;
use qun_crdt::replicate::wire::{self, GossipMsg, WireChange};
use qun_crdt::{
    Action, AdmissionPolicy, ChannelId, Community, CommunityGenesis, CommunityId, Config, DocId,
    Edit, Event, Genesis, Hash, Input, Limits, MemberStatus, MsgId, Origin, Output, Persist,
    PostId, Replicator, ReplyId,
};
use qun_identity::{Invitation, MemberId, SecretIdentity, Signed, Timestamp};

use super::Application;
use crate::dist::{Dist, below, unit};
use crate::error::Error;
use crate::gossip_model::Verdict;
use crate::metrics::{
    FullStats, JoinStats, MAX_LATENCY_US, MadeCounts, Percentiles, StateConvergence, SyncCounts,
    VerdictCounts, round6,
};
use crate::queue::Time;
use crate::scenario::{Scenario, Setup};
use crate::world::Core;
use crate::{MsgIx, NodeIx, TopicIx};

/// Wall-clock time of simulated second 0: 2023-11-14T22:13:20Z (as `qun_crdt::test_utils::T0`).
pub const EPOCH_MS: u64 = 1_700_000_000_000;
/// Genesis and pre-admission changes are dated this long before the start.
const HISTORY_BEFORE_MS: u64 = 60_000;
/// App timer id of the replicator's wake-up; request timeouts use their reply id (≥ 1).
const WAKE: u64 = 0;
/// Replies and reactions pick their target among this many latest posts of the community.
const RECENT_POSTS: usize = 32;
/// Reactions drawn by the workload.
const EMOJI: [&str; 4] = ["👍", "❤️", "🎉", "👀"];
/// Words post texts are made of (random words: Automerge compresses changes, so filler
/// text would understate sizes).
const WORDS: [&str; 32] = [
    "community",
    "garden",
    "market",
    "tomorrow",
    "repair",
    "bicycle",
    "meeting",
    "thanks",
    "question",
    "anyone",
    "offer",
    "request",
    "library",
    "weekend",
    "share",
    "fund",
    "build",
    "solar",
    "bread",
    "class",
    "music",
    "walk",
    "river",
    "school",
    "tools",
    "kitchen",
    "idea",
    "vote",
    "plan",
    "help",
    "open",
    "news",
];
/// Significant figures of the acceptance-latency histogram.
const HDR_SIGFIG: u8 = 3;

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

/// One community of the run.
struct CommunityInfo {
    id: CommunityId,
    genesis: CommunityGenesis,
    genesis_bytes: Vec<u8>,
    founder: NodeIx,
    /// Changes every member starts from (`setup = "preadmitted"`), indices into the table.
    base: Vec<u32>,
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

impl ChangeTable {
    fn intern(&mut self, hash: Hash, doc: DocId, change: WireChange) -> u32 {
        if let Some(&i) = self.index.get(&hash) {
            return i;
        }
        let i = self.entries.len() as u32;
        self.entries.push(StoredChange {
            doc,
            change,
            msg: None,
        });
        self.index.insert(hash, i);
        i
    }

    fn msg_of(&self, hash: &Hash) -> Option<MsgIx> {
        self.index
            .get(hash)
            .and_then(|&i| self.entries[i as usize].msg)
    }
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

/// Where the outputs being run came from.
#[derive(Clone, Copy, Default)]
struct Ctx {
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
    seed: u64,
    setup: Setup,
    policy: AdmissionPolicy,
    sync_interval_ms: u64,
    sync_timeout: Time,
    reply_fraction: f64,
    react_fraction: f64,
    message_bytes: Dist,
    validation_ms: Dist,
    keys: Vec<SecretIdentity>,
    /// Signs forged changes: a key no node holds.
    forger: SecretIdentity,
    communities: Vec<CommunityInfo>,
    topic_of: BTreeMap<CommunityId, TopicIx>,
    /// Per community: founder's invitation for each member (`policy = "invite"`, join setup).
    invitations: Vec<BTreeMap<NodeIx, Vec<u8>>>,
    table: ChangeTable,
    nodes: Vec<NodeState>,
    conv: Vec<Conv>,
    recent: Vec<Vec<(MsgIx, PostId)>>,
    next_reply: u64,
    buf: Vec<Output<NodeIx>>,
    stats: Counters,
}

fn derive(tag: &str, seed: u64, parts: &[u64]) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(tag.as_bytes());
    h.update(&seed.to_le_bytes());
    for p in parts {
        h.update(&p.to_le_bytes());
    }
    *h.finalize().as_bytes()
}

fn derive_u64(tag: &str, seed: u64, parts: &[u64]) -> u64 {
    let b = derive(tag, seed, parts);
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

/// The variant name of an error, for counting rejections by kind.
fn error_kind(e: &qun_crdt::Error) -> String {
    let d = format!("{e:?}");
    d.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

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

fn now_ts(now: Time) -> Timestamp {
    Timestamp::from_millis(EPOCH_MS + now.as_millis())
}

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

    /// Builds the genesis, the founder's admissions or invitations of community `t`.
    fn build_community(
        &mut self,
        t: TopicIx,
        members: &[NodeIx],
        window_ms: u64,
    ) -> Result<(), Error> {
        let founder = members[0];
        let fkey = self.keys[founder as usize].clone();
        let created = Timestamp::from_millis(EPOCH_MS - HISTORY_BEFORE_MS);
        let nonce = derive("qun-sim/genesis-nonce/v1", self.seed, &[t as u64]);
        let mut n16 = [0u8; 16];
        n16.copy_from_slice(&nonce[..16]);
        let g = Genesis {
            name: format!("sim community {t}"),
            description: "simulated by qun-sim".into(),
            founders: vec![fkey.member_id()],
            policy: self.policy.clone(),
            window_ms,
            created,
            nonce: n16,
        };
        let genesis = CommunityGenesis::new(Signed::sign(&fkey, g).map_err(qun_crdt::Error::from)?);
        let id = genesis.id();
        let mut base = Vec::new();
        let mut invites = BTreeMap::new();
        match self.setup {
            Setup::Preadmitted => {
                let mut c = Community::new(genesis.clone(), fkey.device_id(), Limits::default());
                for (i, &m) in members.iter().enumerate().skip(1) {
                    let at = created.plus_millis(1 + i as u64);
                    let member = self.keys[m as usize].member_id();
                    let lc = c.edit(&fkey, at, Edit::Govern(Action::Admit { member }))?;
                    let wc = WireChange {
                        bytes: lc.bytes,
                        sig: lc.sig,
                    };
                    base.push(self.table.intern(lc.accepted.hash, lc.accepted.doc, wc));
                }
            }
            Setup::Join => {
                if self.policy == AdmissionPolicy::Invite {
                    for &m in &members[1..] {
                        let nonce =
                            derive("qun-sim/invite-nonce/v1", self.seed, &[t as u64, m as u64]);
                        let mut n16 = [0u8; 16];
                        n16.copy_from_slice(&nonce[..16]);
                        let inv = Invitation {
                            community: id.0,
                            inviter: fkey.member_id(),
                            invitee: Some(self.keys[m as usize].member_id()),
                            nonce: n16,
                            key: None,
                            created,
                            expires: None,
                            note: String::new(),
                        };
                        let s = Signed::sign(&fkey, inv).map_err(qun_crdt::Error::from)?;
                        invites.insert(m, s.to_bytes());
                    }
                }
            }
        }
        self.conv[t as usize].total = base.len() as u32;
        self.topic_of.insert(id, t);
        self.invitations.push(invites);
        self.communities.push(CommunityInfo {
            id,
            genesis_bytes: genesis.to_bytes(),
            genesis,
            founder,
            base,
        });
        Ok(())
    }

    fn new_replicator(&mut self, node: NodeIx) -> Option<Replicator<NodeIx>> {
        let n = &mut self.nodes[node as usize];
        n.starts += 1;
        let key = self.keys[node as usize].clone();
        let member: MemberId = key.member_id();
        let config = Config {
            limits: Limits::default(),
            sync_interval_ms: self.sync_interval_ms,
            sync_budget_bytes: qun_crdt::replicate::DEFAULT_SYNC_BUDGET_BYTES,
            seed: derive_u64(
                "qun-sim/replicator-seed/v1",
                self.seed,
                &[node as u64, n.starts as u64],
            ),
            // One node per thread: runs with different seeds go in parallel instead.
            verify_threads: 1,
        };
        Replicator::new(key, member, None, config).ok()
    }

    /// Runs the node's pending outputs; returns how many verdicts there were.
    fn run_outputs<C>(&mut self, core: &mut Core<C, SyncFrame>, node: NodeIx, ctx: Ctx) -> u32 {
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
                    if let Some(msg) = ctx.gossip {
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
                    core.set_app_timer(node, core.now.plus(self.sync_timeout), reply);
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
                Output::Event(e) => self.event(core, node, ctx, e, &mut published),
            }
        }
        self.buf = outs;
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

    fn give_verdict<C>(
        &mut self,
        core: &mut Core<C, SyncFrame>,
        node: NodeIx,
        msg: MsgIx,
        from: NodeIx,
        v: Verdict,
    ) {
        match self.validation_ms {
            Dist::Const { value: 0.0 } => core.verdict(node, msg, from, v),
            ref d => {
                let at = core
                    .now
                    .plus(Time::from_millis_f64(d.sample(&mut core.rng)));
                core.verdict_at(at, node, msg, from, v);
            }
        }
    }

    fn persist<C>(&mut self, core: &Core<C, SyncFrame>, node: NodeIx, p: Persist) {
        let (community, genesis) = match &p {
            Persist::Genesis { community, bytes } => {
                self.stats.persist_bytes += bytes.len() as u64;
                (*community, true)
            }
            Persist::Changes { community, .. } => (*community, false),
        };
        let Some(t) = self.topic(&community) else {
            return;
        };
        let Some(s) = Self::slot_ix(core, node, t) else {
            return;
        };
        if genesis {
            self.nodes[node as usize].slots[s].genesis = true;
            return;
        }
        if let Persist::Changes { changes, .. } = p {
            for (doc, hash, wc) in changes {
                self.stats.persist_bytes += (wc.bytes.len() + wc.sig.len()) as u64;
                let i = self.table.intern(hash, doc, wc);
                self.nodes[node as usize].slots[s].changes.push(i);
            }
        }
    }

    fn event<C>(
        &mut self,
        core: &mut Core<C, SyncFrame>,
        node: NodeIx,
        ctx: Ctx,
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
                    let cv = &mut self.conv[t as usize];
                    cv.total += 1;
                    cv.made += 1;
                    cv.last_change = core.now;
                    cv.converged = None;
                    cv.complete = 0;
                    if change.action.is_governance() {
                        self.stats.made.governance += 1;
                    }
                    if let (Some(&i), Some(msg)) =
                        (self.table.index.get(&change.hash), published.take())
                    {
                        self.table.entries[i as usize].msg = Some(msg);
                    }
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
                        && let Some(from) = ctx.from
                    {
                        core.receive_via_sync(node, from, msg);
                    }
                }
                self.add_held(core, node, t, 1);
            }
            Event::Rejected { error, .. } => {
                *self.stats.rejected.entry(error_kind(&error)).or_default() += 1;
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

    /// `node` holds `by` more changes of community `t`.
    fn add_held<C>(&mut self, core: &mut Core<C, SyncFrame>, node: NodeIx, t: TopicIx, by: u32) {
        let Some(s) = Self::slot_ix(core, node, t) else {
            return;
        };
        // Attackers are not honest members: honest peers graylist them, so they fall behind.
        let counted = core.is_online(node) && !core.attacker[node as usize];
        let cv = &mut self.conv[t as usize];
        let slot = &mut self.nodes[node as usize].slots[s];
        let was = slot.held == cv.total;
        slot.held += by;
        let is = slot.held == cv.total;
        if counted && was != is {
            if is {
                cv.complete += 1;
            } else {
                cv.complete -= 1;
            }
        }
        if is {
            self.check_converged(core, t);
        }
    }

    /// Records the first instant, after the last change, at which every online member of
    /// `t` holds every change; confirms it by comparing heads.
    fn check_converged<C>(&mut self, core: &Core<C, SyncFrame>, t: TopicIx) {
        let cv = &self.conv[t as usize];
        if cv.online == 0 || cv.complete != cv.online || cv.converged.is_some() {
            return;
        }
        self.conv[t as usize].converged = Some(core.now);
        self.stats.heads_checks += 1;
        let (_, divergent) = self.compare_heads(core, t);
        if divergent > 0 {
            self.stats.heads_mismatches += 1;
        }
    }

    /// Compares the heads of every document at every online member of `t` with those of a
    /// member holding every change (or the first online member): `(compared, divergent)`.
    fn compare_heads<C>(&mut self, core: &Core<C, SyncFrame>, t: TopicIx) -> (u64, u64) {
        let id = self.communities[t as usize].id;
        let total = self.conv[t as usize].total;
        let online: Vec<NodeIx> = core.membership.members[t as usize]
            .iter()
            .copied()
            .filter(|&m| core.is_online(m) && !core.attacker[m as usize])
            .collect();
        let reference = online
            .iter()
            .copied()
            .find(|&m| {
                Self::slot_ix(core, m, t)
                    .is_some_and(|s| self.nodes[m as usize].slots[s].held == total)
            })
            .or_else(|| online.first().copied());
        let Some(r) = reference else {
            return (0, 0);
        };
        let want = self.heads_of(r, &id);
        let mut divergent = 0;
        for &m in &online {
            if m != r && self.heads_of(m, &id) != want {
                divergent += 1;
            }
        }
        (online.len() as u64, divergent)
    }

    fn heads_of(&mut self, node: NodeIx, id: &CommunityId) -> Option<Vec<(DocId, Vec<Hash>)>> {
        let mut c = self.nodes[node as usize].rep.as_mut()?.community(id)?;
        Some(
            c.docs()
                .into_iter()
                .map(|d| {
                    let h = c.heads(&d).unwrap_or_default();
                    (d, h)
                })
                .collect(),
        )
    }

    fn schedule_wake<C>(&mut self, core: &mut Core<C, SyncFrame>, node: NodeIx) {
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

    fn handle<C>(
        &mut self,
        core: &mut Core<C, SyncFrame>,
        node: NodeIx,
        input: Input<NodeIx>,
        ctx: Ctx,
    ) -> u32 {
        let now = now_ts(core.now);
        match self.nodes[node as usize].rep.as_mut() {
            Some(rep) => rep.handle(now, input),
            None => return 0,
        }
        self.run_outputs(core, node, ctx)
    }

    fn fail_pending<C>(&mut self, core: &mut Core<C, SyncFrame>, node: NodeIx, reply: u64) {
        if let Some((peer, community)) = self.nodes[node as usize].out.remove(&reply) {
            self.stats.sync.failed += 1;
            self.handle(
                core,
                node,
                Input::SyncFailed { peer, community },
                Ctx::default(),
            );
        }
    }

    /// Random words, about `len` bytes.
    fn text<C>(core: &mut Core<C, SyncFrame>, len: usize) -> String {
        let mut s = String::with_capacity(len + 16);
        while s.len() < len {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(WORDS[below(&mut core.rng, WORDS.len())]);
        }
        s
    }

    /// A post in the founder's name, signed by a key that is not the founder's.
    fn forged_bytes(&self, now: Timestamp, t: TopicIx, text: String) -> qun_crdt::Result<Vec<u8>> {
        let info = &self.communities[t as usize];
        let fkey = &self.keys[info.founder as usize];
        let mut scratch = Community::new(info.genesis.clone(), fkey.device_id(), Limits::default());
        let lc = scratch.edit(
            fkey,
            now,
            Edit::Post {
                channel: ChannelId::general(),
                text,
                reply_to: None,
                attachments: Vec::new(),
            },
        )?;
        let sig = self.forger.sign_raw(&qun_crdt::signing_message(
            &info.id,
            &lc.accepted.doc,
            &lc.accepted.hash,
        ));
        Ok(wire::encode(&GossipMsg {
            community: info.id,
            doc: lc.accepted.doc,
            changes: vec![WireChange {
                bytes: lc.bytes,
                sig,
            }],
        }))
    }
}

impl Application for ReplicatorApp {
    type Direct = SyncFrame;

    fn new<C>(scn: &Scenario, seed: u64, core: &Core<C, SyncFrame>) -> Result<Self, Error> {
        let raw = scn.raw();
        let f = &raw.full;
        let n = scn.nodes() as usize;
        let policy: AdmissionPolicy = f.policy.parse()?;
        let keys: Vec<SecretIdentity> = (0..n as u64)
            .map(|v| SecretIdentity::from_seed(&derive("qun-sim/key/v1", seed, &[v])))
            .collect();
        let topics = core.membership.members.len();
        let hist = Histogram::new_with_bounds(1, MAX_LATENCY_US, HDR_SIGFIG).unwrap_or_else(|_| {
            // The bounds are constants that hdrhistogram accepts; keep a usable fallback.
            Histogram::new(HDR_SIGFIG).unwrap_or_else(|_| unreachable!("sigfig 3 is valid"))
        });
        let mut app = ReplicatorApp {
            seed,
            setup: f.setup,
            policy,
            sync_interval_ms: Time::from_secs_f64(f.sync_interval_s).as_millis().max(1),
            sync_timeout: Time::from_secs_f64(f.sync_timeout_s),
            reply_fraction: raw.workload.reply_fraction,
            react_fraction: raw.workload.react_fraction,
            message_bytes: scn.message_bytes.clone(),
            validation_ms: scn.validation_ms.clone(),
            keys,
            forger: SecretIdentity::from_seed(&derive("qun-sim/forger/v1", seed, &[])),
            communities: Vec::with_capacity(topics),
            topic_of: BTreeMap::new(),
            invitations: Vec::with_capacity(topics),
            table: ChangeTable::default(),
            nodes: (0..n).map(|_| NodeState::default()).collect(),
            conv: vec![Conv::default(); topics],
            recent: vec![Vec::new(); topics],
            next_reply: 0,
            buf: Vec::new(),
            stats: Counters {
                made: MadeCounts::default(),
                edit_errors: 0,
                accepted: 0,
                via_gossip: 0,
                via_sync: 0,
                latency_us: hist,
                rejected: BTreeMap::new(),
                verdicts: VerdictCounts::default(),
                sync: SyncCounts::default(),
                gossip_payload_bytes: 0,
                persist_bytes: 0,
                restores: 0,
                restored_changes: 0,
                admitted: 0,
                join_times: Vec::new(),
                heads_checks: 0,
                heads_mismatches: 0,
            },
        };
        let window_ms = (f.window_s * 1000.0).round() as u64;
        for (t, members) in core.membership.members.iter().enumerate() {
            app.build_community(t as TopicIx, members, window_ms)?;
        }
        for (v, topics) in core.membership.topics_of.iter().enumerate() {
            app.nodes[v].slots = topics.iter().map(|_| Slot::default()).collect();
        }
        Ok(app)
    }

    fn name(&self) -> &'static str {
        "full"
    }

    fn node_up<C>(&mut self, core: &mut Core<C, SyncFrame>, node: NodeIx, restart: bool) {
        let v = node as usize;
        let now = now_ts(core.now);
        let Some(mut rep) = self.new_replicator(node) else {
            return;
        };
        if self.nodes[v].first_up.is_none() {
            self.nodes[v].first_up = Some(core.now);
        }
        if restart {
            self.stats.restores += 1;
        }
        let topics = core.membership.topics_of[v].clone();
        for (s, &t) in topics.iter().enumerate() {
            let info = &self.communities[t as usize];
            let slot = &mut self.nodes[v].slots[s];
            if !restart && self.setup == Setup::Preadmitted && !slot.genesis {
                // Start from the founder's history, as if it had been synced and stored.
                slot.genesis = true;
                slot.changes = info.base.clone();
            }
            slot.held = 0;
            if slot.genesis {
                let changes: Vec<(DocId, WireChange)> = slot
                    .changes
                    .iter()
                    .map(|&i| {
                        let e = &self.table.entries[i as usize];
                        (e.doc.clone(), e.change.clone())
                    })
                    .collect();
                match rep.restore(now, &info.id, &info.genesis_bytes, changes) {
                    Ok(report) => {
                        slot.held = report.restored as u32;
                        if restart {
                            self.stats.restored_changes += report.restored as u64;
                        }
                        for e in &report.invalid {
                            *self.stats.rejected.entry(error_kind(e)).or_default() += 1;
                        }
                    }
                    Err(e) => *self.stats.rejected.entry(error_kind(&e)).or_default() += 1,
                }
                if self.setup == Setup::Preadmitted {
                    slot.member = true;
                }
            } else if node == info.founder {
                if let Err(e) = rep.create(now, info.genesis.clone()) {
                    *self.stats.rejected.entry(error_kind(&e)).or_default() += 1;
                }
                slot.member = true;
            } else {
                let inv = self.invitations[t as usize]
                    .get(&node)
                    .cloned()
                    .map(|invitation| qun_crdt::InviteKey {
                        invitation,
                        secret: None,
                    });
                if let Err(e) = rep.join(now, info.id, inv) {
                    *self.stats.rejected.entry(error_kind(&e)).or_default() += 1;
                }
            }
        }
        self.nodes[v].rep = Some(rep);
        self.nodes[v].wake = None;
        let counted = !core.attacker[v];
        for (s, &t) in topics.iter().enumerate().filter(|_| counted) {
            let cv = &mut self.conv[t as usize];
            cv.online += 1;
            if self.nodes[v].slots[s].held == cv.total {
                cv.complete += 1;
            }
        }
        self.run_outputs(core, node, Ctx::default());
        for &t in &topics {
            self.check_converged(core, t);
        }
    }

    fn node_down<C>(&mut self, core: &mut Core<C, SyncFrame>, node: NodeIx, _crashed: bool) {
        let v = node as usize;
        let n = &mut self.nodes[v];
        n.rep = None;
        n.out.clear();
        n.inb.clear();
        n.wake = None;
        let topics = core.membership.topics_of[v].clone();
        let counted = !core.attacker[v];
        for (s, &t) in topics.iter().enumerate() {
            let cv = &mut self.conv[t as usize];
            let slot = &mut self.nodes[v].slots[s];
            if counted {
                cv.online -= 1;
                if slot.held == cv.total {
                    cv.complete -= 1;
                }
            }
            slot.held = 0;
        }
        for &t in &topics {
            self.check_converged(core, t);
        }
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
            Ctx::default(),
        );
    }

    fn peer_left<C>(&mut self, core: &mut Core<C, SyncFrame>, node: NodeIx, peer: NodeIx) {
        self.handle(core, node, Input::PeerLeft { peer }, Ctx::default());
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
        if self.nodes[node as usize].rep.is_none() {
            return;
        }
        let id = self.communities[topic as usize].id;
        let u = unit(&mut core.rng);
        let want = if u < self.reply_fraction {
            1
        } else if u < self.reply_fraction + self.react_fraction {
            2
        } else {
            0
        };
        let target = if want == 0 {
            None
        } else {
            let held: Vec<&PostId> = self.recent[topic as usize]
                .iter()
                .filter(|(m, _)| core.messages.has(*m, node))
                .map(|(_, p)| p)
                .collect();
            (!held.is_empty()).then(|| held[below(&mut core.rng, held.len())].clone())
        };
        let edit = match (want, target) {
            (2, Some(post)) => Edit::React {
                post,
                emoji: EMOJI[below(&mut core.rng, EMOJI.len())].to_string(),
                on: true,
            },
            (_, reply_to) => {
                let len = self
                    .message_bytes
                    .sample(&mut core.rng)
                    .round()
                    .clamp(1.0, qun_crdt::community::edit::MAX_POST_TEXT as f64)
                    as usize;
                Edit::Post {
                    channel: ChannelId::general(),
                    text: Self::text(core, len),
                    reply_to,
                    attachments: Vec::new(),
                }
            }
        };
        let kind = match &edit {
            Edit::React { .. } => 2,
            Edit::Post {
                reply_to: Some(_), ..
            } => 1,
            _ => 0,
        };
        let now = now_ts(core.now);
        let Some(rep) = self.nodes[node as usize].rep.as_mut() else {
            return;
        };
        let made = rep.edit(now, &id, edit);
        self.run_outputs(core, node, Ctx::default());
        match made {
            Ok(lc) => {
                match kind {
                    1 => self.stats.made.replies += 1,
                    2 => self.stats.made.reactions += 1,
                    _ => self.stats.made.posts += 1,
                }
                if let (Some(post), Some(msg)) = (lc.post, self.table.msg_of(&lc.accepted.hash)) {
                    let r = &mut self.recent[topic as usize];
                    if r.len() == RECENT_POSTS {
                        r.remove(0);
                    }
                    r.push((msg, post));
                }
            }
            Err(_) => self.stats.edit_errors += 1,
        }
    }

    fn forge<C>(&mut self, core: &mut Core<C, SyncFrame>, node: NodeIx, topic: TopicIx) {
        let len = self
            .message_bytes
            .sample(&mut core.rng)
            .round()
            .clamp(1.0, 4096.0) as usize;
        let text = Self::text(core, len);
        match self.forged_bytes(now_ts(core.now), topic, text) {
            Ok(bytes) => {
                let len = bytes.len() as u32;
                core.publish(node, topic, len, true, Some(Arc::from(bytes)));
            }
            Err(e) => *self.stats.rejected.entry(error_kind(&e)).or_default() += 1,
        }
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
            Ctx {
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
        let ctx = Ctx {
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
                    ctx,
                );
            }
            SyncFrame::Response { reply, bytes } => {
                // After a timeout the request has failed already: the answer is dropped.
                if self.nodes[node as usize].out.remove(&reply).is_none() {
                    return;
                }
                self.handle(core, node, Input::SyncResponse { from, bytes }, ctx);
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
            self.handle(core, node, Input::Tick, Ctx::default());
        } else {
            self.schedule_wake(core, node);
        }
    }

    fn report<C>(&mut self, core: &mut Core<C, SyncFrame>) -> Option<FullStats> {
        let mut expected = 0u64;
        for m in &core.messages.meta {
            if !m.forged {
                expected += m.expected as u64;
            }
        }
        let s = &self.stats;
        let accepted_ratio = if expected == 0 {
            0.0
        } else {
            round6(s.accepted as f64 / expected as f64)
        };
        let mut conv_s = Vec::new();
        let (mut converged, mut last, mut all_at) = (0u32, Time::ZERO, Some(Time::ZERO));
        for cv in &self.conv {
            if cv.made == 0 {
                continue;
            }
            last = last.max(cv.last_change);
            match cv.converged {
                Some(at) => {
                    converged += 1;
                    conv_s.push(at.since(cv.last_change).as_secs_f64());
                    all_at = all_at.map(|a| a.max(at));
                }
                None => all_at = None,
            }
        }
        let mut identical = 0u32;
        let mut divergent = 0u64;
        for t in 0..self.communities.len() {
            let (_, d) = self.compare_heads(core, t as TopicIx);
            self.stats.heads_checks += 1;
            divergent += d;
            identical += u32::from(d == 0);
        }
        let mut outside = 0u64;
        for (v, n) in self.nodes.iter().enumerate() {
            for (s, &t) in core.membership.topics_of[v].iter().enumerate() {
                if !n.slots[s].member && self.communities[t as usize].founder != v as NodeIx {
                    outside += 1;
                }
            }
        }
        let s = &mut self.stats;
        let base_changes = self.communities.iter().map(|c| c.base.len() as u64).sum();
        Some(FullStats {
            setup: match self.setup {
                Setup::Preadmitted => "preadmitted".into(),
                Setup::Join => "join".into(),
            },
            policy: self.policy.name(),
            base_changes,
            made: s.made.clone(),
            edit_errors: s.edit_errors,
            expected,
            accepted: s.accepted,
            accepted_ratio,
            accepted_via_gossip: s.via_gossip,
            accepted_via_sync: s.via_sync,
            accept_latency_ms: Percentiles::from_hist(&s.latency_us, 1e-3),
            rejected: s.rejected.clone(),
            verdicts: s.verdicts.clone(),
            sync: s.sync.clone(),
            gossip_payload_bytes: s.gossip_payload_bytes,
            persist_bytes: s.persist_bytes,
            restores: s.restores,
            restored_changes: s.restored_changes,
            joins: JoinStats {
                admitted: s.admitted,
                outside_at_end: outside,
                time_s: Percentiles::from_values(&mut s.join_times),
            },
            state: StateConvergence {
                communities: self.communities.len() as u32,
                converged,
                convergence_s: Percentiles::from_values(&mut conv_s),
                last_change_s: round6(last.as_secs_f64()),
                all_converged_at_s: all_at.map(|a| round6(a.as_secs_f64())),
                identical_at_end: identical,
                divergent_members_at_end: divergent,
                heads_checks: s.heads_checks,
                heads_mismatches: s.heads_mismatches,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qun_crdt::replicate::wire::{SyncRequest, SyncResponse, WireHash};

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

    #[test]
    fn sim_time_maps_onto_wall_clock_milliseconds() {
        let t = Time::from_millis(1_234).plus(Time(999));
        assert_eq!(now_ts(t).as_millis(), EPOCH_MS + 1_234);
        assert_eq!(sim_time(now_ts(t)), Time::from_millis(1_234));
    }
}
