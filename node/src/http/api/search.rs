//! `GET /api/v1/search?q=…[&community=…][&limit=…]`: posts (full text, best first) and members
//! (by name, as people read names; or by an id prefix) across this node's communities.

use super::ApiResult;
use crate::error::Result;
use crate::http::AppState;
use crate::http::extract::{Json, Query};
use crate::search::Hit;
use axum::extract::State;
use serde::{Deserialize, Serialize};

/// The query.
#[derive(Deserialize, Default)]
pub struct SearchQuery {
    /// What to look for.
    #[serde(default)]
    pub q: String,
    /// Only in this community (id).
    #[serde(default)]
    pub community: Option<String>,
    /// Most posts (default 20, at most 100).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// A member found by name.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MemberHit {
    /// Community id.
    pub community: String,
    /// Community name.
    pub community_name: String,
    /// Member id.
    pub member: String,
    /// Display name.
    pub name: String,
}

/// What was found.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Found {
    /// Posts, best first.
    pub posts: Vec<Hit>,
    /// Members whose name (or id) matches.
    pub members: Vec<MemberHit>,
}

/// Most members listed.
const MAX_MEMBERS: usize = 50;

/// Search (shared with the page).
pub async fn find(s: &AppState, q: &SearchQuery) -> Result<Found> {
    let text = q.q.trim();
    if text.is_empty() {
        return Ok(Found {
            posts: Vec::new(),
            members: Vec::new(),
        });
    }
    let posts = s
        .search
        .query(text, q.community.as_deref(), q.limit.unwrap_or(20))?;
    let key = crate::http::web::name_key(text);
    let mut members = Vec::new();
    let status = s.node.status().await?;
    for c in &status.communities {
        if q.community.as_ref().is_some_and(|w| *w != c.id) {
            continue;
        }
        let Ok(id) = c.id.parse() else { continue };
        let Ok(v) = s.node.community_view(id).await else {
            continue;
        };
        for (m, n) in &v.names {
            let ms = m.to_string();
            let by_name = !key.is_empty() && crate::http::web::name_key(n).contains(&key);
            let by_id = text.len() >= 8 && ms.starts_with(text);
            if (by_name || by_id) && v.roles.contains_key(m) && members.len() < MAX_MEMBERS {
                members.push(MemberHit {
                    community: c.id.clone(),
                    community_name: c.name.clone(),
                    member: ms,
                    name: n.clone(),
                });
            }
        }
    }
    Ok(Found { posts, members })
}

/// `GET /api/v1/search`.
pub(super) async fn search(
    State(s): State<AppState>,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Found> {
    Ok(Json(find(&s, &q).await?))
}
