//! The web page: server-rendered HTML (maud), a little vanilla JavaScript for live updates.

use crate::api::ApiState;
use axum::Router;

/// The page routes.
pub fn router(_state: ApiState) -> Router<ApiState> {
    Router::new()
}
