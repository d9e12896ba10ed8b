//! Joining: asking to join once caught up, a new device linking itself, and where a join
//! stands (for the page and the CLI), with a way to give up.

use super::*;
use serde::{Deserialize, Serialize};

/// Where a join stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum JoinProgress {
    /// No peer known to hold the community yet: connecting to the inviter, looking for
    /// members (mDNS, the DHT, relays).
    Connecting,
    /// Asked `peers` peers for the community; waiting for an answer.
    Fetching {
        /// Peers asked.
        peers: usize,
    },
    /// The community is here; catching up before asking to join.
    CatchingUp {
        /// Changes held so far.
        changes: usize,
        /// Peers syncing with us.
        peers: usize,
    },
    /// Asked to join; the admission policy has not admitted us (yet).
    Waiting {
        /// The policy (`invite`, `endorsements:2`, `trust-flow`...).
        policy: String,
    },
    /// A member.
    Member,
    /// The join cannot complete as it is.
    Refused {
        /// Why, in one line.
        reason: String,
        /// What to do about it.
        hint: String,
    },
}

/// A join in progress, kept until it succeeds or is cancelled.
#[derive(Debug, Clone)]
pub(super) struct JoinTrack {
    /// When it started.
    pub(super) since: Timestamp,
    /// Why our last join change could not be made.
    pub(super) error: Option<String>,
}

impl<P: Peer> Replicator<P> {
    /// Where the join of `id` stands, if one was started (and not cancelled).
    pub fn join_progress(&mut self, id: &CommunityId) -> Option<JoinProgress> {
        let track = self.joins.get(id)?.clone();
        if let Some(j) = self.joining.get(id)
            && !self.communities.contains_key(id)
        {
            if j.peers.is_empty() {
                return Some(JoinProgress::Connecting);
            }
            if j.peers.iter().all(|p| j.denied.contains(p)) {
                return Some(JoinProgress::Refused {
                    reason: "the members reached do not let this node read the community".into(),
                    hint: "check the invite code is for you and not expired; an invite-only community needs a valid invitation".into(),
                });
            }
            return Some(JoinProgress::Fetching {
                peers: j.peers.len(),
            });
        }
        let status = self.status_of(id);
        let peers = self.peers(id).len();
        let e = self.communities.get_mut(id)?;
        Some(match status {
            MemberStatus::Member(_) => JoinProgress::Member,
            MemberStatus::Requested => JoinProgress::Waiting {
                policy: e.community.state().policy.name(),
            },
            MemberStatus::Removed(_) => JoinProgress::Refused {
                reason: "you were removed from this community".into(),
                hint:
                    "being admitted again is the community's decision: ask a moderator to admit you"
                        .into(),
            },
            MemberStatus::Outsider => match track.error {
                Some(reason) if !self.joining.contains_key(id) || peers > 0 => {
                    JoinProgress::Refused {
                        reason,
                        hint:
                            "ask a member for an invite code (or an endorsement), then join again"
                                .into(),
                    }
                }
                _ => JoinProgress::CatchingUp {
                    changes: e.community.total_changes(),
                    peers,
                },
            },
        })
    }

    /// When the join of `id` started.
    pub fn join_started(&self, id: &CommunityId) -> Option<Timestamp> {
        self.joins.get(id).map(|t| t.since)
    }

    /// Stop trying to join `id` (the community, if it was fetched, stays held).
    pub fn cancel_join(&mut self, id: &CommunityId) -> bool {
        let had = self.joins.remove(id).is_some();
        had | self.joining.remove(id).is_some()
    }

    /// After catching up while joining, ask to join (once).
    pub(super) fn try_join(&mut self, now: Timestamp, id: &CommunityId, peer: &P) {
        let Some(invitation) = self.joining.get(id).map(|j| j.invitation.clone()) else {
            return;
        };
        match self.status_of(id) {
            MemberStatus::Outsider => {}
            MemberStatus::Member(_) => {
                // Our member is in already: a new device of it links itself.
                self.joining.remove(id);
                self.link_self(now, id, peer);
                return;
            }
            _ => {
                self.joining.remove(id);
                return;
            }
        }
        let (invitation, proof) = match &invitation {
            Some(k) => k.for_join(&self.member),
            None => (None, None),
        };
        let action = Action::Join {
            cert: self.cert.clone(),
            invitation,
            proof,
        };
        match self.edit(now, id, Edit::Govern(action)) {
            Ok(lc) => {
                self.joining.remove(id);
                // Gossip may have no mesh yet: hand the request to the peer directly too.
                self.push_to(id, peer, lc);
            }
            Err(error) => {
                // Not admitted by the state we have; a later sync may bring what is missing.
                if let Some(t) = self.joins.get_mut(id) {
                    t.error = Some(error.to_string());
                }
                self.push(Output::Event(Event::Rejected {
                    community: Some(*id),
                    from: peer.clone(),
                    error,
                }));
            }
        }
    }

    /// Hand a change of ours to `peer` directly, as a sync push.
    fn push_to(&mut self, id: &CommunityId, peer: &P, lc: LocalChange) {
        let req = SyncRequest::Push {
            community: *id,
            docs: vec![(
                lc.accepted.doc,
                vec![WireChange {
                    bytes: lc.bytes,
                    sig: lc.sig,
                }],
            )],
        };
        self.push(Output::SyncSend {
            to: peer.clone(),
            community: *id,
            bytes: wire::encode(&req),
        });
    }

    /// Announce this device's link (signed by the device itself, carrying its root-signed
    /// certificate) when the community does not know it yet, and hand it to `peer` directly.
    pub(super) fn link_self(&mut self, now: Timestamp, id: &CommunityId, peer: &P) {
        let Some(cert) = self.cert.clone() else {
            return;
        };
        let device = self.key.device_id();
        let known = self
            .communities
            .get_mut(id)
            .is_some_and(|e| e.community.state().devices.contains_key(&device));
        if known {
            return;
        }
        match self.edit(now, id, Edit::Govern(Action::LinkDevice { cert })) {
            Ok(lc) => self.push_to(id, peer, lc),
            Err(error) => self.push(Output::Event(Event::Rejected {
                community: Some(*id),
                from: peer.clone(),
                error,
            })),
        }
    }
}
