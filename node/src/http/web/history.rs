//! A post's edit history (`/c/{id}/history?post=…`): every version its author wrote, newest
//! first, each with its time; what every node reads from the same valid changes.

use super::community::ThreadQuery;
use super::posts::thread_url;
use super::view::{self, Current, Nav, icon, page};
use crate::dto::parse;
use crate::http::AppState;
use crate::http::error::PageError;
use crate::http::extract::{Community, Query};
use axum::extract::State;
use maud::{Markup, html};

/// `GET /c/{id}/history?post=…`.
pub async fn history(
    State(s): State<AppState>,
    Community(c): Community,
    Query(q): Query<ThreadQuery>,
) -> Result<Markup, PageError> {
    let p = parse::post(&q.post)?;
    let versions = s.node.post_history(c, p.clone()).await?;
    let v = s.node.community_view(c).await?;
    let status = s.node.status().await?;
    let nav = Nav::new(
        &status,
        Some(Current::of(&v, Some(p.channel.clone()), "posts")),
    );
    let now = s.node.now().as_millis();
    let cid = c.to_string();
    Ok(page(
        "Edit history",
        &nav,
        html! {
            div class="channel-head" {
                a class="btn ghost small" href=(thread_url(&cid, &q.post)) { (icon("back")) "Back to the post" }
                h2 { "Edit history" }
            }
            @if versions.is_empty() {
                div class="card empty" { p class="muted" { "This post is not shown here (deleted, hidden, or not held by this node)." } }
            } @else {
                ol class="history" id="history" reversed {
                    @for (i, ver) in versions.iter().enumerate().rev() {
                        li class="card history-version" {
                            div class="muted small" {
                                @if i == 0 { "Written " } @else { "Edited " }
                                (view::time(ver.at.as_millis(), now))
                                @if i + 1 == versions.len() { " · " span class="pill subtle" { "current" } }
                            }
                            div class="post-text md" { (super::markdown::render_with(&ver.text, &|_| None)) }
                        }
                    }
                }
            }
        },
    ))
}
