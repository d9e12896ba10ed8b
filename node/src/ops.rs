//! What the API and the CLI ask of a node, as methods on the driver (run on its task through
//! `NodeHandle::with`), with serializable results.

use crate::driver::{Driver, now};
use crate::error::{Error, Result};
use crate::invite::InviteCode;
use libp2p::{Multiaddr, PeerId};
use qun_crdt::community::genesis::{DEFAULT_WINDOW_MS, Genesis};
use qun_crdt::{
    Action, AdmissionPolicy, ChannelId, CommunityGenesis, CommunityId, Edit, MemberStatus,
    MemberView, PostId, PostView,
};
use qun_identity::{
    Endorsement, EndorsementBook, Invitation, MemberId, Scope, SecretIdentity, Signed, Timestamp,
    Topic, Weight,
};
use qun_trust::{EndorsementGraph, Query, explain::explain, rank::rank};
use serde::Serialize;
use std::collections::BTreeSet;

/// DHT servers (bootstrap nodes) an invite code names besides the inviter.
pub const INVITE_BOOTSTRAP: usize = 4;

/// Node status.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Status {
    /// libp2p peer id (from the device key).
    pub peer_id: String,
    /// Member id (root key).
    pub member: String,
    /// Device id.
    pub device: String,
    /// Full listen multiaddrs with `/p2p/<peer id>`.
    pub listen_addrs: Vec<String>,
    /// Connected peers.
    pub connected_peers: usize,
    /// Communities held.
    pub communities: Vec<CommunitySummary>,
    /// Communities being joined (genesis not fetched yet).
    pub joining: Vec<String>,
    /// Every join in progress and where it stands.
    #[serde(default)]
    pub joins: Vec<JoinInfo>,
    /// A store write failed: the node no longer acknowledges changes.
    pub store_error: Option<String>,
    /// Relayed addresses of the automatic relay reservations
    /// (`<relay addr>/p2p/<relay>/p2p-circuit`; explicit ones are among `listen_addrs`).
    #[serde(default)]
    pub relays: Vec<String>,
    /// Connected peers serving the DHT (bootstrap nodes).
    #[serde(default)]
    pub dht_servers: usize,
    /// Traffic counters since start.
    #[serde(default)]
    pub traffic: crate::driver::Stats,
}

/// A join in progress.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct JoinInfo {
    /// The community.
    pub id: String,
    /// Where it stands.
    pub progress: qun_crdt::JoinProgress,
    /// Seconds since it started.
    pub seconds: u64,
}

/// One community, briefly.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct CommunitySummary {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Our status: `member:<role>`, `requested`, `removed`, `outsider`.
    pub status: String,
    /// Members.
    pub members: usize,
    /// Changes held.
    pub changes: usize,
    /// Peers known to hold it.
    pub peers: usize,
    /// Admission policy.
    pub policy: String,
    /// Its gossipsub topic (`qun/<hash of the id>/v1`; the id itself never goes on the
    /// topic, see `net::topic`).
    #[serde(default)]
    pub topic: String,
}

/// A connected peer.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct PeerInfo {
    /// Peer id.
    pub peer_id: String,
    /// Communities we share with it.
    pub communities: Vec<String>,
    /// Gossipsub score.
    pub score: Option<f64>,
}

/// One member in a trust ranking.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct TrustEntry {
    /// Rank, 1-based.
    pub rank: usize,
    /// Member.
    pub member: String,
    /// Score (sums to 1 over the graph).
    pub score: f64,
    /// Admitted by the trust flow.
    pub admitted: Option<bool>,
    /// Member of the community.
    pub is_member: bool,
}

/// Why a member is trusted.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct TrustWhy {
    /// Member.
    pub member: String,
    /// Score.
    pub score: f64,
    /// Admitted by the flow.
    pub admitted: Option<bool>,
    /// Top endorsers: member, weight, share of the score.
    pub endorsers: Vec<(String, f32, f64)>,
    /// Strongest paths from the viewer/founders: members along the path and strength.
    pub paths: Vec<(Vec<String>, f64)>,
}

/// The result of an edit.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct EditDone {
    /// Change hash.
    pub hash: String,
    /// The new post, for posts.
    pub post: Option<String>,
}

/// `member:<role>`, `requested`, `removed` or `outsider`.
pub fn status_text(s: &MemberStatus) -> String {
    match s {
        MemberStatus::Member(r) => format!("member:{r}"),
        MemberStatus::Requested => "requested".into(),
        MemberStatus::Removed(_) => "removed".into(),
        MemberStatus::Outsider => "outsider".into(),
    }
}

impl Driver {
    /// A community this node holds, or `NotFound`.
    pub fn community(&mut self, c: &CommunityId) -> Result<qun_crdt::CommunityReader<'_>> {
        self.repl
            .community(c)
            .ok_or_else(|| Error::NotFound(format!("community {c}")))
    }

    fn root(&self) -> Result<&SecretIdentity> {
        self.keys.root.as_ref().ok_or_else(|| {
            Error::Config(
                "this device does not hold the member's root key (needed to sign this)".into(),
            )
        })
    }

    /// `Err` once a store write has failed: no change is accepted until restart.
    fn store_ok(&self) -> Result<()> {
        match &self.store_failed {
            Some(e) => Err(Error::StoreFailed(e.clone())),
            None => Ok(()),
        }
    }

    /// Run the outputs of a local change now (persist and flush first) and tell whether it
    /// was stored: a change whose persist failed is neither published nor reported, and the
    /// caller must answer with an error, not success.
    fn persisted(&mut self) -> Result<()> {
        self.execute();
        self.store_ok()
    }

    /// Node status.
    pub fn status(&mut self) -> Status {
        let ids: Vec<CommunityId> = self.repl.communities().copied().collect();
        let communities = ids.iter().filter_map(|c| self.summary(c)).collect();
        Status {
            peer_id: self.peer_id().to_string(),
            member: self.member.to_string(),
            device: self.keys.device.device_id().to_string(),
            listen_addrs: self
                .reachable_addrs()
                .iter()
                .map(|a| a.to_string())
                .collect(),
            connected_peers: self.swarm.connected_peers().count(),
            communities,
            joining: self.repl.joining().map(|c| c.to_string()).collect(),
            joins: self.joins(),
            store_error: self.store_failed.clone(),
            relays: self
                .autorelay
                .relays()
                .map(|(_, a)| a.to_string())
                .collect(),
            dht_servers: self.dht_servers.len(),
            traffic: self.stats(),
        }
    }

    /// Every join in progress and where it stands.
    pub fn joins(&mut self) -> Vec<JoinInfo> {
        let ids: Vec<CommunityId> = self
            .repl
            .communities()
            .chain(self.repl.joining())
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let t = now();
        ids.into_iter()
            .filter_map(|c| {
                let progress = self.repl.join_progress(&c)?;
                let since = self.repl.join_started(&c).unwrap_or(t);
                Some(JoinInfo {
                    id: c.to_string(),
                    progress,
                    seconds: t.as_millis().saturating_sub(since.as_millis()) / 1000,
                })
            })
            .collect()
    }

    /// One community's summary.
    pub fn summary(&mut self, c: &CommunityId) -> Option<CommunitySummary> {
        let peers = self.repl.peers(c).len();
        let me = self.member;
        let mut comm = self.repl.community(c)?;
        let st = comm.state();
        Some(CommunitySummary {
            id: c.to_string(),
            name: st.name.clone(),
            status: status_text(&st.status(&me)),
            members: st.members.len(),
            changes: comm.total_changes(),
            peers,
            policy: st.policy.name(),
            topic: crate::net::topic::topic(c).to_string(),
        })
    }

    /// Connected peers.
    pub fn peers(&self) -> Vec<PeerInfo> {
        let gs = &self.swarm.behaviour().gossipsub;
        let mut subs: std::collections::BTreeMap<libp2p::PeerId, Vec<String>> = Default::default();
        for (p, topics) in gs.all_peers() {
            subs.insert(
                *p,
                topics
                    .iter()
                    .filter_map(|t| self.topics.community_of(t).map(|c| c.to_string()))
                    .collect(),
            );
        }
        self.swarm
            .connected_peers()
            .map(|p| PeerInfo {
                peer_id: p.to_string(),
                communities: subs.get(p).cloned().unwrap_or_default(),
                score: gs.peer_score(p),
            })
            .collect()
    }

    /// Create a community with this member as founder.
    pub fn create_community(
        &mut self,
        name: &str,
        description: &str,
        policy: AdmissionPolicy,
    ) -> Result<CommunityId> {
        self.store_ok()?;
        let root = self.root()?.clone();
        let nonce: [u8; 16] = rand::random();
        let g = Genesis {
            name: name.to_string(),
            description: description.to_string(),
            founders: vec![root.member_id()],
            policy,
            window_ms: DEFAULT_WINDOW_MS,
            created: now(),
            nonce,
        };
        let signed = Signed::sign(&root, g)?;
        let id = self.repl.create(now(), CommunityGenesis::new(signed))?;
        self.persisted()?;
        Ok(id)
    }

    /// An invite code for `community`: this node's addresses, and a signed invitation (for
    /// `invitee`, or a single-use bearer one) valid for `valid_ms`.
    pub fn invite(
        &mut self,
        community: &CommunityId,
        invitee: Option<MemberId>,
        valid_ms: Option<u64>,
    ) -> Result<String> {
        if self.repl.community(community).is_none() {
            return Err(Error::NotFound(format!("community {community}")));
        }
        let root = self.root()?.clone();
        let t = now();
        let expires = valid_ms.map(|v| t.plus_millis(v));
        let (inv, secret) = match invitee {
            Some(m) => (
                Invitation::named(community.0, root.member_id(), m, t, expires)?,
                None,
            ),
            None => {
                let (inv, key) = Invitation::bearer(community.0, root.member_id(), t, expires)?;
                (inv, Some(*key.seed()))
            }
        };
        let signed = Signed::sign(&root, inv)?;
        let code = InviteCode::new(
            *community,
            &self.invite_addrs(),
            Some(signed.to_bytes()),
            secret,
        );
        Ok(code.encode())
    }

    /// Addresses an invite code carries: ours (public, then relayed, then the rest), then a
    /// few connected DHT servers (bootstrap nodes), so the joiner can find other members even
    /// when we are offline.
    pub fn invite_addrs(&self) -> Vec<Multiaddr> {
        let mut out: Vec<Multiaddr> = self.reachable_addrs();
        out.truncate(crate::invite::MAX_ADDRS - INVITE_BOOTSTRAP);
        let servers = self
            .dht_servers
            .iter()
            .filter_map(|(p, a)| Some(a.clone()?.with_p2p(*p).unwrap_or_else(|a| a)))
            .filter(|a| !out.contains(a))
            .take(INVITE_BOOTSTRAP)
            .collect::<Vec<_>>();
        out.extend(servers);
        out
    }

    /// Join with an invite code: dial its addresses and start joining. The peers the code
    /// names are asked for the community directly once connected (at once if they already
    /// are: a node found over mDNS, or connected from an earlier join).
    pub fn join(&mut self, code: &str) -> Result<CommunityId> {
        let code = InviteCode::decode(code)?;
        let named: BTreeSet<PeerId> = code
            .multiaddrs()
            .iter()
            .filter_map(|a| {
                a.iter().find_map(|p| match p {
                    libp2p::multiaddr::Protocol::P2p(id) => Some(id),
                    _ => None,
                })
            })
            .filter(|p| *p != self.peer_id())
            .collect();
        for a in code.multiaddrs() {
            if let Err(e) = self.swarm.dial(a.clone()) {
                tracing::warn!("dial {a}: {e}");
            }
        }
        let key = code.invite_key();
        let stored = key.as_ref().map(qun_crdt::InviteKey::to_bytes);
        self.store
            .set_joining(&code.community, Some(stored.as_deref()))?;
        self.repl.join(now(), code.community, key)?;
        self.join_peers
            .entry(code.community)
            .or_default()
            .extend(named.iter().copied());
        for p in named {
            if self.swarm.is_connected(&p) {
                self.ask_join_peer(p);
            }
        }
        Ok(code.community)
    }

    /// Stop joining `community` (what was fetched stays; nothing is retried).
    pub fn cancel_join(&mut self, community: &CommunityId) -> Result<bool> {
        self.join_peers.remove(community);
        let had = self.repl.cancel_join(community);
        self.store.set_joining(community, None)?;
        Ok(had)
    }

    /// Make an edit in a community.
    pub fn edit(&mut self, community: &CommunityId, edit: Edit) -> Result<EditDone> {
        self.store_ok()?;
        let lc = self.repl.edit(now(), community, edit)?;
        self.persisted()?;
        Ok(EditDone {
            hash: lc.accepted.hash.to_string(),
            post: lc.post.map(|p| p.to_string()),
        })
    }

    /// Endorse a member in a community (signed by the root key).
    pub fn endorse(
        &mut self,
        community: &CommunityId,
        to: MemberId,
        weight: f64,
        topic: &str,
        note: &str,
    ) -> Result<EditDone> {
        let root = self.root()?.clone();
        let mut e = Endorsement {
            from: root.member_id(),
            to,
            topic: Topic::new(topic)?,
            scope: Scope::Community(community.0),
            weight: Weight::from_f64(weight)?,
            created: now(),
            expires: None,
            note: note.to_string(),
        };
        // The later endorsement in a slot wins (weight 0 revokes): one made in the same
        // millisecond as the previous would be ordered by content id, so make it later.
        let previous = self.repl.community(community).and_then(|mut c| {
            c.state()
                .endorsements
                .latest()
                .filter(|p| p.value().key() == e.key())
                .map(|p| p.value().created.as_millis())
                .max()
        });
        if let Some(p) = previous {
            e.created = Timestamp::from_millis(e.created.as_millis().max(p + 1));
        }
        let bytes = Signed::sign(&root, e)?.to_bytes();
        self.edit(
            community,
            Edit::Govern(Action::Endorse { endorsement: bytes }),
        )
    }

    /// The community's endorsement graph as admission sees it, the query seeded at this member
    /// and the founders, the members, and whom the capacity flow from the founders admits
    /// (the `trust-flow` policy's answer, with its capacities or the default ones).
    fn trust_graph(
        &mut self,
        community: &CommunityId,
    ) -> Result<(
        EndorsementGraph,
        Query,
        Vec<MemberId>,
        std::collections::BTreeSet<MemberId>,
    )> {
        let me = self.member;
        let mut comm = self.community(community)?;
        let st = comm.state();
        let founders = comm.genesis().value().founders.clone();
        // The endorsements admission counts: admitted by the community (signer checked
        // there), not retired by an expiry action, by a current member.
        let mut book = EndorsementBook::new();
        for e in st.endorsements.latest() {
            if st.is_member(&e.value().from) {
                book.insert(e.clone());
            }
        }
        let mut g = EndorsementGraph::from_checked_book(&book, Some(community.0));
        let mut seed_members = vec![me];
        seed_members.extend(founders.iter().copied().filter(|f| *f != me));
        for m in st.members.keys() {
            g.seeds(&[*m])?;
        }
        let seeds = g.seeds(&seed_members)?;
        let members: Vec<MemberId> = st.members.keys().copied().collect();
        let capacities = match &st.policy {
            AdmissionPolicy::TrustFlow { capacities } => capacities.clone(),
            _ => qun_crdt::community::policy::DEFAULT_FLOW_CAPACITIES.to_vec(),
        };
        let flow = qun_crdt::community::flow::admitted(&st, &founders, community, &capacities);
        Ok((g, Query::new(seeds), members, flow))
    }

    /// Members ranked by trust from this member's point of view (and the founders').
    pub fn trust(&mut self, community: &CommunityId, top: usize) -> Result<Vec<TrustEntry>> {
        let (g, q, members, flow) = self.trust_graph(community)?;
        let r = rank(g.graph(), &q, None)?;
        Ok(r.top(top)
            .iter()
            .enumerate()
            .filter_map(|(i, n)| {
                let m = g.graph().label(*n)?;
                Some(TrustEntry {
                    rank: i + 1,
                    member: m.to_string(),
                    score: r.score(*n),
                    admitted: Some(flow.contains(m)),
                    is_member: members.contains(m),
                })
            })
            .collect())
    }

    /// Why a member has the trust it has.
    pub fn trust_why(&mut self, community: &CommunityId, member: &MemberId) -> Result<TrustWhy> {
        let (g, q, _, _) = self.trust_graph(community)?;
        let r = rank(g.graph(), &q, None)?;
        let node = g
            .node(member)
            .ok_or_else(|| Error::NotFound(format!("member {member} in the trust graph")))?;
        let ex = explain(g.graph(), &q, &r, node, 5)?;
        let name = |n: qun_trust::graph::Node| {
            g.graph()
                .label(n)
                .map(|m| m.to_string())
                .unwrap_or_default()
        };
        Ok(TrustWhy {
            member: member.to_string(),
            score: ex.score,
            admitted: ex.admitted,
            endorsers: ex
                .endorsers
                .iter()
                .map(|c| (name(c.from), c.weight, c.share))
                .collect(),
            paths: ex
                .paths
                .iter()
                .map(|p| (p.nodes.iter().map(|n| name(*n)).collect(), p.strength))
                .collect(),
        })
    }

    /// Posts of a channel, newest first.
    pub fn posts(
        &mut self,
        community: &CommunityId,
        channel: &ChannelId,
        limit: usize,
        before: Option<Timestamp>,
    ) -> Result<Vec<PostView>> {
        let mut comm = self.community(community)?;
        Ok(comm.posts(channel, limit, before)?)
    }

    /// Posts of a channel by members this member follows, newest first.
    pub fn posts_following(
        &mut self,
        community: &CommunityId,
        channel: &ChannelId,
        limit: usize,
        before: Option<Timestamp>,
    ) -> Result<Vec<PostView>> {
        let me = self.member;
        let mut comm = self.community(community)?;
        let follows: std::collections::BTreeSet<MemberId> =
            comm.follows(&me)?.into_iter().collect();
        let mut posts = comm.posts(channel, usize::MAX, before)?;
        posts.retain(|p| follows.contains(&p.author));
        posts.truncate(limit);
        Ok(posts)
    }

    /// A thread.
    pub fn thread(&mut self, community: &CommunityId, post: &PostId) -> Result<Vec<PostView>> {
        let mut comm = self.community(community)?;
        Ok(comm.thread(post)?)
    }

    /// Members.
    pub fn members(&mut self, community: &CommunityId) -> Result<Vec<MemberView>> {
        let mut comm = self.community(community)?;
        Ok(comm.members()?)
    }

    /// The community as Automerge documents (`(doc id, saved bytes)`).
    pub fn export(&mut self, community: &CommunityId) -> Result<Vec<(String, Vec<u8>)>> {
        let mut comm = self.community(community)?;
        Ok(comm
            .export()?
            .into_iter()
            .map(|(d, b)| (d.to_string(), b))
            .collect())
    }

    /// This node's identity: member, device, its certificate, and the devices of this member
    /// that communities' governance states know.
    pub fn identity(&mut self) -> IdentityInfo {
        let me = self.member;
        let device_cert = self.keys.cert(now()).ok().flatten().map(|c| {
            let v = c.value();
            DeviceCertInfo {
                device: v.device.to_string(),
                label: v.label.clone(),
                capabilities: v.capabilities.to_string(),
                not_before: v.not_before.as_millis(),
                expires: v.expires.map(|t| t.as_millis()),
            }
        });
        let ids: Vec<CommunityId> = self.repl.communities().copied().collect();
        let mut community_devices = Vec::new();
        for c in ids {
            let Some(mut comm) = self.repl.community(&c) else {
                continue;
            };
            let st = comm.state();
            let linked = st.devices.iter().map(|(d, l)| (d, l, false));
            let revoked = st.revoked.iter().map(|(d, l)| (d, l, true));
            for (device, link, revoked) in linked.chain(revoked) {
                if link.member == me {
                    community_devices.push(CommunityDevice {
                        community: c.to_string(),
                        device: device.to_string(),
                        capabilities: link.capabilities.to_string(),
                        not_before: link.not_before.as_millis(),
                        expires: link.expires.map(|t| t.as_millis()),
                        revoked,
                    });
                }
            }
        }
        IdentityInfo {
            member: me.to_string(),
            device: self.keys.device.device_id().to_string(),
            peer_id: self.peer_id().to_string(),
            holds_root: self.keys.root.is_some(),
            device_cert,
            community_devices,
        }
    }
}

/// This node's identity (`GET /api/v1/identity`).
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct IdentityInfo {
    /// Member id (root key).
    pub member: String,
    /// This device's id.
    pub device: String,
    /// libp2p peer id (from the device key).
    pub peer_id: String,
    /// Whether this device holds the member's root key (needed to create communities, invite
    /// and endorse).
    pub holds_root: bool,
    /// The root's certificate for this device (absent when the device key is the root).
    pub device_cert: Option<DeviceCertInfo>,
    /// This member's devices as the communities' governance states know them.
    pub community_devices: Vec<CommunityDevice>,
}

/// A device certificate, for display.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct DeviceCertInfo {
    /// The device.
    pub device: String,
    /// Its label ("laptop").
    pub label: String,
    /// Capabilities (`content+endorse+govern`).
    pub capabilities: String,
    /// Valid from, ms.
    pub not_before: u64,
    /// Valid until, ms.
    pub expires: Option<u64>,
}

/// A device linked to this member in one community.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct CommunityDevice {
    /// Community id.
    pub community: String,
    /// Device id.
    pub device: String,
    /// Capabilities.
    pub capabilities: String,
    /// Valid from, ms.
    pub not_before: u64,
    /// Valid until, ms.
    pub expires: Option<u64>,
    /// Revoked from this time on, ms.
    pub revoked: bool,
}
