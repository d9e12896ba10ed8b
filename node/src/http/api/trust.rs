//! Trust: endorsing, the endorsements in force, the ranking from my point of view, and why a
//! member ranks where they do.

use super::ApiResult;
use crate::dto::{
    EditDone, EndorseRequest, EndorsementQuery, EndorsementView, TrustEntry, TrustWhy, parse,
};
use crate::error::Error;
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::extract::{Community, Json, Member, Query};
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

/// Most members one ranking request returns.
pub const MAX_TOP: usize = 1000;

/// `POST /api/v1/communities/{id}/endorse {member, weight, topic, note}` (weight 0 revokes).
pub(super) async fn endorse(
    State(s): State<AppState>,
    Community(c): Community,
    Json(b): Json<EndorseRequest>,
) -> ApiResult<EditDone> {
    let e = b.validate()?;
    Ok(Json(s.node.endorse(c, e).await?))
}

/// `?member=&all=`.
#[derive(Deserialize)]
pub(super) struct EndorsementsQuery {
    /// Only those given or received by this member.
    member: Option<String>,
    /// Include revocations (weight 0) and expired endorsements.
    #[serde(default)]
    all: bool,
}

/// `GET /api/v1/communities/{id}/endorsements?member=&all=`.
pub(super) async fn endorsements(
    State(s): State<AppState>,
    Community(c): Community,
    Query(q): Query<EndorsementsQuery>,
) -> ApiResult<Vec<EndorsementView>> {
    let member = q.member.as_deref().map(parse::member).transpose()?;
    let query = EndorsementQuery { member, all: q.all };
    Ok(Json(s.node.endorsements(c, query).await?))
}

/// `?top=`.
#[derive(Deserialize)]
pub(super) struct TrustQuery {
    #[serde(default = "default_top")]
    top: usize,
}

fn default_top() -> usize {
    50
}

/// `GET /api/v1/communities/{id}/trust?top=`.
pub(super) async fn ranking(
    State(s): State<AppState>,
    Community(c): Community,
    Query(q): Query<TrustQuery>,
) -> ApiResult<Vec<TrustEntry>> {
    Ok(Json(s.node.trust(c, q.top.min(MAX_TOP)).await?))
}

/// `GET /api/v1/communities/{id}/trust/{member}`.
pub(super) async fn why(
    State(s): State<AppState>,
    Community(c): Community,
    Member(m): Member,
) -> ApiResult<TrustWhy> {
    match s.node.trust_why(c, m).await {
        Ok(w) => Ok(Json(w)),
        Err(Error::NotFound(what)) => Err(HttpError::new(
            StatusCode::NOT_FOUND,
            format!("{what} not found"),
            "nobody has endorsed this member and they are not a member of the community",
        )),
        Err(e) => Err(e.into()),
    }
}
