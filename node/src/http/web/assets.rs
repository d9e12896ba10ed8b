//! The page's stylesheet, script and icon, compiled into the binary (no CDN, no build step).

use crate::http::AppState;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

const CSS: &str = include_str!("static/app.css");
const JS: &str = include_str!("static/app.js");
const ICON: &str = include_str!("static/icon.svg");

/// `/static/…` (no login needed, see `crate::http::auth`).
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/static/app.css",
            get(|| serve("text/css; charset=utf-8", CSS)),
        )
        .route(
            "/static/app.js",
            get(|| serve("text/javascript; charset=utf-8", JS)),
        )
        .route("/static/icon.svg", get(|| serve("image/svg+xml", ICON)))
}

async fn serve(mime: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
}
