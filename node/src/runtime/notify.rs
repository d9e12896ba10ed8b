//! Notifications, read on the driver's task from the communities' valid state: replies to this
//! member's posts, posts that mention it, and reactions to its posts, by others. They are
//! derived, not stored: a post voided by a removal, deleted or hidden by a moderator notifies
//! nobody, on every node alike. Which ones were read is the page's business (`http::prefs`).
//! Only each channel's newest windows are read (a reply to a post older than that notifies
//! no more), and at most [`MAX_PER_SENDER`] per sender are kept.

use super::driver::Driver;
use crate::dto::{Notification, NotificationKind, mentions};
use crate::error::Result;
use qun_crdt::{CommunityId, PostId, PostView};
use std::collections::BTreeMap;

/// Windows (content documents) read per channel, newest first: older ones notify no more, and
/// a change anywhere costs a read of these only, never of a channel's whole history.
pub const RECENT_WINDOWS_PER_CHANNEL: usize = 3;
/// Most notifications kept per sender and community (one member's flood of `@me` posts does
/// not push everyone else's out).
pub const MAX_PER_SENDER: usize = 10;
/// Most notifications returned.
pub const MAX_NOTIFICATIONS: usize = 200;
/// Characters of a post's text in a notification.
const EXCERPT_CHARS: usize = 140;

fn id_of(kind: NotificationKind, c: &CommunityId, post: &PostId, by: &str, emoji: &str) -> String {
    let mut h = blake3::Hasher::new();
    for part in [
        format!("{kind:?}"),
        c.to_string(),
        post.to_string(),
        by.to_string(),
        emoji.to_string(),
    ] {
        h.update(&(part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().to_hex()[..20].to_string()
}

fn excerpt(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(EXCERPT_CHARS) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}

/// What notifications depend on: every community held and how many changes it holds (a change
/// that voids another is a change too). Notifications are read again only when it differs.
pub(super) type StateKey = Vec<(CommunityId, usize)>;

impl Driver {
    /// This member's notifications in every community it is a member of, newest first (read
    /// again only after a change arrived; the times shown age by themselves).
    pub(super) fn notifications(&mut self) -> Result<Vec<Notification>> {
        let ids: Vec<CommunityId> = self.repl.communities().copied().collect();
        let key: StateKey = ids
            .iter()
            .map(|c| {
                let n = self.repl.community(c).map_or(0, |r| r.total_changes());
                (*c, n)
            })
            .collect();
        if let Some((k, items)) = &self.notify_cache
            && *k == key
        {
            return Ok(items.clone());
        }
        let items = self.read_notifications(&ids)?;
        self.notify_cache = Some((key, items.clone()));
        Ok(items)
    }

    fn read_notifications(&mut self, ids: &[CommunityId]) -> Result<Vec<Notification>> {
        let me = self.member;
        let me_text = me.to_string();
        let now = self.now().as_millis();
        let mut out = Vec::new();
        for &c in ids {
            let Some(mut comm) = self.repl.community(&c) else {
                continue;
            };
            let st = comm.state();
            if !st.is_member(&me) {
                continue;
            }
            let cname = st.name.clone();
            let profiles = comm.profiles().unwrap_or_default();
            let name_of = |m: &qun_identity::MemberId| {
                profiles
                    .get(m)
                    .map(|p| p.name.trim().to_string())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| m.to_string().chars().take(12).collect())
            };
            let my_name = profiles
                .get(&me)
                .map(|p| p.name.trim().to_string())
                .filter(|n| !n.is_empty());
            let mut windows: BTreeMap<qun_crdt::ChannelId, Vec<u32>> = BTreeMap::new();
            for d in comm.docs() {
                if let qun_crdt::DocId::Content { channel, window } = d {
                    windows.entry(channel).or_default().push(window);
                }
            }
            for ch in comm.channels() {
                let mut ws = windows.remove(&ch.id).unwrap_or_default();
                ws.sort_unstable_by(|a, b| b.cmp(a));
                ws.truncate(RECENT_WINDOWS_PER_CHANNEL);
                let mut posts: Vec<PostView> = Vec::new();
                for w in ws {
                    posts.extend(comm.window_posts(&ch.id, w)?);
                }
                let by_id: BTreeMap<&PostId, &PostView> =
                    posts.iter().map(|p| (&p.id, p)).collect();
                let visible = |p: &PostView| !p.deleted && p.hidden.is_none();
                let mut push = |kind,
                                p: &PostView,
                                by: &qun_identity::MemberId,
                                emoji: Option<&str>,
                                at: u64| {
                    let by_text = by.to_string();
                    out.push(Notification {
                        id: id_of(kind, &c, &p.id, &by_text, emoji.unwrap_or("")),
                        kind,
                        community: c.to_string(),
                        community_name: cname.clone(),
                        channel: ch.id.to_string(),
                        post: p.id.to_string(),
                        by: by_text,
                        by_name: name_of(by),
                        excerpt: excerpt(&p.text),
                        emoji: emoji.map(str::to_string),
                        // An author's clock may run ahead: never in this node's future.
                        at: at.min(now),
                        unread: false,
                    });
                };
                for p in &posts {
                    if !visible(p) {
                        continue;
                    }
                    if p.author != me {
                        let reply_to_me = p
                            .reply_to
                            .as_ref()
                            .and_then(|r| by_id.get(r))
                            .is_some_and(|parent| parent.author == me);
                        if reply_to_me {
                            push(
                                NotificationKind::Reply,
                                p,
                                &p.author,
                                None,
                                p.created.as_millis(),
                            );
                        } else if mentions(&p.text, my_name.as_deref(), &me_text) {
                            push(
                                NotificationKind::Mention,
                                p,
                                &p.author,
                                None,
                                p.created.as_millis(),
                            );
                        }
                    } else {
                        for (emoji, who) in &p.reactions {
                            for m in who.iter().filter(|m| **m != me) {
                                push(
                                    NotificationKind::Reaction,
                                    p,
                                    m,
                                    Some(emoji),
                                    p.created.as_millis(),
                                );
                            }
                        }
                    }
                }
            }
        }
        out.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.id.cmp(&b.id)));
        let mut per_sender: BTreeMap<(String, String), usize> = BTreeMap::new();
        out.retain(|n| {
            let k = per_sender
                .entry((n.community.clone(), n.by.clone()))
                .or_default();
            *k += 1;
            *k <= MAX_PER_SENDER
        });
        out.truncate(MAX_NOTIFICATIONS);
        Ok(out)
    }
}
