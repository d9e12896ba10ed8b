//! Test support shared by this crate's tests, the node's tests and the simulator: seeded
//! identities, genesis builders and helpers that move changes between replicas.

use crate::community::Community;
use crate::error::Result;
use crate::ids::DocId;
use crate::limits::Limits;
use crate::model::genesis::{CommunityGenesis, DEFAULT_WINDOW_MS, Genesis};
use crate::model::policy::AdmissionPolicy;
use crate::{Edit, Ingested};
use qun_identity::{Capabilities, DeviceCert, MemberId, SecretIdentity, Signed, Timestamp};

/// A fixed starting time for tests: 2023-11-14T22:13:20Z.
pub const T0: Timestamp = Timestamp::from_millis(1_700_000_000_000);

/// A deterministic key from a small seed.
pub fn key(seed: u8) -> SecretIdentity {
    let mut s = [0u8; 32];
    s[0] = seed;
    s[31] = 0x51;
    SecretIdentity::from_seed(&s)
}

/// A deterministic key from a seed and an index (for many members).
pub fn key_n(seed: u8, n: u32) -> SecretIdentity {
    let mut s = [0u8; 32];
    s[0] = seed;
    s[1..5].copy_from_slice(&n.to_le_bytes());
    s[31] = 0x52;
    SecretIdentity::from_seed(&s)
}

/// A genesis by `founder` with `policy`, created at [`T0`].
pub fn genesis(founder: &SecretIdentity, policy: AdmissionPolicy) -> CommunityGenesis {
    genesis_with(founder, policy, DEFAULT_WINDOW_MS, [7; 16])
}

/// A genesis with every knob.
pub fn genesis_with(
    founder: &SecretIdentity,
    policy: AdmissionPolicy,
    window_ms: u64,
    nonce: [u8; 16],
) -> CommunityGenesis {
    let g = Genesis {
        name: "Test community".into(),
        description: "for tests".into(),
        founders: vec![founder.member_id()],
        policy,
        window_ms,
        created: T0,
        nonce,
    };
    match Signed::sign(founder, g) {
        Ok(s) => CommunityGenesis::new(s),
        Err(e) => panic!("test genesis: {e}"),
    }
}

/// A replica of `g` whose local device is `device`.
pub fn replica(g: &CommunityGenesis, device: &SecretIdentity) -> Community {
    Community::new(g.clone(), device.device_id(), Limits::default())
}

/// A device certificate from `root` for `device`.
pub fn cert(root: &SecretIdentity, device: &SecretIdentity, caps: Capabilities) -> Vec<u8> {
    let c = DeviceCert {
        member: root.member_id(),
        device: device.device_id(),
        capabilities: caps,
        label: "test device".into(),
        not_before: Timestamp::ZERO,
        expires: None,
    };
    match Signed::sign(root, c) {
        Ok(s) => s.to_bytes(),
        Err(e) => panic!("test cert: {e}"),
    }
}

/// A bearer invitation into `g` by `inviter` with a fixed nonce: the signed envelope and the
/// bearer key's secret (what an invite code carries).
pub fn bearer_invitation(
    g: &CommunityGenesis,
    inviter: &SecretIdentity,
    nonce: [u8; 16],
) -> (Vec<u8>, SecretIdentity) {
    let secret = key_n(
        0xB0,
        u32::from_le_bytes([nonce[0], nonce[1], nonce[2], nonce[3]]),
    );
    let inv = qun_identity::Invitation {
        community: g.id().0,
        inviter: inviter.member_id(),
        invitee: None,
        nonce,
        key: Some(secret.public()),
        created: T0,
        expires: None,
        note: String::new(),
    };
    match Signed::sign(inviter, inv) {
        Ok(s) => (s.to_bytes(), secret),
        Err(e) => panic!("test invitation: {e}"),
    }
}

/// A named invitation into `g` for `invitee`.
pub fn named_invitation(
    g: &CommunityGenesis,
    inviter: &SecretIdentity,
    invitee: &qun_identity::MemberId,
    nonce: [u8; 16],
) -> Vec<u8> {
    let inv = qun_identity::Invitation {
        community: g.id().0,
        inviter: inviter.member_id(),
        invitee: Some(*invitee),
        nonce,
        key: None,
        created: T0,
        expires: None,
        note: String::new(),
    };
    match Signed::sign(inviter, inv) {
        Ok(s) => s.to_bytes(),
        Err(e) => panic!("test invitation: {e}"),
    }
}

/// The join action for `joiner` with an invitation (and, for a bearer one, its secret).
pub fn join_action(
    joiner: &qun_identity::MemberId,
    cert: Option<Vec<u8>>,
    invitation: Option<&[u8]>,
    secret: Option<&SecretIdentity>,
) -> crate::Action {
    let proof = match (invitation, secret) {
        (Some(b), Some(s)) => Signed::<qun_identity::Invitation>::from_bytes_untimed(
            b,
            &qun_identity::Limits::default(),
        )
        .ok()
        .map(|i| i.value().prove(s, joiner)),
        _ => None,
    };
    crate::Action::Join {
        cert,
        invitation: invitation.map(<[u8]>::to_vec),
        proof,
    }
}

/// Join `c` as `k` (its root key) with `invitation` (and its secret for a bearer one).
pub fn join_with(
    c: &mut Community,
    k: &SecretIdentity,
    invitation: &[u8],
    secret: Option<&SecretIdentity>,
    at: Timestamp,
) -> Result<crate::LocalChange> {
    let a = join_action(&k.member_id(), None, Some(invitation), secret);
    c.edit(k, at, Edit::Govern(a))
}

/// Offer every change of `from` to `to`, in `from`'s order; returns each outcome.
pub fn transfer(from: &Community, to: &mut Community) -> Vec<Result<Ingested>> {
    from.all_changes()
        .into_iter()
        .filter_map(|(doc, h)| from.signed_change(&doc, &h).map(|c| (doc, c)))
        .map(|(doc, (bytes, sig))| to.ingest(&doc, &bytes, &sig))
        .collect()
}

/// Offer changes of `from` to `to` until nothing new gets in (handles any order).
pub fn sync_all(from: &Community, to: &mut Community) -> usize {
    let mut total = 0;
    loop {
        let n = transfer(from, to)
            .into_iter()
            .filter(|r| matches!(r, Ok(Ingested::Accepted(_))))
            .count();
        total += n;
        if n == 0 {
            return total;
        }
    }
}

/// Shorthand: a post edit.
pub fn post(channel: &str, text: &str) -> Edit {
    Edit::Post {
        channel: crate::ChannelId::new(channel).unwrap_or_else(|_| crate::ChannelId::general()),
        text: text.into(),
        reply_to: None,
        attachments: Vec::new(),
    }
}

/// The member ids of a slice of keys.
pub fn ids(keys: &[SecretIdentity]) -> Vec<MemberId> {
    keys.iter().map(SecretIdentity::member_id).collect()
}

/// Heads of every document, for comparing replicas.
pub fn all_heads<'a>(c: impl Into<crate::CommunityReader<'a>>) -> Vec<(DocId, Vec<crate::Hash>)> {
    let mut c = c.into();
    c.docs()
        .into_iter()
        .map(|d| {
            let h = c.heads(&d).unwrap_or_default();
            (d, h)
        })
        .collect()
}

/// Move changes between every pair of replicas until nothing new goes in anywhere.
pub fn sync_mesh(cs: &mut [&mut Community]) {
    loop {
        let mut moved = 0;
        for i in 0..cs.len() {
            for j in 0..cs.len() {
                if i == j {
                    continue;
                }
                let (a, b) = if i < j {
                    let (l, r) = cs.split_at_mut(j);
                    (&*l[i], &mut *r[0])
                } else {
                    let (l, r) = cs.split_at_mut(i);
                    (&*r[0], &mut *l[j])
                };
                moved += sync_all(a, b);
            }
        }
        if moved == 0 {
            return;
        }
    }
}

/// Throw the incremental validity away and resolve everything again (what a node that
/// restarted, or received the same changes in another order, computes): for tests that check
/// the two agree.
pub fn resolve_from_scratch(c: &mut Community) {
    c.index.stale = true;
    c.index.clear_states();
    c.ensure_validity();
    c.index.clear_states();
    c.void_cache_clear();
}

/// Governance states materialized on this thread so far: a deterministic measure of how much
/// work validity did (materializing a state costs time in proportion to the governance).
pub fn states_materialized() -> u64 {
    crate::gov::materialize::MATERIALIZED.with(|c| c.get())
}

/// A governance change as the validity rules see it (for property tests).
#[derive(Debug, Clone)]
pub struct GovFact {
    /// The change.
    pub hash: crate::Hash,
    /// Its author member and device.
    pub member: MemberId,
    /// The signing device.
    pub device: qun_identity::DeviceId,
    /// Whether it counts once revocations are resolved.
    pub valid: bool,
    /// For a removal or device revocation (everything revoked): its target member or device,
    /// and its cut.
    pub revokes_all: Option<(
        Option<MemberId>,
        Option<qun_identity::DeviceId>,
        crate::model::cut::Cut,
    )>,
}

/// Every governance change with its author and validity.
pub fn gov_facts(c: &mut Community) -> Vec<GovFact> {
    c.ensure_validity();
    let v = c.index.validity();
    c.index
        .nodes
        .iter()
        .enumerate()
        .skip(1)
        .filter_map(|(i, n)| {
            let info = n.info.as_ref()?;
            let revokes_all = info
                .revokes
                .as_ref()
                .and_then(|r| match (&r.target, &r.perms) {
                    (crate::gov::index::Target::Members(ms), crate::gov::index::Perms::All) => {
                        Some((
                            ms.first().copied(),
                            None,
                            r.cut.as_deref().cloned().unwrap_or_default(),
                        ))
                    }
                    (crate::gov::index::Target::Device(d), _) => Some((
                        None,
                        Some(*d),
                        r.cut.as_deref().cloned().unwrap_or_default(),
                    )),
                    _ => None,
                });
            Some(GovFact {
                hash: n.hash,
                member: info.member,
                device: info.device,
                valid: !v.invalid.contains(i as u32),
                revokes_all,
            })
        })
        .collect()
}

/// Whether governance change `a` is in the causal past of `b` (`a != b`).
pub fn gov_precedes(c: &mut Community, a: &crate::Hash, b: &crate::Hash) -> bool {
    if a == b {
        return false;
    }
    match (c.index.ix(a), c.index.ix(b)) {
        (Some(ia), Some(ib)) => c.index.ancestors_ix(&[ib]).contains(ia),
        _ => false,
    }
}

/// A content change as the validity rules see it (for property tests).
#[derive(Debug, Clone)]
pub struct ContentFact {
    /// Its document.
    pub doc: DocId,
    /// The change.
    pub hash: crate::Hash,
    /// Author member.
    pub member: MemberId,
    /// Signing device.
    pub device: qun_identity::DeviceId,
    /// Its sequence number in the document.
    pub seq: u64,
    /// Governance heads it cited.
    pub cited: Vec<crate::Hash>,
    /// Whether it counts.
    pub valid: bool,
}

/// Every content change with its author, cited heads and validity.
pub fn content_facts(c: &mut Community) -> Vec<ContentFact> {
    let docs: Vec<DocId> = c.content.keys().cloned().collect();
    let mut out = Vec::new();
    for d in docs {
        let void = c.void_content(&d);
        if let Some(doc) = c.content.get(&d) {
            for (h, m) in &doc.meta {
                out.push(ContentFact {
                    doc: d.clone(),
                    hash: *h,
                    member: m.member,
                    device: m.device,
                    seq: m.seq,
                    cited: m.cited.to_vec(),
                    valid: !void.contains(h),
                });
            }
        }
    }
    out
}

/// An in-memory network of replicators for tests: full-mesh gossip with random delay and
/// loss, request-response sync with loss (a lost exchange fails after a timeout), virtual time.
pub mod bus {
    use crate::ids::CommunityId;
    use crate::replicate::{Config, Input, MsgId, Output, Replicator, ReplyId};
    use qun_identity::{MemberId, SecretIdentity, Timestamp};
    use rand::{Rng, RngExt, SeedableRng};
    use rand_chacha::ChaCha12Rng;
    use std::collections::{BTreeMap, BTreeSet};

    /// How long a lost sync exchange takes to fail.
    pub const SYNC_TIMEOUT_MS: u64 = 5_000;

    enum Delivery {
        In(usize, Input<usize>),
    }

    /// The network.
    pub struct Bus {
        /// The nodes; a node's index is its peer id.
        pub nodes: Vec<Replicator<usize>>,
        queue: BTreeMap<(Timestamp, u64), Delivery>,
        seq: u64,
        /// Virtual time.
        pub now: Timestamp,
        rng: ChaCha12Rng,
        /// Probability that a message is lost.
        pub loss: f64,
        /// Maximum one-way delay, ms (uniform from 1).
        pub max_delay_ms: u64,
        subs: BTreeMap<CommunityId, BTreeSet<usize>>,
        replies: BTreeMap<ReplyId, (usize, usize, CommunityId)>,
        next_reply: u64,
        /// Every output seen, for assertions: (node, output).
        pub log: Vec<(usize, Output<usize>)>,
    }

    impl Bus {
        /// An empty network starting at `now`.
        pub fn new(seed: u64, now: Timestamp) -> Self {
            Bus {
                nodes: Vec::new(),
                queue: BTreeMap::new(),
                seq: 0,
                now,
                rng: ChaCha12Rng::seed_from_u64(seed),
                loss: 0.0,
                max_delay_ms: 50,
                subs: BTreeMap::new(),
                replies: BTreeMap::new(),
                next_reply: 0,
                log: Vec::new(),
            }
        }

        /// Add a node whose device is its member's root key.
        pub fn add(&mut self, key: SecretIdentity) -> usize {
            self.add_with(key, Config::default())
        }

        /// [`Bus::add`] with a configuration (its seed is the node's index).
        pub fn add_with(&mut self, key: SecretIdentity, config: Config) -> usize {
            let member: MemberId = key.member_id();
            let seed = self.nodes.len() as u64;
            let r = Replicator::new(key, member, None, Config { seed, ..config });
            match r {
                Ok(r) => self.nodes.push(r),
                Err(e) => panic!("bus node: {e}"),
            }
            self.nodes.len() - 1
        }

        fn delay(&mut self) -> u64 {
            let m = self.max_delay_ms.max(1);
            self.rng.random_range(1..=m)
        }

        fn lost(&mut self) -> bool {
            self.loss > 0.0 && self.rng.random_bool(self.loss.min(1.0))
        }

        fn enqueue(&mut self, after_ms: u64, to: usize, input: Input<usize>) {
            self.seq += 1;
            self.queue.insert(
                (self.now.plus_millis(after_ms), self.seq),
                Delivery::In(to, input),
            );
        }

        /// Run the outputs node `n` has queued.
        pub fn route(&mut self, n: usize) {
            let outs: Vec<Output<usize>> = self.nodes[n].drain().collect();
            for o in outs {
                match &o {
                    Output::Subscribe(c) => {
                        let others: Vec<usize> =
                            self.subs.entry(*c).or_default().iter().copied().collect();
                        self.subs.entry(*c).or_default().insert(n);
                        for p in others {
                            let d = self.delay();
                            self.enqueue(
                                d,
                                p,
                                Input::PeerJoined {
                                    peer: n,
                                    community: *c,
                                },
                            );
                            let d = self.delay();
                            self.enqueue(
                                d,
                                n,
                                Input::PeerJoined {
                                    peer: p,
                                    community: *c,
                                },
                            );
                        }
                    }
                    Output::Publish { community, bytes } => {
                        let peers: Vec<usize> = self
                            .subs
                            .get(community)
                            .map(|s| s.iter().copied().filter(|p| *p != n).collect())
                            .unwrap_or_default();
                        let id = MsgId(blake3::hash(bytes).as_bytes().to_vec());
                        for p in peers {
                            if self.lost() {
                                continue;
                            }
                            let d = self.delay();
                            self.enqueue(
                                d,
                                p,
                                Input::Gossip {
                                    from: n,
                                    id: id.clone(),
                                    bytes: bytes.clone(),
                                },
                            );
                        }
                    }
                    Output::SyncSend {
                        to,
                        community,
                        bytes,
                    } => {
                        self.next_reply += 1;
                        let reply = ReplyId(self.next_reply);
                        self.replies.insert(reply, (n, *to, *community));
                        if self.lost() {
                            self.replies.remove(&reply);
                            self.enqueue(
                                SYNC_TIMEOUT_MS,
                                n,
                                Input::SyncFailed {
                                    peer: *to,
                                    community: *community,
                                },
                            );
                        } else {
                            let d = self.delay();
                            self.enqueue(
                                d,
                                *to,
                                Input::SyncRequest {
                                    from: n,
                                    device: Some(self.nodes[n].device()),
                                    reply,
                                    bytes: bytes.clone(),
                                },
                            );
                        }
                    }
                    Output::SyncRespond { reply, bytes } => {
                        if let Some((requester, responder, community)) = self.replies.remove(reply)
                        {
                            if self.lost() {
                                self.enqueue(
                                    SYNC_TIMEOUT_MS,
                                    requester,
                                    Input::SyncFailed {
                                        peer: responder,
                                        community,
                                    },
                                );
                            } else {
                                let d = self.delay();
                                self.enqueue(
                                    d,
                                    requester,
                                    Input::SyncResponse {
                                        from: responder,
                                        bytes: bytes.clone(),
                                    },
                                );
                            }
                        }
                    }
                    Output::Verdict { .. } | Output::Persist(_) | Output::Event(_) => {}
                }
                self.log.push((n, o));
            }
        }

        /// Deliver the next event (a message, or the earliest timer); false when there is
        /// nothing before `until`.
        pub fn step(&mut self, until: Timestamp) -> bool {
            let next_msg = self.queue.keys().next().map(|(t, _)| *t);
            let next_timer = self
                .nodes
                .iter()
                .enumerate()
                .filter_map(|(i, n)| n.poll_timeout().map(|t| (t, i)))
                .min();
            match (next_msg, next_timer) {
                (Some(tm), timer) if timer.is_none_or(|(tt, _)| tm <= tt) => {
                    if tm > until {
                        return false;
                    }
                    let Some((_, Delivery::In(to, input))) = self.queue.pop_first() else {
                        return false;
                    };
                    self.now = self.now.max(tm);
                    let now = self.now;
                    self.nodes[to].handle(now, input);
                    self.route(to);
                    true
                }
                (_, Some((tt, i))) => {
                    if tt > until {
                        return false;
                    }
                    self.now = self.now.max(tt);
                    let now = self.now;
                    self.nodes[i].handle(now, Input::Tick);
                    self.route(i);
                    true
                }
                _ => false,
            }
        }

        /// Run until nothing is queued (timers may remain) or `ms` of virtual time passed.
        pub fn run_for(&mut self, ms: u64) {
            let until = self.now.plus_millis(ms);
            while self.step(until) {}
            self.now = self.now.max(until);
        }

        /// Run until no message is in flight (periodic timers aside), at most `ms`.
        pub fn settle(&mut self, ms: u64) {
            let until = self.now.plus_millis(ms);
            while !self.queue.is_empty() && self.step(until) {}
        }

        /// Route every node's pending outputs (after direct calls such as `edit`).
        pub fn route_all(&mut self) {
            for n in 0..self.nodes.len() {
                self.route(n);
            }
        }

        /// Hand a random seed source to tests that need one.
        pub fn rng(&mut self) -> &mut impl Rng {
            &mut self.rng
        }
    }
}
