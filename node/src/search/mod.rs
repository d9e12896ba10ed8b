//! Full-text search of the posts this node holds, kept up to date as changes arrive from the
//! first search of a run on: an index ([`index`], tantivy, in `search/` in the data directory)
//! and a task that follows the node's events. It lives at the edge, outside the replication core: it reads what the
//! node shows (valid, visible posts) through [`NodeHandle`] and never changes the node.
//!
//! * A post, edit, deletion, hide or unhide re-reads the channel window it is in (one content
//!   document), a few at a time: changes that arrive together are read once.
//! * A change that may void posts (a removal, a device revocation or expiry, equivocation
//!   evidence, a role change) re-reads the whole community, and so does a profile that
//!   changed a name; a community is read whole at most every [`MIN_FULL_INTERVAL`].
//! * At start, communities whose change count differs from what the index reflects are read
//!   again; a missed event (the subscriber fell behind) re-reads everything.

pub mod index;

use crate::dto::NodeEvent;
use crate::error::Result;
use crate::handle::NodeHandle;
pub use index::{Hit, SearchIndex};
use qun_crdt::{CommunityId, PostId};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// How long the indexer gathers changes before reading them (changes arriving together are
/// read once, and committed as one segment: committing less often keeps the index's segments
/// and merges, and the node's memory, small while a community is busy).
pub const BATCH_WINDOW: Duration = Duration::from_secs(1);

/// Governance actions that may void or hide posts anywhere in their community.
const COMMUNITY_WIDE: &[&str] = &[
    "member.remove",
    "member.role",
    "role.define",
    "device.revoke",
    "device.equivocation",
    "expire",
];

/// A community is read whole at most this often; what asks for more waits its turn (any
/// member can save a profile as often as it likes).
pub const MIN_FULL_INTERVAL: Duration = Duration::from_secs(10);

/// What to read again.
#[derive(Default)]
struct Dirty {
    all: bool,
    communities: BTreeSet<CommunityId>,
    /// Communities where someone saved a profile: read whole only if a name changed.
    profiles: BTreeSet<CommunityId>,
    windows: BTreeSet<(CommunityId, qun_crdt::ChannelId, u32)>,
}

impl Dirty {
    fn is_empty(&self) -> bool {
        !self.all
            && self.communities.is_empty()
            && self.profiles.is_empty()
            && self.windows.is_empty()
    }

    fn note(&mut self, e: &NodeEvent) {
        match e {
            NodeEvent::Change {
                community,
                action,
                post,
                ..
            } => {
                let Ok(c) = community.parse::<CommunityId>() else {
                    return;
                };
                if COMMUNITY_WIDE.contains(&action.as_str()) {
                    self.communities.insert(c);
                } else if action == "profile.set" {
                    self.profiles.insert(c);
                } else if action != "react"
                    && let Some(p) = post.as_deref().and_then(|p| p.parse::<PostId>().ok())
                {
                    self.windows.insert((c, p.channel, p.window));
                }
            }
            NodeEvent::CommunityAdded { community } | NodeEvent::Membership { community, .. } => {
                if let Ok(c) = community.parse() {
                    self.communities.insert(c);
                }
            }
            NodeEvent::StoreRecovered => self.all = true,
            _ => {}
        }
    }
}

/// Display names by member id (text form).
async fn names(node: &NodeHandle, c: CommunityId) -> Result<BTreeMap<String, String>> {
    let v = node.community_view(c).await?;
    Ok(v.names
        .into_iter()
        .map(|(m, n)| (m.to_string(), n))
        .collect())
}

/// Read a whole community again; returns its change count and the names indexed.
async fn reindex_community(
    node: &NodeHandle,
    idx: &SearchIndex,
    c: CommunityId,
) -> Result<(usize, BTreeMap<String, String>)> {
    let v = node.community_view(c).await?;
    let changes = v.summary.changes;
    let names: BTreeMap<String, String> = v
        .names
        .iter()
        .map(|(m, n)| (m.to_string(), n.clone()))
        .collect();
    let mut posts = Vec::new();
    for ch in &v.channels {
        posts.extend(
            node.posts(
                c,
                crate::dto::PostQuery {
                    channel: ch.id.clone(),
                    limit: usize::MAX,
                    before: None,
                    following: false,
                },
            )
            .await?,
        );
    }
    idx.put_community(&c, &posts, &names)?;
    Ok((changes, names))
}

/// What the indexer remembers between batches.
#[derive(Default)]
struct Seen {
    /// Names as last indexed, per community.
    names: BTreeMap<CommunityId, BTreeMap<String, String>>,
    /// When each community was last read whole.
    full: BTreeMap<CommunityId, tokio::time::Instant>,
}

/// Apply `d`; what must wait (a community read whole too recently) is returned.
async fn apply(node: &NodeHandle, idx: &SearchIndex, seen: &mut Seen, d: Dirty) -> Result<Dirty> {
    let mut marks = Vec::new();
    let mut later = Dirty::default();
    let mut communities: BTreeSet<CommunityId> = if d.all {
        let st = node.status().await?;
        st.communities
            .iter()
            .filter_map(|s| s.id.parse().ok())
            .collect()
    } else {
        d.communities
    };
    // A saved profile matters only when a name changed.
    for c in d.profiles {
        if communities.contains(&c) {
            continue;
        }
        match names(node, c).await {
            Ok(n) if seen.names.get(&c) != Some(&n) => {
                communities.insert(c);
            }
            _ => {}
        }
    }
    let now = tokio::time::Instant::now();
    for c in &communities {
        if !d.all
            && seen
                .full
                .get(c)
                .is_some_and(|t| now.duration_since(*t) < MIN_FULL_INTERVAL)
        {
            later.communities.insert(*c);
            continue;
        }
        seen.full.insert(*c, now);
        match reindex_community(node, idx, *c).await {
            Ok((n, names)) => {
                seen.names.insert(*c, names);
                marks.push((*c, n));
            }
            Err(e) => tracing::debug!(community = %c, "search: {e}"),
        }
    }
    let mut names_of: BTreeMap<CommunityId, BTreeMap<String, String>> = BTreeMap::new();
    for (c, ch, w) in d.windows {
        if communities.contains(&c) {
            continue;
        }
        if let std::collections::btree_map::Entry::Vacant(e) = names_of.entry(c) {
            match names(node, c).await {
                Ok(n) => e.insert(n),
                Err(_) => continue,
            };
        }
        let posts = match node.window_posts(c, ch.clone(), w).await {
            Ok(p) => p,
            Err(e) => {
                tracing::debug!(community = %c, "search: {e}");
                continue;
            }
        };
        idx.put_window(&c, ch.as_str(), w, &posts, &names_of[&c])?;
    }
    idx.commit(&marks)?;
    Ok(later)
}

/// Full-text search over what this node holds. The index is kept up to date from the first
/// search of a run on (see [`Search::query`]).
pub struct Search {
    idx: Arc<SearchIndex>,
    node: NodeHandle,
    started: std::sync::atomic::AtomicBool,
}

impl Search {
    /// Posts matching `q`, best first (see [`SearchIndex::query`]). The first query of a run
    /// starts keeping the index up to date (catching up on what changed since it was last
    /// written): a node nobody searches on (a founders' relay, say) never pays for it. Known
    /// limit: while it runs, the index writer's memory grows with a busy community (about
    /// 70 MiB in the 2-minute soak), which is not understood yet.
    pub fn query(&self, q: &str, community: Option<&str>, limit: usize) -> Result<Vec<Hit>> {
        if !self.started.swap(true, std::sync::atomic::Ordering::SeqCst) {
            follow(self.node.clone(), self.idx.clone());
        }
        self.idx.query(q, community, limit)
    }

    /// Posts indexed.
    pub fn len(&self) -> u64 {
        self.idx.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.idx.is_empty()
    }
}

/// Open the index (`dir`, or in memory) for `node`; it is kept up to date from the first
/// query on.
pub fn spawn(node: NodeHandle, dir: Option<&std::path::Path>) -> Result<Arc<Search>> {
    let idx = match dir {
        Some(d) => SearchIndex::open(d)?,
        None => SearchIndex::in_memory()?,
    };
    Ok(Arc::new(Search {
        idx: Arc::new(idx),
        node,
        started: std::sync::atomic::AtomicBool::new(false),
    }))
}

/// Keep `idx` up to date with `node` (a task).
fn follow(node: NodeHandle, idx: Arc<SearchIndex>) {
    // Subscribe before reading, so nothing that happens in between is missed.
    let mut events = node.events();
    let s = idx;
    tokio::spawn(async move {
        // At start: the communities that changed since the index was written.
        let mut dirty = Dirty::default();
        if let Ok(st) = node.status().await {
            for c in &st.communities {
                if let Ok(id) = c.id.parse::<CommunityId>()
                    && s.indexed_changes(&id) != Some(c.changes)
                {
                    dirty.communities.insert(id);
                }
            }
        }
        let mut seen = Seen::default();
        let mut waiting = Dirty::default();
        loop {
            if !dirty.is_empty() {
                let d = std::mem::take(&mut dirty);
                match apply(&node, &s, &mut seen, d).await {
                    Ok(later) => waiting.communities.extend(later.communities),
                    Err(e) => tracing::warn!("search index: {e}"),
                }
            }
            // Wait for a change (or for the turn of what waits), then gather what comes
            // with it.
            let next = if waiting.is_empty() {
                events.recv().await
            } else {
                match tokio::time::timeout(MIN_FULL_INTERVAL, events.recv()).await {
                    Ok(r) => r,
                    Err(_) => {
                        dirty.communities.append(&mut waiting.communities);
                        continue;
                    }
                }
            };
            if !waiting.is_empty() {
                dirty.communities.append(&mut waiting.communities);
            }
            match next {
                Ok(e) => dirty.note(&e),
                Err(RecvError::Lagged(_)) => dirty.all = true,
                Err(RecvError::Closed) => return,
            }
            let until = tokio::time::Instant::now() + BATCH_WINDOW;
            loop {
                match tokio::time::timeout_at(until, events.recv()).await {
                    Ok(Ok(e)) => dirty.note(&e),
                    Ok(Err(RecvError::Lagged(_))) => dirty.all = true,
                    Ok(Err(RecvError::Closed)) => return,
                    Err(_) => break,
                }
            }
        }
    });
}
