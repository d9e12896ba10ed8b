//! Typed reads: members, profiles, channels, posts, threads and reactions.
//!
//! Posts are read from the device slots of the channel's content documents, attributed to the
//! member each device acts for, and filtered by moderation (a post hidden by a moderator is
//! marked hidden) and by validity: a write voided by a revocation (see `validity`) is not
//! shown. Each device writes only its own slot, so a device with void changes is read as of
//! its last valid change that touched each post (Automerge reads at those heads); reactions
//! and follows are folded from the valid actions themselves. No author-written time is used
//! for any of this.

use super::Community;
use super::edit::Profile;
use crate::error::Result;
use crate::gov::HideInfo;
use crate::ids::{ChannelId, DocId, Hash, PostId};
use crate::model::action::Action;
use crate::model::schema::{self, post, profile};
use automerge::{Automerge, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use qun_identity::{ContentId, DeviceId, MemberId, Timestamp};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One version of a post's text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PostVersion {
    /// The text.
    pub text: String,
    /// When it was written (the author's clock).
    pub at: Timestamp,
}

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
    /// Pinned at the top of its channel by a moderator.
    #[serde(default)]
    pub pinned: bool,
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

/// Read `obj[key]`, now or as of `at`.
fn get<'a>(
    am: &'a Automerge,
    obj: &ObjId,
    key: &str,
    at: Option<&[Hash]>,
) -> Option<(Value<'a>, ObjId)> {
    match at {
        None => am.get(obj, key).ok().flatten(),
        Some(h) => am.get_at(obj, key, h).ok().flatten(),
    }
}

/// `(device, slot object)` of every slot in a document.
pub(crate) fn slots(am: &Automerge) -> Vec<(DeviceId, ObjId)> {
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

pub(crate) fn section(am: &Automerge, slot: &ObjId, key: &str) -> Option<ObjId> {
    match am.get(slot, key).ok()?? {
        (Value::Object(ObjType::Map), id) => Some(id),
        _ => None,
    }
}

fn list_of_strings(am: &Automerge, obj: &ObjId, key: &str, at: Option<&[Hash]>) -> Vec<String> {
    let Some((Value::Object(ObjType::List), l)) = get(am, obj, key, at) else {
        return Vec::new();
    };
    match at {
        None => (0..am.length(&l))
            .filter_map(|i| str_of(am.get(&l, i).ok().flatten()))
            .collect(),
        Some(h) => (0..am.length_at(&l, h))
            .filter_map(|i| str_of(am.get_at(&l, i, h).ok().flatten()))
            .collect(),
    }
}

/// A post's fields, now or as of `at`.
pub(crate) fn read_post(
    am: &Automerge,
    p: &ObjId,
    at: Option<&[Hash]>,
) -> (
    String,
    Timestamp,
    Option<Timestamp>,
    Option<PostId>,
    Vec<ContentId>,
    bool,
) {
    let created = ts(int_of(get(am, p, post::CREATED, at)).unwrap_or(0));
    (
        str_of(get(am, p, post::TEXT, at)).unwrap_or_default(),
        created,
        int_of(get(am, p, post::EDITED, at)).map(ts),
        str_of(get(am, p, post::REPLY_TO, at)).and_then(|s| s.parse().ok()),
        list_of_strings(am, p, post::ATTACHMENTS, at)
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect(),
        bool_of(get(am, p, post::DELETED, at)).unwrap_or(false),
    )
}

/// What the valid changes of one device in one content document say, when some of its
/// changes are void: per post key the last valid change touching it (and whether its creation
/// is valid), and its reactions folded from the valid react actions.
#[derive(Default)]
struct DeviceValid {
    /// key → (sequence number, hash) of the last valid change touching it.
    last: BTreeMap<String, (u64, Hash)>,
    created: BTreeSet<String>,
    reactions: BTreeMap<(PostId, String), (u64, bool)>,
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

    /// The profile of every member that set one: for each member, its valid profile change
    /// that comes last by `(lamport, hash)` (a profile change writes every field).
    pub fn profiles(&mut self) -> Result<BTreeMap<MemberId, Profile>> {
        self.ensure_validity();
        self.gov.flush()?;
        let v = self.index.validity();
        // member → (order key, device, hash, whether it is the device's last profile change)
        let mut best: BTreeMap<MemberId, ((u64, Hash), DeviceId, Hash)> = BTreeMap::new();
        let mut last_of_device: BTreeMap<DeviceId, Hash> = BTreeMap::new();
        for (i, n) in self.index.nodes.iter().enumerate() {
            let Some(info) = &n.info else { continue };
            if !matches!(*info.action, Action::Profile) {
                continue;
            }
            last_of_device.insert(info.device, n.hash);
            if v.invalid.contains(i as u32) {
                continue;
            }
            let key = n.order_key();
            if best.get(&info.member).is_none_or(|(k, _, _)| key > *k) {
                best.insert(info.member, (key, info.device, n.hash));
            }
        }
        let am = &self.gov.am;
        let slot_of: BTreeMap<DeviceId, ObjId> = slots(am).into_iter().collect();
        let mut out = BTreeMap::new();
        for (member, (_, device, h)) in best {
            let Some(slot) = slot_of.get(&device) else {
                continue;
            };
            // The slot shows the device's last profile change; read older ones at their heads.
            let heads = [h];
            let at: Option<&[Hash]> = (last_of_device.get(&device) != Some(&h)).then_some(&heads);
            let Some((Value::Object(ObjType::Map), p)) = get(am, slot, schema::PROFILE, at) else {
                continue;
            };
            out.insert(
                member,
                Profile {
                    name: str_of(get(am, &p, profile::NAME, at)).unwrap_or_default(),
                    bio: str_of(get(am, &p, profile::BIO, at)).unwrap_or_default(),
                    avatar: str_of(get(am, &p, profile::AVATAR, at)).and_then(|s| s.parse().ok()),
                    links: list_of_strings(am, &p, profile::LINKS, at),
                },
            );
        }
        Ok(out)
    }

    /// A member's profile.
    pub fn profile(&mut self, m: &MemberId) -> Result<Option<Profile>> {
        Ok(self.profiles()?.remove(m))
    }

    /// Whom a member follows: its valid follow actions, the last by `(lamport, hash)` per
    /// followed member deciding.
    pub fn follows(&mut self, m: &MemberId) -> Result<Vec<MemberId>> {
        self.ensure_validity();
        let v = self.index.validity();
        let mut state: BTreeMap<MemberId, ((u64, Hash), bool)> = BTreeMap::new();
        for &i in self.index.by_member.get(m).into_iter().flatten() {
            if v.invalid.contains(i) {
                continue;
            }
            let n = &self.index.nodes[i as usize];
            if let Some(Action::Follow { member, on }) = n.info.as_ref().map(|x| &*x.action) {
                let key = n.order_key();
                if state.get(member).is_none_or(|(k, _)| key > *k) {
                    state.insert(*member, (key, *on));
                }
            }
        }
        Ok(state
            .into_iter()
            .filter(|(_, (_, on))| *on)
            .map(|(m, _)| m)
            .collect())
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

    /// The versions of a visible post, oldest first: its text as written, then after each of
    /// its author's valid edits (with the time each carries, the author's clock). Empty when
    /// the post is not visible.
    pub fn post_history(&mut self, id: &PostId) -> Result<Vec<PostVersion>> {
        let Some(post) = self.post(id)?.filter(|p| !p.deleted && p.hidden.is_none()) else {
            return Ok(Vec::new());
        };
        let doc = id.doc();
        let void = self.void_content(&doc);
        let Some(d) = self.content.get_mut(&doc) else {
            return Ok(Vec::new());
        };
        d.flush()?;
        let mut changes: Vec<(u64, Hash)> = d
            .meta
            .iter()
            .filter(|(h, m)| {
                m.device == post.device
                    && !void.contains(*h)
                    && matches!(&m.action, Action::Post { key } | Action::Edit { key } if *key == id.key)
            })
            .map(|(h, m)| (m.seq, *h))
            .collect();
        changes.sort();
        let am = &d.am;
        let Some(slot) = slots(am)
            .into_iter()
            .find(|(dev, _)| *dev == post.device)
            .map(|(_, s)| s)
        else {
            return Ok(Vec::new());
        };
        let Some(ps) = section(am, &slot, schema::POSTS) else {
            return Ok(Vec::new());
        };
        let Ok(Some((Value::Object(ObjType::Map), p))) = am.get(&ps, id.key.as_str()) else {
            return Ok(Vec::new());
        };
        let mut out: Vec<PostVersion> = Vec::new();
        for (_, h) in changes {
            let (text, created, edited, ..) = read_post(am, &p, Some(&[h]));
            if out.last().is_some_and(|v| v.text == text) {
                continue;
            }
            out.push(PostVersion {
                text,
                at: edited.unwrap_or(created),
            });
        }
        Ok(out)
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

    /// Per device with void changes in `doc`: what its valid changes say (see
    /// [`DeviceValid`]).
    fn device_valid(&mut self, doc: &DocId) -> BTreeMap<DeviceId, DeviceValid> {
        let void = self.void_content(doc);
        let mut out: BTreeMap<DeviceId, DeviceValid> = BTreeMap::new();
        let Some(d) = self.content.get(doc) else {
            return out;
        };
        let devices: BTreeSet<DeviceId> = void
            .iter()
            .filter_map(|h| d.meta.get(h).map(|m| m.device))
            .collect();
        for (h, m) in &d.meta {
            if !devices.contains(&m.device) || void.contains(h) {
                continue;
            }
            let e = out.entry(m.device).or_default();
            match &m.action {
                Action::Post { key } | Action::Edit { key } | Action::Delete { key } => {
                    if matches!(m.action, Action::Post { .. }) {
                        e.created.insert(key.clone());
                    }
                    let cur = e.last.entry(key.clone()).or_insert((m.seq, *h));
                    if m.seq >= cur.0 {
                        *cur = (m.seq, *h);
                    }
                }
                Action::React { post, emoji, on } => {
                    let cur = e
                        .reactions
                        .entry((post.clone(), emoji.clone()))
                        .or_insert((m.seq, *on));
                    if m.seq >= cur.0 {
                        *cur = (m.seq, *on);
                    }
                }
                _ => {}
            }
        }
        for dev in devices {
            out.entry(dev).or_default();
        }
        out
    }

    /// Every visible post of a channel, newest first, with reactions and reply counts.
    fn channel_posts(&mut self, channel: &ChannelId) -> Result<Vec<PostView>> {
        self.posts_where(channel, None)
    }

    /// The visible posts of one document (a channel's time window), newest first: what a
    /// change to that document may have changed, read without the rest of the channel
    /// (reactions and reply counts are those written in that window).
    pub fn window_posts(&mut self, channel: &ChannelId, window: u32) -> Result<Vec<PostView>> {
        self.posts_where(channel, Some(window))
    }

    fn posts_where(&mut self, channel: &ChannelId, only: Option<u32>) -> Result<Vec<PostView>> {
        let st = self.state();
        let docs: Vec<DocId> = self
            .content
            .keys()
            .filter(|d| {
                matches!(d, DocId::Content { channel: c, window } if c == channel
                    && only.is_none_or(|w| w == *window))
            })
            .cloned()
            .collect();
        let mut posts: Vec<PostView> = Vec::new();
        let mut reactions: BTreeMap<PostId, BTreeMap<String, Vec<MemberId>>> = BTreeMap::new();
        for doc in &docs {
            let partial = self.device_valid(doc);
            let Some(d) = self.content.get_mut(doc) else {
                continue;
            };
            d.flush()?;
            // Authors as recorded when each device wrote here (not as keys stand now).
            let mut authors: BTreeMap<DeviceId, (u64, MemberId)> = BTreeMap::new();
            for m in d.meta.values() {
                let e = authors.entry(m.device).or_insert((m.seq, m.member));
                if m.seq < e.0 {
                    *e = (m.seq, m.member);
                }
            }
            let DocId::Content { window, .. } = doc else {
                continue;
            };
            let am = &d.am;
            for (device, slot) in slots(am) {
                let author = authors
                    .get(&device)
                    .map(|(_, m)| *m)
                    .unwrap_or_else(|| st.member_of(&device));
                let valid = partial.get(&device);
                if let Some(ps) = section(am, &slot, schema::POSTS) {
                    for item in am.map_range(&ps, ..) {
                        let key = item.key.to_string();
                        let Ok(Some((Value::Object(ObjType::Map), p))) = am.get(&ps, key.as_str())
                        else {
                            continue;
                        };
                        // A device with void changes: only posts it validly created, as of
                        // its last valid change touching them.
                        let heads: Option<[Hash; 1]> = match valid {
                            None => None,
                            Some(dv) => {
                                if !dv.created.contains(&key) {
                                    continue;
                                }
                                dv.last.get(&key).map(|(_, h)| [*h])
                            }
                        };
                        let at = heads.as_ref().map(|h| &h[..]);
                        let (text, created, edited, reply_to, attachments, deleted) =
                            read_post(am, &p, at);
                        let id = PostId {
                            channel: channel.clone(),
                            window: *window,
                            key,
                        };
                        // A hide counts only by a member ranking at least as high as the
                        // author (a moderator cannot hide the founder's posts).
                        let rank = |m: &MemberId| st.role(m).map(|r| r.rank()).unwrap_or(0);
                        let hidden = st
                            .hidden
                            .get(&id)
                            .filter(|h| h.by == author || rank(&h.by) >= rank(&author))
                            .map(HiddenBy::from);
                        let pinned = st.pinned.contains(&id);
                        posts.push(PostView {
                            pinned,
                            hidden,
                            id,
                            author,
                            device,
                            text,
                            created,
                            edited,
                            reply_to,
                            attachments,
                            deleted,
                            reactions: BTreeMap::new(),
                            replies: 0,
                        });
                    }
                }
                match valid {
                    Some(dv) => {
                        for ((pid, emoji), (_, on)) in &dv.reactions {
                            if *on {
                                reactions
                                    .entry(pid.clone())
                                    .or_default()
                                    .entry(emoji.clone())
                                    .or_default()
                                    .push(author);
                            }
                        }
                    }
                    None => {
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
                                    if bool_of(am.get(&m, e.key.as_ref()).ok().flatten())
                                        == Some(true)
                                    {
                                        entry.entry(e.key.to_string()).or_default().push(author);
                                    }
                                }
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
