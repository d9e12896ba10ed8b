//! Direct messages on the page: `/messages` (conversations, the latest first, with unread
//! counts) and `/messages/{member}` (one conversation, oldest first, marked read on opening,
//! with a form that sends). The form posts like every other form of the page (a session
//! cookie write: same-origin checked by `crate::http::auth`), then redirects back. Profiles
//! link here with their "Message" button.

use super::view::{self, Nav, avatar, icon, page};
use crate::dto::SendDm;
use crate::http::AppState;
use crate::http::error::PageError;
use crate::http::extract::{Form, Member};
use axum::extract::State;
use axum::response::Redirect;
use maud::{Markup, html};

/// `GET /messages`.
pub async fn list(State(s): State<AppState>) -> Result<Markup, PageError> {
    let convs = s.node.dm_list().await?;
    let status = s.node.status().await?;
    let nav = Nav::new(&status, None).on("messages");
    let now = s.node.now().as_millis();
    Ok(page(
        "Messages",
        &nav,
        html! {
            header class="page-head" {
                div {
                    h1 { "Messages" }
                    p class="muted" { "Direct messages, end-to-end encrypted to each device of the member you write to. Start one from a member's profile (“Message”)." }
                }
            }
            @if convs.is_empty() {
                div class="card empty" { p class="muted" { "No conversations yet." } }
            } @else {
                ol class="card notif-list" id="conversations" {
                    @for c in &convs {
                        @let id = c.member.to_string();
                        li class={ "notif" @if c.unread > 0 { " unread" } } data-member=(id) {
                            (avatar(&id, "sm"))
                            a class="notif-main" href={ "/messages/" (id) } {
                                div { strong { (c.name.clone().unwrap_or_else(|| c.member.short())) } }
                                div class="muted small" { (view::plural(c.messages, "message", "messages")) " · " (view::time(c.last_at.as_millis(), now)) }
                            }
                            @if c.unread > 0 { span class="count unread-count" title="unread" { (c.unread) } }
                        }
                    }
                }
            }
        },
    ))
}

/// `GET /messages/{member}`.
pub async fn conversation(
    State(s): State<AppState>,
    Member(m): Member,
) -> Result<Markup, PageError> {
    let msgs = s.node.dm_read(m).await?;
    let name = s
        .node
        .dm_list()
        .await?
        .into_iter()
        .find(|c| c.member == m)
        .and_then(|c| c.name)
        .unwrap_or_else(|| m.short());
    let status = s.node.status().await?;
    let nav = Nav::new(&status, None).on("messages");
    let now = s.node.now().as_millis();
    let id = m.to_string();
    Ok(page(
        &format!("Messages with {name}"),
        &nav,
        html! {
            header class="page-head" {
                div {
                    h1 { (avatar(&id, "sm")) " " (name) }
                    p class="mono small muted" { (id) }
                }
                a class="btn" href="/messages" { (icon("back")) "Messages" }
            }
            div class="card" id="messages" {
                @if msgs.is_empty() {
                    p class="muted" { "No messages yet." }
                }
                @for x in &msgs {
                    div class={ "dm" @if x.from_me { " mine" } } {
                        div class="muted small" { @if x.from_me { "You" } @else { (name) } " · " (view::time(x.sent_at.as_millis(), now)) }
                        p class="bio" { (view::text(&x.text)) }
                    }
                }
            }
            form class="card" method="post" action={ "/messages/" (id) } id="dm-form" {
                textarea name="text" required rows="3" maxlength="65536" placeholder="Write a message" aria-label="Message" {}
                div class="form-actions" { button class="btn primary" type="submit" id="dm-send" { "Send" } }
            }
        },
    ))
}

/// `POST /messages/{member}`: send, then back to the conversation.
pub async fn send(
    State(s): State<AppState>,
    Member(m): Member,
    Form { form, .. }: Form<SendDm>,
) -> Result<Redirect, PageError> {
    s.node.dm_send(m, form.text).await?;
    Ok(Redirect::to(&format!("/messages/{m}")))
}

/// The sidebar's link.
pub fn side_link(active: bool) -> Markup {
    html! {
        a class={ "side-link" @if active { " active" } } href="/messages" id="messages-link" {
            (icon("mail")) "Messages"
        }
    }
}
