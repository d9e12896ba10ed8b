//! What the API (JSON) and the web page (forms) send, as one set of types: the same struct is
//! deserialized from a JSON body and from a form, and validated once (trimmed, ids parsed with
//! a hint, empty text refused) into what the node does, usually a core [`Edit`]. The CLI
//! serializes them to call the API.
//!
//! Forms carry booleans as checkbox or hidden-field text (`on`, `true`, `false`) and lists as
//! lines of a text area; [`flag`] and [`lines`] read both shapes.

use super::parse;
use crate::error::{Error, Result};
use qun_crdt::{Action, AdmissionPolicy, ChannelId, ChannelSettings, Edit, Profile, Role};
use qun_identity::{ContentId, DeviceId, MemberId};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A request that becomes one edit of a community, checked before it reaches the node.
pub trait IntoEdit {
    /// The edit, or why the request is invalid.
    fn into_edit(self) -> Result<Edit>;
}

fn general() -> String {
    ChannelId::general().to_string()
}

fn yes() -> bool {
    true
}

/// A boolean from JSON (`true`) or a form (`on`, `true`, `1`, `yes`; `false`, `off`, `0`,
/// `no`, empty).
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    struct Flag;
    impl Visitor<'_> for Flag {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("true or false")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<bool, E> {
            Ok(v)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<bool, E> {
            match v.trim() {
                "on" | "true" | "1" | "yes" => Ok(true),
                "off" | "false" | "0" | "no" | "" => Ok(false),
                other => Err(E::custom(format!("not true or false: {other:?}"))),
            }
        }
    }
    d.deserialize_any(Flag)
}

/// A list of strings from JSON (`["a", "b"]`) or a form's text area (one per line).
pub fn lines<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    struct Lines;
    impl<'de> Visitor<'de> for Lines {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of strings, or text with one per line")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Vec<String>, E> {
            Ok(v.lines().map(String::from).collect())
        }
        fn visit_seq<A: SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(s) = seq.next_element::<String>()? {
                out.push(s);
            }
            Ok(out)
        }
    }
    d.deserialize_any(Lines)
}

/// `text`, or `None` when it is empty (a form's empty field).
/// An optional blob id (`b…`); empty or absent is `None` (a form's empty field: no avatar).
pub fn optional_blob<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<ContentId>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    match given(text) {
        None => Ok(None),
        Some(t) => t.trim().parse().map(Some).map_err(de::Error::custom),
    }
}

fn given(text: Option<String>) -> Option<String> {
    text.filter(|t| !t.trim().is_empty())
}

/// Create a community (`POST /api/v1/communities`, the page's `/new`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CreateCommunity {
    /// Its name (not empty).
    pub name: String,
    /// What it is about.
    #[serde(default)]
    pub description: String,
    /// `open`, `invite` (the default), `endorsements:K`, `trust-flow`.
    #[serde(default)]
    pub policy: String,
}

impl CreateCommunity {
    /// Name and description trimmed, and the policy.
    pub fn validate(self) -> Result<(String, String, AdmissionPolicy)> {
        let name = self.name.trim().to_string();
        if name.is_empty() {
            return Err(Error::Invalid {
                reason: "the name is empty".into(),
                hint: "give the community a name",
            });
        }
        let policy = match self.policy.trim() {
            "" => AdmissionPolicy::Invite,
            p => parse::policy(p)?,
        };
        Ok((name, self.description.trim().to_string(), policy))
    }
}

/// Join with an invite code (`POST /api/v1/join`, the page's `/join`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JoinRequest {
    /// `qun1…`.
    pub code: String,
}

/// Make an invite code (`POST /api/v1/communities/{id}/invite`, the invite dialog).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct InviteRequest {
    /// For this member only (a named invitation); else a single-use bearer code.
    #[serde(default)]
    pub invitee: Option<String>,
    /// Validity in hours (default 7 days, at most a year).
    #[serde(default)]
    pub valid_hours: Option<u64>,
}

/// Longest validity of an invite code, hours.
pub const MAX_INVITE_HOURS: u64 = 24 * 365;

impl InviteRequest {
    /// The invitee and the validity in ms.
    pub fn validate(self) -> Result<(Option<MemberId>, u64)> {
        let invitee = given(self.invitee)
            .map(|m| parse::member(m.trim()))
            .transpose()?;
        let hours = self
            .valid_hours
            .unwrap_or(24 * 7)
            .clamp(1, MAX_INVITE_HOURS);
        Ok((invitee, hours * 3_600_000))
    }
}

/// Create or change a channel (`POST /api/v1/communities/{id}/channels`, the manage page).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ChannelRequest {
    /// Channel id (`[a-z0-9-]`); the page's new-channel form leaves it out and the id is
    /// derived from the title.
    #[serde(default)]
    pub id: String,
    /// Title (default: the id).
    #[serde(default)]
    pub title: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// Only founders and moderators post.
    #[serde(default, deserialize_with = "flag")]
    pub announce: bool,
    /// Closed to new posts.
    #[serde(default, deserialize_with = "flag")]
    pub archived: bool,
}

impl ChannelRequest {
    /// The channel id, parsed.
    pub fn channel(&self) -> Result<ChannelId> {
        parse::channel(self.id.trim())
    }
}

impl IntoEdit for ChannelRequest {
    fn into_edit(self) -> Result<Edit> {
        let channel = self.channel()?;
        let title = match self.title.trim() {
            "" => channel.to_string(),
            t => t.to_string(),
        };
        Ok(Edit::Govern(Action::SetChannel {
            channel,
            settings: ChannelSettings {
                title,
                description: self.description.trim().to_string(),
                announce: self.announce,
                archived: self.archived,
            },
        }))
    }
}

/// Write a post or a reply (`POST /api/v1/communities/{id}/posts`, the composer).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NewPost {
    /// Channel (default `general`).
    #[serde(default = "general")]
    pub channel: String,
    /// The text (trailing white space is dropped; empty text is refused).
    pub text: String,
    /// The post it replies to.
    #[serde(default)]
    pub reply_to: Option<String>,
}

/// The text of a post: trailing white space dropped, nothing but white space refused.
fn post_text(text: &str) -> Result<String> {
    let text = text.trim_end();
    if text.trim().is_empty() {
        return Err(Error::Invalid {
            reason: "the post is empty".into(),
            hint: "write something first",
        });
    }
    Ok(text.to_string())
}

impl IntoEdit for NewPost {
    fn into_edit(self) -> Result<Edit> {
        let channel = parse::channel(self.channel.trim())?;
        let reply_to = given(self.reply_to)
            .map(|r| parse::post(r.trim()))
            .transpose()?;
        let text = post_text(&self.text)?;
        // The images the text shows (`![alt](/blob/<id>)`, as the composer inserts them) are
        // the post's attachments: what keeps them from garbage collection on every node.
        let attachments =
            crate::blobs::ids_in_text(&text, qun_crdt::community::edit::MAX_ATTACHMENTS);
        Ok(Edit::Post {
            channel,
            text,
            reply_to,
            attachments,
        })
    }
}

/// Change a post's text (`…/posts/edit`, the post's edit form).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EditPost {
    /// The post.
    pub post: String,
    /// The new text (trailing white space is dropped).
    #[serde(default)]
    pub text: String,
}

impl IntoEdit for EditPost {
    fn into_edit(self) -> Result<Edit> {
        Ok(Edit::EditPost {
            post: parse::post(self.post.trim())?,
            text: self.text.trim_end().to_string(),
        })
    }
}

/// Delete a post (`…/posts/delete`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeletePost {
    /// The post.
    pub post: String,
}

impl IntoEdit for DeletePost {
    fn into_edit(self) -> Result<Edit> {
        Ok(Edit::DeletePost {
            post: parse::post(self.post.trim())?,
        })
    }
}

/// React to a post, or take the reaction back (`…/posts/react`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct React {
    /// The post.
    pub post: String,
    /// The emoji.
    pub emoji: String,
    /// React (default) or take it back.
    #[serde(default = "yes", deserialize_with = "flag")]
    pub on: bool,
}

impl IntoEdit for React {
    fn into_edit(self) -> Result<Edit> {
        Ok(Edit::React {
            post: parse::post(self.post.trim())?,
            emoji: self.emoji,
            on: self.on,
        })
    }
}

/// Hide a post (moderation, `…/posts/hide`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HidePost {
    /// The post.
    pub post: String,
    /// Why (shown to members).
    #[serde(default)]
    pub reason: String,
}

impl IntoEdit for HidePost {
    fn into_edit(self) -> Result<Edit> {
        Ok(Edit::Govern(Action::Hide {
            post: parse::post(self.post.trim())?,
            reason: self.reason.trim().to_string(),
        }))
    }
}

/// Show a hidden post again (`…/posts/unhide`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UnhidePost {
    /// The post.
    pub post: String,
}

impl IntoEdit for UnhidePost {
    fn into_edit(self) -> Result<Edit> {
        Ok(Edit::Govern(Action::Unhide {
            post: parse::post(self.post.trim())?,
        }))
    }
}

/// Pin a post at the top of its channel, or unpin it (`…/posts/pin`; moderation).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PinPost {
    /// The post.
    pub post: String,
    /// Pin (default) or unpin.
    #[serde(default = "yes", deserialize_with = "flag")]
    pub on: bool,
}

impl IntoEdit for PinPost {
    fn into_edit(self) -> Result<Edit> {
        Ok(Edit::Govern(Action::Pin {
            post: parse::post(self.post.trim())?,
            on: self.on,
        }))
    }
}

/// Admit someone who asked to join (`…/members/admit`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AdmitMember {
    /// Who.
    pub member: String,
}

impl IntoEdit for AdmitMember {
    fn into_edit(self) -> Result<Edit> {
        Ok(Edit::Govern(Action::Admit {
            member: parse::member(self.member.trim())?,
        }))
    }
}

/// Remove a member (`…/members/remove`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RemoveMember {
    /// Who.
    pub member: String,
    /// Why (shown to members).
    #[serde(default)]
    pub reason: String,
}

impl IntoEdit for RemoveMember {
    fn into_edit(self) -> Result<Edit> {
        Ok(Edit::Govern(Action::Remove {
            member: parse::member(self.member.trim())?,
            reason: self.reason.trim().to_string(),
            cut: Default::default(),
        }))
    }
}

/// Leave the community (`…/leave`). Founders cannot leave.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LeaveRequest {}

impl IntoEdit for LeaveRequest {
    fn into_edit(self) -> Result<Edit> {
        Ok(Edit::Govern(Action::Leave))
    }
}

/// Give a member a role (`…/members/role`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RoleRequest {
    /// Who.
    pub member: String,
    /// `member`, `moderator` or a custom role.
    pub role: String,
}

impl RoleRequest {
    /// The member, parsed.
    pub fn member(&self) -> Result<MemberId> {
        parse::member(self.member.trim())
    }
}

impl IntoEdit for RoleRequest {
    fn into_edit(self) -> Result<Edit> {
        let role: Role = parse::role(self.role.trim())?;
        Ok(Edit::Govern(Action::SetRole {
            member: self.member()?,
            role,
            cut: Default::default(),
        }))
    }
}

/// Follow or unfollow a member (`…/follow`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FollowRequest {
    /// Whom.
    pub member: String,
    /// Follow (default) or unfollow.
    #[serde(default = "yes", deserialize_with = "flag")]
    pub on: bool,
}

impl IntoEdit for FollowRequest {
    fn into_edit(self) -> Result<Edit> {
        Ok(Edit::Follow {
            member: parse::member(self.member.trim())?,
            on: self.on,
        })
    }
}

/// This member's profile in a community (`PUT …/profile`, the profile form).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ProfileRequest {
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// About.
    #[serde(default)]
    pub bio: String,
    /// Avatar image: a blob id (`b…`, as `POST /api/v1/blobs` answers), empty for none.
    #[serde(default, deserialize_with = "optional_blob")]
    pub avatar: Option<ContentId>,
    /// Links (a list, or one per line).
    #[serde(default, deserialize_with = "lines")]
    pub links: Vec<String>,
    /// The page's "use this profile in all my communities": write it in every community this
    /// member is in (one profile, named once). The API's `PUT …/profile` writes one community.
    #[serde(default, deserialize_with = "flag")]
    pub everywhere: bool,
}

impl IntoEdit for ProfileRequest {
    fn into_edit(self) -> Result<Edit> {
        Ok(Edit::Profile(Profile {
            name: self.name.trim().to_string(),
            bio: self.bio.trim().to_string(),
            avatar: self.avatar,
            links: self
                .links
                .iter()
                .map(|l| l.trim())
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect(),
        }))
    }
}

/// Change the admission policy (`…/policy`): `open`, `invite`, `endorsements:K` (or
/// `endorsements` with `k`), `trust-flow`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PolicyRequest {
    /// The policy.
    pub policy: String,
    /// Endorsements needed, for a bare `endorsements` (default 2).
    #[serde(default)]
    pub k: Option<u32>,
}

impl IntoEdit for PolicyRequest {
    fn into_edit(self) -> Result<Edit> {
        let text = match self.policy.trim() {
            "endorsements" => format!("endorsements:{}", self.k.unwrap_or(2)),
            p => p.to_string(),
        };
        Ok(Edit::Govern(Action::SetPolicy {
            policy: parse::policy(&text)?,
        }))
    }
}

/// Rename a community or change its description (the manage page).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MetaRequest {
    /// Name (not empty).
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
}

impl IntoEdit for MetaRequest {
    fn into_edit(self) -> Result<Edit> {
        let (name, description, _) = CreateCommunity {
            name: self.name,
            description: self.description,
            policy: String::new(),
        }
        .validate()?;
        Ok(Edit::Govern(Action::SetMeta { name, description }))
    }
}

/// Endorse a member (`…/endorse`, the endorse form); weight 0 revokes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EndorseRequest {
    /// Whom.
    pub member: String,
    /// In [-1, 1] (default 1).
    #[serde(default = "one")]
    pub weight: f64,
    /// Topic (default `*`, general trust).
    #[serde(default = "star")]
    pub topic: String,
    /// A note.
    #[serde(default)]
    pub note: String,
}

fn one() -> f64 {
    1.0
}

fn star() -> String {
    "*".into()
}

/// An endorsement to sign, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Endorse {
    /// Whom.
    pub member: MemberId,
    /// In [-1, 1].
    pub weight: f64,
    /// Topic.
    pub topic: String,
    /// A note.
    pub note: String,
}

impl EndorseRequest {
    /// The member and the endorsement, the weight checked.
    pub fn validate(self) -> Result<Endorse> {
        let member = parse::member(self.member.trim())?;
        if !(-1.0..=1.0).contains(&self.weight) {
            return Err(Error::Invalid {
                reason: format!("weight {} is outside [-1, 1]", self.weight),
                hint: "1 trusts fully, 0.5 somewhat, 0 revokes, -1 distrusts",
            });
        }
        Ok(Endorse {
            member,
            weight: self.weight,
            topic: self.topic.trim().to_string(),
            note: self.note.trim().to_string(),
        })
    }
}

/// Certify a new device (`POST /api/v1/devices/link`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LinkDevice {
    /// The new device's id.
    pub device: String,
    /// Its label ("phone").
    #[serde(default)]
    pub label: String,
}

impl LinkDevice {
    /// The device and its label.
    pub fn validate(self) -> Result<(DeviceId, String)> {
        Ok((
            parse::device(self.device.trim())?,
            self.label.trim().to_string(),
        ))
    }
}

/// Revoke a device in every community (`POST /api/v1/devices/revoke`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RevokeDevice {
    /// The device.
    pub device: String,
    /// Why.
    #[serde(default)]
    pub reason: String,
}

impl RevokeDevice {
    /// The device and the reason.
    pub fn validate(self) -> Result<(DeviceId, String)> {
        Ok((
            parse::device(self.device.trim())?,
            self.reason.trim().to_string(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_forms_read_the_same() {
        let j: React = serde_json::from_str(r#"{"post":"general/1/a","emoji":"👍"}"#).unwrap();
        assert!(j.on);
        let f: React = serde_urlencoded::from_str("post=general%2F1%2Fa&emoji=x&on=false").unwrap();
        assert!(!f.on);
        let c: ChannelRequest = serde_urlencoded::from_str("id=market&announce=on").unwrap();
        assert!(c.announce && !c.archived);
        let c: ChannelRequest = serde_json::from_str(r#"{"id":"market","archived":true}"#).unwrap();
        assert!(c.archived);
        let p: ProfileRequest =
            serde_urlencoded::from_str("name=Ada&links=https%3A%2F%2Fa%0A%0A+https%3A%2F%2Fb+")
                .unwrap();
        let Edit::Profile(p) = p.into_edit().unwrap() else {
            panic!()
        };
        assert_eq!(p.links, ["https://a", "https://b"]);
        let p: ProfileRequest = serde_json::from_str(r#"{"name":" Ada ","links":["x"]}"#).unwrap();
        let Edit::Profile(p) = p.into_edit().unwrap() else {
            panic!()
        };
        assert_eq!((p.name.as_str(), p.links.len()), ("Ada", 1));
    }

    #[test]
    fn empty_posts_are_refused_both_ways() {
        let j: NewPost = serde_json::from_str(r#"{"text":"  \n "}"#).unwrap();
        let f: NewPost = serde_urlencoded::from_str("channel=general&text=+%0A&reply_to=").unwrap();
        for r in [j, f] {
            match r.into_edit() {
                Err(Error::Invalid { reason, .. }) => assert!(reason.contains("empty")),
                other => panic!("{other:?}"),
            }
        }
        let ok: NewPost =
            serde_urlencoded::from_str("channel=general&text=hi+%0A&reply_to=").unwrap();
        match ok.into_edit().unwrap() {
            Edit::Post { text, reply_to, .. } => {
                assert_eq!((text.as_str(), reply_to), ("hi", None))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn policies_and_weights_are_checked() {
        let p: PolicyRequest = serde_urlencoded::from_str("policy=endorsements&k=3").unwrap();
        assert!(matches!(
            p.into_edit().unwrap(),
            Edit::Govern(Action::SetPolicy {
                policy: AdmissionPolicy::Endorsements { k: 3 }
            })
        ));
        let p: PolicyRequest = serde_json::from_str(r#"{"policy":"endorsements:0"}"#).unwrap();
        assert!(p.into_edit().is_err());
        let e = EndorseRequest {
            member: "z6Mk".into(),
            weight: 2.0,
            topic: "*".into(),
            note: String::new(),
        };
        assert!(e.validate().is_err());
    }
}
