//! The workload as the replicator sees it: each workload item becomes a post, a reply or a
//! reaction made with `Replicator::edit` at the chosen member. Texts are random words
//! (Automerge compresses changes, so filler text would understate sizes); replies and
//! reactions target one of the community's latest posts the author holds.

use qun_crdt::{ChannelId, Edit, PostId};

use super::{ReplicatorApp, Source, SyncFrame, now_ts};
use crate::ctx::Core;
use crate::dist::{SimRng, below, unit};
use crate::{NodeIx, TopicIx};

/// Replies and reactions pick their target among this many latest posts of the community.
const RECENT_POSTS: usize = 32;
/// Reactions drawn by the workload.
const EMOJI: [&str; 4] = ["👍", "❤️", "🎉", "👀"];
/// Words post texts are made of (random words: Automerge compresses changes, so filler
/// text would understate sizes).
const WORDS: [&str; 32] = [
    "community",
    "garden",
    "market",
    "tomorrow",
    "repair",
    "bicycle",
    "meeting",
    "thanks",
    "question",
    "anyone",
    "offer",
    "request",
    "library",
    "weekend",
    "share",
    "fund",
    "build",
    "solar",
    "bread",
    "class",
    "music",
    "walk",
    "river",
    "school",
    "tools",
    "kitchen",
    "idea",
    "vote",
    "plan",
    "help",
    "open",
    "news",
];

/// Random words, about `len` bytes.
pub(super) fn text(rng: &mut SimRng, len: usize) -> String {
    let mut s = String::with_capacity(len + 16);
    while s.len() < len {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(WORDS[below(rng, WORDS.len())]);
    }
    s
}

impl ReplicatorApp {
    /// A workload item at `node` in `topic`: a reply (`workload.reply_fraction`) or a
    /// reaction (`workload.react_fraction`) to one of the community's latest posts that
    /// `node` holds, else a post of about `workload.message_bytes` bytes of random words.
    pub(super) fn make_post<C>(
        &mut self,
        core: &mut Core<C, SyncFrame>,
        node: NodeIx,
        topic: TopicIx,
    ) {
        if self.nodes[node as usize].rep.is_none() {
            return;
        }
        let id = self.communities[topic as usize].id;
        let u = unit(&mut core.rng);
        let want = if u < self.workload.reply_fraction {
            1
        } else if u < self.workload.reply_fraction + self.workload.react_fraction {
            2
        } else {
            0
        };
        let target = if want == 0 {
            None
        } else {
            let held: Vec<&PostId> = self.workload.recent[topic as usize]
                .iter()
                .filter(|(m, _)| core.messages.has(*m, node))
                .map(|(_, p)| p)
                .collect();
            (!held.is_empty()).then(|| held[below(&mut core.rng, held.len())].clone())
        };
        let edit = match (want, target) {
            (2, Some(post)) => Edit::React {
                post,
                emoji: EMOJI[below(&mut core.rng, EMOJI.len())].to_string(),
                on: true,
            },
            (_, reply_to) => {
                let len = self
                    .workload
                    .message_bytes
                    .sample(&mut core.rng)
                    .round()
                    .clamp(1.0, qun_crdt::community::edit::MAX_POST_TEXT as f64)
                    as usize;
                Edit::Post {
                    channel: ChannelId::general(),
                    text: text(&mut core.rng, len),
                    reply_to,
                    attachments: Vec::new(),
                }
            }
        };
        let kind = match &edit {
            Edit::React { .. } => 2,
            Edit::Post {
                reply_to: Some(_), ..
            } => 1,
            _ => 0,
        };
        let now = now_ts(core.now);
        let Some(rep) = self.nodes[node as usize].rep.as_mut() else {
            return;
        };
        let made = rep.edit(now, &id, edit);
        self.run_outputs(core, node, Source::default());
        match made {
            Ok(lc) => {
                match kind {
                    1 => self.stats.made.replies += 1,
                    2 => self.stats.made.reactions += 1,
                    _ => self.stats.made.posts += 1,
                }
                if let (Some(post), Some(msg)) = (lc.post, self.table.msg_of(&lc.accepted.hash)) {
                    let r = &mut self.workload.recent[topic as usize];
                    if r.len() == RECENT_POSTS {
                        r.remove(0);
                    }
                    r.push((msg, post));
                }
            }
            Err(_) => self.stats.edit_errors += 1,
        }
    }
}
