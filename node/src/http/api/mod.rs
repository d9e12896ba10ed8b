//! The JSON API under `/api/v1`, split by resource: the node (`node`), communities and joins
//! (`communities`), posts (`posts`), members (`members`), trust (`trust`), notifications
//! (`notifications`), search (`search`), the market (`market`), the ledger (`ledger`), direct
//! messages (`dm`). Every handler takes
//! typed input (path ids through `super::extract`, bodies from `crate::dto`) and answers with
//! one call to the node's handle; the many edits of a community share one handler, [`edit`].

mod communities;
mod dm;
pub mod ledger;
pub mod market;
mod members;
mod node;
pub mod notifications;
mod posts;
pub mod search;
mod trust;

use super::AppState;
use super::error::HttpError;
use super::extract::{Community, Json};
use crate::dto::{
    AdmitMember, ChannelRequest, CloseRequest, DeletePost, EditDone, EditPost, FollowRequest,
    HideListing, HidePost, IntoEdit, LeaveRequest, MarketPolicyRequest, PayRequest, PolicyRequest,
    ProfileRequest, React, RemoveMember, ReviewRequest, RoleRequest, UnfreezeRequest,
    UnhideListing, UnhidePost, VoteRequest,
};
use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use serde::de::DeserializeOwned;

/// What a JSON handler answers.
type ApiResult<T> = Result<Json<T>, HttpError>;

/// The common shape of the API's writes: one edit of the community in the path, from a JSON
/// body validated into a core edit; answered once the change is stored.
async fn edit<R: IntoEdit + DeserializeOwned>(
    State(s): State<AppState>,
    Community(c): Community,
    Json(r): Json<R>,
) -> ApiResult<EditDone> {
    let edit = r.into_edit()?;
    Ok(Json(s.node.edit(c, edit).await?))
}

/// The API routes (and `/login`, the one-time link's target).
pub(super) fn router() -> Router<AppState> {
    const C: &str = "/api/v1/communities/{id}";
    let at = |p: &str| format!("{C}{p}");
    Router::new()
        .route("/login", get(super::auth::login))
        .route("/api/v1/status", get(node::status))
        .route("/api/v1/identity", get(node::identity))
        .route("/api/v1/login-link", post(node::login_link))
        .route("/api/v1/peers", get(node::peers))
        .route("/api/v1/dm", get(dm::list))
        .route("/api/v1/dm/{member}", get(dm::read).post(dm::send))
        .route("/api/v1/notifications", get(notifications::list))
        .route("/api/v1/search", get(search::search))
        .route("/api/v1/notifications/read", post(notifications::mark_read))
        .route("/api/v1/events", get(super::sse::events))
        .route("/api/v1/devices/link", post(node::device_link))
        .route("/api/v1/devices/revoke", post(node::device_revoke))
        .route(
            "/api/v1/communities",
            get(communities::list).post(communities::create),
        )
        .route("/api/v1/join", post(communities::join))
        .route(C, get(communities::info))
        .route(
            &at("/join"),
            get(communities::join_status).delete(communities::join_cancel),
        )
        .route(&at("/invite"), post(communities::invite))
        .route(
            &at("/channels"),
            get(communities::channels).post(edit::<ChannelRequest>),
        )
        .route(&at("/policy"), post(edit::<PolicyRequest>))
        .route(&at("/export"), get(communities::export))
        .route(&at("/posts"), get(posts::list).post(posts::create))
        .route(&at("/thread"), get(posts::thread))
        .route(&at("/posts/history"), get(posts::history))
        .route(&at("/posts/edit"), post(edit::<EditPost>))
        .route(&at("/posts/delete"), post(edit::<DeletePost>))
        .route(&at("/posts/react"), post(edit::<React>))
        .route(&at("/posts/hide"), post(edit::<HidePost>))
        .route(&at("/posts/unhide"), post(edit::<UnhidePost>))
        .route(&at("/posts/pin"), post(edit::<crate::dto::PinPost>))
        .route(&at("/members"), get(members::list))
        .route(&at("/members/admit"), post(edit::<AdmitMember>))
        .route(&at("/members/remove"), post(edit::<RemoveMember>))
        .route(&at("/leave"), post(edit::<LeaveRequest>))
        .route(&at("/members/role"), post(edit::<RoleRequest>))
        .route(
            &at("/profile"),
            get(members::my_profile).put(edit::<ProfileRequest>),
        )
        .route(&at("/profile/{member}"), get(members::profile))
        .route(&at("/follows"), get(members::follows))
        .route(&at("/follow"), post(edit::<FollowRequest>))
        .route(&at("/endorse"), post(trust::endorse))
        .route(&at("/endorsements"), get(trust::endorsements))
        .route(&at("/trust"), get(trust::ranking))
        .route(&at("/trust/{member}"), get(trust::why))
        .route(
            &at("/market/policy"),
            get(market::policy).post(edit::<MarketPolicyRequest>),
        )
        .route(
            &at("/market/listings"),
            get(market::listings).post(market::put_listing),
        )
        .route(&at("/market/listing"), get(market::listing))
        .route(&at("/market/listings/hide"), post(edit::<HideListing>))
        .route(&at("/market/listings/unhide"), post(edit::<UnhideListing>))
        .route(&at("/market/shop/{member}"), get(market::shop))
        .route(
            &at("/market/deals"),
            get(market::deals).post(market::propose_deal),
        )
        .route(&at("/market/deal"), get(market::deal))
        .route(&at("/market/deals/accept"), post(market::step::<0>))
        .route(&at("/market/deals/deliver"), post(market::step::<1>))
        .route(&at("/market/deals/complete"), post(market::step::<2>))
        .route(&at("/market/deals/dispute"), post(market::step::<3>))
        .route(&at("/market/deals/resolve"), post(market::step::<4>))
        .route(&at("/market/deals/cancel"), post(market::step::<5>))
        .route(
            &at("/market/reviews"),
            get(market::reviews).post(edit::<ReviewRequest>),
        )
        .route(&at("/ledger/statement"), get(ledger::statement))
        .route(&at("/ledger/totals"), get(ledger::totals))
        .route(&at("/ledger/entries"), get(ledger::entries))
        .route(&at("/ledger/policy"), post(ledger::policy))
        .route(&at("/ledger/pay"), post(edit::<PayRequest>))
        .route(&at("/ledger/unfreeze"), post(edit::<UnfreezeRequest>))
        .route(
            &at("/ledger/proposals"),
            get(ledger::proposals).post(ledger::create_proposal),
        )
        .route(&at("/ledger/proposals/pledge"), post(ledger::pledge_to))
        .route(&at("/ledger/proposals/close"), post(edit::<CloseRequest>))
        .route(&at("/ledger/proposals/vote"), post(edit::<VoteRequest>))
        .route(
            &at("/ledger/motions"),
            get(ledger::motions).post(ledger::propose_motion),
        )
        .route(
            &at("/ledger/motions/enact"),
            post(edit::<crate::dto::EnactRequest>),
        )
        .route(
            &at("/ledger/voting"),
            post(edit::<crate::dto::VotingRequest>),
        )
        .route(
            &at("/ledger/bounties"),
            get(ledger::bounties).post(ledger::create_bounty),
        )
        .route(
            &at("/ledger/bounties/claim"),
            post(ledger::bounty_step::<0>),
        )
        .route(
            &at("/ledger/bounties/submit"),
            post(ledger::bounty_step::<1>),
        )
        .route(
            &at("/ledger/bounties/accept"),
            post(ledger::bounty_step::<2>),
        )
        .route(
            &at("/ledger/bounties/reject"),
            post(ledger::bounty_step::<3>),
        )
        .route(
            &at("/ledger/bounties/cancel"),
            post(ledger::bounty_step::<4>),
        )
}
