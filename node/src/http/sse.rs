//! Server-sent events: the node's events as JSON, one `data:` line each.

use super::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use std::convert::Infallible;
use tokio::sync::broadcast::error::RecvError;

/// `GET /api/v1/events`.
pub async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = state.node.events();
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        let e = match rx.recv().await {
            Ok(ev) => Event::default()
                .json_data(&ev)
                .unwrap_or_else(|_| Event::default().comment("unserializable event")),
            // A slow client missed `n` events: tell it, so it can refresh what it shows.
            Err(RecvError::Lagged(n)) => Event::default().event("lagged").data(n.to_string()),
            Err(RecvError::Closed) => return None,
        };
        Some((Ok(e), rx))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
