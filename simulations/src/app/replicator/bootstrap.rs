//! Run setup and node lifecycle: keys derived from the run's seed, each community's
//! genesis (its founder is its lowest-index member) with the founder's `member.admit`
//! history (`setup = "preadmitted"`: built once, every replica starts from it) or
//! invitations (`setup = "join"` with `policy = "invite"`); then starting a node's
//! replica — restored from the node's store, created by the founder, or joining — and
//! stopping it.

use std::collections::BTreeMap;

use qun_crdt::replicate::wire::WireChange;
use qun_crdt::test_utils::replica;
use qun_crdt::{
    Action, AdmissionPolicy, CommunityGenesis, Config, Edit, Genesis, Limits, Replicator,
};
use qun_identity::{Invitation, MemberId, SecretIdentity, Signed, Timestamp};

use super::{
    ChangeTable, CommunityInfo, Conv, Counters, EPOCH_MS, NodeState, Params, ReplicatorApp, Slot,
    Source, SyncFrame, Workload, now_ts,
};
use crate::ctx::Core;
use crate::error::Error;
use crate::queue::Time;
use crate::scenario::{Scenario, Setup};
use crate::{NodeIx, TopicIx};

/// Genesis and pre-admission changes are dated this long before the start.
const HISTORY_BEFORE_MS: u64 = 60_000;

/// 32 bytes derived from the run's seed: blake3(`tag` ‖ seed ‖ parts), numbers little-endian.
fn derive(tag: &str, seed: u64, parts: &[u64]) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(tag.as_bytes());
    h.update(&seed.to_le_bytes());
    for p in parts {
        h.update(&p.to_le_bytes());
    }
    *h.finalize().as_bytes()
}

/// The first 8 bytes of [`derive`] as a number.
fn derive_u64(tag: &str, seed: u64, parts: &[u64]) -> u64 {
    let b = derive(tag, seed, parts);
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

impl ReplicatorApp {
    /// The application for `scn`: keys, then every community's genesis and history, then
    /// one empty store per node and community (no node is up yet).
    pub(super) fn bootstrap<C>(
        scn: &Scenario,
        seed: u64,
        core: &Core<C, SyncFrame>,
    ) -> Result<Self, Error> {
        let raw = scn.raw();
        let f = &raw.full;
        let n = scn.nodes() as usize;
        let policy: AdmissionPolicy = f.policy.parse()?;
        let keys: Vec<SecretIdentity> = (0..n as u64)
            .map(|v| SecretIdentity::from_seed(&derive("qun-sim/key/v1", seed, &[v])))
            .collect();
        let topics = core.membership.members.len();
        let mut app = ReplicatorApp {
            params: Params {
                seed,
                setup: f.setup,
                policy,
                sync_interval_ms: Time::from_secs_f64(f.sync_interval_s).as_millis().max(1),
                sync_timeout: Time::from_secs_f64(f.sync_timeout_s),
                validation_ms: scn.validation_ms.clone(),
            },
            keys,
            forger: SecretIdentity::from_seed(&derive("qun-sim/forger/v1", seed, &[])),
            communities: Vec::with_capacity(topics),
            topic_of: BTreeMap::new(),
            table: ChangeTable::default(),
            nodes: (0..n).map(|_| NodeState::default()).collect(),
            conv: vec![Conv::default(); topics],
            workload: Workload {
                reply_fraction: raw.workload.reply_fraction,
                react_fraction: raw.workload.react_fraction,
                message_bytes: scn.message_bytes.clone(),
                recent: vec![Vec::new(); topics],
            },
            next_reply: 0,
            buf: Vec::new(),
            recheck: Vec::new(),
            stats: Counters::new(),
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
        let nonce = derive("qun-sim/genesis-nonce/v1", self.params.seed, &[t as u64]);
        let mut n16 = [0u8; 16];
        n16.copy_from_slice(&nonce[..16]);
        let g = Genesis {
            name: format!("sim community {t}"),
            description: "simulated by qun-sim".into(),
            founders: vec![fkey.member_id()],
            policy: self.params.policy.clone(),
            window_ms,
            created,
            nonce: n16,
        };
        let genesis = CommunityGenesis::new(Signed::sign(&fkey, g).map_err(qun_crdt::Error::from)?);
        let id = genesis.id();
        let mut base = Vec::new();
        let mut invites = BTreeMap::new();
        match self.params.setup {
            Setup::Preadmitted => {
                let mut c = replica(&genesis, &fkey);
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
                if self.params.policy == AdmissionPolicy::Invite {
                    for &m in &members[1..] {
                        let nonce = derive(
                            "qun-sim/invite-nonce/v1",
                            self.params.seed,
                            &[t as u64, m as u64],
                        );
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
        self.communities.push(CommunityInfo {
            id,
            genesis_bytes: genesis.to_bytes(),
            genesis,
            founder,
            base,
            invitations: invites,
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
            sync_interval_ms: self.params.sync_interval_ms,
            sync_budget_bytes: qun_crdt::replicate::DEFAULT_SYNC_BUDGET_BYTES,
            seed: derive_u64(
                "qun-sim/replicator-seed/v1",
                self.params.seed,
                &[node as u64, n.starts as u64],
            ),
            // One node per thread: runs with different seeds go in parallel instead.
            verify_threads: 1,
        };
        Replicator::new(key, member, None, config).ok()
    }

    /// `node` starts: a new replica holding, per community, what the node's store holds
    /// (restored), or the genesis (the founder creates it), or nothing (a member joins).
    /// A first start in `setup = "preadmitted"` begins from the founder's history.
    pub(super) fn start_node<C>(
        &mut self,
        core: &mut Core<C, SyncFrame>,
        node: NodeIx,
        restart: bool,
    ) {
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
            if !restart && self.params.setup == Setup::Preadmitted && !slot.genesis {
                // Start from the founder's history, as if it had been synced and stored.
                slot.genesis = true;
                slot.changes = info.base.clone();
            }
            slot.held = 0;
            if slot.genesis {
                let changes = self.table.stored(&slot.changes);
                match rep.restore(now, &info.id, &info.genesis_bytes, changes) {
                    Ok(report) => {
                        slot.held = report.restored as u32;
                        if restart {
                            self.stats.restored_changes += report.restored as u64;
                        }
                        for e in &report.invalid {
                            self.stats.reject(e);
                        }
                    }
                    Err(e) => self.stats.reject(&e),
                }
                if self.params.setup == Setup::Preadmitted {
                    slot.member = true;
                }
            } else if node == info.founder {
                if let Err(e) = rep.create(now, info.genesis.clone()) {
                    self.stats.reject(&e);
                }
                slot.member = true;
            } else {
                let inv = info
                    .invitations
                    .get(&node)
                    .map(|invitation| qun_crdt::InviteKey {
                        invitation: invitation.clone(),
                        secret: None,
                    });
                if let Err(e) = rep.join(now, info.id, inv) {
                    self.stats.reject(&e);
                }
            }
        }
        self.nodes[v].rep = Some(rep);
        self.nodes[v].wake = None;
        self.count_up(core, node, &topics);
        self.run_outputs(core, node, Source::default());
        for &t in &topics {
            self.check_converged(core, t);
        }
    }

    /// `node` stops: its replica and pending requests are gone, its store stays.
    pub(super) fn stop_node<C>(&mut self, core: &mut Core<C, SyncFrame>, node: NodeIx) {
        let v = node as usize;
        let n = &mut self.nodes[v];
        n.rep = None;
        n.out.clear();
        n.inb.clear();
        n.wake = None;
        self.count_down(core, node);
    }
}
