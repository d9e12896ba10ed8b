//! Typed reads: members, profiles, channels, posts, threads and reactions.
//!
//! Posts are read from the device slots of the channel's content documents, attributed to the
//! member each device acts for, and filtered by moderation: a post hidden by a moderator is
//! marked hidden, and — the deterministic rule for a removed member's changes that were
//! concurrent with the removal — a removed member's posts made at or after the removal's time
//! are not shown. (Changes that causally follow a removal were already refused.)

use super::Community;
use super::edit::Profile;
use super::schema::{self, post, profile};
use crate::error::Result;
use crate::gov::{GovState, HideInfo};
use crate::ids::{ChannelId, DocId, PostId};
use automerge::{Automerge, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use qun_identity::{ContentId, DeviceId, MemberId, Timestamp};
use serde::Serialize;
use std::collections::BTreeMap;

/// A post as the UI shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PostView {
    /// Its id.
    pub id: PostId,
    /// The member who wrote it.
    pub author: MemberId,
    /// The device that wrote it.
    pub device: DeviceId,
    /// Markdown text (empty when deleted).
    pub text: String,
    /// Creation time.
    pub created: Timestamp,
    /// Last edit.
    pub edited: Option<Timestamp>,
    /// The post it replies to.
    pub reply_to: Option<PostId>,
    /// Attachments.
    pub attachments: Vec<ContentId>,
    /// Deleted by its author.
    pub deleted: bool,
    /// Hidden by a moderator.
    pub hidden: Option<HiddenBy>,
    /// Reactions: emoji → members, sorted.
    pub reactions: BTreeMap<String, Vec<MemberId>>,
    /// Number of replies.
    pub replies: usize,
}

/// Who hid a post and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct HiddenBy {
    /// The moderator.
    pub by: MemberId,
    /// Why.
    pub reason: String,
}

impl From<&HideInfo> for HiddenBy {
    fn from(h: &HideInfo) -> Self {
        HiddenBy {
            by: h.by,
            reason: h.reason.clone(),
        }
    }
}

/// A member as the UI shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct MemberView {
    /// Who.
    pub member: MemberId,
    /// Role.
    pub role: String,
    /// Profile, if set.
    pub profile: Option<Profile>,
}

/// A channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ChannelView {
    /// Id.
    pub id: ChannelId,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Announcement channel.
    pub announce: bool,
    /// Archived.
    pub archived: bool,
}

/// Which member a device acts for, per the governance state (root keys act for themselves).
fn member_of(st: &GovState, device: &DeviceId) -> Option<MemberId> {
    let as_member = MemberId(*device.key());
    if st.members.contains_key(&as_member)
        || st.removed.contains_key(&as_member)
        || st.requests.contains(&as_member)
    {
        return Some(as_member);
    }
    st.devices
        .get(device)
        .map(|l| l.member)
        .or_else(|| st.revoked.get(device).map(|(l, _)| l.member))
}

fn str_of(v: Option<(Value<'_>, ObjId)>) -> Option<String> {
    match v {
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Str(t) => Some(t.to_string()),
            _ => None,
        },
        _ => None,
    }
}

fn int_of(v: Option<(Value<'_>, ObjId)>) -> Option<i64> {
    match v {
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Int(i) => Some(*i),
            ScalarValue::Uint(u) => i64::try_from(*u).ok(),
            _ => None,
        },
        _ => None,
    }
}

fn bool_of(v: Option<(Value<'_>, ObjId)>) -> Option<bool> {
    match v {
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Boolean(b) => Some(*b),
            _ => None,
        },
        _ => None,
    }
}

fn ts(i: i64) -> Timestamp {
    Timestamp::from_millis(u64::try_from(i).unwrap_or(0))
}

/// `(device, slot object)` of every slot in a document.
fn slots(am: &Automerge) -> Vec<(DeviceId, ObjId)> {
    let Ok(Some((Value::Object(ObjType::Map), root))) = am.get(ROOT, schema::SLOTS) else {
        return Vec::new();
    };
    am.map_range(&root, ..)
        .filter_map(|item| {
            let device: DeviceId = item.key.parse().ok()?;
            match am.get(&root, item.key.as_ref()).ok()?? {
                (Value::Object(ObjType::Map), id) => Some((device, id)),
                _ => None,
            }
        })
        .collect()
}

fn section(am: &Automerge, slot: &ObjId, key: &str) -> Option<ObjId> {
    match am.get(slot, key).ok()?? {
        (Value::Object(ObjType::Map), id) => Some(id),
        _ => None,
    }
}

fn list_of_strings(am: &Automerge, obj: &ObjId, key: &str) -> Vec<String> {
    let Ok(Some((Value::Object(ObjType::List), l))) = am.get(obj, key) else {
        return Vec::new();
    };
    (0..am.length(&l))
        .filter_map(|i| str_of(am.get(&l, i).ok().flatten()))
        .collect()
}

impl Community {
    /// Members with roles and profiles, founders first, then by id.
    pub fn members(&mut self) -> Result<Vec<MemberView>> {
        let st = self.state();
        let profiles = self.profiles()?;
        let mut v: Vec<MemberView> = st
            .members
            .iter()
            .map(|(m, r)| MemberView {
                member: *m,
                role: r.to_string(),
                profile: profiles.get(m).cloned(),
            })
            .collect();
        v.sort_by_key(|m| {
            (
                std::cmp::Reverse(st.role(&m.member).map(|r| r.rank())),
                m.member,
            )
        });
        Ok(v)
    }

    /// The newest profile of every member that set one.
    pub fn profiles(&mut self) -> Result<BTreeMap<MemberId, Profile>> {
        let st = self.state();
        self.gov.flush()?;
        let am = &self.gov.am;
        let mut best: BTreeMap<MemberId, (i64, Profile)> = BTreeMap::new();
        for (device, slot) in slots(am) {
            let Some(member) = member_of(&st, &device) else {
                continue;
            };
            let Some(p) = section(am, &slot, schema::PROFILE) else {
                continue;
            };
            let updated = int_of(am.get(&p, profile::UPDATED).ok().flatten()).unwrap_or(0);
            let prof = Profile {
                name: str_of(am.get(&p, profile::NAME).ok().flatten()).unwrap_or_default(),
                bio: str_of(am.get(&p, profile::BIO).ok().flatten()).unwrap_or_default(),
                avatar: str_of(am.get(&p, profile::AVATAR).ok().flatten())
                    .and_then(|s| s.parse().ok()),
                links: list_of_strings(am, &p, profile::LINKS),
            };
            match best.get(&member) {
                Some((u, _)) if *u >= updated => {}
                _ => {
                    best.insert(member, (updated, prof));
                }
            }
        }
        Ok(best.into_iter().map(|(m, (_, p))| (m, p)).collect())
    }

    /// A member's profile.
    pub fn profile(&mut self, m: &MemberId) -> Result<Option<Profile>> {
        Ok(self.profiles()?.remove(m))
    }

    /// Whom a member follows.
    pub fn follows(&mut self, m: &MemberId) -> Result<Vec<MemberId>> {
        let st = self.state();
        self.gov.flush()?;
        let am = &self.gov.am;
        let mut out = Vec::new();
        for (device, slot) in slots(am) {
            if member_of(&st, &device) != Some(*m) {
                continue;
            }
            if let Some(f) = section(am, &slot, schema::FOLLOWS) {
                out.extend(
                    am.map_range(&f, ..)
                        .filter_map(|i| i.key.parse::<MemberId>().ok()),
                );
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Channels, by id.
    pub fn channels(&mut self) -> Vec<ChannelView> {
        self.state()
            .channels
            .iter()
            .map(|(id, s)| ChannelView {
                id: id.clone(),
                title: s.title.clone(),
                description: s.description.clone(),
                announce: s.announce,
                archived: s.archived,
            })
            .collect()
    }

    /// Posts of a channel, newest first: at most `limit`, created before `before` when given.
    /// Replies are included (see `reply_to`); hidden posts are included with `hidden` set.
    pub fn posts(
        &mut self,
        channel: &ChannelId,
        limit: usize,
        before: Option<Timestamp>,
    ) -> Result<Vec<PostView>> {
        let mut all = self.channel_posts(channel)?;
        all.retain(|p| before.is_none_or(|b| p.created < b));
        all.truncate(limit);
        Ok(all)
    }

    /// One post.
    pub fn post(&mut self, id: &PostId) -> Result<Option<PostView>> {
        Ok(self
            .channel_posts(&id.channel)?
            .into_iter()
            .find(|p| p.id == *id))
    }

    /// A post and its replies (direct and nested), oldest first after the root.
    pub fn thread(&mut self, id: &PostId) -> Result<Vec<PostView>> {
        let all = self.channel_posts(&id.channel)?;
        let Some(root) = all.iter().find(|p| p.id == *id).cloned() else {
            return Ok(Vec::new());
        };
        let mut in_thread = vec![root.id.clone()];
        let mut replies: Vec<PostView> = Vec::new();
        let mut by_age = all.clone();
        by_age.sort_by_key(|p| (p.created, p.id.clone()));
        for p in by_age {
            if p.reply_to.as_ref().is_some_and(|r| in_thread.contains(r)) {
                in_thread.push(p.id.clone());
                replies.push(p);
            }
        }
        let mut out = vec![root];
        out.extend(replies);
        Ok(out)
    }

    /// Every visible post of a channel, newest first, with reactions and reply counts.
    fn channel_posts(&mut self, channel: &ChannelId) -> Result<Vec<PostView>> {
        let st = self.state();
        let docs: Vec<DocId> = self
            .content
            .keys()
            .filter(|d| matches!(d, DocId::Content { channel: c, .. } if c == channel))
            .cloned()
            .collect();
        let mut posts: Vec<PostView> = Vec::new();
        let mut reactions: BTreeMap<PostId, BTreeMap<String, Vec<MemberId>>> = BTreeMap::new();
        for doc in &docs {
            let Some(d) = self.content.get_mut(doc) else {
                continue;
            };
            d.flush()?;
            let DocId::Content { window, .. } = doc else {
                continue;
            };
            let am = &d.am;
            for (device, slot) in slots(am) {
                let Some(author) = member_of(&st, &device) else {
                    continue;
                };
                if let Some(ps) = section(am, &slot, schema::POSTS) {
                    for item in am.map_range(&ps, ..) {
                        let key = item.key.to_string();
                        let Ok(Some((Value::Object(ObjType::Map), p))) = am.get(&ps, key.as_str())
                        else {
                            continue;
                        };
                        let created =
                            ts(int_of(am.get(&p, post::CREATED).ok().flatten()).unwrap_or(0));
                        // A removed member's posts from its removal on are not shown.
                        if st.removed.get(&author).is_some_and(|t| created >= *t) {
                            continue;
                        }
                        let id = PostId {
                            channel: channel.clone(),
                            window: *window,
                            key,
                        };
                        posts.push(PostView {
                            hidden: st.hidden.get(&id).map(HiddenBy::from),
                            id,
                            author,
                            device,
                            text: str_of(am.get(&p, post::TEXT).ok().flatten()).unwrap_or_default(),
                            created,
                            edited: int_of(am.get(&p, post::EDITED).ok().flatten()).map(ts),
                            reply_to: str_of(am.get(&p, post::REPLY_TO).ok().flatten())
                                .and_then(|s| s.parse().ok()),
                            attachments: list_of_strings(am, &p, post::ATTACHMENTS)
                                .iter()
                                .filter_map(|s| s.parse().ok())
                                .collect(),
                            deleted: bool_of(am.get(&p, post::DELETED).ok().flatten())
                                .unwrap_or(false),
                            reactions: BTreeMap::new(),
                            replies: 0,
                        });
                    }
                }
                if let Some(rs) = section(am, &slot, schema::REACTIONS) {
                    for item in am.map_range(&rs, ..) {
                        let Ok(pid) = item.key.parse::<PostId>() else {
                            continue;
                        };
                        let Some(m) = section(am, &rs, &item.key) else {
                            continue;
                        };
                        let entry = reactions.entry(pid).or_default();
                        for e in am.map_range(&m, ..) {
                            if bool_of(am.get(&m, e.key.as_ref()).ok().flatten()) == Some(true) {
                                entry.entry(e.key.to_string()).or_default().push(author);
                            }
                        }
                    }
                }
            }
        }
        let mut reply_counts: BTreeMap<PostId, usize> = BTreeMap::new();
        for p in &posts {
            if let Some(r) = &p.reply_to {
                *reply_counts.entry(r.clone()).or_default() += 1;
            }
        }
        for p in &mut posts {
            if let Some(mut r) = reactions.remove(&p.id) {
                for v in r.values_mut() {
                    v.sort();
                    v.dedup();
                }
                p.reactions = r;
            }
            p.replies = reply_counts.get(&p.id).copied().unwrap_or(0);
        }
        posts.sort_by(|a, b| (b.created, &b.id).cmp(&(a.created, &a.id)));
        Ok(posts)
    }
}
