//! The local API's load limits: a token bucket over every request (429 with a JSON
//! `{error, hint}` when empty) and, in [`super::sse`], a cap on SSE clients (503). The limits and
//! counters are the node's (`crate::limits`), so `qun status --json` shows the hits.

use super::AppState;
use super::error::HttpError;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Middleware: refuse the request with 429 when the API's token bucket is empty.
pub async fn rate(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if s.node.load().api_request() {
        return next.run(req).await;
    }
    let per_sec = s.node.load().limits.api_requests_per_sec;
    let mut r = HttpError::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!("too many requests: the API answers at most {per_sec} a second"),
        "slow down and retry in a second (`api_requests_per_sec` under [limits] in config.toml)",
    )
    .for_path(req.uri().path())
    .into_response();
    r.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from_static("1"),
    );
    r
}

/// 503: every SSE slot is taken.
pub fn sse_full(max: u32) -> HttpError {
    HttpError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("too many event streams: at most {max} at once"),
        "close another event stream (a browser tab) and retry (`max_sse_clients` under [limits] in config.toml)",
    )
}
