//! The web page: server-rendered HTML (maud), a little vanilla JavaScript for live updates.
//!
//! Pages read what they show through the node's handle (a [`crate::dto::CommunityView`]
//! snapshot and a few typed reads), then render. Forms work without JavaScript: they POST
//! (authenticated by the session cookie, so the same-origin check applies) the same request
//! types the JSON API takes, and redirect back; the many forms that edit a community share one
//! handler, [`form_edit`], and the core's verdict is the only authorization. `static/app.js`
//! subscribes to `/api/v1/events` and, when a change to the community on screen arrives,
//! fetches the post list again as a server-rendered fragment (`data-live-src`). Text from
//! members is escaped by maud and shown as written (line breaks kept, http(s) links
//! clickable), never as HTML. Pages are served with a strict Content-Security-Policy: scripts
//! and styles only from `/static/`.
//!
//! | path | page |
//! |---|---|
//! | `/` | communities |
//! | `/new`, `/join` | create a community; join with a code |
//! | `/c/{id}?channel=&before=&following=` | a channel: composer and posts, newest first (all, or members I follow) |
//! | `/c/{id}/thread?post=` | a post and its replies |
//! | `/c/{id}/members` | members ranked by trust from my point of view, with "why" |
//! | `/c/{id}/m/{member}` | a member's profile, endorsements, endorse form |
//! | `/c/{id}/invite` | the invite dialog: code and QR code |
//! | `/c/{id}/manage` | channels, admission policy, name, custom roles (as the role allows) |
//! | `/c/{id}/market?q=&kind=` | open listings ranked by my trust in their owner; a new listing |
//! | `/c/{id}/market/listing?id=` | one listing and "Propose a deal" |
//! | `/c/{id}/market/deals` | my deals, the steps my role allows, reviews, "Pay into escrow" |
//! | `/c/{id}/wallet` | my balance, limit and why, holds, history; pay; the ledger's settings |
//! | `/c/{id}/proposals` | proposals with progress, tallies, pledge, vote and close |
//! | `/c/{id}/bounties` | the bounties board with the steps that apply to me |
//! | `/settings` | identity, devices, network, export, backup phrase |

mod account;
mod assets;
mod community;
mod history;
mod home;
mod identicon;
mod invite;
mod ledger;
mod manage;
mod markdown;
mod market;
mod members;
mod messages;
mod notifications;
mod posts;
mod search;
mod view;

pub use view::{enc, name_key};

use super::AppState;
use super::error::PageError;
use super::extract::{Community, Form};
use crate::dto::{
    AdmitMember, BountyStepRequest, ChannelRequest, CloseRequest, DealStep, DeletePost, EditPost,
    FollowRequest, HideListing, HidePost, IntoEdit, LeaveRequest, MetaRequest, NewPost,
    PolicyRequest, React, RemoveMember, ReviewRequest, RoleRequest, UnfreezeRequest, UnhideListing,
    UnhidePost, VoteRequest,
};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use qun_crdt::CommunityId;
use qun_identity::MemberId;
use serde::de::DeserializeOwned;

/// The page routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::home))
        .route("/new", get(home::new_form).post(home::create))
        .route("/join", get(home::join_form).post(home::join))
        .route("/settings", get(home::settings))
        .route("/notifications", get(notifications::list))
        .route("/messages", get(messages::list))
        .route(
            "/messages/{member}",
            get(messages::conversation).post(messages::send),
        )
        .route("/search", get(search::search))
        .route("/notifications/open", get(notifications::open))
        .route("/notifications/read", post(notifications::mark_all))
        .route("/settings/backup-phrase", post(home::backup_phrase))
        .route("/settings/session", post(account::set_session))
        .route("/logout", post(account::logout))
        .route("/logout/all", post(account::logout_all))
        .route("/logged-out", get(account::logged_out))
        .route("/c/{id}", get(community::channel))
        .route("/c/{id}/join/cancel", post(community::cancel_join))
        .route("/c/{id}/posts-fragment", get(community::posts_fragment))
        .route("/c/{id}/thread", get(community::thread))
        .route("/c/{id}/history", get(history::history))
        .route("/c/{id}/thread-fragment", get(community::thread_fragment))
        .route("/c/{id}/post", post(form_edit::<NewPost>))
        .route("/c/{id}/edit", post(form_edit::<EditPost>))
        .route("/c/{id}/delete", post(form_edit::<DeletePost>))
        .route("/c/{id}/react", post(form_edit::<React>))
        .route("/c/{id}/hide", post(form_edit::<HidePost>))
        .route("/c/{id}/unhide", post(form_edit::<UnhidePost>))
        .route("/c/{id}/pin", post(form_edit::<crate::dto::PinPost>))
        .route(
            "/c/{id}/invite",
            get(invite::invite_form).post(invite::invite),
        )
        .route("/c/{id}/members", get(members::members))
        .route("/c/{id}/admit", post(form_edit::<AdmitMember>))
        .route("/c/{id}/m/{member}", get(members::profile))
        .route("/c/{id}/m/{member}/petname", post(members::set_petname))
        .route("/c/{id}/endorse", post(members::endorse))
        .route("/c/{id}/profile", post(members::save_profile))
        .route("/c/{id}/follow", post(form_edit::<FollowRequest>))
        .route("/c/{id}/manage", get(manage::manage))
        .route("/c/{id}/manage/channel", post(form_edit::<ChannelRequest>))
        .route("/c/{id}/manage/channel/new", post(manage::new_channel))
        .route("/c/{id}/manage/meta", post(form_edit::<MetaRequest>))
        .route("/c/{id}/manage/policy", post(form_edit::<PolicyRequest>))
        .route("/c/{id}/manage/role", post(manage::define_role))
        .route("/c/{id}/role", post(form_edit::<RoleRequest>))
        .route("/c/{id}/remove", post(form_edit::<RemoveMember>))
        .route("/c/{id}/leave", post(form_edit::<LeaveRequest>))
        .route("/c/{id}/market", get(market::market))
        .route(
            "/c/{id}/market/listing",
            get(market::listing).post(market::put_listing),
        )
        .route("/c/{id}/market/propose", post(market::propose_deal))
        .route("/c/{id}/market/deals", get(market::deals))
        .route("/c/{id}/market/step", post(form_edit::<DealStep>))
        .route("/c/{id}/market/review", post(form_edit::<ReviewRequest>))
        .route("/c/{id}/market/hide", post(form_edit::<HideListing>))
        .route("/c/{id}/market/unhide", post(form_edit::<UnhideListing>))
        .route("/c/{id}/wallet", get(ledger::wallet))
        .route("/c/{id}/wallet/pay", post(ledger::pay))
        .route("/c/{id}/wallet/policy", post(ledger::policy))
        .route(
            "/c/{id}/wallet/unfreeze",
            post(form_edit::<UnfreezeRequest>),
        )
        .route("/c/{id}/proposals", get(ledger::proposals))
        .route("/c/{id}/proposals/new", post(ledger::create_proposal))
        .route("/c/{id}/proposals/pledge", post(ledger::pledge_to))
        .route("/c/{id}/proposals/vote", post(form_edit::<VoteRequest>))
        .route("/c/{id}/proposals/close", post(form_edit::<CloseRequest>))
        .route("/c/{id}/bounties", get(ledger::bounties))
        .route("/c/{id}/bounties/new", post(ledger::create_bounty))
        .route(
            "/c/{id}/bounties/step",
            post(form_edit::<BountyStepRequest>),
        )
        .layer(axum::middleware::map_response(page_headers))
        .merge(assets::router())
}

/// Headers of every page: a strict CSP (no inline script or style, nothing from elsewhere),
/// no framing, no caching of private pages.
async fn page_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Where the page goes after a form's edit went in (unless the form names a `back`).
trait Landing {
    /// The path, in community `c`, for this node's member `me`.
    fn landing(&self, c: &CommunityId, me: &MemberId) -> String;
}

impl Landing for NewPost {
    fn landing(&self, c: &CommunityId, _: &MemberId) -> String {
        format!("/c/{c}")
    }
}

macro_rules! lands_on_posts {
    ($($t:ty),*) => {$(
        impl Landing for $t {
            fn landing(&self, c: &CommunityId, _: &MemberId) -> String {
                format!("/c/{c}")
            }
        }
    )*};
}
lands_on_posts!(
    EditPost,
    DeletePost,
    React,
    HidePost,
    UnhidePost,
    crate::dto::PinPost
);

impl Landing for AdmitMember {
    fn landing(&self, c: &CommunityId, _: &MemberId) -> String {
        format!("/c/{c}/members?saved=admitted")
    }
}

impl Landing for RemoveMember {
    fn landing(&self, c: &CommunityId, _: &MemberId) -> String {
        format!("/c/{c}/members?saved=removed")
    }
}

impl Landing for FollowRequest {
    fn landing(&self, c: &CommunityId, _: &MemberId) -> String {
        format!("/c/{c}/m/{}", self.member.trim())
    }
}

impl Landing for RoleRequest {
    fn landing(&self, c: &CommunityId, _: &MemberId) -> String {
        format!("/c/{c}/m/{}?saved=role", self.member.trim())
    }
}

impl Landing for ChannelRequest {
    fn landing(&self, c: &CommunityId, _: &MemberId) -> String {
        format!("/c/{c}?channel={}", enc(self.id.trim()))
    }
}

impl Landing for LeaveRequest {
    fn landing(&self, c: &CommunityId, _: &MemberId) -> String {
        format!("/c/{c}")
    }
}

impl Landing for MetaRequest {
    fn landing(&self, c: &CommunityId, _: &MemberId) -> String {
        format!("/c/{c}/manage?saved=about#about")
    }
}

impl Landing for PolicyRequest {
    fn landing(&self, c: &CommunityId, _: &MemberId) -> String {
        format!("/c/{c}/manage?saved=policy#policy")
    }
}

/// The common shape of the page's forms: one edit of the community in the path, from a form
/// validated like the JSON API's body, then back to the page (`back`, or where the form's
/// request type lands). A refused edit is an error page naming the reason.
async fn form_edit<R: IntoEdit + Landing + DeserializeOwned>(
    State(s): State<AppState>,
    Community(c): Community,
    Form { form, back, nonce }: Form<R>,
) -> Result<Redirect, PageError> {
    let to = form.landing(&c, &s.node.member());
    let edit = form.into_edit()?;
    match nonce.filter(|n| !n.is_empty()) {
        Some(key) => s.node.edit_once(c, key, edit).await?,
        None => s.node.edit(c, edit).await?,
    };
    Ok(back_to(back.as_deref(), to))
}

/// Redirect after a form to `back` when it is a path on this site, else to `fallback`.
fn back_to(back: Option<&str>, fallback: String) -> Redirect {
    match back {
        Some(b) if b.starts_with('/') && !b.starts_with("//") && !b.contains('\\') => {
            Redirect::to(b)
        }
        _ => Redirect::to(&fallback),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse;

    #[test]
    fn redirects_stay_on_site() {
        let loc = |r: Redirect| {
            r.into_response()
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(loc(back_to(Some("/c/x#p"), "/".into())), "/c/x#p");
        for evil in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "javascript:x",
        ] {
            assert_eq!(loc(back_to(Some(evil), "/f".into())), "/f", "{evil}");
        }
        assert_eq!(loc(back_to(None, "/f".into())), "/f");
    }
}
