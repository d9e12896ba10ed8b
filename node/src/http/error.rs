//! Errors of the HTTP layer, one type for the API and the page: JSON `{error, hint}` with a
//! fitting status under `/api/`, an error page (status, what went wrong, what to do)
//! elsewhere. Node errors map to statuses once, here.

use super::html::shell;
use axum::Json;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Serialize;

/// An HTTP error: status, what went wrong, what to do; rendered as JSON or as a page.
#[derive(Debug)]
pub struct HttpError {
    /// Status.
    pub status: StatusCode,
    /// What went wrong.
    pub error: String,
    /// What to do.
    pub hint: String,
    /// Render as a page rather than JSON.
    page: bool,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    hint: &'a str,
}

impl HttpError {
    /// A new error (rendered as JSON).
    pub fn new(status: StatusCode, error: impl Into<String>, hint: impl Into<String>) -> Self {
        HttpError {
            status,
            error: error.into(),
            hint: hint.into(),
            page: false,
        }
    }

    /// 400 with a hint.
    pub fn bad_request(error: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error, hint)
    }

    /// Rendered as a page.
    pub fn page(mut self) -> Self {
        self.page = true;
        self
    }

    /// Rendered as JSON under `/api/`, as a page elsewhere.
    pub fn for_path(mut self, path: &str) -> Self {
        self.page = !path.starts_with("/api/");
        self
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        if !self.page {
            let body = Body {
                error: &self.error,
                hint: &self.hint,
            };
            return (self.status, Json(body)).into_response();
        }
        let title = self.status.canonical_reason().unwrap_or("Error");
        let body = shell(
            title,
            html! {
                div class="center-page" {
                    div class="card error-card" data-login-needed=[(self.status == StatusCode::UNAUTHORIZED).then_some("1")] {
                        h1 { (title) }
                        p class="error-text" { (self.error) }
                        p class="muted" { (self.hint) }
                        p { a class="btn" href="/" { "Back to your communities" } }
                    }
                }
            },
        );
        (self.status, body).into_response()
    }
}

impl From<crate::Error> for HttpError {
    fn from(e: crate::Error) -> Self {
        use crate::Error as E;
        let status = match &e {
            E::NotFound(_) => StatusCode::NOT_FOUND,
            E::Invalid { .. } | E::BadInvite(_) | E::Config(_) | E::Identity(_) => {
                StatusCode::BAD_REQUEST
            }
            E::Crdt(c) => match c {
                qun_crdt::Error::Unauthorized { .. } => StatusCode::FORBIDDEN,
                qun_crdt::Error::UnknownCommunity(_) => StatusCode::NOT_FOUND,
                qun_crdt::Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::BAD_REQUEST,
            },
            E::Stopped | E::StoreFailed(_) | E::CatchingUp { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            E::BadBackup { .. } | E::RestoreTarget(_) => StatusCode::CONFLICT,
            E::BlobTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            E::BlobBudget { .. } => StatusCode::INSUFFICIENT_STORAGE,
            E::BlobUnavailable { .. } => StatusCode::NOT_FOUND,
            E::BlobMismatch { .. } => StatusCode::BAD_GATEWAY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let hint = match &e {
            E::Crdt(qun_crdt::Error::Unauthorized { .. }) => {
                "the community's rules refuse this, for the reason given; roles and channels are in the community's members and channel lists"
            }
            E::Crdt(qun_crdt::Error::Edit { .. }) => "check the input",
            other => other.hint(),
        };
        HttpError::new(status, e.to_string(), hint)
    }
}

/// An error shown as a page, whatever the path (the web page's handlers return it).
pub struct PageError(pub HttpError);

impl From<HttpError> for PageError {
    fn from(e: HttpError) -> Self {
        PageError(e)
    }
}

impl From<crate::Error> for PageError {
    fn from(e: crate::Error) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.0.page().into_response()
    }
}

/// The page for a browser without a session.
pub fn login_needed(error: &str, hint: &str) -> Response {
    HttpError::new(StatusCode::UNAUTHORIZED, error, hint)
        .page()
        .into_response()
}

/// A 404 page, or JSON under `/api/`.
pub async fn not_found(req: Request) -> Response {
    let path = req.uri().path();
    let hint = if path.starts_with("/api/") {
        "see the endpoint list in the README"
    } else {
        "start from the home page"
    };
    HttpError::new(StatusCode::NOT_FOUND, format!("no such page: {path}"), hint)
        .for_path(path)
        .into_response()
}
