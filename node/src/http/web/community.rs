//! A community: a channel's posts (with the composer and an aside), threads, the joining page.

use super::posts::{PostCtx, posts_list, thread_list, thread_url};
use super::view::{self, Current, Nav, avatar, badge, enc, icon, page};
use crate::dto::{CommunitySummary, CommunityView, JoinInfo, MemberStatus, PostQuery, parse};
use crate::error::Error;
use crate::handle::NodeHandle;
use crate::http::AppState;
use crate::http::error::PageError;
use crate::http::extract::{Community, Query};
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use qun_crdt::{ChannelId, ChannelView, CommunityId, Perm, PostId, PostView};
use qun_identity::Timestamp;
use serde::Deserialize;

/// The query that keeps a channel to members I follow.
pub const FOLLOWING: &str = "&following=true";
/// Posts per page of a channel.
pub const PAGE_POSTS: usize = 30;
/// Members listed under "most trusted" beside the posts.
pub const TOP_TRUSTED: usize = 5;
/// The community's facts shown in the header.
pub struct Head {
    pub(super) summary: CommunitySummary,
    description: String,
    can_invite: bool,
    can_post: bool,
    /// May change settings on the manage page.
    can_manage: bool,
    founders: Vec<String>,
    /// The most trusted members from my point of view (not me), with their scores.
    top: Vec<(String, f64)>,
    /// When I was removed: by whom (display name) and why.
    removal: Option<(String, String)>,
    /// Largest file "Attach image" takes, bytes (the node's `[blobs] max_blob_bytes`).
    pub(super) attach_max: u64,
}

impl Head {
    /// From a community's view, with the most trusted members when the page shows them.
    pub(super) fn new(v: &CommunityView, top: Vec<(String, f64)>) -> Head {
        Head {
            summary: v.summary.clone(),
            description: v.description.clone(),
            can_invite: v.can(Perm::Invite),
            can_post: v.can(Perm::Post),
            can_manage: super::manage::Powers::of(v).any(),
            founders: v.founders.iter().map(|f| f.to_string()).collect(),
            top,
            removal: v
                .my_removal
                .as_ref()
                .map(|r| (view::names(v).of(&r.by.to_string()), r.reason.clone())),
            attach_max: crate::blobs::DEFAULT_MAX_BLOB_BYTES,
        }
    }
}

impl PostCtx {
    /// What posts of `v` need to render their actions; forms return to `back`.
    pub(super) fn new(v: &CommunityView, back: String) -> PostCtx {
        PostCtx {
            cid: v.summary.id.clone(),
            me: v.me.to_string(),
            can_hide: v.can(Perm::Hide),
            ranks: v.roles.keys().map(|m| (m.to_string(), v.rank(m))).collect(),
            badges: v
                .roles
                .iter()
                .filter(|(_, r)| !matches!(r, qun_crdt::Role::Member))
                .map(|(m, r)| (m.to_string(), r.to_string()))
                .collect(),
            can_react: v.can(Perm::React),
            can_post: v.can(Perm::Post),
            names: view::names(v),
            now: v.now.as_millis(),
            back,
        }
    }
}

/// The most trusted members from my point of view (not me, members only).
async fn top_trusted(node: &NodeHandle, c: CommunityId, v: &CommunityView) -> Vec<(String, f64)> {
    let me = v.me.to_string();
    node.trust(c, TOP_TRUSTED + 1)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t.is_member && t.member != me)
        .take(TOP_TRUSTED)
        .map(|t| (t.member, t.score))
        .collect()
}

/// `?channel=&before=&following=`.
#[derive(Deserialize)]
pub struct ChannelQuery {
    channel: Option<String>,
    before: Option<u64>,
    /// Only posts by members I follow.
    #[serde(default)]
    following: bool,
}

/// What the channel page shows.
struct ChannelData {
    nav: Nav,
    head: Head,
    ctx: PostCtx,
    channel: ChannelView,
    posts: Vec<PostView>,
    older: Option<u64>,
    following: bool,
}

/// Most pinned posts shown at the top of a channel.
const MAX_PINNED: usize = 5;

/// Top-level posts of a channel, newest first (the pinned ones first on the newest page), and
/// the cursor for older ones.
async fn top_level(
    node: &NodeHandle,
    c: CommunityId,
    channel: &ChannelId,
    before: Option<u64>,
    following: bool,
) -> crate::Result<(Vec<PostView>, Option<u64>)> {
    let q = PostQuery {
        channel: channel.clone(),
        limit: usize::MAX,
        before: before.map(Timestamp::from_millis),
        following,
    };
    let all = node.posts(c, q).await?;
    let mut top: Vec<PostView> = all.into_iter().filter(|p| p.reply_to.is_none()).collect();
    // The newest page starts with the pinned posts (a few), wherever they are in time.
    let pinned: Vec<PostView> = if before.is_none() && !following {
        top.iter()
            .filter(|p| p.pinned)
            .take(MAX_PINNED)
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    top.retain(|p| !pinned.iter().any(|q| q.id == p.id));
    let older = (top.len() > PAGE_POSTS).then(|| top[PAGE_POSTS - 1].created.as_millis());
    top.truncate(PAGE_POSTS);
    let mut out = pinned;
    out.extend(top);
    Ok((out, older))
}

/// The page's channel: the one asked for, else `general`, else the first.
fn pick_channel(channels: &[ChannelView], ch: Option<ChannelId>) -> Option<ChannelView> {
    ch.and_then(|ch| channels.iter().find(|x| x.id == ch).cloned())
        .or_else(|| {
            channels
                .iter()
                .find(|x| x.id == ChannelId::general())
                .cloned()
        })
        .or_else(|| channels.first().cloned())
}

/// The channel page's data, once the community is here.
async fn read_channel(
    node: &NodeHandle,
    nav_status: &crate::dto::Status,
    v: CommunityView,
    c: CommunityId,
    q: &ChannelQuery,
    ch: Option<ChannelId>,
) -> crate::Result<ChannelData> {
    let channel = pick_channel(&v.channels, ch)
        .ok_or_else(|| Error::NotFound(format!("a channel in {c}")))?;
    let (posts, older) = top_level(node, c, &channel.id, q.before, q.following).await?;
    let mut back = format!("/c/{c}?channel={}", enc(channel.id.as_str()));
    if q.following {
        back.push_str(FOLLOWING);
    }
    let top = top_trusted(node, c, &v).await;
    Ok(ChannelData {
        nav: Nav::new(
            nav_status,
            Some(Current::of(&v, Some(channel.id.clone()), "posts")),
        ),
        head: Head::new(&v, top),
        ctx: PostCtx::new(&v, back),
        channel,
        posts,
        older,
        following: q.following,
    })
}

/// "Attach image" in a composer: hidden until the page's script shows it (it uploads the file
/// to this node, `POST /api/v1/blobs`, and puts `![name](/blob/<id>)` into the text; see
/// `static/app.js`). The file input has no name: the post form never carries the file.
fn attach_button(max: u64) -> Markup {
    html! {
        span class="attach-status small" role="status" aria-live="polite" {}
        label class="btn ghost small attach" hidden data-attach-max=(max) title={ "PNG, JPEG, GIF or WebP, at most " (max / (1024 * 1024)) " MiB" } {
            input type="file" class="attach-input" accept="image/png,image/jpeg,image/gif,image/webp" aria-label="Attach image";
            "Attach image"
        }
    }
}

/// The community's view, or `None` while it is not here (being joined, or unknown).
pub(super) async fn view_if_here(
    node: &NodeHandle,
    c: CommunityId,
) -> crate::Result<Option<CommunityView>> {
    match node.community_view(c).await {
        Ok(v) => Ok(Some(v)),
        Err(Error::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `GET /c/{id}?channel=&before=`.
pub async fn channel(
    State(s): State<AppState>,
    Community(c): Community,
    Query(q): Query<ChannelQuery>,
) -> Result<Response, PageError> {
    let ch = q.channel.as_deref().map(parse::channel).transpose()?;
    let status = s.node.status().await?;
    if let Some(v) = view_if_here(&s.node, c).await? {
        let mut data = read_channel(&s.node, &status, v, c, &q, ch).await?;
        data.head.attach_max = s.node.blobs().limits().max_blob_bytes;
        data.ctx.names = std::mem::take(&mut data.ctx.names).with_petnames(&s.prefs);
        return Ok(channel_page(&data, q.before.is_some()).into_response());
    }
    let id = c.to_string();
    let joining = status
        .joins
        .iter()
        .find(|j| j.id == id)
        .filter(|_| status.joining.contains(&id))
        .cloned();
    let Some(join) = joining else {
        return Err(Error::NotFound(format!("community {id}")).into());
    };
    let cur = Current {
        id: id.clone(),
        channels: Vec::new(),
        channel: None,
        tab: "joining",
    };
    let nav = Nav::new(&status, Some(cur));
    Ok(joining_page(&nav, &id, &join).into_response())
}

/// What a join waits for, in words.
pub(super) fn join_stage(p: &qun_crdt::JoinProgress) -> String {
    use qun_crdt::JoinProgress as P;
    match p {
        P::Connecting => "Connecting to the inviter and looking for members…".into(),
        P::Fetching { peers } => format!(
            "Fetching the community from {}…",
            view::plural(*peers, "member", "members")
        ),
        P::CatchingUp { changes, .. } => format!("Catching up: {changes} changes so far…"),
        P::Waiting { policy } => format!("Asked to join; waiting for admission ({policy})."),
        P::Member => "You are a member.".into(),
        P::Refused { reason, hint } => format!("{reason}. {hint}."),
    }
}

fn joining_page(nav: &Nav, id: &str, join: &JoinInfo) -> Markup {
    let refused = matches!(join.progress, qun_crdt::JoinProgress::Refused { .. });
    page(
        "Joining",
        nav,
        html! {
            div class="center-page" data-reload-on=(id) {
                div class="card joining-card" {
                    @if !refused { div class="spinner" {} }
                    h1 { @if refused { "Cannot join yet" } @else { "Joining the community…" } }
                    p class={ "join-stage " (if refused { "notice error" } else { "muted" }) } id="join-stage" aria-live="polite" {
                        (join_stage(&join.progress))
                    }
                    p class="muted small" { "Started " (join.seconds) " s ago. This page updates by itself." }
                    p class="small" id="sync-progress" aria-live="polite" {}
                    p class="mono small muted" { (id) }
                    form method="post" action={ "/c/" (id) "/join/cancel" } {
                        button class="btn" type="submit" id="cancel-join" { "Cancel" }
                    }
                }
            }
        },
    )
}

/// `POST /c/{id}/join/cancel`: stop joining, back home.
pub async fn cancel_join(
    State(s): State<AppState>,
    Community(c): Community,
) -> Result<Redirect, PageError> {
    s.node.cancel_join(c).await?;
    Ok(Redirect::to("/"))
}

pub(super) fn community_header(h: &Head, tab: &str) -> Markup {
    let s = &h.summary;
    html! {
        header class="community-head" {
            div class="community-title" {
                (badge(&s.id, &s.name))
                div {
                    h1 { (s.name) }
                    @if !h.description.is_empty() { p class="muted" { (h.description) } }
                }
            }
            div class="head-actions" {
                span class="muted small" { (view::plural(s.members, "member", "members")) " · " (view::plural(s.peers, "node", "nodes")) " connected" }
                @if tab != "members" {
                    a class="btn" href={ "/c/" (s.id) "/members" } { (icon("users")) "Members" }
                }
                @if h.can_manage {
                    a class="btn" href={ "/c/" (s.id) "/manage" } id="manage-btn" { (icon("settings")) "Manage" }
                }
                @if h.can_invite {
                    a class="btn primary" href={ "/c/" (s.id) "/invite" } id="invite-btn" { (icon("invite")) "Invite" }
                }
            }
        }
        @if s.status == MemberStatus::Requested {
            div class="notice warn" { "You asked to join. Members will see your request; you can read along until you are admitted." }
        } @else if s.status == MemberStatus::Removed {
            div class="notice error" id="removed-notice" {
                @if let Some((by, reason)) = &h.removal {
                    strong { (by) " removed you from this community" }
                    @if reason.is_empty() { ". " } @else { ": “" (reason) "”. " }
                } @else {
                    "You were removed from this community. "
                }
                "Being admitted again is the community's decision: ask a moderator to admit you."
            }
        } @else if s.status == MemberStatus::Outsider {
            div class="notice" id="outsider-notice" { "You are not a member of this community (you left it, or never joined). You can read what your node holds; joining again needs a new invitation." }
        }
    }
}

fn policy_text(policy: &str) -> String {
    match policy {
        "open" => "Open: anyone with a code joins".into(),
        "invite" => "Invitation only".into(),
        "trust-flow" => "Admission by trust flow".into(),
        p => match p.strip_prefix("endorsements:") {
            Some(k) => format!("Newcomers need {k} endorsements"),
            None => p.to_string(),
        },
    }
}

/// Beside the posts: about the community, and whom I trust most in it.
fn aside(h: &Head, ctx: &PostCtx) -> Markup {
    let s = &h.summary;
    html! {
        aside class="aside" {
            section class="card aside-card" {
                h3 { "About" }
                @if !h.description.is_empty() { p { (h.description) } }
                ul class="facts-list" {
                    li { (icon("users")) (view::plural(s.members, "member", "members")) " · " (view::plural(s.peers, "node", "nodes")) " connected" }
                    li { (icon("shield")) (policy_text(&s.policy)) }
                    li { (icon("star")) "Founded by "
                        @for (i, f) in h.founders.iter().enumerate() {
                            @if i > 0 { ", " }
                            a href={ "/c/" (s.id) "/m/" (f) } { (ctx.names.of(f)) }
                        }
                    }
                }
                @if s.status.is_member() && !h.founders.contains(&ctx.me) {
                    form method="post" action={ "/c/" (s.id) "/leave" } id="leave"
                        data-confirm={ "Leave " (s.name) "? You will need a new invitation to join again." } {
                        input type="hidden" name="nonce" value=(view::nonce());
                        button class="btn ghost small" type="submit" { "Leave community" }
                    }
                }
            }
            section class="card aside-card" {
                h3 { "Most trusted by you" }
                @if h.top.is_empty() {
                    p class="muted small" { "Endorse people you know from their profile: your trust ranking starts from you." }
                }
                ul class="top-list" {
                    @for (m, _) in &h.top {
                        li {
                            a class="member-line" href={ "/c/" (s.id) "/m/" (m) } {
                                (avatar(m, "sm")) span { (ctx.names.of(m)) }
                            }
                        }
                    }
                }
                a class="small" href={ "/c/" (s.id) "/members" } { "All members and why →" }
            }
        }
    }
}

fn channel_page(d: &ChannelData, paged: bool) -> Markup {
    let cid = &d.ctx.cid;
    let all = format!("/c/{cid}?channel={}", enc(d.channel.id.as_str()));
    let filter = if d.following { FOLLOWING } else { "" };
    let src = format!(
        "/c/{cid}/posts-fragment?channel={}{filter}",
        enc(d.channel.id.as_str())
    );
    page(
        &d.head.summary.name,
        &d.nav,
        html! {
            (community_header(&d.head, "posts"))
            div class="community-grid" {
            div class="feed" {
                div class="channel-head" {
                    h2 { (icon("hash")) (d.channel.title) }
                    @if !d.channel.description.is_empty() { span class="muted" { (d.channel.description) } }
                    nav class="feed-tabs" aria-label="Filter" {
                        a class={ "tab" @if !d.following { " active" } } href=(all) { "All" }
                        a class={ "tab" @if d.following { " active" } } href={ (all) (FOLLOWING) } id="following-tab" { "Following" }
                    }
                }
                @if d.head.can_post && !d.channel.archived {
                    form class="composer card" method="post" action={ "/c/" (cid) "/post" } id="composer" autocomplete="off" {
                        input type="hidden" name="nonce" value=(view::nonce());
                        input type="hidden" name="channel" value=(d.channel.id.as_str());
                        input type="hidden" name="back" value=(d.ctx.back);
                        textarea name="text" rows="3" required data-max-bytes=(qun_crdt::MAX_POST_TEXT)
                            placeholder={ "Write to #" (d.channel.title) "…" } aria-label="New post" {}
                        div class="composer-foot" {
                            span class="muted small" { "Markdown: **bold**, _italic_, `code`, ``` for code blocks · Ctrl+Enter to send" }
                            span class="byte-count muted small" aria-live="polite" {}
                            (attach_button(d.head.attach_max))
                            button class="btn primary" type="submit" { "Post" }
                        }
                    }
                }
                (d.ctx.names.mention_list())
                // Older pages stay as they are; the newest page follows changes live.
                div id="posts" data-live-community=[(!paged).then_some(cid)] data-live-src=[(!paged).then_some(&src)] {
                    @if paged {
                        div class="more top" {
                            a class="btn ghost small" href=(d.ctx.back) { "Back to the newest posts" }
                        }
                    }
                    (posts_list(&d.posts, d.older, &d.ctx))
                }
            }
            (aside(&d.head, &d.ctx))
            }
        },
    )
}

/// `GET /c/{id}/posts-fragment?channel=`: the newest posts, for live refresh.
pub async fn posts_fragment(
    State(s): State<AppState>,
    Community(c): Community,
    Query(q): Query<ChannelQuery>,
) -> Result<Markup, PageError> {
    let ch = parse::channel(q.channel.as_deref().unwrap_or("general"))?;
    let v = s.node.community_view(c).await?;
    let mut back = format!("/c/{c}?channel={}", enc(ch.as_str()));
    if q.following {
        back.push_str(FOLLOWING);
    }
    let mut ctx = PostCtx::new(&v, back);
    ctx.names = std::mem::take(&mut ctx.names).with_petnames(&s.prefs);
    let (posts, older) = top_level(&s.node, c, &ch, None, q.following).await?;
    Ok(posts_list(&posts, older, &ctx))
}

/// `?post=`.
#[derive(Deserialize)]
pub struct ThreadQuery {
    pub(super) post: String,
}

/// What the thread page shows.
struct ThreadData {
    nav: Nav,
    head: Head,
    ctx: PostCtx,
    posts: Vec<PostView>,
}

async fn read_thread(s: &AppState, c: CommunityId, p: PostId) -> crate::Result<ThreadData> {
    let v = s.node.community_view(c).await?;
    let posts = s.node.thread(c, p.clone()).await?;
    if posts.is_empty() {
        return Err(Error::NotFound(format!("post {p}")));
    }
    let status = s.node.status().await?;
    let mut ctx = PostCtx::new(&v, thread_url(&v.summary.id, &p.to_string()));
    ctx.names = std::mem::take(&mut ctx.names).with_petnames(&s.prefs);
    let mut head = Head::new(&v, Vec::new());
    head.attach_max = s.node.blobs().limits().max_blob_bytes;
    Ok(ThreadData {
        nav: Nav::new(
            &status,
            Some(Current::of(&v, Some(p.channel.clone()), "posts")),
        ),
        head,
        ctx,
        posts,
    })
}

/// `GET /c/{id}/thread?post=`.
pub async fn thread(
    State(s): State<AppState>,
    Community(c): Community,
    Query(q): Query<ThreadQuery>,
) -> Result<Markup, PageError> {
    let p = parse::post(&q.post)?;
    let t = read_thread(&s, c, p).await?;
    let root = &t.posts[0];
    let src = format!("/c/{}/thread-fragment?post={}", t.ctx.cid, enc(&q.post));
    let back = format!("/c/{}?channel={}", t.ctx.cid, enc(root.id.channel.as_str()));
    Ok(page(
        "Thread",
        &t.nav,
        html! {
            (community_header(&t.head, "thread"))
            div class="feed" {
                div class="channel-head" {
                    a class="btn ghost small" href=(back) { (icon("back")) "Back to #" (root.id.channel.as_str()) }
                    h2 { "Thread" }
                }
                div id="posts" class="thread" data-live-community=(t.ctx.cid) data-live-src=(src) {
                    (thread_list(&t.posts, &t.ctx))
                }
                @if t.head.can_post {
                    form class="composer card" method="post" action={ "/c/" (t.ctx.cid) "/post" } id="reply" autocomplete="off" {
                        input type="hidden" name="nonce" value=(view::nonce());
                        input type="hidden" name="channel" value=(root.id.channel.as_str());
                        input type="hidden" name="reply_to" value=(root.id.to_string());
                        input type="hidden" name="back" value=(t.ctx.back);
                        textarea name="text" rows="2" required data-max-bytes=(qun_crdt::MAX_POST_TEXT) placeholder="Reply to the thread…" aria-label="Reply" {}
                        div class="composer-foot" {
                            span class="muted small" { "Markdown: **bold**, _italic_, `code`, ``` for code blocks · Ctrl+Enter to send" }
                            span class="byte-count muted small" aria-live="polite" {}
                            (attach_button(t.head.attach_max))
                            button class="btn primary" type="submit" { "Reply" }
                        }
                    }
                }
            }
        },
    ))
}

/// `GET /c/{id}/thread-fragment?post=`.
pub async fn thread_fragment(
    State(s): State<AppState>,
    Community(c): Community,
    Query(q): Query<ThreadQuery>,
) -> Result<Markup, PageError> {
    let p = parse::post(&q.post)?;
    let t = read_thread(&s, c, p).await?;
    Ok(thread_list(&t.posts, &t.ctx))
}
