//! JSON errors: `{error, hint}` with a status code.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An API error.
#[derive(Debug)]
pub struct ApiError {
    /// Status.
    pub status: StatusCode,
    /// What went wrong.
    pub error: String,
    /// What to do.
    pub hint: String,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    hint: &'a str,
}

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, error: impl Into<String>, hint: impl Into<String>) -> Self {
        ApiError {
            status,
            error: error.into(),
            hint: hint.into(),
        }
    }

    /// 400 with a hint.
    pub fn bad_request(error: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error, hint)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(Body {
                error: &self.error,
                hint: &self.hint,
            }),
        )
            .into_response()
    }
}

impl From<crate::Error> for ApiError {
    fn from(e: crate::Error) -> Self {
        use crate::Error as E;
        let status = match &e {
            E::NotFound(_) => StatusCode::NOT_FOUND,
            E::BadInvite(_) | E::Config(_) | E::Identity(_) => StatusCode::BAD_REQUEST,
            E::Crdt(c) => match c {
                qun_crdt::Error::Unauthorized { .. } => StatusCode::FORBIDDEN,
                qun_crdt::Error::UnknownCommunity(_) => StatusCode::NOT_FOUND,
                qun_crdt::Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::BAD_REQUEST,
            },
            E::Stopped | E::StoreFailed(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let hint = match &e {
            E::Crdt(qun_crdt::Error::Unauthorized { .. }) => {
                "the community's rules refuse this, for the reason given; roles and channels are in the community's members and channel lists"
            }
            E::Crdt(qun_crdt::Error::Edit { .. }) => "check the input",
            other => other.hint(),
        };
        ApiError::new(status, e.to_string(), hint)
    }
}

impl From<qun_crdt::Error> for ApiError {
    fn from(e: qun_crdt::Error) -> Self {
        crate::Error::from(e).into()
    }
}
