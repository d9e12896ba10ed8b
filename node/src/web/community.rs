//! A community: a channel's posts (with the composer), threads, post actions, the invite dialog.

use super::view::{self, Names, Nav, avatar, badge, enc, icon, page};
use super::{Form, PageError, back_to, on_driver};
use crate::api::ApiState;
use crate::api::error::ApiError;
use crate::api::extract::Query;
use crate::api::routes::{channel as parse_channel, community as parse_community, post_id};
use crate::driver::Driver;
use crate::ops::CommunitySummary;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use qun_crdt::{Action, ChannelId, ChannelView, CommunityId, Edit, Perm, PostView};
use qun_identity::Timestamp;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Posts per page of a channel.
pub const PAGE_POSTS: usize = 30;
/// Members listed under "most trusted" beside the posts.
pub const TOP_TRUSTED: usize = 5;
/// Reactions offered in the picker.
pub const QUICK_REACTIONS: [&str; 6] = ["👍", "❤️", "🎉", "😄", "🤔", "👀"];

/// What a post needs to render its actions.
pub struct PostCtx {
    cid: String,
    me: String,
    can_hide: bool,
    can_react: bool,
    names: Names,
    now: u64,
    /// Where forms return to.
    back: String,
}

/// The community's facts shown in the header.
pub struct Head {
    summary: CommunitySummary,
    description: String,
    can_invite: bool,
    can_post: bool,
    founders: Vec<String>,
    /// The most trusted members from my point of view (not me), with their scores.
    top: Vec<(String, f64)>,
}

fn head(d: &mut Driver, c: &CommunityId) -> Option<(Head, PostCtx)> {
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
    let comm = d.repl.community(c)?;
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
}

struct ChannelData {
    nav: Nav,
    head: Head,
    ctx: PostCtx,
    channel: ChannelView,
    posts: Vec<PostView>,
    older: Option<u64>,
}

/// Top-level posts of a channel, newest first, and the cursor for older ones.
fn top_level(
    d: &mut Driver,
    c: &CommunityId,
    ch: &ChannelId,
    before: Option<u64>,
) -> crate::Result<(Vec<PostView>, Option<u64>)> {
    let all = d.posts(c, ch, usize::MAX, before.map(Timestamp::from_millis))?;
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
) -> crate::Result<Option<ChannelData>> {
    let Some((head, mut ctx)) = head(d, c) else {
        return Ok(None);
    };
    let channels = d
        .repl
        .community(c)
        .map(|x| x.channels())
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
    let (posts, older) = top_level(d, c, &channel.id, before)?;
    ctx.back = format!("/c/{c}?channel={}", enc(channel.id.as_str()));
    let cur = view::current(d, c, Some(channel.id.clone()), "posts");
    let nav = Nav::read(d, cur);
    Ok(Some(ChannelData {
        nav,
        head,
        ctx,
        channel,
        posts,
        older,
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
    let data = on_driver(&s, move |d| {
        let joining = d.repl.joining().any(|j| *j == c);
        let data = read_channel(d, &c, ch, before)?;
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
        (None, true, nav) => Ok(joining_page(&nav, &id).into_response()),
        (None, false, _) => Err(crate::Error::NotFound(format!("community {id}")).into()),
    }
}

fn joining_page(nav: &Nav, id: &str) -> Markup {
    page(
        "Joining",
        nav,
        html! {
            div class="center-page" data-reload-on=(id) {
                div class="card joining-card" {
                    div class="spinner" {}
                    h1 { "Joining the community…" }
                    p class="muted" { "Connecting to its members and fetching its history. This page updates by itself." }
                    p class="small" id="sync-progress" aria-live="polite" {}
                    p class="mono small muted" { (id) }
                }
            }
        },
    )
}

fn community_header(h: &Head, tab: &str) -> Markup {
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
                @if h.can_invite {
                    a class="btn primary" href={ "/c/" (s.id) "/invite" } id="invite-btn" { (icon("invite")) "Invite" }
                }
            }
        }
        @if s.status == "requested" {
            div class="notice warn" { "You asked to join. Members will see your request; you can read along until you are admitted." }
        } @else if s.status == "removed" {
            div class="notice error" { "You were removed from this community." }
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
    let src = format!(
        "/c/{cid}/posts-fragment?channel={}",
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
                    (posts_list(&d.posts, d.older, &d.ctx, &d.channel.id))
                }
            }
            (aside(&d.head, &d.ctx))
            }
        },
    )
}

fn posts_list(posts: &[PostView], older: Option<u64>, ctx: &PostCtx, ch: &ChannelId) -> Markup {
    html! {
        @if posts.is_empty() {
            div class="empty small-empty" {
                p { "No posts here yet. Say hello!" }
            }
        }
        @for p in posts { (post_card(p, ctx, false, 0)) }
        @if let Some(b) = older {
            div class="more" {
                a class="btn ghost" href={ "/c/" (ctx.cid) "?channel=" (enc(ch.as_str())) "&before=" (b) } { "Older posts" }
            }
        }
    }
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
        let (posts, older) = top_level(d, &c, &ch, None)?;
        Ok((posts, older, (ctx, ch)))
    })
    .await?;
    Ok(posts_list(&posts, older, &ctx.0, &ctx.1))
}

fn anchor(p: &PostView) -> String {
    let s: String =
        p.id.to_string()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
    format!("p-{s}")
}

fn thread_url(cid: &str, p: &str) -> String {
    format!("/c/{cid}/thread?post={}", enc(p))
}

fn post_card(p: &PostView, ctx: &PostCtx, in_thread: bool, depth: usize) -> Markup {
    let author = p.author.to_string();
    let name = ctx.names.of(&author);
    let pid = p.id.to_string();
    let mine = author == ctx.me;
    let back = format!("{}#{}", ctx.back, anchor(p));
    let action = |a: &str| format!("/c/{}/{a}", ctx.cid);
    html! {
        article class={ "post" @if depth > 0 { " reply depth-" (depth.min(4)) } } id=(anchor(p)) data-post=(pid) {
            a href={ "/c/" (ctx.cid) "/m/" (author) } class="post-avatar" { (avatar(&author, &name, "md")) }
            div class="post-body" {
                div class="post-head" {
                    a class="author" href={ "/c/" (ctx.cid) "/m/" (author) } { (name) }
                    @if mine && ctx.names.is_named(&author) { span class="pill subtle" { "you" } }
                    span class="muted small" { (view::time(p.created.as_millis(), ctx.now)) }
                    @if p.edited.is_some() && !p.deleted { span class="muted small" { "· edited" } }
                }
                @if p.deleted {
                    p class="post-text muted deleted" { "This post was deleted." }
                } @else if let Some(h) = &p.hidden {
                    details class="hidden-post" {
                        summary { (icon("eye-off")) "Hidden by " (ctx.names.of(&h.by.to_string()))
                            @if !h.reason.is_empty() { ": " (h.reason) } " — show anyway" }
                        div class="post-text" { (view::text(&p.text)) }
                    }
                } @else {
                    div class="post-text" { (view::text(&p.text)) }
                }
                @if !p.deleted {
                    div class="post-foot" {
                        @for (emoji, who) in &p.reactions {
                            @let on = who.iter().any(|m| m.to_string() == ctx.me);
                            form method="post" action=(action("react")) class="inline" {
                                input type="hidden" name="post" value=(pid);
                                input type="hidden" name="emoji" value=(emoji);
                                input type="hidden" name="on" value=(if on { "false" } else { "true" });
                                input type="hidden" name="back" value=(back);
                                button type="submit" class={ "chip" @if on { " mine" } }
                                    title=(who.iter().map(|m| ctx.names.of(&m.to_string())).collect::<Vec<_>>().join(", "))
                                    disabled[!ctx.can_react] {
                                    span class="emoji" { (emoji) } " " (who.len())
                                }
                            }
                        }
                        @if ctx.can_react {
                            details class="menu react-menu" {
                                summary class="icon-btn" title="React" aria-label="React" { (icon("smile")) }
                                form method="post" action=(action("react")) class="menu-body emoji-picker" {
                                    input type="hidden" name="post" value=(pid);
                                    input type="hidden" name="on" value="true";
                                    input type="hidden" name="back" value=(back);
                                    @for e in QUICK_REACTIONS {
                                        button type="submit" name="emoji" value=(e) class="emoji-btn" { (e) }
                                    }
                                }
                            }
                        }
                        @if !in_thread {
                            a class="icon-btn text" href=(thread_url(&ctx.cid, &pid)) {
                                (icon("reply"))
                                @if p.replies == 0 { "Reply" } @else if p.replies == 1 { "1 reply" } @else { (p.replies) " replies" }
                            }
                        } @else {
                            details class="menu" {
                                summary class="icon-btn text" { (icon("reply")) "Reply" }
                                form method="post" action=(action("post")) class="menu-body wide" {
                                    input type="hidden" name="channel" value=(p.id.channel.as_str());
                                    input type="hidden" name="reply_to" value=(pid);
                                    input type="hidden" name="back" value=(ctx.back);
                                    textarea name="text" rows="2" required placeholder={ "Reply to " (name) "…" } {}
                                    button class="btn primary small" type="submit" { "Reply" }
                                }
                            }
                        }
                        @if mine {
                            details class="menu" {
                                summary class="icon-btn" title="Edit" aria-label="Edit" { (icon("edit")) }
                                form method="post" action=(action("edit")) class="menu-body wide" {
                                    input type="hidden" name="post" value=(pid);
                                    input type="hidden" name="back" value=(back);
                                    textarea name="text" rows="3" required { (p.text) }
                                    button class="btn primary small" type="submit" { "Save" }
                                }
                            }
                            form method="post" action=(action("delete")) class="inline" data-confirm="Delete this post?" {
                                input type="hidden" name="post" value=(pid);
                                input type="hidden" name="back" value=(ctx.back);
                                button type="submit" class="icon-btn" title="Delete" aria-label="Delete" { (icon("trash")) }
                            }
                        }
                        @if ctx.can_hide {
                            @if p.hidden.is_some() {
                                form method="post" action=(action("unhide")) class="inline" {
                                    input type="hidden" name="post" value=(pid);
                                    input type="hidden" name="back" value=(back);
                                    button type="submit" class="icon-btn text" { "Unhide" }
                                }
                            } @else {
                                details class="menu" {
                                    summary class="icon-btn" title="Hide (moderation)" aria-label="Hide" { (icon("eye-off")) }
                                    form method="post" action=(action("hide")) class="menu-body wide" {
                                        input type="hidden" name="post" value=(pid);
                                        input type="hidden" name="back" value=(back);
                                        input name="reason" placeholder="Reason (shown to members)" maxlength="500";
                                        button class="btn danger small" type="submit" { "Hide post" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
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

fn thread_list(posts: &[PostView], ctx: &PostCtx) -> Markup {
    let mut depth: BTreeMap<String, usize> = BTreeMap::new();
    html! {
        @for (i, p) in posts.iter().enumerate() {
            @let dp = if i == 0 { 0 } else {
                p.reply_to.as_ref().and_then(|r| depth.get(&r.to_string())).map_or(1, |x| x + 1)
            };
            @let _ = depth.insert(p.id.to_string(), dp);
            @if i == 1 { div class="replies-title muted small" { (posts.len() - 1) @if posts.len() == 2 { " reply" } @else { " replies" } } }
            (post_card(p, ctx, true, dp))
        }
    }
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

#[derive(Deserialize)]
pub struct PostForm {
    channel: String,
    text: String,
    #[serde(default)]
    reply_to: Option<String>,
    back: Option<String>,
}

/// `POST /c/{id}/post`.
pub async fn new_post(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Form(f): Form<PostForm>,
) -> Result<Redirect, PageError> {
    let c = parse_community(&id)?;
    let ch = parse_channel(&f.channel)?;
    let reply_to = f
        .reply_to
        .as_deref()
        .filter(|r| !r.is_empty())
        .map(post_id)
        .transpose()?;
    let text = f.text.trim_end().to_string();
    if text.trim().is_empty() {
        return Err(ApiError::bad_request("the post is empty", "write something first").into());
    }
    on_driver(&s, move |d| {
        d.edit(
            &c,
            Edit::Post {
                channel: ch,
                text,
                reply_to,
                attachments: vec![],
            },
        )
    })
    .await?;
    Ok(back_to(f.back.as_deref(), format!("/c/{id}")))
}

#[derive(Deserialize)]
pub struct PostAction {
    post: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    emoji: String,
    #[serde(default)]
    on: Option<String>,
    back: Option<String>,
}

async fn act(
    s: &ApiState,
    id: &str,
    f: &PostAction,
    make: impl FnOnce(qun_crdt::PostId) -> Result<Edit, ApiError>,
) -> Result<Redirect, PageError> {
    let c = parse_community(id)?;
    let edit = make(post_id(&f.post)?)?;
    on_driver(s, move |d| d.edit(&c, edit)).await?;
    Ok(back_to(f.back.as_deref(), format!("/c/{id}")))
}

/// `POST /c/{id}/edit`.
pub async fn edit(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Form(f): Form<PostAction>,
) -> Result<Redirect, PageError> {
    let text = f.text.trim_end().to_string();
    act(&s, &id, &f, |post| Ok(Edit::EditPost { post, text })).await
}

/// `POST /c/{id}/delete`.
pub async fn delete(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Form(f): Form<PostAction>,
) -> Result<Redirect, PageError> {
    act(&s, &id, &f, |post| Ok(Edit::DeletePost { post })).await
}

/// `POST /c/{id}/react`.
pub async fn react(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Form(f): Form<PostAction>,
) -> Result<Redirect, PageError> {
    let emoji = f.emoji.clone();
    let on = f.on.as_deref() != Some("false");
    act(&s, &id, &f, |post| Ok(Edit::React { post, emoji, on })).await
}

/// `POST /c/{id}/hide`.
pub async fn hide(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Form(f): Form<PostAction>,
) -> Result<Redirect, PageError> {
    let reason = f.reason.trim().to_string();
    act(&s, &id, &f, |post| {
        Ok(Edit::Govern(Action::Hide { post, reason }))
    })
    .await
}

/// `POST /c/{id}/unhide`.
pub async fn unhide(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Form(f): Form<PostAction>,
) -> Result<Redirect, PageError> {
    act(&s, &id, &f, |post| {
        Ok(Edit::Govern(Action::Unhide { post }))
    })
    .await
}

struct InviteData {
    nav: Nav,
    head: Head,
}

async fn read_invite(s: &ApiState, c: CommunityId) -> Result<InviteData, PageError> {
    on_driver(s, move |d| {
        let (head, _) =
            head(d, &c).ok_or_else(|| crate::Error::NotFound(format!("community {c}")))?;
        let cur = view::current(d, &c, None, "invite");
        let nav = Nav::read(d, cur);
        Ok(InviteData { nav, head })
    })
    .await
}

/// `GET /c/{id}/invite`: the dialog, before a code is made.
pub async fn invite_form(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Markup, PageError> {
    let c = parse_community(&id)?;
    let data = read_invite(&s, c).await?;
    Ok(invite_page(&data, None))
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    valid_hours: Option<u64>,
}

/// `POST /c/{id}/invite`: make a code and show it with its QR code.
pub async fn invite(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Form(f): Form<InviteForm>,
) -> Result<Markup, PageError> {
    let c = parse_community(&id)?;
    let hours = f.valid_hours.unwrap_or(24 * 7).clamp(1, 24 * 365);
    let code = on_driver(&s, move |d| d.invite(&c, None, Some(hours * 3_600_000))).await?;
    let data = read_invite(&s, c).await?;
    let qr = qr_svg(&code)?;
    Ok(invite_page(&data, Some((&code, qr, hours))))
}

fn qr_svg(code: &str) -> Result<String, PageError> {
    use qrcode::render::svg;
    let q = qrcode::QrCode::with_error_correction_level(code.as_bytes(), qrcode::EcLevel::L)
        .map_err(|e| {
            PageError(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("QR code: {e}"),
                "copy the code as text instead",
            ))
        })?;
    let svg = q
        .render::<svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .dark_color(svg::Color("#111"))
        .light_color(svg::Color("#fff"))
        .build();
    // Inline in HTML: drop the XML declaration.
    Ok(match svg.find("<svg") {
        Some(i) => svg[i..].to_string(),
        None => svg,
    })
}

fn invite_page(d: &InviteData, code: Option<(&str, String, u64)>) -> Markup {
    let s = &d.head.summary;
    page(
        "Invite",
        &d.nav,
        html! {
            (community_header(&d.head, "invite"))
            div class="dialog-backdrop" {
                div class="dialog card" role="dialog" aria-labelledby="invite-title" {
                    div class="dialog-head" {
                        h2 id="invite-title" { (icon("invite")) "Invite people to " (s.name) }
                        a class="icon-btn" href={ "/c/" (s.id) } aria-label="Close" { "✕" }
                    }
                    @match code {
                        None => {
                            p { "An invite code lets one person join. Send it privately; it contains this node's addresses so their node can find the community." }
                            form method="post" action={ "/c/" (s.id) "/invite" } class="form" {
                                label { span { "Valid for" }
                                    select name="valid_hours" {
                                        option value="24" { "1 day" }
                                        option value="168" selected { "7 days" }
                                        option value="720" { "30 days" }
                                    }
                                }
                                div class="form-actions" {
                                    a class="btn ghost" href={ "/c/" (s.id) } { "Cancel" }
                                    button class="btn primary" type="submit" id="make-invite" { "Create invite code" }
                                }
                            }
                        }
                        Some((code, qr, hours)) => {
                            div class="invite-grid" {
                                div class="qr" { (view::raw_svg(qr)) }
                                div class="invite-code" {
                                    label { span { "Invite code" }
                                        textarea id="invite-code" class="mono" rows="7" readonly { (code) }
                                    }
                                    div class="form-actions left" {
                                        button type="button" class="btn primary" data-copy="invite-code" { (icon("copy")) "Copy code" }
                                    }
                                    p class="muted small" { "Valid for " (hours) " hours, for one person. They paste it under " em { "Join with a code" } ", or run " code { "qun community join <code>" } "." }
                                }
                            }
                            div class="form-actions" {
                                a class="btn" href={ "/c/" (s.id) } { "Done" }
                            }
                        }
                    }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_of_a_long_code() {
        let code = format!("qun1{}", "A".repeat(900));
        let svg = qr_svg(&code).map_err(|e| e.0.error).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(!svg.contains("<script"));
    }
}
