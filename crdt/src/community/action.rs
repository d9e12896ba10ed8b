//! Actions: what a change means. One local edit = one action = one Automerge change, whose
//! message carries the action (JSON, stable dotted tags) and, for content documents, the
//! governance heads it was authorized against.

use super::policy::{AdmissionPolicy, Perm, Role};
use crate::error::{Error, Result};
use crate::ids::{ChannelId, Hash, PostId};
use qun_identity::MemberId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Version of the change message format.
pub const META_VERSION: u8 = 1;
/// Longest reason / title / description text in an action, bytes.
pub const MAX_ACTION_TEXT: usize = 2_000;
/// Longest reaction, bytes (an emoji or a short word).
pub const MAX_EMOJI: usize = 32;
/// Most governance heads a content change may cite.
pub const MAX_CITED_HEADS: usize = 32;

/// Bytes as standard base64 inside JSON.
mod b64 {
    use serde::{Deserialize, Deserializer, Serializer};
    pub(super) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&data_encoding::BASE64.encode(v))
    }
    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        data_encoding::BASE64
            .decode(s.as_bytes())
            .map_err(serde::de::Error::custom)
    }
    pub(super) mod opt {
        use serde::{Deserialize, Deserializer, Serializer};
        pub(crate) fn serialize<S: Serializer>(
            v: &Option<Vec<u8>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match v {
                Some(b) => super::serialize(b, s),
                None => s.serialize_none(),
            }
        }
        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<Vec<u8>>, D::Error> {
            let s = Option::<String>::deserialize(d)?;
            s.map(|s| {
                data_encoding::BASE64
                    .decode(s.as_bytes())
                    .map_err(serde::de::Error::custom)
            })
            .transpose()
        }
    }
}

/// Channel settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelSettings {
    /// Display title.
    pub title: String,
    /// What the channel is for.
    pub description: String,
    /// Only founders and moderators may post (replies and reactions stay open).
    pub announce: bool,
    /// Closed: nobody posts any more.
    pub archived: bool,
}

/// What a change does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t")]
pub enum Action {
    /// Ask to join (or join, if the policy admits). Carries the device certificate when the
    /// device is not the member's root key, and an invitation when there is one.
    #[serde(rename = "member.join")]
    Join {
        /// Device certificate envelope.
        #[serde(default, with = "b64::opt", skip_serializing_if = "Option::is_none")]
        cert: Option<Vec<u8>>,
        /// Invitation envelope.
        #[serde(default, with = "b64::opt", skip_serializing_if = "Option::is_none")]
        invitation: Option<Vec<u8>>,
    },
    /// Admit a member by hand.
    #[serde(rename = "member.admit")]
    Admit {
        /// Who.
        member: MemberId,
    },
    /// Remove a member.
    #[serde(rename = "member.remove")]
    Remove {
        /// Who.
        member: MemberId,
        /// Why.
        reason: String,
    },
    /// Leave the community.
    #[serde(rename = "member.leave")]
    Leave,
    /// Give a member a role.
    #[serde(rename = "member.role")]
    SetRole {
        /// Who.
        member: MemberId,
        /// The role.
        role: Role,
    },
    /// Define (or redefine) a custom role.
    #[serde(rename = "role.define")]
    DefineRole {
        /// Role name.
        name: String,
        /// What it may do.
        perms: BTreeSet<Perm>,
    },
    /// Change the admission policy.
    #[serde(rename = "policy.set")]
    SetPolicy {
        /// The new policy.
        policy: AdmissionPolicy,
    },
    /// Change name and description.
    #[serde(rename = "meta.set")]
    SetMeta {
        /// Name.
        name: String,
        /// Description.
        description: String,
    },
    /// Create or change a channel.
    #[serde(rename = "channel.set")]
    SetChannel {
        /// Which.
        channel: ChannelId,
        /// Its settings.
        settings: ChannelSettings,
    },
    /// Link a device to its member (certificate signed by the member's root).
    #[serde(rename = "device.link")]
    LinkDevice {
        /// Device certificate envelope.
        #[serde(with = "b64")]
        cert: Vec<u8>,
    },
    /// Revoke a device (revocation signed by the member's root).
    #[serde(rename = "device.revoke")]
    RevokeDevice {
        /// Revocation envelope.
        #[serde(with = "b64")]
        revocation: Vec<u8>,
    },
    /// Publish an endorsement in this community.
    #[serde(rename = "endorse")]
    Endorse {
        /// Endorsement envelope.
        #[serde(with = "b64")]
        endorsement: Vec<u8>,
    },
    /// Hide a post (moderation).
    #[serde(rename = "post.hide")]
    Hide {
        /// Which post.
        post: PostId,
        /// Why.
        reason: String,
    },
    /// Undo a hide.
    #[serde(rename = "post.unhide")]
    Unhide {
        /// Which post.
        post: PostId,
    },
    /// Write one's profile (data in the slot's `profile` section).
    #[serde(rename = "profile.set")]
    Profile,
    /// Follow or unfollow a member (data in the slot's `follows` section).
    #[serde(rename = "follow")]
    Follow {
        /// Whom.
        member: MemberId,
        /// Follow (true) or unfollow.
        on: bool,
    },
    /// Write a new post or reply (data in the slot's `posts` section).
    #[serde(rename = "post.create")]
    Post {
        /// Its key.
        key: String,
    },
    /// Edit one's post.
    #[serde(rename = "post.edit")]
    Edit {
        /// Its key.
        key: String,
    },
    /// Delete one's post.
    #[serde(rename = "post.delete")]
    Delete {
        /// Its key.
        key: String,
    },
    /// React to a post (data in the slot's `reactions` section).
    #[serde(rename = "react")]
    React {
        /// Which post.
        post: PostId,
        /// The reaction.
        emoji: String,
        /// Add (true) or take back.
        on: bool,
    },
}

/// The section of a device slot an action may write, or `None` for actions that carry
/// everything in the message and must have no operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Section {
    /// `posts`.
    Posts,
    /// `reactions`.
    Reactions,
    /// `profile`.
    Profile,
    /// `follows`.
    Follows,
}

impl Section {
    /// The slot key of the section.
    pub fn key(self) -> &'static str {
        use super::schema::*;
        match self {
            Section::Posts => POSTS,
            Section::Reactions => REACTIONS,
            Section::Profile => PROFILE,
            Section::Follows => FOLLOWS,
        }
    }

    /// The section named by a slot key.
    pub fn from_key(k: &str) -> Option<Section> {
        [
            Section::Posts,
            Section::Reactions,
            Section::Profile,
            Section::Follows,
        ]
        .into_iter()
        .find(|s| s.key() == k)
    }
}

impl Action {
    /// The stable tag (`"post.create"`).
    pub fn tag(&self) -> &'static str {
        match self {
            Action::Join { .. } => "member.join",
            Action::Admit { .. } => "member.admit",
            Action::Remove { .. } => "member.remove",
            Action::Leave => "member.leave",
            Action::SetRole { .. } => "member.role",
            Action::DefineRole { .. } => "role.define",
            Action::SetPolicy { .. } => "policy.set",
            Action::SetMeta { .. } => "meta.set",
            Action::SetChannel { .. } => "channel.set",
            Action::LinkDevice { .. } => "device.link",
            Action::RevokeDevice { .. } => "device.revoke",
            Action::Endorse { .. } => "endorse",
            Action::Hide { .. } => "post.hide",
            Action::Unhide { .. } => "post.unhide",
            Action::Profile => "profile.set",
            Action::Follow { .. } => "follow",
            Action::Post { .. } => "post.create",
            Action::Edit { .. } => "post.edit",
            Action::Delete { .. } => "post.delete",
            Action::React { .. } => "react",
        }
    }

    /// Whether the action belongs in the governance document (else in a content document).
    pub fn is_governance(&self) -> bool {
        !matches!(
            self,
            Action::Post { .. }
                | Action::Edit { .. }
                | Action::Delete { .. }
                | Action::React { .. }
        )
    }

    /// The slot section the action writes, if it writes data.
    pub fn section(&self) -> Option<Section> {
        match self {
            Action::Profile => Some(Section::Profile),
            Action::Follow { .. } => Some(Section::Follows),
            Action::Post { .. } | Action::Edit { .. } | Action::Delete { .. } => {
                Some(Section::Posts)
            }
            Action::React { .. } => Some(Section::Reactions),
            _ => None,
        }
    }

    /// Rules on the action's own fields.
    pub fn check(&self) -> Result<()> {
        let text = |what: &'static str, s: &str| {
            if s.len() > MAX_ACTION_TEXT {
                Err(Error::decode(
                    "action",
                    format!("{what} longer than {MAX_ACTION_TEXT} bytes"),
                ))
            } else {
                Ok(())
            }
        };
        match self {
            Action::Remove { reason, .. } | Action::Hide { reason, .. } => text("reason", reason),
            Action::SetMeta { name, description } => {
                if name.trim().is_empty() || name.len() > super::genesis::MAX_NAME {
                    return Err(Error::decode("action", "name must be 1-80 bytes"));
                }
                text("description", description)
            }
            Action::SetChannel { settings, .. } => {
                if settings.title.len() > 80 {
                    return Err(Error::decode(
                        "action",
                        "channel title longer than 80 bytes",
                    ));
                }
                text("description", &settings.description)
            }
            Action::DefineRole { name, .. } => Role::custom(name).map(|_| ()),
            Action::SetRole { role, .. } if *role == Role::Founder => {
                Err(Error::decode("action", "founders are fixed by the genesis"))
            }
            Action::SetPolicy { policy } => policy.check(),
            Action::React { emoji, .. } => {
                if emoji.is_empty() || emoji.len() > MAX_EMOJI {
                    Err(Error::decode("action", "reaction must be 1-32 bytes"))
                } else {
                    Ok(())
                }
            }
            Action::Post { key } | Action::Edit { key } | Action::Delete { key } => {
                let ok = !key.is_empty()
                    && key.len() <= crate::ids::MAX_POST_KEY
                    && key
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
                if ok {
                    Ok(())
                } else {
                    Err(Error::decode("action", "post key must be 1-40 of [a-z0-9]"))
                }
            }
            _ => Ok(()),
        }
    }
}

/// The message of every qun change (JSON): version, action, cited governance heads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeMeta {
    /// Format version ([`META_VERSION`]).
    pub v: u8,
    /// The action.
    pub a: Action,
    /// Governance heads the change was authorized against (content documents only; a
    /// governance change is authorized at its own dependencies).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub g: Vec<String>,
}

impl ChangeMeta {
    /// Encode as the change message.
    pub fn encode(action: &Action, gov_heads: &[Hash]) -> String {
        let meta = ChangeMeta {
            v: META_VERSION,
            a: action.clone(),
            g: gov_heads.iter().map(|h| h.to_string()).collect(),
        };
        // Serializing plain data with string keys cannot fail.
        serde_json::to_string(&meta).unwrap_or_default()
    }

    /// Decode a change message: the action and the cited heads.
    pub fn decode(message: Option<&str>) -> Result<(Action, Vec<Hash>)> {
        let m = message.ok_or_else(|| Error::decode("change message", "missing"))?;
        let meta: ChangeMeta =
            serde_json::from_str(m).map_err(|e| Error::decode("change message", e))?;
        if meta.v != META_VERSION {
            return Err(Error::Version {
                what: "change message",
                version: meta.v,
            });
        }
        if meta.g.len() > MAX_CITED_HEADS {
            return Err(Error::TooLarge {
                what: "cited governance heads",
                limit: MAX_CITED_HEADS,
                actual: meta.g.len(),
            });
        }
        meta.a.check()?;
        let mut heads = meta
            .g
            .iter()
            .map(|s| crate::ids::parse_hash(s))
            .collect::<Result<Vec<_>>>()?;
        heads.sort();
        heads.dedup();
        Ok((meta.a, heads))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_round_trip() {
        let a = Action::React {
            post: "general/1/abc".parse().unwrap(),
            emoji: "👍".into(),
            on: true,
        };
        let h = automerge::ChangeHash([7; 32]);
        let m = ChangeMeta::encode(&a, &[h]);
        assert!(m.contains("\"t\":\"react\""), "{m}");
        assert_eq!(ChangeMeta::decode(Some(&m)).unwrap(), (a, vec![h]));
        assert!(ChangeMeta::decode(None).is_err());
        assert!(ChangeMeta::decode(Some("{\"v\":9,\"a\":{\"t\":\"member.leave\"}}")).is_err());
        assert!(ChangeMeta::decode(Some("{\"v\":1,\"a\":{\"t\":\"nope\"}}")).is_err());
        let j = Action::Join {
            cert: Some(vec![1, 2, 3]),
            invitation: None,
        };
        let m = ChangeMeta::encode(&j, &[]);
        assert_eq!(ChangeMeta::decode(Some(&m)).unwrap().0, j);
    }
}
