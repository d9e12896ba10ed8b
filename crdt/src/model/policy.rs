//! Roles, permissions and the admission policy, as data stored in the governance document.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// One thing a member may do in a community.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Perm {
    /// Write posts and replies (in channels open to the role).
    Post,
    /// React to posts.
    React,
    /// Issue invitations.
    Invite,
    /// Admit people who asked to join.
    Admit,
    /// Remove members (not founders or moderators).
    Remove,
    /// Hide and unhide posts.
    Hide,
    /// Create and edit channels.
    Channels,
    /// Assign roles and define custom roles.
    Roles,
    /// Change the admission policy.
    Policy,
    /// Change the community's name and description.
    Meta,
}

impl Perm {
    /// Every permission.
    pub const ALL: [Perm; 10] = [
        Perm::Post,
        Perm::React,
        Perm::Invite,
        Perm::Admit,
        Perm::Remove,
        Perm::Hide,
        Perm::Channels,
        Perm::Roles,
        Perm::Policy,
        Perm::Meta,
    ];
}

/// Longest custom role name, bytes.
pub const MAX_ROLE_NAME: usize = 32;

/// A member's role.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Named in the genesis; holds every permission; cannot be removed.
    Founder,
    /// Moderation: admit, remove members, hide posts, manage channels, invite.
    Moderator,
    /// Post, react, invite.
    Member,
    /// A role defined by the founders, with its own permission set (see `role.define`).
    Custom(String),
}

impl Role {
    /// Permissions of the built-in roles; custom roles are looked up in the governance state.
    pub fn builtin_perms(&self) -> Option<BTreeSet<Perm>> {
        use Perm::*;
        match self {
            Role::Founder => Some(Perm::ALL.into_iter().collect()),
            Role::Moderator => Some(
                [Post, React, Invite, Admit, Remove, Hide, Channels]
                    .into_iter()
                    .collect(),
            ),
            Role::Member => Some([Post, React, Invite].into_iter().collect()),
            Role::Custom(_) => None,
        }
    }

    /// Rank used when one role acts on another: founders > moderators > everyone else.
    pub fn rank(&self) -> u8 {
        match self {
            Role::Founder => 3,
            Role::Moderator => 2,
            Role::Member | Role::Custom(_) => 1,
        }
    }

    /// Check a custom role name.
    pub fn custom(name: &str) -> Result<Self> {
        let ok = !name.is_empty()
            && name.len() <= MAX_ROLE_NAME
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !matches!(name, "founder" | "moderator" | "member");
        if ok {
            Ok(Role::Custom(name.to_string()))
        } else {
            Err(Error::decode(
                "role",
                "custom role names are [a-z0-9-], 1-32 bytes, not a built-in name",
            ))
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Founder => f.write_str("founder"),
            Role::Moderator => f.write_str("moderator"),
            Role::Member => f.write_str("member"),
            Role::Custom(n) => f.write_str(n),
        }
    }
}

impl fmt::Debug for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Role({self})")
    }
}

impl std::str::FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "founder" => Ok(Role::Founder),
            "moderator" => Ok(Role::Moderator),
            "member" => Ok(Role::Member),
            other => Role::custom(other),
        }
    }
}

/// Default Advogato capacities by distance from the founders.
pub const DEFAULT_FLOW_CAPACITIES: [u32; 7] = [800, 200, 50, 12, 4, 2, 1];

/// Who may become a member without a moderator admitting them by hand.
///
/// Whatever the policy, a member with [`Perm::Admit`] can always admit a join request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdmissionPolicy {
    /// Anyone who asks.
    Open,
    /// Whoever presents a valid invitation from a member allowed to invite.
    Invite,
    /// Whoever holds at least `k` positive endorsements from current members (general topic or
    /// topic `membership`, global or scoped to this community).
    Endorsements {
        /// How many distinct endorsing members.
        k: u16,
    },
    /// Whoever the trust engine admits: Advogato capacity flow from the founders over the
    /// community's endorsement graph.
    TrustFlow {
        /// Capacity by distance from the founders (800/200/50/12/4/2/1 by default).
        capacities: Vec<u32>,
    },
}

impl AdmissionPolicy {
    /// Rules of the policy itself.
    pub fn check(&self) -> Result<()> {
        match self {
            AdmissionPolicy::Endorsements { k } if *k == 0 => Err(Error::decode(
                "policy",
                "k must be at least 1 (use open instead)",
            )),
            AdmissionPolicy::TrustFlow { capacities }
                if capacities.is_empty() || capacities.len() > 16 =>
            {
                Err(Error::decode("policy", "1 to 16 capacities"))
            }
            _ => Ok(()),
        }
    }

    /// A short name for humans.
    pub fn name(&self) -> String {
        match self {
            AdmissionPolicy::Open => "open".into(),
            AdmissionPolicy::Invite => "invite".into(),
            AdmissionPolicy::Endorsements { k } => format!("endorsements:{k}"),
            AdmissionPolicy::TrustFlow { .. } => "trust-flow".into(),
        }
    }
}

impl std::str::FromStr for AdmissionPolicy {
    type Err = Error;
    /// `open`, `invite`, `endorsements:K`, `trust-flow`.
    fn from_str(s: &str) -> Result<Self> {
        let p = match s {
            "open" => AdmissionPolicy::Open,
            "invite" => AdmissionPolicy::Invite,
            "trust-flow" => AdmissionPolicy::TrustFlow {
                capacities: DEFAULT_FLOW_CAPACITIES.to_vec(),
            },
            other => match other.strip_prefix("endorsements:") {
                Some(k) => AdmissionPolicy::Endorsements {
                    k: k.parse()
                        .map_err(|_| Error::decode("policy", "endorsements:K needs a number"))?,
                },
                None => {
                    return Err(Error::decode(
                        "policy",
                        "use open, invite, endorsements:K or trust-flow",
                    ));
                }
            },
        };
        p.check()?;
        Ok(p)
    }
}
