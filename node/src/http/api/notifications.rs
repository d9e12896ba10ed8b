//! `GET /api/v1/notifications` (replies, mentions and reactions by others, newest first, each
//! with `unread`) and `POST /api/v1/notifications/read` (mark some, or all shown, read).

use super::ApiResult;
use crate::dto::{MarkRead, Notification, Notifications};
use crate::error::Result;
use crate::http::AppState;
use crate::http::extract::{Json, Query};
use axum::extract::State;

/// `?unread=true`: only unread ones.
#[derive(serde::Deserialize, Default)]
pub struct NotificationQuery {
    #[serde(default)]
    unread: bool,
}

/// Notifications with their read marks and counts (shared with the page).
pub async fn read(s: &AppState, only_unread: bool) -> Result<Notifications> {
    let mut items: Vec<Notification> = s.node.notifications().await?;
    for n in &mut items {
        n.unread = !s.prefs.is_read(&n.id);
    }
    let mut by_community = std::collections::BTreeMap::new();
    for n in items.iter().filter(|n| n.unread) {
        *by_community.entry(n.community.clone()).or_insert(0) += 1;
    }
    if only_unread {
        items.retain(|n| n.unread);
    }
    Ok(Notifications {
        unread: by_community.values().sum(),
        unread_by_community: by_community,
        items,
    })
}

/// `GET /api/v1/notifications`.
pub(super) async fn list(
    State(s): State<AppState>,
    Query(q): Query<NotificationQuery>,
) -> ApiResult<Notifications> {
    Ok(Json(read(&s, q.unread).await?))
}

/// Mark `ids` read, or every notification there is now.
pub async fn mark(s: &AppState, ids: Option<Vec<String>>) -> Result<usize> {
    let ids = match ids {
        Some(ids) => ids,
        None => s
            .node
            .notifications()
            .await?
            .into_iter()
            .map(|n| n.id)
            .collect(),
    };
    s.prefs.mark_read(ids.iter().map(String::as_str));
    Ok(ids.len())
}

/// `POST /api/v1/notifications/read`.
pub(super) async fn mark_read(
    State(s): State<AppState>,
    Json(m): Json<MarkRead>,
) -> ApiResult<serde_json::Value> {
    let n = mark(&s, m.ids).await?;
    Ok(Json(serde_json::json!({ "marked": n })))
}
