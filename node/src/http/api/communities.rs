//! Communities: list, create, join (and where a join stands, or cancelling it), one
//! community's facts and channels, invite codes, export.

use super::ApiResult;
use crate::dto::{
    Code, CommunityInfo, CommunitySummary, CreateCommunity, Created, ExportDoc, InviteRequest,
    JoinCancelled, JoinInfo, JoinRequest,
};
use crate::error::Error;
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::extract::{Community, Json};
use axum::extract::State;
use axum::http::StatusCode;
use qun_crdt::ChannelView;

/// `GET /api/v1/communities`.
pub(super) async fn list(State(s): State<AppState>) -> ApiResult<Vec<CommunitySummary>> {
    Ok(Json(s.node.status().await?.communities))
}

/// `POST /api/v1/communities {name, description, policy}` → 201 `{id}`.
pub(super) async fn create(
    State(s): State<AppState>,
    Json(b): Json<CreateCommunity>,
) -> Result<(StatusCode, Json<Created>), HttpError> {
    let (name, description, policy) = b.validate()?;
    let id = s.node.create_community(&name, &description, policy).await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.to_string() })))
}

/// `POST /api/v1/join {code}` → `{id}`.
pub(super) async fn join(
    State(s): State<AppState>,
    Json(b): Json<JoinRequest>,
) -> ApiResult<Created> {
    let id = s.node.join(&b.code).await?;
    Ok(Json(Created { id: id.to_string() }))
}

/// `GET /api/v1/communities/{id}/join`: where our join stands (404 when none is running).
pub(super) async fn join_status(
    State(s): State<AppState>,
    Community(c): Community,
) -> ApiResult<JoinInfo> {
    let id = c.to_string();
    let join = s.node.joins().await?.into_iter().find(|j| j.id == id);
    Ok(Json(join.ok_or_else(|| {
        Error::NotFound(format!("no join of {c} in progress"))
    })?))
}

/// `DELETE /api/v1/communities/{id}/join`: stop joining.
pub(super) async fn join_cancel(
    State(s): State<AppState>,
    Community(c): Community,
) -> ApiResult<JoinCancelled> {
    let cancelled = s.node.cancel_join(c).await?;
    Ok(Json(JoinCancelled { cancelled }))
}

/// `GET /api/v1/communities/{id}`.
pub(super) async fn info(
    State(s): State<AppState>,
    Community(c): Community,
) -> ApiResult<CommunityInfo> {
    Ok(Json(s.node.community(c).await?))
}

/// `POST /api/v1/communities/{id}/invite {invitee, valid_hours}` → `{code}`.
pub(super) async fn invite(
    State(s): State<AppState>,
    Community(c): Community,
    Json(b): Json<InviteRequest>,
) -> ApiResult<Code> {
    let (invitee, valid_ms) = b.validate()?;
    let code = s.node.invite(c, invitee, Some(valid_ms)).await?;
    Ok(Json(Code { code }))
}

/// `GET /api/v1/communities/{id}/channels`.
pub(super) async fn channels(
    State(s): State<AppState>,
    Community(c): Community,
) -> ApiResult<Vec<ChannelView>> {
    Ok(Json(s.node.channels(c).await?))
}

/// `GET /api/v1/communities/{id}/export`: the Automerge documents, base64.
pub(super) async fn export(
    State(s): State<AppState>,
    Community(c): Community,
) -> ApiResult<Vec<ExportDoc>> {
    let docs = s.node.export(c).await?;
    Ok(Json(
        docs.into_iter()
            .map(|(doc, b)| ExportDoc {
                doc,
                automerge: data_encoding::BASE64.encode(&b),
            })
            .collect(),
    ))
}
