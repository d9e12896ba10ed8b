//! The node itself: status, identity, peers, a fresh login link, and linking or revoking a
//! device.

use super::ApiResult;
use crate::dto::{
    DeviceLinked, DevicesRevoked, IdentityInfo, LinkDevice, LoginLink, PeerInfo, RevokeDevice,
    Status,
};
use crate::http::AppState;
use crate::http::extract::Json;
use axum::extract::State;

/// `GET /api/v1/status`.
pub(super) async fn status(State(s): State<AppState>) -> ApiResult<Status> {
    Ok(Json(s.node.status().await?))
}

/// `GET /api/v1/identity`.
pub(super) async fn identity(State(s): State<AppState>) -> ApiResult<IdentityInfo> {
    Ok(Json(s.node.identity().await?))
}

/// `GET /api/v1/peers`.
pub(super) async fn peers(State(s): State<AppState>) -> ApiResult<Vec<PeerInfo>> {
    Ok(Json(s.node.peers().await?))
}

/// `POST /api/v1/login-link`: a fresh one-time login path (for `qun login`).
pub(super) async fn login_link(State(s): State<AppState>) -> Json<LoginLink> {
    Json(LoginLink {
        path: format!("/login?code={}", s.auth.renew_login_code()),
    })
}

/// `POST /api/v1/devices/link {device, label}` → `{code}`.
pub(super) async fn device_link(
    State(s): State<AppState>,
    Json(b): Json<LinkDevice>,
) -> ApiResult<DeviceLinked> {
    let (device, label) = b.validate()?;
    let code = s.node.link_device(device, &label).await?;
    Ok(Json(DeviceLinked { code }))
}

/// `POST /api/v1/devices/revoke {device, reason}` → `{communities}`.
pub(super) async fn device_revoke(
    State(s): State<AppState>,
    Json(b): Json<RevokeDevice>,
) -> ApiResult<DevicesRevoked> {
    let (device, reason) = b.validate()?;
    let communities = s.node.revoke_device(device, &reason).await?;
    Ok(Json(DevicesRevoked { communities }))
}
