//! Direct messages: `GET /api/v1/dm` (conversations, the latest first, with unread counts),
//! `GET /api/v1/dm/{member}` (one conversation, oldest first; marks it read) and
//! `POST /api/v1/dm/{member}` with `{"text": …}` (send; answers what was done).

use super::ApiResult;
use crate::dto::{Conversation, DmMessage, DmSent, SendDm};
use crate::http::AppState;
use crate::http::extract::{Json, Member};
use axum::extract::State;

/// `GET /api/v1/dm`.
pub(super) async fn list(State(s): State<AppState>) -> ApiResult<Vec<Conversation>> {
    Ok(Json(s.node.dm_list().await?))
}

/// `GET /api/v1/dm/{member}`.
pub(super) async fn read(
    State(s): State<AppState>,
    Member(m): Member,
) -> ApiResult<Vec<DmMessage>> {
    Ok(Json(s.node.dm_read(m).await?))
}

/// `POST /api/v1/dm/{member}`.
pub(super) async fn send(
    State(s): State<AppState>,
    Member(m): Member,
    Json(body): Json<SendDm>,
) -> ApiResult<DmSent> {
    Ok(Json(s.node.dm_send(m, body.text).await?))
}
