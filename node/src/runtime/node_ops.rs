//! Operations on the node as a whole, run on the driver's task: status, identity, peers, joins,
//! creating and joining communities, invite codes, dialling.

use super::driver::Driver;
use crate::dto::{
    CommunityDevice, CommunitySummary, DeviceCertInfo, IdentityInfo, JoinInfo, MemberStatus,
    PeerInfo, Status,
};
use crate::error::{Error, Result};
use crate::invite::InviteCode;
use libp2p::{Multiaddr, PeerId};
use qun_crdt::community::genesis::{DEFAULT_WINDOW_MS, Genesis};
use qun_crdt::{AdmissionPolicy, CommunityGenesis, CommunityId};
use qun_identity::{Invitation, MemberId, SecretIdentity, Signed};
use std::collections::{BTreeMap, BTreeSet};

/// DHT servers (bootstrap nodes) an invite code names besides the inviter.
pub const INVITE_BOOTSTRAP: usize = 4;

impl Driver {
    /// The member's root key, or why it is needed.
    pub(super) fn root(&self) -> Result<&SecretIdentity> {
        self.keys.root.as_ref().ok_or_else(|| {
            Error::Config(
                "this device does not hold the member's root key (needed to sign this)".into(),
            )
        })
    }

    /// `Err` while a store write has failed (see `super::recover`).
    pub(super) fn store_ok(&self) -> Result<()> {
        match &self.store_failed {
            Some(e) => Err(Error::StoreFailed(e.clone())),
            None => Ok(()),
        }
    }

    /// Run the outputs of a local change now (persist and flush first) and tell whether it
    /// was stored: a change whose persist failed is neither published nor reported, and the
    /// caller must answer with an error, not success.
    pub(super) fn persisted(&mut self) -> Result<()> {
        self.execute();
        self.store_ok()
    }

    /// Node status.
    pub(super) fn status(&mut self) -> Status {
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
            catching_up: self.write_hold.is_some(),
            limits: self.load.hits.snapshot(),
        }
    }

    /// Every join in progress and where it stands.
    pub(super) fn joins(&mut self) -> Vec<JoinInfo> {
        let ids: BTreeSet<CommunityId> = self
            .repl
            .communities()
            .chain(self.repl.joining())
            .copied()
            .collect();
        let t = self.now();
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

    /// One community's summary (`None`: not held).
    pub(super) fn summary(&mut self, c: &CommunityId) -> Option<CommunitySummary> {
        let peers = self.repl.peers(c).len();
        let me = self.member;
        let mut comm = self.repl.community(c)?;
        let st = comm.state();
        Some(CommunitySummary {
            id: c.to_string(),
            name: st.name.clone(),
            status: MemberStatus::from(&st.status(&me)),
            members: st.members.len(),
            changes: comm.total_changes(),
            peers,
            policy: st.policy.name(),
            topic: crate::net::topic::topic(c).to_string(),
        })
    }

    /// Connected peers.
    pub(super) fn peers(&self) -> Vec<PeerInfo> {
        let gs = &self.swarm.behaviour().gossipsub;
        let mut subs: BTreeMap<PeerId, Vec<String>> = BTreeMap::new();
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

    /// This node's identity: member, device, its certificate, and the devices of this member
    /// that communities' governance states know.
    pub(super) fn identity(&mut self) -> IdentityInfo {
        let me = self.member;
        let device_cert = self.keys.cert(self.now()).ok().flatten().map(|c| {
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

    /// The backup phrase of the root key held here.
    pub(super) fn backup_phrase(&self) -> Option<String> {
        self.keys.root.as_ref().map(crate::keystore::phrase_of)
    }

    /// Create a community with this member as founder.
    pub(super) fn create_community(
        &mut self,
        name: &str,
        description: &str,
        policy: AdmissionPolicy,
    ) -> Result<CommunityId> {
        self.writable()?;
        let root = self.root()?.clone();
        let nonce: [u8; 16] = rand::random();
        let t = self.now();
        let g = Genesis {
            name: name.to_string(),
            description: description.to_string(),
            founders: vec![root.member_id()],
            policy,
            window_ms: DEFAULT_WINDOW_MS,
            created: t,
            nonce,
        };
        let signed = Signed::sign(&root, g)?;
        let id = self.repl.create(t, CommunityGenesis::new(signed))?;
        self.persisted()?;
        Ok(id)
    }

    /// An invite code for `community`: this node's addresses, and a signed invitation (for
    /// `invitee`, or a single-use bearer one) valid for `valid_ms`.
    pub(super) fn invite(
        &mut self,
        community: &CommunityId,
        invitee: Option<MemberId>,
        valid_ms: Option<u64>,
    ) -> Result<String> {
        if self.repl.community(community).is_none() {
            return Err(Error::NotFound(format!("community {community}")));
        }
        let root = self.root()?.clone();
        let t = self.now();
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
    fn invite_addrs(&self) -> Vec<Multiaddr> {
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
    pub(super) fn join(&mut self, code: &str) -> Result<CommunityId> {
        let code = InviteCode::decode(code)?;
        let me = self.peer_id();
        let named: BTreeSet<PeerId> = code
            .multiaddrs()
            .iter()
            .filter_map(|a| {
                a.iter().find_map(|p| match p {
                    libp2p::multiaddr::Protocol::P2p(id) => Some(id),
                    _ => None,
                })
            })
            .filter(|p| *p != me)
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
        let t = self.now();
        self.repl.join(t, code.community, key)?;
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
    pub(super) fn cancel_join(&mut self, community: &CommunityId) -> Result<bool> {
        self.join_peers.remove(community);
        let had = self.repl.cancel_join(community);
        self.store.set_joining(community, None)?;
        Ok(had)
    }

    /// Dial an address.
    pub(super) fn dial(&mut self, addr: Multiaddr) -> Result<()> {
        self.swarm
            .dial(addr.clone())
            .map_err(|e| Error::Network(format!("dial {addr}: {e}")))
    }
}
