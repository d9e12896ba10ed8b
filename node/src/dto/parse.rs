//! Ids and names typed by people or sent by clients, parsed once with an error that says what
//! a valid one looks like (the API answers 400 with this hint, the page shows it).

use crate::error::{Error, Result};
use qun_crdt::{AdmissionPolicy, ChannelId, CommunityId, PostId, Role};
use qun_identity::{DeviceId, MemberId};

/// A community id.
pub fn community(id: &str) -> Result<CommunityId> {
    id.parse().map_err(|_| Error::Invalid {
        reason: format!("not a community id: {id:?}"),
        hint: "ids look like b… (53 characters); see GET /api/v1/communities",
    })
}

/// A member id.
pub fn member(id: &str) -> Result<MemberId> {
    id.parse().map_err(|_| Error::Invalid {
        reason: format!("not a member id: {id:?}"),
        hint: "member ids look like z6Mk…",
    })
}

/// A post id.
pub fn post(id: &str) -> Result<PostId> {
    id.parse().map_err(|_| Error::Invalid {
        reason: format!("not a post id: {id:?}"),
        hint: "post ids look like <channel>/<window>/<key>",
    })
}

/// A channel id.
pub fn channel(id: &str) -> Result<ChannelId> {
    ChannelId::new(id).map_err(|e| Error::Invalid {
        reason: e.to_string(),
        hint: "channel ids are [a-z0-9-], e.g. general",
    })
}

/// A device id.
pub fn device(id: &str) -> Result<DeviceId> {
    id.parse().map_err(|_| Error::Invalid {
        reason: format!("not a device id: {id:?}"),
        hint: "device ids look like z6Mk…; `qun init --device` prints it on the new device",
    })
}

/// An admission policy: `open`, `invite`, `endorsements:K` or `trust-flow`.
pub fn policy(text: &str) -> Result<AdmissionPolicy> {
    text.parse().map_err(|e: qun_crdt::Error| Error::Invalid {
        reason: e.to_string(),
        hint: "policy: open, invite, endorsements:K or trust-flow",
    })
}

/// A role: `member`, `moderator` or a custom role.
pub fn role(text: &str) -> Result<Role> {
    text.parse().map_err(|e: qun_crdt::Error| Error::Invalid {
        reason: e.to_string(),
        hint: "roles: moderator, member, or a defined custom role",
    })
}
