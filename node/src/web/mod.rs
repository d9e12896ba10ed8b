//! The web page: server-rendered HTML (maud), a little vanilla JavaScript for live updates.
//!
//! Pages read everything they show in one closure on the driver, then render off the driver's
//! task. Forms work without JavaScript: they POST (authenticated by the session cookie, so the
//! API's same-origin check applies) and redirect back. `static/app.js` subscribes to
//! `/api/v1/events` and, when a change to the community on screen arrives, fetches the post
//! list again as a server-rendered fragment (`data-live-src`). Text from members is escaped by
//! maud and shown as written (line breaks kept, http(s) links clickable), never as HTML. Pages
//! are served with a strict Content-Security-Policy: scripts and styles only from `/static/`.
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
//! | `/settings` | identity, devices, network, export, backup phrase |

mod assets;
mod community;
mod home;
mod invite;
mod manage;
mod members;
mod posts;
mod view;

use crate::api::ApiState;
use crate::api::error::ApiError;
use crate::driver::Driver;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::html;
use serde::de::DeserializeOwned;

/// The page routes.
pub fn router(_state: ApiState) -> Router<ApiState> {
    Router::new()
        .route("/", get(home::home))
        .route("/new", get(home::new_form).post(home::create))
        .route("/join", get(home::join_form).post(home::join))
        .route("/settings", get(home::settings))
        .route("/settings/backup-phrase", post(home::backup_phrase))
        .route("/c/{id}", get(community::channel))
        .route("/c/{id}/join/cancel", post(community::cancel_join))
        .route("/c/{id}/posts-fragment", get(community::posts_fragment))
        .route("/c/{id}/thread", get(community::thread))
        .route("/c/{id}/thread-fragment", get(community::thread_fragment))
        .route("/c/{id}/post", post(posts::new_post))
        .route("/c/{id}/edit", post(posts::edit))
        .route("/c/{id}/delete", post(posts::delete))
        .route("/c/{id}/react", post(posts::react))
        .route("/c/{id}/hide", post(posts::hide))
        .route("/c/{id}/unhide", post(posts::unhide))
        .route(
            "/c/{id}/invite",
            get(invite::invite_form).post(invite::invite),
        )
        .route("/c/{id}/members", get(members::members))
        .route("/c/{id}/admit", post(members::admit))
        .route("/c/{id}/m/{member}", get(members::profile))
        .route("/c/{id}/endorse", post(members::endorse))
        .route("/c/{id}/profile", post(members::set_profile))
        .route("/c/{id}/follow", post(members::follow))
        .route("/c/{id}/manage", get(manage::manage))
        .route("/c/{id}/manage/channel", post(manage::set_channel))
        .route("/c/{id}/manage/meta", post(manage::set_meta))
        .route("/c/{id}/manage/policy", post(manage::set_policy))
        .route("/c/{id}/manage/role", post(manage::define_role))
        .route("/c/{id}/role", post(manage::set_role))
        .route("/c/{id}/remove", post(manage::remove))
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

/// Run `f` on the driver.
async fn on_driver<T, F>(s: &ApiState, f: F) -> Result<T, PageError>
where
    T: Send + 'static,
    F: FnOnce(&mut Driver) -> crate::Result<T> + Send + 'static,
{
    Ok(s.node.with(f).await??)
}

/// Sign and publish one governance action in community `id` (the core decides whether this
/// member may).
async fn govern(
    s: &ApiState,
    c: qun_crdt::CommunityId,
    action: qun_crdt::Action,
) -> Result<(), PageError> {
    on_driver(s, move |d| {
        d.edit(&c, qun_crdt::Edit::Govern(action)).map(|_| ())
    })
    .await
}

/// An error shown as a page (status, what went wrong, what to do).
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError(e)
    }
}

impl From<crate::Error> for PageError {
    fn from(e: crate::Error) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let e = self.0;
        let title = e.status.canonical_reason().unwrap_or("Error");
        let body = view::shell(
            title,
            html! {
                div class="center-page" {
                    div class="card error-card" {
                        h1 { (title) }
                        p class="error-text" { (e.error) }
                        p class="muted" { (e.hint) }
                        p { a class="btn" href="/" { "Back to your communities" } }
                    }
                }
            },
        );
        (e.status, body).into_response()
    }
}

/// The page for a browser without a session.
pub fn login_needed(error: &str, hint: &str) -> Response {
    PageError(ApiError::new(StatusCode::UNAUTHORIZED, error, hint)).into_response()
}

/// A 404 page, or JSON under `/api/`.
pub async fn not_found(req: Request) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let e = ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no such page: {}", req.uri().path()),
        if api {
            "see the endpoint list in the README"
        } else {
            "start from the home page"
        },
    );
    if api {
        e.into_response()
    } else {
        PageError(e).into_response()
    }
}

/// A form body whose rejection is an error page.
pub struct Form<T>(pub T);

impl<S, T> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(Form(v)),
            Err(e) => Err(form_rejection(e)),
        }
    }
}

fn form_rejection(e: FormRejection) -> PageError {
    PageError(ApiError::new(
        e.status(),
        e.body_text(),
        "go back, check the form and send it again",
    ))
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
