//! This browser's login: how long it stays logged in (the member's choice), logging out, and
//! logging out every browser. The settings page shows [`section`]; the forms post here.

use super::view::{self, icon};
use crate::http::AppState;
use crate::http::auth::{cleared_cookie, session_cookie};
use crate::http::error::{HttpError, PageError};
use crate::http::extract::Form;
use crate::http::html::shell;
use crate::http::sessions::{CHOICES, Lifetime};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

/// What the settings page shows about logins.
pub struct Login {
    /// This browser's session: what the member chose and when it ends (Unix ms); `None` when
    /// the request came with the API token.
    pub this: Option<(Lifetime, u64)>,
    /// Live sessions, this one included.
    pub count: usize,
}

impl Login {
    /// For the request with `headers`.
    pub fn of(s: &AppState, headers: &HeaderMap) -> Login {
        Login {
            this: s
                .auth
                .session_of(headers)
                .and_then(|id| s.auth.lifetime(&id)),
            count: s.auth.session_count(),
        }
    }
}

fn choice_label(l: Lifetime) -> String {
    match l {
        Lifetime::Browser => "until I close the browser".into(),
        Lifetime::Days(1) => "1 day".into(),
        Lifetime::Days(d) => format!("{d} days"),
    }
}

/// The "This browser" section of the settings page.
pub fn section(login: &Login, saved: bool) -> Markup {
    let choices =
        std::iter::once(Lifetime::Browser).chain(CHOICES.iter().map(|d| Lifetime::Days(*d)));
    html! {
        section class="card section" id="login" {
            h2 { (icon("key")) "This browser" }
            @if saved {
                div class="notice ok" id="login-saved" role="status" { "Saved." }
            }
            @if let Some((chosen, ends)) = login.this {
                form method="post" action="/settings/session" class="form" {
                    label { span { "Stay logged in" }
                        select name="keep" id="keep-logged-in" {
                            @for c in choices {
                                option value=(c.value()) selected[c == chosen] { (choice_label(c)) }
                            }
                        }
                    }
                    p class="muted small" { "This login ends " (view::iso(ends)) " at the latest. Another browser logs in with the link " code { "qun login" } " prints." }
                    div class="form-actions" {
                        button class="btn" type="submit" id="save-login" { "Save" }
                    }
                }
            } @else {
                p class="muted small" { "This request came with the API token, not a browser login." }
            }
            div class="form-actions left" {
                form method="post" action="/logout" class="inline" {
                    button class="btn" type="submit" id="logout" { "Log out" }
                }
                @if login.count > 1 || login.this.is_none() {
                    form method="post" action="/logout/all" class="inline" data-confirm="Log out every browser logged in to this node?" {
                        button class="btn danger" type="submit" id="logout-all" { "Log out all " (view::plural(login.count, "browser", "browsers")) }
                    }
                }
            }
        }
    }
}

/// `keep=` of the lifetime form.
#[derive(serde::Deserialize)]
pub struct KeepForm {
    keep: String,
}

/// `POST /settings/session`: how long this browser stays logged in (from now).
pub async fn set_session(
    State(s): State<AppState>,
    headers: HeaderMap,
    Form { form, .. }: Form<KeepForm>,
) -> Result<Response, PageError> {
    let lifetime = Lifetime::parse(&form.keep).ok_or_else(|| {
        HttpError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "`{}` is not a choice here",
                form.keep.chars().take(40).collect::<String>()
            ),
            "choose one of the options in the list",
        )
    })?;
    let Some(id) = s.auth.session_of(&headers) else {
        return Err(HttpError::new(
            StatusCode::BAD_REQUEST,
            "this request came with the API token, not a browser login",
            "open the settings page in the browser whose login you want to change",
        )
        .into());
    };
    s.auth.set_lifetime(&id, lifetime);
    let mut r = Redirect::to("/settings?saved=login#login").into_response();
    if let Ok(v) = session_cookie(&id, lifetime).parse() {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

fn logged_out_response() -> Response {
    let mut r = Redirect::to("/logged-out").into_response();
    if let Ok(v) = cleared_cookie().parse() {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// `POST /logout`: end this browser's session.
pub async fn logout(State(s): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(id) = s.auth.session_of(&headers) {
        s.auth.logout(&id);
    }
    logged_out_response()
}

/// `POST /logout/all`: end every browser's session.
pub async fn logout_all(State(s): State<AppState>) -> Response {
    s.auth.logout_all();
    logged_out_response()
}

/// `GET /logged-out` (needs no login).
pub async fn logged_out() -> Markup {
    shell(
        "Logged out",
        html! {
            div class="center-page" {
                div class="card error-card" id="logged-out" {
                    h1 { "Logged out" }
                    p { "This browser is no longer logged in to your qun node. The node keeps running." }
                    p class="muted" { "To log in again, run " code { "qun login" } " and open the link it prints." }
                }
            }
        },
    )
}
