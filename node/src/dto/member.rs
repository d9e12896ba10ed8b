//! Where someone stands in a community, a member's details as the profile page shows them, and
//! whom a member follows.

use qun_crdt::{Profile, Role};
use qun_identity::MemberId;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Where someone stands in a community. Serialized as text, as the API has always shown it:
/// `member:<role>` (`member:founder`, `member:moderator`, `member:member`,
/// `member:<custom role>`), `requested`, `removed` or `outsider`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemberStatus {
    /// A member with this role.
    Member(Role),
    /// Asked to join; not admitted (yet).
    Requested,
    /// Removed.
    Removed,
    /// Left, or never asked.
    Outsider,
}

impl MemberStatus {
    /// Whether a member (of any role).
    pub fn is_member(&self) -> bool {
        matches!(self, MemberStatus::Member(_))
    }

    /// The role, for members.
    pub fn role(&self) -> Option<&Role> {
        match self {
            MemberStatus::Member(r) => Some(r),
            _ => None,
        }
    }
}

impl From<&qun_crdt::MemberStatus> for MemberStatus {
    fn from(s: &qun_crdt::MemberStatus) -> Self {
        match s {
            qun_crdt::MemberStatus::Member(r) => MemberStatus::Member(r.clone()),
            qun_crdt::MemberStatus::Requested => MemberStatus::Requested,
            qun_crdt::MemberStatus::Removed(_) => MemberStatus::Removed,
            qun_crdt::MemberStatus::Outsider => MemberStatus::Outsider,
        }
    }
}

impl fmt::Display for MemberStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemberStatus::Member(r) => write!(f, "member:{r}"),
            MemberStatus::Requested => f.write_str("requested"),
            MemberStatus::Removed => f.write_str("removed"),
            MemberStatus::Outsider => f.write_str("outsider"),
        }
    }
}

impl std::str::FromStr for MemberStatus {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Self> {
        match s {
            "requested" => Ok(MemberStatus::Requested),
            "removed" => Ok(MemberStatus::Removed),
            "outsider" => Ok(MemberStatus::Outsider),
            other => match other.strip_prefix("member:") {
                Some(role) => Ok(MemberStatus::Member(role.parse()?)),
                None => Err(crate::Error::Invalid {
                    reason: format!("not a member status: {other:?}"),
                    hint: "statuses are member:<role>, requested, removed or outsider",
                }),
            },
        }
    }
}

impl Serialize for MemberStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MemberStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One member as their profile page shows them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MemberDetail {
    /// Who.
    pub member: MemberId,
    /// Where they stand.
    pub status: MemberStatus,
    /// Their profile in this community, if they wrote one.
    pub profile: Option<Profile>,
    /// Whom they follow.
    pub follows: Vec<MemberId>,
    /// Whether this node's member follows them.
    pub followed_by_me: bool,
}

/// Whom a member follows (`GET /api/v1/communities/{id}/follows`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Follows {
    /// Whose follows.
    pub member: String,
    /// The members they follow.
    pub follows: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_serialize_as_the_api_always_showed_them() {
        for (s, text) in [
            (MemberStatus::Member(Role::Founder), "member:founder"),
            (MemberStatus::Member(Role::Moderator), "member:moderator"),
            (MemberStatus::Member(Role::Member), "member:member"),
            (MemberStatus::Requested, "requested"),
            (MemberStatus::Removed, "removed"),
            (MemberStatus::Outsider, "outsider"),
        ] {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<MemberStatus>(&json).unwrap(), s);
        }
        let custom: MemberStatus = "member:gardener".parse().unwrap();
        assert_eq!(custom.to_string(), "member:gardener");
        assert!(custom.is_member());
        assert!("member".parse::<MemberStatus>().is_err());
    }
}
