//! Members: the list with roles, profiles, follows. Admitting, removing, roles, following and
//! this member's profile are edits (`super::edit`).

use super::ApiResult;
use crate::dto::{Follows, parse};
use crate::http::AppState;
use crate::http::extract::{Community, Json, Member, Query};
use axum::extract::State;
use qun_crdt::{MemberView, Profile};
use serde::Deserialize;

/// `GET /api/v1/communities/{id}/members`.
pub(super) async fn list(
    State(s): State<AppState>,
    Community(c): Community,
) -> ApiResult<Vec<MemberView>> {
    Ok(Json(s.node.members(c).await?))
}

/// `GET /api/v1/communities/{id}/profile`: mine.
pub(super) async fn my_profile(
    State(s): State<AppState>,
    Community(c): Community,
) -> ApiResult<Option<Profile>> {
    Ok(Json(s.node.profile(c, None).await?))
}

/// `GET /api/v1/communities/{id}/profile/{member}`.
pub(super) async fn profile(
    State(s): State<AppState>,
    Community(c): Community,
    Member(m): Member,
) -> ApiResult<Option<Profile>> {
    Ok(Json(s.node.profile(c, Some(m)).await?))
}

/// `?member=`.
#[derive(Deserialize)]
pub(super) struct FollowsQuery {
    /// Whose follows (default: mine).
    member: Option<String>,
}

/// `GET /api/v1/communities/{id}/follows?member=`.
pub(super) async fn follows(
    State(s): State<AppState>,
    Community(c): Community,
    Query(q): Query<FollowsQuery>,
) -> ApiResult<Follows> {
    let who = q.member.as_deref().map(parse::member).transpose()?;
    Ok(Json(s.node.follows(c, who).await?))
}
