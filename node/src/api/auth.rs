//! Bearer tokens, the one-time login link, session cookies and the CSRF check.

use super::ApiState;
use super::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeSet;
use std::sync::Mutex;

/// Name of the session cookie.
pub const COOKIE: &str = "qun_session";
/// Most live browser sessions.
pub const MAX_SESSIONS: usize = 64;

/// Secrets of the API.
pub struct Auth {
    token: String,
    login_code: Mutex<Option<String>>,
    sessions: Mutex<BTreeSet<String>>,
}

/// 32 random bytes as base58.
pub fn random_secret() -> String {
    let b: [u8; 32] = rand::random();
    bs58::encode(b).into_string()
}

fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Auth {
    /// With an API token (from `api.json`) and a fresh one-time login code.
    pub fn new(token: String) -> Self {
        Auth {
            token,
            login_code: Mutex::new(Some(random_secret())),
            sessions: Mutex::new(BTreeSet::new()),
        }
    }

    /// The bearer token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The one-time login code, while unused.
    pub fn login_code(&self) -> Option<String> {
        self.login_code.lock().ok().and_then(|c| c.clone())
    }

    /// A new login code (the previous one stops working).
    pub fn renew_login_code(&self) -> String {
        let c = random_secret();
        if let Ok(mut l) = self.login_code.lock() {
            *l = Some(c.clone());
        }
        c
    }

    /// Trade the login code for a session id (once).
    pub fn login(&self, code: &str) -> Option<String> {
        let mut l = self.login_code.lock().ok()?;
        match l.as_deref() {
            Some(c) if ct_eq(c, code) => {
                *l = None;
                let s = random_secret();
                let mut sessions = self.sessions.lock().ok()?;
                if sessions.len() >= MAX_SESSIONS {
                    let first = sessions.iter().next().cloned();
                    if let Some(f) = first {
                        sessions.remove(&f);
                    }
                }
                sessions.insert(s.clone());
                Some(s)
            }
            _ => None,
        }
    }

    fn bearer_ok(&self, headers: &HeaderMap) -> bool {
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| ct_eq(t.trim(), &self.token))
    }

    fn session_ok(&self, headers: &HeaderMap) -> bool {
        let Some(cookies) = headers.get(header::COOKIE).and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let Ok(sessions) = self.sessions.lock() else {
            return false;
        };
        cookies
            .split(';')
            .filter_map(|c| c.trim().strip_prefix(&format!("{COOKIE}=")))
            .any(|s| sessions.iter().any(|k| ct_eq(k, s)))
    }
}

/// Writes from a cookie session must be same-origin.
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin" || site == "none";
    }
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => {
            origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                == Some(host)
        }
        // No Origin: not a cross-site browser request (browsers send Origin on POSTs).
        (None, _) => true,
        _ => false,
    }
}

/// Paths that need no authentication.
fn public(path: &str) -> bool {
    path == "/login" || path.starts_with("/static/")
}

/// The middleware: token or session, plus CSRF for cookie writes.
pub async fn require(
    State(state): State<ApiState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let path = req.uri().path().to_string();
    if public(&path) {
        return Ok(next.run(req).await);
    }
    let headers = req.headers();
    if state.auth.bearer_ok(headers) {
        return Ok(next.run(req).await);
    }
    if state.auth.session_ok(headers) {
        let write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        if write && !same_origin(headers) {
            let e = ApiError::new(
                StatusCode::FORBIDDEN,
                "cross-origin write refused",
                "use the page served by the node itself",
            );
            return Ok(if path.starts_with("/api/") {
                e.into_response()
            } else {
                crate::web::PageError(e).into_response()
            });
        }
        return Ok(next.run(req).await);
    }
    if !path.starts_with("/api/") {
        // A page: tell the human how to get in.
        return Ok(crate::web::login_needed(
            "not logged in",
            "open the login link `qun up` printed (or run `qun login` for a new one)",
        ));
    }
    Err(ApiError::new(
        StatusCode::UNAUTHORIZED,
        "missing or wrong bearer token",
        "send `Authorization: Bearer <token>` with the token from api.json in the data directory",
    ))
}
