//! The Host check (DNS rebinding), bearer tokens, the one-time login link (`GET /login`),
//! session cookies and the CSRF check, for the API and the page alike.

use super::AppState;
use super::error::{HttpError, login_needed};
use super::extract::Query;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Mutex;

/// Name of the session cookie.
pub const COOKIE: &str = "qun_session";
pub use super::sessions::MAX_SESSIONS;
use super::sessions::{Lifetime, Sessions};

/// How long a login code works after it is made.
pub const LOGIN_CODE_TTL: std::time::Duration = std::time::Duration::from_secs(10 * 60);
/// Most login codes outstanding at once: `qun login` run again does not kill the link it
/// printed before; beyond this many, the oldest code stops working.
pub const MAX_LOGIN_CODES: usize = 8;
/// How long a form's result stays readable at its own address (see [`Auth::keep_result`]).
pub const RESULT_TTL: std::time::Duration = std::time::Duration::from_secs(60 * 60);
/// Most form results kept.
pub const MAX_RESULTS: usize = 32;

/// Where [`Auth`] reads the time (injectable for tests).
pub type Clock = std::sync::Arc<dyn Fn() -> std::time::Instant + Send + Sync>;

/// Why a login code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefused {
    /// The code was right but is older than [`LOGIN_CODE_TTL`].
    Expired,
    /// Wrong, or used already.
    Invalid,
}

/// Secrets of the API.
pub struct Auth {
    token: String,
    clock: Clock,
    /// The one-time login codes not used yet and when each was made, oldest first (expired
    /// ones stay, unusable, so that using one says "expired", until pushed out).
    login_codes: Mutex<Vec<(String, std::time::Instant)>>,
    sessions: Mutex<Sessions>,
    /// Unix ms at `started` on `clock`: wall time moves with the injected clock.
    wall_at_start: u64,
    started: std::time::Instant,
    /// Results of forms shown at their own address after a redirect (an invite code):
    /// ticket, result, when made; oldest first.
    results: Mutex<std::collections::VecDeque<(String, String, std::time::Instant)>>,
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
        Self::with_clock(token, std::sync::Arc::new(std::time::Instant::now))
    }

    /// Like [`Auth::new`], reading the time from `clock`.
    pub fn with_clock(token: String, clock: Clock) -> Self {
        let minted = clock();
        Auth {
            token,
            clock,
            login_codes: Mutex::new(vec![(random_secret(), minted)]),
            sessions: Mutex::new(Sessions::in_memory()),
            wall_at_start: crate::clock::now().as_millis(),
            started: minted,
            results: Mutex::new(Default::default()),
        }
    }

    /// Like [`Auth::new`], with browser sessions kept in `file` (they survive a restart of
    /// the node and of the browser, for as long as the member chose).
    pub fn persistent(token: String, file: &std::path::Path) -> Self {
        let a = Self::new(token);
        let now = a.now_ms();
        if let Ok(mut s) = a.sessions.lock() {
            *s = Sessions::load(file, now);
        }
        a
    }

    /// Wall-clock time (Unix ms), moving with the injected clock.
    fn now_ms(&self) -> u64 {
        let since = (self.clock)().saturating_duration_since(self.started);
        self.wall_at_start
            .saturating_add(u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
    }

    /// The session id a request's cookie carries, if it is live.
    pub fn session_of(&self, headers: &HeaderMap) -> Option<String> {
        let cookies = headers.get(header::COOKIE).and_then(|v| v.to_str().ok())?;
        let sessions = self.sessions.lock().ok()?;
        let now = self.now_ms();
        cookies
            .split(';')
            .filter_map(|c| c.trim().strip_prefix(&format!("{COOKIE}=")))
            .find(|s| sessions.get(s, now).is_some())
            .map(str::to_string)
    }

    /// How long the session lasts: what the member chose, and when it ends (Unix ms).
    pub fn lifetime(&self, session: &str) -> Option<(Lifetime, u64)> {
        let s = self.sessions.lock().ok()?;
        s.get(session, self.now_ms())
            .map(|e| (e.lifetime, e.expires_ms))
    }

    /// Change how long a live session lasts (counted from now).
    pub fn set_lifetime(&self, session: &str, lifetime: Lifetime) -> bool {
        let now = self.now_ms();
        self.sessions
            .lock()
            .is_ok_and(|mut s| s.set_lifetime(session, lifetime, now))
    }

    /// End a session (log out).
    pub fn logout(&self, session: &str) {
        if let Ok(mut s) = self.sessions.lock() {
            s.remove(session);
        }
    }

    /// End every session (log out all browsers).
    pub fn logout_all(&self) {
        if let Ok(mut s) = self.sessions.lock() {
            s.clear();
        }
    }

    /// Live sessions.
    pub fn session_count(&self) -> usize {
        let now = self.now_ms();
        self.sessions.lock().map_or(0, |s| s.len(now))
    }

    /// The bearer token.
    pub fn token(&self) -> &str {
        &self.token
    }

    fn expired(&self, minted: std::time::Instant) -> bool {
        (self.clock)().saturating_duration_since(minted) >= LOGIN_CODE_TTL
    }

    /// Keep a form's result (a secret such as an invite code) for the page that shows it after
    /// the form's redirect, so that reloading that page shows it again instead of sending
    /// the form again (and Back does not ask to resubmit); the ticket to read it with, valid
    /// for [`RESULT_TTL`] (the last [`MAX_RESULTS`] are kept).
    pub fn keep_result(&self, result: String) -> String {
        let ticket = random_secret();
        if let Ok(mut r) = self.results.lock() {
            r.push_back((ticket.clone(), result, (self.clock)()));
            while r.len() > MAX_RESULTS {
                r.pop_front();
            }
        }
        ticket
    }

    /// A result kept by [`Auth::keep_result`], while not expired.
    pub fn result(&self, ticket: &str) -> Option<String> {
        let r = self.results.lock().ok()?;
        r.iter()
            .find(|(t, _, _)| ct_eq(t, ticket))
            .filter(|(_, _, made)| (self.clock)().saturating_duration_since(*made) < RESULT_TTL)
            .map(|(_, v, _)| v.clone())
    }

    /// The newest one-time login code, while unused and not expired.
    pub fn login_code(&self) -> Option<String> {
        let l = self.login_codes.lock().ok()?;
        let (code, minted) = l.last()?;
        (!self.expired(*minted)).then(|| code.clone())
    }

    /// A new login code, valid for [`LOGIN_CODE_TTL`]; the earlier ones keep working (up to
    /// [`MAX_LOGIN_CODES`] in all).
    pub fn renew_login_code(&self) -> String {
        let c = random_secret();
        if let Ok(mut l) = self.login_codes.lock() {
            l.push((c.clone(), (self.clock)()));
            while l.len() > MAX_LOGIN_CODES {
                l.remove(0);
            }
        }
        c
    }

    /// Trade a login code for a session id (once, within [`LOGIN_CODE_TTL`] of its making).
    pub fn login(&self, code: &str) -> Result<String, LoginRefused> {
        let mut l = self.login_codes.lock().map_err(|_| LoginRefused::Invalid)?;
        // Every code is compared (in constant time each), whichever matches.
        let found = l.iter().enumerate().fold(
            None,
            |hit, (i, (c, _))| if ct_eq(c, code) { Some(i) } else { hit },
        );
        match found.map(|i| (i, l[i].1)) {
            // An expired code stays in place (unusable), so asking again says "expired" again.
            Some((_, minted)) if self.expired(minted) => Err(LoginRefused::Expired),
            Some((i, _)) => {
                l.remove(i);
                let s = random_secret();
                let now = self.now_ms();
                let mut sessions = self.sessions.lock().map_err(|_| LoginRefused::Invalid)?;
                sessions.insert(&s, super::sessions::DEFAULT_LIFETIME, now);
                Ok(s)
            }
            _ => Err(LoginRefused::Invalid),
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
        self.session_of(headers).is_some()
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
    path == "/login"
        || path == "/logged-out"
        || path.starts_with("/static/")
        || super::ops::public(path)
}

/// The `Set-Cookie` value for a session lasting `lifetime` (a cookie that ends with the
/// browser when the member chose so).
pub fn session_cookie(session: &str, lifetime: Lifetime) -> String {
    match lifetime.max_age() {
        Some(age) => {
            format!("{COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/; Max-Age={age}")
        }
        None => format!("{COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/"),
    }
}

/// The `Set-Cookie` value that deletes the session cookie.
pub fn cleared_cookie() -> String {
    format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
}

/// The middleware: token or session, plus CSRF for cookie writes.
pub async fn require(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, HttpError> {
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
            return Ok(HttpError::new(
                StatusCode::FORBIDDEN,
                "cross-origin write refused",
                "use the page served by the node itself",
            )
            .for_path(&path)
            .into_response());
        }
        return Ok(next.run(req).await);
    }
    if !path.starts_with("/api/") && path != "/metrics" {
        // A page: tell the human how to get in.
        return Ok(login_needed(
            "not logged in",
            "open the login link `qun up` printed (or run `qun login` for a new one)",
        ));
    }
    Err(HttpError::new(
        StatusCode::UNAUTHORIZED,
        "missing or wrong bearer token",
        "send `Authorization: Bearer <token>` with the token from api.json in the data directory (or scrape the token-free --metrics-addr)",
    ))
}

/// Whether a request's `Host` names this server: `127.0.0.1:<port>`, `localhost:<port>`,
/// `[::1]:<port>` or the exact address it is bound to (the port may be left out only when it
/// is 80). Anything else is a browser that was sent here under another name — DNS rebinding:
/// a web site whose name now resolves to 127.0.0.1 must not reach the API as same-origin.
pub fn host_ok(host: &str, bound: std::net::SocketAddr) -> bool {
    let host = host.trim().to_ascii_lowercase();
    let port = bound.port();
    let with_port = |name: &str| host == format!("{name}:{port}") || (port == 80 && host == name);
    let bound_text = bound.to_string().to_ascii_lowercase();
    with_port("127.0.0.1")
        || with_port("localhost")
        || with_port("[::1]")
        || host == bound_text
        || (port == 80 && host == format!("{}", HostOnly(bound.ip())))
}

/// An IP as it appears in a Host header (IPv6 in brackets).
struct HostOnly(std::net::IpAddr);

impl std::fmt::Display for HostOnly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            std::net::IpAddr::V4(a) => write!(f, "{a}"),
            std::net::IpAddr::V6(a) => write!(f, "[{a}]"),
        }
    }
}

/// The outermost middleware: refuse (421) a request whose `Host` is not this server's, before
/// authentication (see [`host_ok`]).
pub async fn require_host(bound: std::net::SocketAddr, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    if host.as_deref().is_some_and(|h| host_ok(h, bound)) {
        return next.run(req).await;
    }
    let path = req.uri().path().to_string();
    HttpError::new(
        StatusCode::MISDIRECTED_REQUEST,
        match &host {
            Some(h) => format!(
                "this node answers only to 127.0.0.1:{0}, localhost:{0} or [::1]:{0}, not to the host name `{1}`",
                bound.port(),
                h.chars().take(100).collect::<String>()
            ),
            None => "a request without a Host header".to_string(),
        },
        format!(
            "open http://127.0.0.1:{}/ (other host names are refused: a web site must not reach your node through DNS rebinding)",
            bound.port()
        ),
    )
    .for_path(&path)
    .into_response()
}

/// `?code=…` of the login link.
#[derive(serde::Deserialize)]
pub struct LoginQuery {
    code: String,
}

/// `GET /login?code=…`: trade the one-time code for a session cookie.
pub async fn login(State(state): State<AppState>, Query(q): Query<LoginQuery>) -> Response {
    match state.auth.login(&q.code) {
        Ok(session) => {
            let cookie = session_cookie(&session, super::sessions::DEFAULT_LIFETIME);
            // `?login=1`: the page may now go where the member was going before logging in.
            let mut r = Redirect::to("/?login=1").into_response();
            if let Ok(v) = cookie.parse() {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Err(LoginRefused::Expired) => login_needed(
            "this login link has expired: a link works for 10 minutes after it is made",
            "run `qun login` for a new link (it prints one that works for the next 10 minutes)",
        ),
        Err(LoginRefused::Invalid) => login_needed(
            "this login link was used already or is wrong",
            "run `qun login` for a new link",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::host_ok;

    #[test]
    fn host_names() {
        let lo = "127.0.0.1:7420".parse().unwrap();
        for ok in [
            "127.0.0.1:7420",
            "localhost:7420",
            "LocalHost:7420",
            "[::1]:7420",
        ] {
            assert!(host_ok(ok, lo), "{ok}");
        }
        for bad in [
            "evil.example:7420",
            "localhost.evil.example:7420",
            "127.0.0.1:7421",
            "127.0.0.1",
            "localhost",
            "127.0.0.1:7420.evil.example",
            "127.0.0.1:7420@evil.example",
            "",
            "0.0.0.0:7420",
            "127.1:7420",
        ] {
            assert!(!host_ok(bad, lo), "{bad}");
        }
        let any = "0.0.0.0:7420".parse().unwrap();
        assert!(host_ok("0.0.0.0:7420", any));
        assert!(host_ok("localhost:7420", any));
        let v6 = "[fe80::1]:80".parse().unwrap();
        assert!(host_ok("[fe80::1]:80", v6));
        assert!(host_ok("[fe80::1]", v6));
        assert!(host_ok("localhost", v6));
        assert!(!host_ok("evil.example", v6));
    }
}

#[cfg(test)]
mod result_tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{Duration, Instant};

    #[test]
    fn results_are_kept_for_an_hour_and_bounded() {
        let start = Instant::now();
        let secs = std::sync::Arc::new(AtomicU64::new(0));
        let s = secs.clone();
        let auth = Auth::with_clock(
            "t".into(),
            std::sync::Arc::new(move || start + Duration::from_secs(s.load(Ordering::SeqCst))),
        );
        let t = auth.keep_result("24:qun1abc".into());
        assert_eq!(auth.result(&t).as_deref(), Some("24:qun1abc"));
        assert_eq!(auth.result("nope"), None);
        secs.store(RESULT_TTL.as_secs() - 1, Ordering::SeqCst);
        assert!(auth.result(&t).is_some());
        secs.store(RESULT_TTL.as_secs(), Ordering::SeqCst);
        assert_eq!(auth.result(&t), None, "expired");
        let tickets: Vec<String> = (0..=MAX_RESULTS)
            .map(|i| auth.keep_result(i.to_string()))
            .collect();
        assert_eq!(auth.result(&tickets[0]), None, "the oldest goes first");
        assert_eq!(auth.result(&tickets[MAX_RESULTS]).as_deref(), Some("32"));
    }
}
