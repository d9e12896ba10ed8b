//! Server-sent events: the node's events as JSON, one `data:` line each; at most
//! `max_sse_clients` streams at once (`crate::limits`).

use super::AppState;
use super::error::HttpError;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use std::convert::Infallible;
use tokio::sync::broadcast::error::RecvError;

/// `GET /api/v1/events` (503 when `max_sse_clients` streams are open).
pub async fn events(
    State(state): State<AppState>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, HttpError> {
    let load = state.node.load();
    let slot = load
        .sse_client()
        .ok_or_else(|| super::limit::sse_full(load.limits.max_sse_clients))?;
    let rx = state.node.events();
    // The slot lives as long as the stream: dropping the stream (client gone) frees it.
    let stream = futures::stream::unfold((rx, slot), |(mut rx, slot)| async move {
        let e = match rx.recv().await {
            Ok(ev) => Event::default()
                .json_data(&ev)
                .unwrap_or_else(|_| Event::default().comment("unserializable event")),
            // A slow client missed `n` events: tell it, so it can refresh what it shows.
            Err(RecvError::Lagged(n)) => Event::default().event("lagged").data(n.to_string()),
            Err(RecvError::Closed) => return None,
        };
        Some((Ok(e), (rx, slot)))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
