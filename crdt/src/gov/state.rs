//! The materialized governance state at one frontier.

use crate::ids::{ChannelId, PostId};
use crate::model::action::ChannelSettings;
use crate::model::policy::{AdmissionPolicy, Perm, Role};
use qun_identity::{Capabilities, DeviceId, EndorsementBook, MemberId, Timestamp};
use std::collections::{BTreeMap, BTreeSet};

/// A device linked to a member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceLink {
    /// The member.
    pub member: MemberId,
    /// What the device may do.
    pub capabilities: Capabilities,
    /// Valid from.
    pub not_before: Timestamp,
    /// Valid until (exclusive).
    pub expires: Option<Timestamp>,
}

/// A hidden post.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HideInfo {
    /// The moderator.
    pub by: MemberId,
    /// Why.
    pub reason: String,
}

/// Where someone stands in a community.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemberStatus {
    /// A member with this role.
    Member(Role),
    /// Asked to join; not admitted (yet).
    Requested,
    /// Removed (the time is the removing change's clock, for display only).
    Removed(Timestamp),
    /// Left, or never asked.
    Outsider,
}

/// Governance facts at one frontier.
#[derive(Clone, Debug)]
pub struct GovState {
    /// Community name.
    pub name: String,
    /// Community description.
    pub description: String,
    /// Admission policy.
    pub policy: AdmissionPolicy,
    /// Current members and their roles.
    pub members: BTreeMap<MemberId, Role>,
    /// Join requests not admitted.
    pub requests: BTreeSet<MemberId>,
    /// Removed members and the time of their removal.
    pub removed: BTreeMap<MemberId, Timestamp>,
    /// Who removed each removed member, and why (the removal that counts).
    pub removals: BTreeMap<MemberId, HideInfo>,
    /// Linked, unrevoked devices.
    pub devices: BTreeMap<DeviceId, DeviceLink>,
    /// Revoked (or expired) devices and their last link: their writes that do not causally
    /// precede the revocation are void.
    pub revoked: BTreeMap<DeviceId, DeviceLink>,
    /// Channels.
    pub channels: BTreeMap<ChannelId, ChannelSettings>,
    /// Custom roles.
    pub role_defs: BTreeMap<String, BTreeSet<Perm>>,
    /// Hidden posts.
    pub hidden: BTreeMap<PostId, HideInfo>,
    /// Pinned posts.
    pub pinned: BTreeSet<PostId>,
    /// Endorsements published in the community (latest per slot; expired ones left out).
    pub endorsements: EndorsementBook,
    /// Invitations retired by an expiry action: `(inviter, nonce)`.
    pub expired_invitations: BTreeSet<(MemberId, [u8; 16])>,
    /// Bearer invitations already used: nonce → the member admitted with it.
    pub used_invitations: BTreeMap<[u8; 16], MemberId>,
    /// The market: policy, listings, deals and reviews (`docs/market.md`).
    pub market: crate::market::MarketState,
    /// The ledger's policy, proposals, votes and bounties (`docs/ledger.md`).
    pub ledger: crate::ledger::LedgerState,
}

impl GovState {
    /// Where `m` stands.
    pub fn status(&self, m: &MemberId) -> MemberStatus {
        if let Some(r) = self.members.get(m) {
            MemberStatus::Member(r.clone())
        } else if let Some(t) = self.removed.get(m) {
            MemberStatus::Removed(*t)
        } else if self.requests.contains(m) {
            MemberStatus::Requested
        } else {
            MemberStatus::Outsider
        }
    }

    /// Whether `m` is a member.
    pub fn is_member(&self, m: &MemberId) -> bool {
        self.members.contains_key(m)
    }

    /// The role of a member.
    pub fn role(&self, m: &MemberId) -> Option<&Role> {
        self.members.get(m)
    }

    /// Permissions of a member (empty for non-members and for undefined custom roles).
    pub fn perms(&self, m: &MemberId) -> BTreeSet<Perm> {
        match self.members.get(m) {
            None => BTreeSet::new(),
            Some(role) => self.role_perms(role),
        }
    }

    /// Whether member `m` holds permission `p`.
    pub fn can(&self, m: &MemberId, p: Perm) -> bool {
        self.perms(m).contains(&p)
    }

    /// The permissions a role grants in this state.
    pub fn role_perms(&self, role: &Role) -> BTreeSet<Perm> {
        role.builtin_perms().unwrap_or_else(|| match role {
            Role::Custom(name) => self.role_defs.get(name).cloned().unwrap_or_default(),
            _ => BTreeSet::new(),
        })
    }

    /// The member a device acts for: a member's root key acts for itself; a linked (or
    /// revoked) device for its member; any other key only for itself, as an outsider.
    pub fn member_of(&self, device: &DeviceId) -> MemberId {
        let as_member = MemberId(*device.key());
        if self.members.contains_key(&as_member)
            || self.removed.contains_key(&as_member)
            || self.requests.contains(&as_member)
        {
            return as_member;
        }
        self.devices
            .get(device)
            .or_else(|| self.revoked.get(device))
            .map(|l| l.member)
            .unwrap_or(as_member)
    }
}
