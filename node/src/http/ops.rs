//! Endpoints for operators: `GET /health`, `GET /health/live`, `GET /metrics` and
//! `POST /api/v1/backup`, and the separate scrape server ([`serve_metrics`]).
//!
//! On the API address, `/health` and `/health/live` need no token (they tell only whether the
//! node works, and supervisors probe them without secrets); `/metrics` needs the bearer token
//! like the rest of the API (it shows peer counts and traffic). Operators who scrape with
//! Prometheus give the node a separate address (`qun up --metrics-addr 127.0.0.1:9464`, or
//! `metrics_addr` in config.toml) that serves `/metrics` and the health endpoints without a
//! token and nothing else — loopback unless the operator chooses otherwise.
//!
//! | path | answer |
//! |---|---|
//! | `/health` | 200 when the node is live and ready (listening, store writable), else 503; JSON [`Health`] |
//! | `/health/live` | 200 while the node's event loop answers within [`HEALTH_TIMEOUT`], else 503 |
//! | `/metrics` | OpenMetrics text (see [`crate::metrics`]) |

use super::AppState;
use super::error::HttpError;
use crate::backup::{self, Manifest};
use crate::dto::Health;
use crate::error::{Error, Result};
use crate::handle::NodeHandle;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use std::net::SocketAddr;
use std::time::Duration;

/// How long the driver may take to answer a health probe before the node counts as not live.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);

/// The node's health, or `None` when its event loop did not answer in time.
async fn probe(node: &NodeHandle) -> Option<Health> {
    tokio::time::timeout(HEALTH_TIMEOUT, node.health())
        .await
        .ok()?
        .ok()
}

fn not_live() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(serde_json::json!({
            "live": false,
            "ready": false,
            "error": "the node's event loop did not answer",
        })),
    )
        .into_response()
}

/// `GET /health`: 200 when live and ready, else 503.
async fn health(State(node): State<NodeHandle>) -> Response {
    match probe(&node).await {
        Some(h) if h.ready => (StatusCode::OK, axum::Json(h)).into_response(),
        Some(h) => (StatusCode::SERVICE_UNAVAILABLE, axum::Json(h)).into_response(),
        None => not_live(),
    }
}

/// `GET /health/live`: 200 while the event loop answers.
async fn live(State(node): State<NodeHandle>) -> Response {
    match probe(&node).await {
        Some(h) => (StatusCode::OK, axum::Json(h)).into_response(),
        None => not_live(),
    }
}

/// `GET /metrics`.
async fn metrics(State(node): State<NodeHandle>) -> Result<Response, HttpError> {
    let text = node.metrics().await?;
    Ok(([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response())
}

/// The operator routes, over the node's handle.
fn routes() -> Router<NodeHandle> {
    Router::new()
        .route("/health", get(health))
        .route("/health/live", get(live))
        .route("/metrics", get(metrics))
}

/// The operator routes for the API server (authentication is the API's: see the module doc).
pub(super) fn router(node: NodeHandle) -> Router<AppState> {
    Router::new()
        .merge(routes().with_state(node))
        .route("/api/v1/backup", post(backup_handler))
}

/// Paths of the API server that need no token.
pub(super) fn public(path: &str) -> bool {
    path == "/health" || path == "/health/live"
}

/// `POST /api/v1/backup {out}` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BackupRequest {
    /// The backup directory to create (absolute; must not exist).
    out: std::path::PathBuf,
}

/// `POST /api/v1/backup {out}` → the manifest of the backup written to `out`.
async fn backup_handler(
    State(s): State<AppState>,
    super::extract::Json(b): super::extract::Json<BackupRequest>,
) -> Result<axum::Json<Manifest>, HttpError> {
    let keyfile = s.keyfile.clone().ok_or_else(|| Error::Invalid {
        reason: "this node's keys are not in a file: there is no identity to back up".into(),
        hint: "back up nodes started with `qun up`",
    })?;
    Ok(axum::Json(backup::make(&s.node, &keyfile, &b.out).await?))
}

/// A bound scrape server.
pub struct MetricsServer {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The server task.
    pub task: tokio::task::JoinHandle<()>,
}

/// Serve `/metrics`, `/health` and `/health/live` without authentication on `addr`.
pub async fn serve_metrics(addr: SocketAddr, node: NodeHandle) -> Result<MetricsServer> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Listen {
            addr: addr.to_string(),
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("metrics address", e))?;
    let app = routes().with_state(node);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("metrics server stopped: {e}");
        }
    });
    Ok(MetricsServer { addr, task })
}
