//! One community: its summary, what the API shows of it, the snapshot a page renders from, and
//! the small answers of operations on it.

use super::member::MemberStatus;
use qun_crdt::{AdmissionPolicy, ChannelId, ChannelView, Perm};
use qun_identity::{MemberId, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One community, briefly.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CommunitySummary {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Our status: `member:<role>`, `requested`, `removed`, `outsider`.
    pub status: MemberStatus,
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

/// A community as `GET /api/v1/communities/{id}` shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CommunityInfo {
    /// The summary.
    #[serde(flatten)]
    pub summary: CommunitySummary,
    /// Description.
    pub description: String,
    /// Channels.
    pub channels: Vec<ChannelView>,
    /// Founders.
    pub founders: Vec<String>,
    /// When this member was removed: by whom (`by`) and why (`reason`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<Removal>,
}

/// Who removed a member and why.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Removal {
    /// The member who removed.
    pub by: String,
    /// Why (may be empty).
    pub reason: String,
}

impl From<CommunityView> for CommunityInfo {
    fn from(v: CommunityView) -> Self {
        CommunityInfo {
            summary: v.summary,
            description: v.description,
            channels: v.channels,
            founders: v.founders.iter().map(|f| f.to_string()).collect(),
            removed: v.my_removal.map(|r| Removal {
                by: r.by.to_string(),
                reason: r.reason,
            }),
        }
    }
}

/// One community from this member's point of view, read in one go on the driver: what a page
/// about it needs besides posts and trust.
#[derive(Clone, Debug)]
pub struct CommunityView {
    /// The summary (name, our status, counts, policy).
    pub summary: CommunitySummary,
    /// Description.
    pub description: String,
    /// Founders, from the genesis.
    pub founders: Vec<MemberId>,
    /// Channels.
    pub channels: Vec<ChannelView>,
    /// This node's member.
    pub me: MemberId,
    /// Whether this device holds the member's root key (which signs endorsements).
    pub holds_root: bool,
    /// What this member may do here.
    pub perms: BTreeSet<Perm>,
    /// The admission policy.
    pub policy: AdmissionPolicy,
    /// Custom roles and their permissions.
    pub role_defs: BTreeMap<String, BTreeSet<Perm>>,
    /// Members asking to join.
    pub requests: Vec<MemberId>,
    /// Display names members chose in their profiles (trimmed, never empty).
    pub names: BTreeMap<MemberId, String>,
    /// Every member's role.
    pub roles: BTreeMap<MemberId, qun_crdt::Role>,
    /// The node's clock when the view was taken.
    pub now: Timestamp,
    /// When this member was removed: by whom and why.
    pub my_removal: Option<qun_crdt::gov::HideInfo>,
}

impl CommunityView {
    /// Whether this member may `p`.
    pub fn can(&self, p: Perm) -> bool {
        self.perms.contains(&p)
    }

    /// A member's rank (founder 3, moderator 2, others 1, not a member 0), as the
    /// community's rules use it.
    pub fn rank(&self, m: &MemberId) -> u8 {
        self.roles.get(m).map_or(0, qun_crdt::Role::rank)
    }
}

/// Which posts of a channel (`GET /api/v1/communities/{id}/posts`).
#[derive(Clone, Debug)]
pub struct PostQuery {
    /// The channel.
    pub channel: ChannelId,
    /// At most this many, newest first.
    pub limit: usize,
    /// Only posts created before this time (paging).
    pub before: Option<Timestamp>,
    /// Only posts by members this member follows.
    pub following: bool,
}

/// The result of an edit.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EditDone {
    /// Change hash.
    pub hash: String,
    /// The new post, for posts.
    pub post: Option<String>,
}

/// A community created or joined.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Created {
    /// Its id.
    pub id: String,
}

/// An invite code.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Code {
    /// `qun1…`.
    pub code: String,
}

/// Whether a join was cancelled (`DELETE /api/v1/communities/{id}/join`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JoinCancelled {
    /// A join was in progress and stopped.
    pub cancelled: bool,
}

/// A community's Automerge documents: `(doc id, saved bytes)`.
pub type Documents = Vec<(String, Vec<u8>)>;

/// One exported document.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExportDoc {
    /// Document id.
    pub doc: String,
    /// Automerge bytes, base64.
    pub automerge: String,
}

/// A fresh one-time login path (`POST /api/v1/login-link`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LoginLink {
    /// `/login?code=…`.
    pub path: String,
}

/// A device code for a new device (`POST /api/v1/devices/link`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeviceLinked {
    /// `qund1…`.
    pub code: String,
}

/// In how many communities a device was revoked (`POST /api/v1/devices/revoke`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DevicesRevoked {
    /// Communities.
    pub communities: usize,
}
