//! Local edits: typed operations that become one signed change each.
//!
//! An edit is authorized with the same rules as a received change before anything is written,
//! then made as an Automerge change on the local document, signed with the device key and run
//! through the same ownership check; only then is it recorded and returned for persisting and
//! publishing.

use super::Community;
use super::apply::{Accepted, signing_message};
use super::auth::authorize;
use super::doc::{ContentMeta, DocState, Record};
use crate::error::{Error, Result};
use crate::gov::index::View;
use crate::ids::{ChannelId, DocId, Hash, PostId};
use crate::model::action::{Action, ChangeMeta, ExpireTarget, Section};
use crate::model::cut::Cut;
use crate::model::schema::{self, post, profile};
use automerge::transaction::{CommitOptions, Transactable, Transaction};
use automerge::{ObjId, ObjType, ROOT, ReadDoc, Value};
use qun_identity::{ContentId, DeviceId, MemberId, SecretIdentity, Timestamp};

/// Longest post text, bytes.
pub const MAX_POST_TEXT: usize = 16 * 1024;
/// Longest profile name, bytes.
pub const MAX_PROFILE_NAME: usize = 64;
/// Longest profile bio, bytes.
pub const MAX_PROFILE_BIO: usize = 2_000;
/// Most links on a profile.
pub const MAX_PROFILE_LINKS: usize = 8;
/// Most attachments on a post.
pub const MAX_ATTACHMENTS: usize = 16;

/// A member's profile.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Profile {
    /// Display name.
    pub name: String,
    /// About.
    pub bio: String,
    /// Avatar image (blake3 of its bytes).
    pub avatar: Option<ContentId>,
    /// Links.
    pub links: Vec<String>,
}

/// Something a member does.
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    /// Write a post (or a reply, with `reply_to`).
    Post {
        /// The channel.
        channel: ChannelId,
        /// Markdown text.
        text: String,
        /// The post this replies to.
        reply_to: Option<PostId>,
        /// Attachments (blake3 content ids).
        attachments: Vec<ContentId>,
    },
    /// Change one's post.
    EditPost {
        /// Which.
        post: PostId,
        /// New text.
        text: String,
    },
    /// Delete one's post.
    DeletePost {
        /// Which.
        post: PostId,
    },
    /// React to a post.
    React {
        /// Which.
        post: PostId,
        /// Reaction.
        emoji: String,
        /// Add or take back.
        on: bool,
    },
    /// Set one's profile.
    Profile(Profile),
    /// Follow or unfollow.
    Follow {
        /// Whom.
        member: MemberId,
        /// Follow or unfollow.
        on: bool,
    },
    /// A governance action that carries no document data (join, admit, remove, roles, policy,
    /// channels, devices, endorsements, moderation).
    Govern(Action),
}

/// A change made locally: ready to persist and publish.
#[derive(Debug, Clone)]
pub struct LocalChange {
    /// What went in.
    pub accepted: Accepted,
    /// The change bytes.
    pub bytes: Vec<u8>,
    /// The device's signature.
    pub sig: [u8; 64],
    /// The new post, for [`Edit::Post`].
    pub post: Option<PostId>,
}

fn ensure_map(tx: &mut Transaction<'_>, obj: &ObjId, key: &str) -> Result<ObjId> {
    if let Some((Value::Object(ObjType::Map), id)) = tx.get(obj, key)? {
        return Ok(id);
    }
    Ok(tx.put_object(obj, key, ObjType::Map)?)
}

fn post_key(device: &DeviceId, seq: u64, now: Timestamp) -> String {
    let mut h = blake3::Hasher::new();
    h.update(b"qun-post-key-v1");
    h.update(&device.to_bytes());
    h.update(&seq.to_le_bytes());
    h.update(&now.as_millis().to_le_bytes());
    data_encoding::BASE32_NOPAD
        .encode(&h.finalize().as_bytes()[..10])
        .to_ascii_lowercase()
}

fn int(t: Timestamp) -> i64 {
    i64::try_from(t.as_millis()).unwrap_or(i64::MAX)
}

impl Community {
    /// Make an edit as this node's device `key` at time `now`.
    pub fn edit(
        &mut self,
        key: &SecretIdentity,
        now: Timestamp,
        edit: Edit,
    ) -> Result<LocalChange> {
        if key.device_id() != self.device {
            return Err(Error::edit(
                "edit",
                "key is not this community's local device",
            ));
        }
        let device = self.device;
        // Planning reads the documents: apply what is staged first.
        self.flush()?;
        let (doc, mut action) = self.plan(now, &edit)?;
        action.check()?;
        // The same bounds peers apply (`ingest`): a change every peer refuses must not be
        // acknowledged here.
        if let DocId::Content { window, .. } = &doc
            && *window < self.first_window()
            && !self.forging()
        {
            return Err(Error::edit(
                "edit",
                format!(
                    "this device's clock ({now}) is more than a window before the community \
                     began ({}): set the clock right",
                    self.genesis.value().created
                ),
            ));
        }
        self.fill_cut(&mut action);
        // Peers admit the change against the state at its dependencies (our heads) resolved
        // over that past, which is our resolved state: it also says whether it counts.
        let state = self.state();
        let auth = authorize(&self.genesis, &state, &doc, &device, &action)?;
        // A debit the book would void (over the limit, from a frozen account) is refused here
        // rather than made and shown as void (`ledger::book`; peers judge it the same).
        if let Some(amount) = action.debit()
            && !self.forging()
        {
            let member = auth.member(&device);
            let s = self.statement(&member);
            if s.account.frozen {
                return Err(Error::unauthorized(
                    &member,
                    action.tag(),
                    "this account is frozen: two payments were made from it at once (a moderator can unfreeze it)",
                ));
            }
            if s.available < i64::try_from(amount).unwrap_or(i64::MAX) {
                return Err(Error::unauthorized(
                    &member,
                    action.tag(),
                    format!(
                        "over the credit limit: {} available (balance {}, limit {})",
                        s.available.max(0),
                        s.account.balance,
                        s.account.limit
                    ),
                ));
            }
        }

        let cited: Vec<Hash> = if doc.is_governance() {
            Vec::new()
        } else {
            self.index.heads().to_vec()
        };
        // A change's time must fall inside its document's window (its author's clock is only
        // informational otherwise): an edit of an older post goes into that post's document,
        // dated at the window's last moment; the post's own `edited` field keeps `now`.
        let change_time = match &doc {
            DocId::Content { window, .. } => {
                let (start, end) = self.genesis.window_range(*window);
                Timestamp::from_millis(now.as_millis().clamp(start, end.saturating_sub(1)))
            }
            DocId::Governance => now,
        };
        let message = ChangeMeta::encode(&action, &cited);
        let community = self.genesis.id();
        if let DocId::Content { .. } = doc {
            self.content
                .entry(doc.clone())
                .or_insert_with(|| DocState::new(&community, doc.clone(), &device));
        }
        let target = self
            .doc_mut(&doc)
            .ok_or_else(|| Error::edit("edit", "document missing"))?;
        target.flush()?;
        let opts = CommitOptions::default()
            .with_message(message)
            .with_time(int(change_time));
        let hash = match action.section() {
            None => target.am.empty_commit(opts),
            Some(section) => {
                let r = target.am.transact_with(
                    |_| opts,
                    |tx| write_data(tx, &device, section, &action, &edit, now),
                );
                match r {
                    Ok(s) => s
                        .hash
                        .ok_or_else(|| Error::edit("edit", "nothing to change"))?,
                    Err(f) => return Err(f.error),
                }
            }
        };
        let change = target
            .am
            .get_change_by_hash(&hash)
            .ok_or_else(|| Error::edit("edit", "change vanished"))?;
        let sig = key.sign_raw(&signing_message(&community, &doc, &hash));
        let created = target.check_ownership(&change.decode(), &device, action.section())?;
        let deps = change.deps().to_vec();
        let seq = change.seq();
        let bytes = change.raw_bytes().to_vec();
        let member = auth.member(&device);
        let meta = if doc.is_governance() {
            None
        } else {
            Some(ContentMeta {
                device,
                seq,
                member,
                cited: self.intern(cited),
                action: action.clone(),
            })
        };
        let target = self
            .doc_mut(&doc)
            .ok_or_else(|| Error::edit("edit", "document missing"))?;
        target.stage(
            change,
            Record {
                sig,
                device,
                seq,
                meta,
                created,
            },
            false,
        );
        if doc.is_governance() {
            self.index_gov(hash, &deps, device, seq, member, now, &action, auth);
        }
        let post = match (&action, &doc) {
            (Action::Post { key }, DocId::Content { channel, window }) => Some(PostId {
                channel: channel.clone(),
                window: *window,
                key: key.clone(),
            }),
            _ => None,
        };
        Ok(LocalChange {
            accepted: Accepted {
                hash,
                doc,
                action,
                author: member,
                device,
                seq,
                time: now,
            },
            bytes,
            sig,
            post,
        })
    }

    /// Give a revocation the cut of what this node has seen of its target's content writes:
    /// for each of the target's devices and each content document, the last sequence number.
    fn fill_cut(&mut self, action: &mut Action) {
        let st = self.index.current(View::Raw);
        let devices_of = |m: &MemberId| -> Vec<DeviceId> {
            let mut v: Vec<DeviceId> = st
                .devices
                .iter()
                .chain(st.revoked.iter())
                .filter(|(_, l)| l.member == *m)
                .map(|(d, _)| *d)
                .collect();
            v.push(DeviceId(*m.key()));
            v
        };
        let (devices, cut): (Vec<DeviceId>, &mut Cut) = match action {
            // Enacting a removal or demotion: the enactor's view of the member's content.
            Action::MotionEnact { id, cut } => match st.ledger.motions.get(id).map(|m| &m.action) {
                Some(Action::Remove { member, .. } | Action::SetRole { member, .. }) => {
                    (devices_of(member), cut)
                }
                _ => return,
            },
            Action::Remove { member, cut, .. } => (devices_of(member), cut),
            Action::SetRole { member, cut, .. } => (devices_of(member), cut),
            Action::RevokeDevice { revocation, cut } => {
                let d = qun_identity::Signed::<qun_identity::Revocation>::from_bytes_untimed(
                    revocation,
                    &qun_identity::Limits::default(),
                )
                .map(|r| r.value().device);
                match d {
                    Ok(d) => (vec![d], cut),
                    Err(_) => return,
                }
            }
            Action::Expire {
                target: ExpireTarget::Device { device },
                cut,
            } => (vec![*device], cut),
            _ => return,
        };
        let mut entries = Vec::new();
        for (id, d) in &self.content {
            for dev in &devices {
                let last = d.next_seq(dev) - 1;
                if last > 0 {
                    entries.push((*dev, id.clone(), last));
                }
            }
        }
        *cut = Cut::from_entries(entries);
    }

    /// The document and action of an edit.
    fn plan(&self, now: Timestamp, edit: &Edit) -> Result<(DocId, Action)> {
        let window = self.genesis.window_of(now);
        Ok(match edit {
            Edit::Post {
                channel,
                text,
                attachments,
                ..
            } => {
                if text.trim().is_empty() && attachments.is_empty() {
                    return Err(Error::edit("post", "empty post"));
                }
                if text.len() > MAX_POST_TEXT {
                    return Err(Error::edit(
                        "post",
                        format!("longer than {MAX_POST_TEXT} bytes"),
                    ));
                }
                if attachments.len() > MAX_ATTACHMENTS {
                    return Err(Error::edit("post", "too many attachments"));
                }
                let doc = DocId::Content {
                    channel: channel.clone(),
                    window,
                };
                let seq = self
                    .doc_ref(&doc)
                    .map(|d| d.next_seq(&self.device))
                    .unwrap_or(1);
                let key = post_key(&self.device, seq, now);
                (doc, Action::Post { key })
            }
            Edit::EditPost { post, text } => {
                if text.len() > MAX_POST_TEXT {
                    return Err(Error::edit(
                        "edit post",
                        format!("longer than {MAX_POST_TEXT} bytes"),
                    ));
                }
                self.own_post(post, "edit post")?;
                (
                    post.doc(),
                    Action::Edit {
                        key: post.key.clone(),
                    },
                )
            }
            Edit::DeletePost { post } => {
                self.own_post(post, "delete post")?;
                (
                    post.doc(),
                    Action::Delete {
                        key: post.key.clone(),
                    },
                )
            }
            Edit::React { post, emoji, on } => (
                DocId::Content {
                    channel: post.channel.clone(),
                    window,
                },
                Action::React {
                    post: post.clone(),
                    emoji: emoji.clone(),
                    on: *on,
                },
            ),
            Edit::Profile(p) => {
                if p.name.len() > MAX_PROFILE_NAME
                    || p.bio.len() > MAX_PROFILE_BIO
                    || p.links.len() > MAX_PROFILE_LINKS
                    || p.links.iter().any(|l| l.len() > 512)
                {
                    return Err(Error::edit(
                        "set profile",
                        "name <= 64 bytes, bio <= 2000 bytes, <= 8 links of <= 512 bytes",
                    ));
                }
                (DocId::Governance, Action::Profile)
            }
            Edit::Follow { member, on } => (
                DocId::Governance,
                Action::Follow {
                    member: *member,
                    on: *on,
                },
            ),
            Edit::Govern(a) => {
                if !a.is_governance() || a.section().is_some() {
                    return Err(Error::edit(
                        a.tag(),
                        "not a governance action; use the typed edit",
                    ));
                }
                (DocId::Governance, a.clone())
            }
        })
    }

    /// Check `post` exists and was written by this device.
    fn own_post(&self, post: &PostId, action: &'static str) -> Result<()> {
        let doc = self
            .content
            .get(&post.doc())
            .ok_or_else(|| Error::edit(action, "no such post"))?;
        let exists = doc
            .am
            .get(ROOT, schema::SLOTS)
            .ok()
            .flatten()
            .and_then(|(_, slots)| doc.am.get(&slots, self.device.to_string()).ok().flatten())
            .and_then(|(_, slot)| doc.am.get(&slot, schema::POSTS).ok().flatten())
            .and_then(|(_, posts)| doc.am.get(&posts, post.key.as_str()).ok().flatten())
            .is_some();
        if exists {
            Ok(())
        } else {
            Err(Error::edit(
                action,
                "no post of this device with that id (posts are edited from the device that wrote them)",
            ))
        }
    }
}

/// Write an edit's data into the device's slot.
fn write_data(
    tx: &mut Transaction<'_>,
    device: &DeviceId,
    section: Section,
    action: &Action,
    edit: &Edit,
    now: Timestamp,
) -> Result<()> {
    let slots = match tx.get(ROOT, schema::SLOTS)? {
        Some((_, id)) => id,
        None => return Err(Error::edit("edit", "document has no slots map")),
    };
    let slot = ensure_map(tx, &slots, &device.to_string())?;
    let sec = ensure_map(tx, &slot, section.key())?;
    match (edit, action) {
        (
            Edit::Post {
                text,
                reply_to,
                attachments,
                ..
            },
            Action::Post { key },
        ) => {
            let p = tx.put_object(&sec, key.as_str(), ObjType::Map)?;
            tx.put(&p, post::TEXT, text.as_str())?;
            tx.put(&p, post::CREATED, int(now))?;
            if let Some(r) = reply_to {
                tx.put(&p, post::REPLY_TO, r.to_string())?;
            }
            if !attachments.is_empty() {
                let l = tx.put_object(&p, post::ATTACHMENTS, ObjType::List)?;
                for (i, a) in attachments.iter().enumerate() {
                    tx.insert(&l, i, a.to_string())?;
                }
            }
            tx.put(&p, post::DELETED, false)?;
        }
        (Edit::EditPost { text, .. }, Action::Edit { key }) => {
            let Some((_, p)) = tx.get(&sec, key.as_str())? else {
                return Err(Error::edit("edit post", "no such post"));
            };
            tx.put(&p, post::TEXT, text.as_str())?;
            tx.put(&p, post::EDITED, int(now))?;
        }
        (Edit::DeletePost { .. }, Action::Delete { key }) => {
            let Some((_, p)) = tx.get(&sec, key.as_str())? else {
                return Err(Error::edit("delete post", "no such post"));
            };
            tx.put(&p, post::TEXT, "")?;
            tx.put(&p, post::DELETED, true)?;
            tx.put(&p, post::EDITED, int(now))?;
        }
        (Edit::React { post, emoji, on }, _) => {
            let m = ensure_map(tx, &sec, &post.to_string())?;
            if *on {
                tx.put(&m, emoji.as_str(), true)?;
            } else if tx.get(&m, emoji.as_str())?.is_some() {
                tx.delete(&m, emoji.as_str())?;
            } else {
                return Err(Error::edit("react", "no such reaction to take back"));
            }
        }
        (Edit::Profile(p), _) => {
            tx.put(&sec, profile::NAME, p.name.as_str())?;
            tx.put(&sec, profile::BIO, p.bio.as_str())?;
            match &p.avatar {
                Some(a) => tx.put(&sec, profile::AVATAR, a.to_string())?,
                None => tx.put(&sec, profile::AVATAR, "")?,
            }
            let l = tx.put_object(&sec, profile::LINKS, ObjType::List)?;
            for (i, link) in p.links.iter().enumerate() {
                tx.insert(&l, i, link.as_str())?;
            }
            tx.put(&sec, profile::UPDATED, int(now))?;
        }
        (Edit::Follow { member, on }, _) => {
            if *on {
                tx.put(&sec, member.to_string(), true)?;
            } else if tx.get(&sec, member.to_string())?.is_some() {
                tx.delete(&sec, member.to_string())?;
            } else {
                return Err(Error::edit("unfollow", "not following"));
            }
        }
        _ => return Err(Error::edit(action.tag(), "edit and action do not match")),
    }
    Ok(())
}
