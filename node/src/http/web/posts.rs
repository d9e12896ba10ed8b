//! Posts as the page shows them, with the forms that act on them (they post to the shared form
//! handler, `super::form_edit`).

use super::view::{self, Names, avatar, enc, icon};
use maud::{Markup, html};
use qun_crdt::PostView;
use std::collections::BTreeMap;

/// Reactions offered in the picker.
pub const QUICK_REACTIONS: [&str; 6] = ["👍", "❤️", "🎉", "😄", "🤔", "👀"];

/// The rest of the picker, by group.
pub const MORE_REACTIONS: [(&str, &[&str]); 5] = [
    (
        "Smileys",
        &[
            "😀", "😂", "🥲", "😊", "😍", "🥰", "😎", "🤩", "😅", "😉", "🙃", "😇", "🤗", "🤭",
            "😐", "😬", "🙄", "😴", "😢", "😭", "😡", "🤯", "😱", "🥳",
        ],
    ),
    (
        "Hands",
        &[
            "👎", "👏", "🙌", "🙏", "🤝", "💪", "👋", "✌️", "🤞", "👌", "✋", "🫶",
        ],
    ),
    (
        "Hearts",
        &["🧡", "💛", "💚", "💙", "💜", "🖤", "🤍", "💔", "💯", "✨"],
    ),
    (
        "Things",
        &[
            "🔥", "⭐", "🌱", "🌻", "🍅", "🍞", "☕", "🍰", "🎁", "📦", "🛠️", "💡", "📌", "✅",
            "❌", "⚠️", "❓", "🚀",
        ],
    ),
    ("Animals", &["🐝", "🐱", "🐶", "🐔", "🦊", "🐢", "🦋", "🐟"]),
];

/// What a post needs to render its actions.
pub struct PostCtx {
    pub(super) cid: String,
    pub(super) me: String,
    pub(super) can_hide: bool,
    /// Members' ranks (a hide in place can be undone by its author or a member of at least
    /// its author's rank; a hide by a member ranking below the post's author hides nothing).
    pub(super) ranks: BTreeMap<String, u8>,
    /// Role shown next to a member's name (founder, moderator, a custom role); none for
    /// plain members.
    pub(super) badges: BTreeMap<String, String>,
    pub(super) can_react: bool,
    /// Whether this member may write here at all (a removed member may not edit or delete
    /// its posts either: the community refuses the change).
    pub(super) can_post: bool,
    pub(super) names: Names,
    pub(super) now: u64,
    /// Where forms return to.
    pub(super) back: String,
}

impl PostCtx {
    fn rank(&self, m: &str) -> u8 {
        self.ranks.get(m).copied().unwrap_or(0)
    }

    /// Whether this member's hide or unhide of `author`'s post would count: the community's
    /// rule (see `qun_crdt`'s authorization of `post.hide`).
    fn may_moderate(&self, author: &str, hidden_by: Option<String>) -> bool {
        let me = self.rank(&self.me);
        let over_author = author == self.me || me >= self.rank(author);
        let over_hider = hidden_by.is_none_or(|h| h == self.me || me >= self.rank(&h));
        over_author && over_hider
    }
}

/// A page of posts, and a link to older ones (`ctx.back` is the channel's URL).
pub fn posts_list(posts: &[PostView], older: Option<u64>, ctx: &PostCtx) -> Markup {
    html! {
        @if posts.is_empty() {
            div class="empty small-empty" {
                p { "No posts here yet. Say hello!" }
            }
        }
        @for p in posts { (post_card(p, ctx, false, 0)) }
        @if let Some(b) = older {
            div class="more" {
                a class="btn ghost" href={ (ctx.back) "&before=" (b) } { "Older posts" }
            }
        }
    }
}

fn anchor(p: &PostView) -> String {
    let s: String =
        p.id.to_string()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
    format!("p-{s}")
}

/// The thread page of post `p`.
pub fn thread_url(cid: &str, p: &str) -> String {
    format!("/c/{cid}/thread?post={}", enc(p))
}

fn post_card(p: &PostView, ctx: &PostCtx, in_thread: bool, depth: usize) -> Markup {
    let author = p.author.to_string();
    let name = ctx.names.of(&author);
    let pid = p.id.to_string();
    let mine = author == ctx.me;
    let editable = mine && ctx.can_post;
    let back = format!("{}#{}", ctx.back, anchor(p));
    let action = |a: &str| format!("/c/{}/{a}", ctx.cid);
    html! {
        article class={ "post" @if depth > 0 { " reply depth-" (depth.min(4)) } } id=(anchor(p)) data-post=(pid) {
            a href={ "/c/" (ctx.cid) "/m/" (author) } class="post-avatar" { (avatar(&author, "md")) }
            div class="post-body" {
                div class="post-head" {
                    a class="author" href={ "/c/" (ctx.cid) "/m/" (author) } { (name) }
                    @if let Some(role) = ctx.badges.get(&author) { span class={ "pill role role-" (role) } { (role) } }
                    (ctx.names.same_name_warning(&author))
                    @if mine && ctx.names.is_named(&author) { span class="pill subtle" { "you" } }
                    span class="muted small" { (view::time(p.created.as_millis(), ctx.now)) }
                    @if p.pinned { span class="pill pinned" title="Pinned by a moderator" { "📌 Pinned" } }
                    @if p.edited.is_some() && !p.deleted {
                        a class="muted small edited-link" href={ "/c/" (ctx.cid) "/history?post=" (enc(&pid)) } title="See the edit history" { "· edited" }
                    }
                }
                @if p.deleted {
                    p class="post-text muted deleted" { "This post was deleted." }
                } @else if let Some(h) = &p.hidden {
                    details class="hidden-post" {
                        summary { (icon("eye-off")) "Hidden by " (ctx.names.of(&h.by.to_string()))
                            @if !h.reason.is_empty() { ": " (h.reason) } " — show anyway" }
                        div class="post-text md" { (super::markdown::render_with(&p.text, &|a| ctx.names.mention(a, &ctx.cid))) }
                    }
                } @else {
                    div class="post-text md" { (super::markdown::render_with(&p.text, &|a| ctx.names.mention(a, &ctx.cid))) }
                    (attachments(p))
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
                                    details class="more-emoji" {
                                        summary class="muted small" { "More…" }
                                        @for (group, emojis) in MORE_REACTIONS {
                                            div class="emoji-group" role="group" aria-label=(group) {
                                                @for e in emojis.iter() {
                                                    button type="submit" name="emoji" value=(e) class="emoji-btn" title=(group) { (e) }
                                                }
                                            }
                                        }
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
                                form method="post" action=(action("post")) class="menu-body wide" autocomplete="off" {
                                    input type="hidden" name="nonce" value=(view::nonce());
                                    input type="hidden" name="channel" value=(p.id.channel.as_str());
                                    input type="hidden" name="reply_to" value=(pid);
                                    input type="hidden" name="back" value=(ctx.back);
                                    textarea name="text" rows="2" required placeholder={ "Reply to " (name) "…" } {}
                                    button class="btn primary small" type="submit" { "Reply" }
                                }
                            }
                        }
                        button type="button" class="icon-btn copy-link" title="Copy link to this post" aria-label="Copy link" data-copy-path=(thread_url(&ctx.cid, &pid)) { (icon("link")) span class="sr-only" { "Copy link" } }
                        @if editable {
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
                        @if ctx.can_hide && p.reply_to.is_none() {
                            form method="post" action=(action("pin")) class="inline" {
                                input type="hidden" name="post" value=(pid);
                                input type="hidden" name="on" value=(if p.pinned { "false" } else { "true" });
                                input type="hidden" name="back" value=(back);
                                button type="submit" class="icon-btn text pin-btn" { @if p.pinned { "Unpin" } @else { "Pin" } }
                            }
                        }
                        @if ctx.can_hide && ctx.may_moderate(&author, p.hidden.as_ref().map(|h| h.by.to_string())) {
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

/// A post and its replies, indented by depth.
pub fn thread_list(posts: &[PostView], ctx: &PostCtx) -> Markup {
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

/// The attachments a post names besides the images in its text (written by another client):
/// links to them, as downloads or images served by this node.
fn attachments(p: &PostView) -> Markup {
    let shown = crate::blobs::ids_in_text(&p.text, usize::MAX);
    let extra: Vec<_> = p
        .attachments
        .iter()
        .filter(|a| !shown.contains(a))
        .collect();
    html! {
        @if !extra.is_empty() {
            ul class="attachments small" {
                @for a in extra {
                    li { a href=(crate::blobs::url(a)) target="_blank" rel="noopener" { (icon("link")) "Attachment " (a.short()) } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(me: &str) -> PostCtx {
        PostCtx {
            cid: "c".into(),
            me: me.into(),
            can_hide: true,
            ranks: [("f", 3), ("m", 2), ("m2", 2), ("a", 1)]
                .into_iter()
                .map(|(m, r)| (m.to_string(), r))
                .collect(),
            badges: BTreeMap::new(),
            can_react: true,
            can_post: true,
            names: Names::default(),
            now: 0,
            back: "/".into(),
        }
    }

    #[test]
    fn moderation_buttons_follow_the_rank_rule() {
        let m = ctx("m");
        assert!(m.may_moderate("a", None), "a member's post");
        assert!(!m.may_moderate("f", None), "the founder's post");
        assert!(m.may_moderate("a", Some("m2".into())), "a peer's hide");
        assert!(!m.may_moderate("a", Some("f".into())), "the founder's hide");
        assert!(m.may_moderate("m", Some("m".into())), "own post, own hide");
        let f = ctx("f");
        assert!(f.may_moderate("m", Some("m".into())));
        // A removed member (no rank) neither outranks nor is outranked by anyone but nobody.
        assert!(m.may_moderate("gone", Some("gone".into())));
    }
}
