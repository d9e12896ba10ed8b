//! Posts: a channel's posts (paged, optionally only by members I follow), a thread, a new
//! post. Changing a post goes through the shared edit handler (`super::edit`).

use super::ApiResult;
use crate::dto::{EditDone, IntoEdit, NewPost, PostQuery, parse};
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::extract::{Community, Json, Query};
use axum::extract::State;
use axum::http::StatusCode;
use qun_crdt::PostView;
use qun_identity::Timestamp;
use serde::Deserialize;

/// Most posts one request returns.
pub const MAX_LIMIT: usize = 500;

/// `?channel=&limit=&before=&following=`.
#[derive(Deserialize)]
pub(super) struct ListQuery {
    #[serde(default = "general")]
    channel: String,
    #[serde(default = "default_limit")]
    limit: usize,
    /// Only posts created before this time (ms), for paging.
    before: Option<u64>,
    /// Only posts by members I follow.
    #[serde(default)]
    following: bool,
}

fn general() -> String {
    "general".into()
}

fn default_limit() -> usize {
    50
}

/// `GET /api/v1/communities/{id}/posts`, newest first.
pub(super) async fn list(
    State(s): State<AppState>,
    Community(c): Community,
    Query(q): Query<ListQuery>,
) -> ApiResult<Vec<PostView>> {
    let query = PostQuery {
        channel: parse::channel(&q.channel)?,
        limit: q.limit.min(MAX_LIMIT),
        before: q.before.map(Timestamp::from_millis),
        following: q.following,
    };
    Ok(Json(s.node.posts(c, query).await?))
}

/// `?post=`.
#[derive(Deserialize)]
pub(super) struct ThreadQuery {
    post: String,
}

/// `GET /api/v1/communities/{id}/thread?post=`.
pub(super) async fn thread(
    State(s): State<AppState>,
    Community(c): Community,
    Query(q): Query<ThreadQuery>,
) -> ApiResult<Vec<PostView>> {
    let post = parse::post(&q.post)?;
    Ok(Json(s.node.thread(c, post).await?))
}

/// `GET /api/v1/communities/{id}/posts/history?post=…`: a post's versions, oldest first.
pub(super) async fn history(
    State(s): State<AppState>,
    Community(c): Community,
    Query(q): Query<ThreadQuery>,
) -> ApiResult<Vec<qun_crdt::PostVersion>> {
    let post = parse::post(&q.post)?;
    Ok(Json(s.node.post_history(c, post).await?))
}

/// `POST /api/v1/communities/{id}/posts {channel, text, reply_to}` → 201. With an
/// `Idempotency-Key` header the post is made once per key: a retry with the same key answers
/// the first result.
pub(super) async fn create(
    State(s): State<AppState>,
    Community(c): Community,
    headers: axum::http::HeaderMap,
    Json(b): Json<NewPost>,
) -> Result<(StatusCode, Json<EditDone>), HttpError> {
    let edit = b.into_edit()?;
    let done = match headers.get("idempotency-key") {
        Some(k) => {
            let key = k.to_str().map_err(|_| {
                HttpError::new(
                    StatusCode::BAD_REQUEST,
                    "the Idempotency-Key header is not text",
                    "send a random key of 16 to 64 ASCII characters",
                )
            })?;
            s.node.edit_once(c, key.to_string(), edit).await?
        }
        None => s.node.edit(c, edit).await?,
    };
    Ok((StatusCode::CREATED, Json(done)))
}
