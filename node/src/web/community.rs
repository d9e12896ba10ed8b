//! A community: a channel's posts (with the composer and an aside), threads, the joining page.

use super::posts::{PostCtx, posts_list, thread_list, thread_url};
use super::view::{self, Nav, avatar, badge, enc, icon, page};
use super::{PageError, on_driver};
use crate::api::ApiState;
use crate::api::extract::Query;
use crate::api::routes::{channel as parse_channel, community as parse_community, post_id};
use crate::driver::Driver;
use crate::ops::CommunitySummary;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use qun_crdt::{ChannelId, ChannelView, CommunityId, Perm, PostView};
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
}

pub(super) fn head(d: &mut Driver, c: &CommunityId) -> Option<(Head, PostCtx)> {
    let summary = d.summary(c)?;
    let me = d.member;
    let names = view::names(d, c);
    let top = d
        .trust(c, TOP_TRUSTED + 1)
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t.is_member && t.member != me.to_string())
        .take(TOP_TRUSTED)
        .map(|t| (t.member, t.score))
        .collect();
    let powers = super::manage::Powers::of(d, c);
    let mut comm = d.repl.community(c)?;
    let founders = comm
        .genesis()
        .value()
        .founders
        .iter()
        .map(|f| f.to_string())
        .collect();
    let st = comm.state();
    Some((
        Head {
            summary,
            description: st.description.clone(),
            can_invite: st.can(&me, Perm::Invite),
            can_post: st.can(&me, Perm::Post),
            can_manage: powers.any(),
            founders,
            top,
        },
        PostCtx {
            cid: c.to_string(),
            me: me.to_string(),
            can_hide: st.can(&me, Perm::Hide),
            can_react: st.can(&me, Perm::React),
            names,
            now: Timestamp::now().as_millis(),
            back: format!("/c/{c}"),
        },
    ))
}

#[derive(Deserialize)]
pub struct ChannelQuery {
    channel: Option<String>,
    before: Option<u64>,
    /// Only posts by members I follow.
    #[serde(default)]
    following: bool,
}

struct ChannelData {
    nav: Nav,
    head: Head,
    ctx: PostCtx,
    channel: ChannelView,
    posts: Vec<PostView>,
    older: Option<u64>,
    following: bool,
}

/// Top-level posts of a channel, newest first, and the cursor for older ones.
fn top_level(
    d: &mut Driver,
    c: &CommunityId,
    ch: &ChannelId,
    before: Option<u64>,
    following: bool,
) -> crate::Result<(Vec<PostView>, Option<u64>)> {
    let before = before.map(Timestamp::from_millis);
    let all = if following {
        d.posts_following(c, ch, usize::MAX, before)?
    } else {
        d.posts(c, ch, usize::MAX, before)?
    };
    let mut top: Vec<PostView> = all.into_iter().filter(|p| p.reply_to.is_none()).collect();
    let older = (top.len() > PAGE_POSTS).then(|| top[PAGE_POSTS - 1].created.as_millis());
    top.truncate(PAGE_POSTS);
    Ok((top, older))
}

fn read_channel(
    d: &mut Driver,
    c: &CommunityId,
    ch: Option<ChannelId>,
    before: Option<u64>,
    following: bool,
) -> crate::Result<Option<ChannelData>> {
    let Some((head, mut ctx)) = head(d, c) else {
        return Ok(None);
    };
    let channels = d
        .repl
        .community(c)
        .map(|mut x| x.channels())
        .unwrap_or_default();
    let channel = ch
        .and_then(|ch| channels.iter().find(|x| x.id == ch).cloned())
        .or_else(|| {
            channels
                .iter()
                .find(|x| x.id == ChannelId::general())
                .cloned()
        })
        .or_else(|| channels.first().cloned())
        .ok_or_else(|| crate::Error::NotFound(format!("a channel in {c}")))?;
    let (posts, older) = top_level(d, c, &channel.id, before, following)?;
    ctx.back = format!("/c/{c}?channel={}", enc(channel.id.as_str()));
    if following {
        ctx.back.push_str(FOLLOWING);
    }
    let cur = view::current(d, c, Some(channel.id.clone()), "posts");
    let nav = Nav::read(d, cur);
    Ok(Some(ChannelData {
        nav,
        head,
        ctx,
        channel,
        posts,
        older,
        following,
    }))
}

/// `GET /c/{id}?channel=&before=`.
pub async fn channel(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Query<ChannelQuery>,
) -> Result<Response, PageError> {
    let c = parse_community(&id)?;
    let ch = q.channel.as_deref().map(parse_channel).transpose()?;
    let before = q.before;
    let following = q.following;
    let data = on_driver(&s, move |d| {
        let joining = d
            .joins()
            .into_iter()
            .find(|j| j.id == c.to_string())
            .filter(|_| d.repl.joining().any(|j| *j == c));
        let data = read_channel(d, &c, ch, before, following)?;
        let cur = view::Current {
            id: c.to_string(),
            channels: Vec::new(),
            channel: None,
            tab: "joining",
        };
        let nav = Nav::read(d, Some(cur));
        Ok((data, joining, nav))
    })
    .await?;
    match data {
        (Some(data), _, _) => Ok(channel_page(&data, before.is_some()).into_response()),
        (None, Some(join), nav) => Ok(joining_page(&nav, &id, &join).into_response()),
        (None, None, _) => Err(crate::Error::NotFound(format!("community {id}")).into()),
    }
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

fn joining_page(nav: &Nav, id: &str, join: &crate::ops::JoinInfo) -> Markup {
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
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Redirect, PageError> {
    let c = parse_community(&id)?;
    on_driver(&s, move |d| d.cancel_join(&c)).await?;
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
                span class="muted small" { (view::plural(s.members, "member", "members")) " · " (s.peers) " online" }
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
        @if s.status == "requested" {
            div class="notice warn" { "You asked to join. Members will see your request; you can read along until you are admitted." }
        } @else if s.status == "removed" {
            div class="notice error" { "You were removed from this community. Being admitted again is the community's decision: ask a moderator to admit you." }
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
                    li { (icon("users")) (view::plural(s.members, "member", "members")) " · " (s.peers) " online" }
                    li { (icon("shield")) (policy_text(&s.policy)) }
                    li { (icon("star")) "Founded by "
                        @for (i, f) in h.founders.iter().enumerate() {
                            @if i > 0 { ", " }
                            a href={ "/c/" (s.id) "/m/" (f) } { (ctx.names.of(f)) }
                        }
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
                                (avatar(m, &ctx.names.of(m), "sm")) span { (ctx.names.of(m)) }
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
                    form class="composer card" method="post" action={ "/c/" (cid) "/post" } id="composer" {
                        input type="hidden" name="channel" value=(d.channel.id.as_str());
                        input type="hidden" name="back" value=(d.ctx.back);
                        textarea name="text" rows="3" required maxlength="16000"
                            placeholder={ "Write to #" (d.channel.title) "…" } aria-label="New post" {}
                        div class="composer-foot" {
                            span class="muted small" { "Ctrl+Enter to send" }
                            button class="btn primary" type="submit" { "Post" }
                        }
                    }
                }
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
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Query<ChannelQuery>,
) -> Result<Markup, PageError> {
    let c = parse_community(&id)?;
    let ch = parse_channel(q.channel.as_deref().unwrap_or("general"))?;
    let (posts, older, ctx) = on_driver(&s, move |d| {
        let (_, mut ctx) =
            head(d, &c).ok_or_else(|| crate::Error::NotFound(format!("community {c}")))?;
        ctx.back = format!("/c/{c}?channel={}", enc(ch.as_str()));
        if q.following {
            ctx.back.push_str(FOLLOWING);
        }
        let (posts, older) = top_level(d, &c, &ch, None, q.following)?;
        Ok((posts, older, ctx))
    })
    .await?;
    Ok(posts_list(&posts, older, &ctx))
}

#[derive(Deserialize)]
pub struct ThreadQuery {
    post: String,
}

struct ThreadData {
    nav: Nav,
    head: Head,
    ctx: PostCtx,
    posts: Vec<PostView>,
}

fn read_thread(d: &mut Driver, c: &CommunityId, p: &qun_crdt::PostId) -> crate::Result<ThreadData> {
    let (head, mut ctx) =
        head(d, c).ok_or_else(|| crate::Error::NotFound(format!("community {c}")))?;
    let posts = d.thread(c, p)?;
    if posts.is_empty() {
        return Err(crate::Error::NotFound(format!("post {p}")));
    }
    ctx.back = thread_url(&ctx.cid, &p.to_string());
    let cur = view::current(d, c, Some(p.channel.clone()), "posts");
    let nav = Nav::read(d, cur);
    Ok(ThreadData {
        nav,
        head,
        ctx,
        posts,
    })
}

/// `GET /c/{id}/thread?post=`.
pub async fn thread(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Query<ThreadQuery>,
) -> Result<Markup, PageError> {
    let c = parse_community(&id)?;
    let p = post_id(&q.post)?;
    let t = on_driver(&s, move |d| read_thread(d, &c, &p)).await?;
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
                    form class="composer card" method="post" action={ "/c/" (t.ctx.cid) "/post" } id="reply" {
                        input type="hidden" name="channel" value=(root.id.channel.as_str());
                        input type="hidden" name="reply_to" value=(root.id.to_string());
                        input type="hidden" name="back" value=(t.ctx.back);
                        textarea name="text" rows="2" required maxlength="16000" placeholder="Reply to the thread…" aria-label="Reply" {}
                        div class="composer-foot" {
                            span class="muted small" { "Ctrl+Enter to send" }
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
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Query<ThreadQuery>,
) -> Result<Markup, PageError> {
    let c = parse_community(&id)?;
    let p = post_id(&q.post)?;
    let t = on_driver(&s, move |d| read_thread(d, &c, &p)).await?;
    Ok(thread_list(&t.posts, &t.ctx))
}
