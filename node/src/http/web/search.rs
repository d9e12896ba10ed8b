//! The search page (`/search?q=…`): posts found by the full-text index, best first, with the
//! words found marked, and members whose name matches; each links to where it is.

use super::posts::thread_url;
use super::view::{self, Nav, avatar, page};
use crate::http::AppState;
use crate::http::api::search::{SearchQuery, find};
use crate::http::error::PageError;
use crate::http::extract::Query;
use axum::extract::State;
use maud::{Markup, html};

/// `GET /search`.
pub async fn search(
    State(s): State<AppState>,
    Query(q): Query<SearchQuery>,
) -> Result<Markup, PageError> {
    let found = find(&s, &q).await?;
    let status = s.node.status().await?;
    let names: std::collections::BTreeMap<String, String> = status
        .communities
        .iter()
        .map(|c| (c.id.clone(), c.name.clone()))
        .collect();
    let nav = Nav::new(&status, None).on("search");
    let now = s.node.now().as_millis();
    let text = q.q.trim();
    Ok(page(
        "Search",
        &nav,
        html! {
            header class="page-head" { div { h1 { "Search" } } }
            form class="card form search-form" method="get" action="/search" role="search" {
                div class="row" {
                    input type="search" name="q" value=(text) id="search-q" placeholder="Words, \"a phrase\", -without" aria-label="Search" autofocus;
                    button class="btn primary" type="submit" { "Search" }
                }
                p class="muted small" { "All words must match, in a post or its author's name. Posts of every community this node holds." }
            }
            @if !text.is_empty() {
                @if !found.members.is_empty() {
                    section class="card section" id="member-results" {
                        h2 { "Members" }
                        ul class="top-list" {
                            @for m in &found.members {
                                li {
                                    a class="member-line" href={ "/c/" (m.community) "/m/" (m.member) } {
                                        (avatar(&m.member, "sm")) span { (m.name) } span class="muted small" { " in " (m.community_name) }
                                    }
                                }
                            }
                        }
                    }
                }
                section id="post-results" {
                    @if found.posts.is_empty() {
                        div class="card empty" { p class="muted" { "No posts match “" (text) "”." } }
                    }
                    @for h in &found.posts {
                        a class="card search-hit" href=(thread_url(&h.community, &h.post)) {
                            div class="muted small" {
                                strong { (if h.author_name.is_empty() { view::short_id(&h.author) } else { h.author_name.clone() }) }
                                " in " (names.get(&h.community).map_or("?", String::as_str)) " · #" (h.channel) " · " (view::time(h.created, now))
                            }
                            p class="hit-text" { (marked(&h.excerpt, &h.highlights)) }
                        }
                    }
                }
            }
        },
    ))
}

/// `text` with the byte ranges in `marks` wrapped in `<mark>` (everything escaped).
fn marked(text: &str, marks: &[(usize, usize)]) -> Markup {
    let mut parts: Vec<(bool, &str)> = Vec::new();
    let mut at = 0;
    for &(a, b) in marks {
        if a < at
            || b > text.len()
            || a >= b
            || !text.is_char_boundary(a)
            || !text.is_char_boundary(b)
        {
            continue;
        }
        parts.push((false, &text[at..a]));
        parts.push((true, &text[a..b]));
        at = b;
    }
    parts.push((false, &text[at..]));
    html! {
        @for (m, p) in parts {
            @if m { mark { (p) } } @else { (p) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::marked;

    #[test]
    fn marks_are_escaped_and_bounded() {
        let h = marked("<b>tomato</b> seeds", &[(3, 9), (100, 200), (5, 4)]).into_string();
        assert_eq!(h, "&lt;b&gt;<mark>tomato</mark>&lt;/b&gt; seeds");
        let h = marked("种子交换", &[(1, 2)]).into_string();
        assert_eq!(h, "种子交换", "not on a character boundary");
    }
}
