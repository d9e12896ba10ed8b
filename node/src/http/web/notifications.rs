//! The notifications page (`/notifications`): replies, mentions and reactions by others, newest
//! first, unread ones marked; opening one marks it read. The sidebar's counts and the title's
//! `(N)` are kept current by the page's script from `GET /api/v1/notifications?unread=true`.

use super::posts::thread_url;
use super::view::{self, Nav, avatar, icon, page};
use crate::dto::{Notification, NotificationKind};
use crate::http::AppState;
use crate::http::api::notifications as api;
use crate::http::error::PageError;
use crate::http::extract::{Form, Query};
use axum::extract::State;
use axum::response::Redirect;
use maud::{Markup, html};

/// `GET /notifications`.
pub async fn list(State(s): State<AppState>) -> Result<Markup, PageError> {
    let n = api::read(&s, false).await?;
    let status = s.node.status().await?;
    let nav = Nav::new(&status, None).on("notifications");
    let now = s.node.now().as_millis();
    Ok(page(
        "Notifications",
        &nav,
        html! {
            header class="page-head" {
                div {
                    h1 { "Notifications" }
                    p class="muted" { "Replies to your posts, mentions of you (" code { "@your name" } ") and reactions, in the communities you are a member of." }
                }
                @if n.unread > 0 {
                    form method="post" action="/notifications/read" {
                        button class="btn" type="submit" id="mark-all-read" { "Mark all as read" }
                    }
                }
            }
            @if n.items.is_empty() {
                div class="card empty" { p class="muted" { "Nothing yet. When someone replies to you, mentions you or reacts to your posts, it shows here." } }
            } @else {
                ol class="card notif-list" id="notifications" {
                    @for item in &n.items {
                        (row(item, now))
                    }
                }
            }
        },
    ))
}

fn row(n: &Notification, now: u64) -> Markup {
    let what = match n.kind {
        NotificationKind::Reply => "replied to your post".to_string(),
        NotificationKind::Mention => "mentioned you".to_string(),
        NotificationKind::Reaction => {
            format!("reacted {} to your post", n.emoji.as_deref().unwrap_or(""))
        }
    };
    let open = format!(
        "/notifications/open?id={}&to={}",
        view::enc(&n.id),
        view::enc(&thread_url(&n.community, &n.post))
    );
    html! {
        li class={ "notif" @if n.unread { " unread" } } data-kind=(format!("{:?}", n.kind).to_lowercase()) {
            (avatar(&n.by, "sm"))
            a class="notif-main" href=(open) {
                div { strong { (n.by_name) } " " (what) }
                @if !n.excerpt.is_empty() { div class="muted small clamp" { (n.excerpt) } }
                div class="muted small" { (n.community_name) " · #" (n.channel) " · " (view::time(n.at, now)) }
            }
            @if n.unread { span class="dot on" title="unread" {} }
        }
    }
}

/// `?id=…&to=…` of an opened notification.
#[derive(serde::Deserialize)]
pub struct Open {
    id: String,
    to: String,
}

/// `GET /notifications/open`: mark one read (one that exists), then go to its post (only a
/// path on this site).
pub async fn open(State(s): State<AppState>, Query(q): Query<Open>) -> Redirect {
    if s.node
        .notifications()
        .await
        .is_ok_and(|ns| ns.iter().any(|n| n.id == q.id))
    {
        s.prefs.mark_read([q.id.as_str()]);
    }
    if q.to.starts_with("/c/") && !q.to.contains("//") && !q.to.contains('\\') {
        Redirect::to(&q.to)
    } else {
        Redirect::to("/notifications")
    }
}

/// `POST /notifications/read`: mark all read.
pub async fn mark_all(
    State(s): State<AppState>,
    Form { .. }: Form<Empty>,
) -> Result<Redirect, PageError> {
    api::mark(&s, None).await?;
    Ok(Redirect::to("/notifications"))
}

/// A form with no fields.
#[derive(serde::Deserialize, Default)]
pub struct Empty {}

/// The sidebar's link (its count is filled in by the script).
pub fn side_link(active: bool) -> Markup {
    html! {
        a class={ "side-link" @if active { " active" } } href="/notifications" id="notif-link" {
            (icon("bell")) "Notifications"
            span class="count" id="notif-count" hidden {}
        }
    }
}
