//! The local HTTP server (axum), on 127.0.0.1 by default: the JSON API under `/api/v1`
//! ([`api`]) and the web page ([`web`]), on one layer that owns what they share — the state,
//! errors ([`error`]), extractors ([`extract`]: bodies, forms, ids with hints), authentication
//! ([`auth`]) and server-sent events ([`sse`]). `api` and `web` depend on this layer and never
//! on each other; both take their requests from `crate::dto` (one set of request types, from
//! JSON or forms) and answer through `crate::handle::NodeHandle`.
//!
//! A request whose `Host` is not this server's (`127.0.0.1:<port>`, `localhost:<port>`,
//! `[::1]:<port>` or the bound address) is refused with 421 before anything else, so a web
//! site that rebinds its DNS name to 127.0.0.1 cannot talk to the node as same-origin.
//! Every request needs the bearer token from `api.json` (`Authorization: Bearer <token>`) or
//! the session cookie set by the one-time login link `qun up` prints. Writes authenticated by
//! cookie must come from the page itself (`Origin`/`Sec-Fetch-Site` checked), so another web
//! site cannot make the browser act on the node (CSRF). Bodies are limited to
//! [`MAX_BODY_BYTES`], requests to a rate and event streams to a number ([`limit`]). Errors are JSON `{error, hint}` with a fitting status code under `/api/`
//! and error pages elsewhere. The endpoint list is in the README.

pub mod api;
pub mod auth;
pub mod blobs;
pub mod error;
pub mod extract;
pub mod files;
pub mod html;
pub mod limit;
pub mod ops;
pub mod prefs;
pub mod sessions;
pub mod sse;
pub mod web;

use crate::error::{Error, Result};
use crate::handle::NodeHandle;
use auth::Auth;
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;

/// Largest request body (a post is at most 16 KiB of text).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The node.
    pub node: NodeHandle,
    /// Tokens and sessions.
    pub auth: Arc<Auth>,
    /// What the pages remember (notifications read).
    pub prefs: Arc<prefs::Prefs>,
    /// Full-text search.
    pub search: Arc<crate::search::Search>,
    /// The keyfile (`identity.key`), to check its passphrase before the backup phrase is
    /// shown; `None` when the keys were never in a file (treated as unencrypted).
    pub keyfile: Option<std::path::PathBuf>,
}

/// The whole router: JSON API, events, login, the operator endpoints ([`ops`]) and the web
/// page.
pub fn router(state: AppState) -> Router {
    router_with(state, true)
}

/// The router, with the web page or without it (`qun up --headless`: the JSON API, events and
/// operator endpoints only).
pub fn router_with(state: AppState, web: bool) -> Router {
    let mut r = api::router()
        .merge(blobs::router())
        .merge(ops::router(state.node.clone()));
    if web {
        r = r.merge(web::router());
    }
    r.fallback(error::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require,
        ))
        // Outside authentication: a flood is refused before any work.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limit::rate,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// A bound server.
pub struct Server {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The address asked for, when it was taken and another port was used instead.
    pub taken: Option<SocketAddr>,
    /// The server task.
    pub task: tokio::task::JoinHandle<()>,
}

/// Bind and serve. When the port is taken (another node on this machine), a free port on the
/// same address is used instead and the address asked for is reported in `taken`.
pub async fn serve(addr: SocketAddr, state: AppState) -> Result<Server> {
    serve_with(addr, state, true).await
}

/// [`serve`], with the web page or without it (`web: false`, `qun up --headless`).
pub async fn serve_with(addr: SocketAddr, state: AppState, web: bool) -> Result<Server> {
    let (listener, taken) = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => (l, None),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && addr.port() != 0 => {
            let any = SocketAddr::new(addr.ip(), 0);
            let l = tokio::net::TcpListener::bind(any)
                .await
                .map_err(|source| Error::Listen {
                    addr: any.to_string(),
                    source,
                })?;
            (l, Some(addr))
        }
        Err(source) => {
            return Err(Error::Listen {
                addr: addr.to_string(),
                source,
            });
        }
    };
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("API address", e))?;
    // Outermost: the Host check runs before authentication.
    let app = router_with(state, web).layer(axum::middleware::from_fn(move |req, next| {
        auth::require_host(addr, req, next)
    }));
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("API server stopped: {e}");
        }
    });
    Ok(Server { addr, taken, task })
}
