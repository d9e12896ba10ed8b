//! Token, login link, session cookie, CSRF; body limits and JSON errors.

use super::support::*;
use qun_node::http::MAX_BODY_BYTES;
use qun_node::http::auth::COOKIE;
use reqwest::{Method, StatusCode, header};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_login_link_cookie_and_csrf() {
    let n = ApiNode::start(11).await;
    let status = format!("{}/api/v1/status", n.url);

    // No token, a wrong token, a token in the wrong scheme: 401 with a JSON error and hint.
    for r in [
        n.http.get(&status),
        n.http.get(&status).bearer_auth("wrong"),
        n.http
            .get(&status)
            .header(header::AUTHORIZATION, format!("Basic {}", n.auth.token())),
    ] {
        let (s, v) = status_and_json(r).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_error(&v, "401");
    }
    // A page without a session: 401 as HTML telling how to log in.
    let page = n.http.get(format!("{}/", n.url)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::UNAUTHORIZED);
    assert!(page.text().await.unwrap().contains("login link"));
    // The static assets need no login (the 401 page uses them).
    let css = n
        .http
        .get(format!("{}/static/app.css", n.url))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    // With the token: 200.
    let v = n.get("/api/v1/status").await;
    assert!(v["member"].as_str().unwrap().starts_with("z6Mk"), "{v}");

    // The login link works once.
    let code = n.auth.login_code().unwrap();
    let cookie = login(&n).await;
    let again = n
        .http
        .get(format!("{}/login?code={code}", n.url))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert!(again.headers().get(header::SET_COOKIE).is_none());
    // A wrong code does not work either.
    let wrong = n
        .http
        .get(format!("{}/login?code=nope", n.url))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(cookie.starts_with(&format!("{COOKIE}=")));

    // The cookie reads the API and the pages.
    let with_cookie = |m: Method, p: &str| {
        n.http
            .request(m, format!("{}{p}", n.url))
            .header(header::COOKIE, &cookie)
    };
    let (s, v) = status_and_json(with_cookie(Method::GET, "/api/v1/status")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let home = with_cookie(Method::GET, "/").send().await.unwrap();
    assert_eq!(home.status(), StatusCode::OK);
    let csp = home.headers().get(header::CONTENT_SECURITY_POLICY).unwrap();
    assert!(csp.to_str().unwrap().contains("script-src 'self'"));
    // A forged cookie does not.
    let (s, _) = status_and_json(
        n.http
            .get(&status)
            .header(header::COOKIE, format!("{COOKIE}=forged")),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // Cookie writes from another origin are refused (API and page forms alike)…
    let host = n.server.addr.to_string();
    let body = json!({"name": "CSRF", "policy": "open"});
    let (s, v) = status_and_json(
        with_cookie(Method::POST, "/api/v1/communities")
            .header(header::ORIGIN, "http://evil.example")
            .json(&body),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_error(&v, "csrf");
    let (s, _) = status_and_json(
        with_cookie(Method::POST, "/api/v1/communities")
            .header("sec-fetch-site", "cross-site")
            .header(header::ORIGIN, format!("http://{host}"))
            .json(&body),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "Sec-Fetch-Site wins over Origin");
    let form = with_cookie(Method::POST, "/new")
        .header(header::ORIGIN, "http://evil.example")
        .form(&[("name", "CSRF"), ("policy", "open")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::FORBIDDEN);
    assert!(
        n.get("/api/v1/communities")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    // …and accepted from the page itself.
    let (s, v) = status_and_json(
        with_cookie(Method::POST, "/api/v1/communities")
            .header(header::ORIGIN, format!("http://{host}"))
            .header("sec-fetch-site", "same-origin")
            .json(&body),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let form = with_cookie(Method::POST, "/new")
        .header(header::ORIGIN, format!("http://{host}"))
        .form(&[("name", "From the page"), ("policy", "invite")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::SEE_OTHER);
    let to = form
        .headers()
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(to.starts_with("/c/"), "{to}");
    let names: Vec<String> = n
        .get("/api/v1/communities")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"CSRF".to_string()) && names.contains(&"From the page".to_string()));

    // `POST /api/v1/login-link` makes a fresh link (the CLI's `qun login`).
    let v = n.post("/api/v1/login-link", json!({})).await;
    let path = v["path"].as_str().unwrap();
    let resp = n.http.get(format!("{}{path}", n.url)).send().await.unwrap();
    assert!(resp.status().is_redirection());
    n.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_errors_are_json() {
    let n = ApiNode::start(12).await;
    let v = n
        .call(
            Method::POST,
            "/api/v1/communities",
            Some(json!({"name": "Limits", "policy": "open"})),
            StatusCode::CREATED,
        )
        .await;
    let c = v["id"].as_str().unwrap().to_string();
    let posts = format!("/api/v1/communities/{c}/posts");

    // Over the body limit: 413.
    let big = json!({"channel": "general", "text": "x".repeat(MAX_BODY_BYTES + 1)});
    let (s, v) = status_and_json(n.req(Method::POST, &posts).json(&big)).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert_error(&v, "413");
    // Over the limit without a Content-Length (chunked): 413 too.
    let (s, v) = chunked_post(&n, &posts, MAX_BODY_BYTES + 1024).await;
    assert_eq!(s, 413, "{v}");
    assert_error(&v, "413 chunked");
    // Malformed JSON: 400.
    let (s, v) = status_and_json(
        n.req(Method::POST, &posts)
            .header(header::CONTENT_TYPE, "application/json")
            .body("{\"text\": "),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_error(&v, "400");
    // A missing field: 422; no JSON content type: 415.
    let (s, v) = status_and_json(
        n.req(Method::POST, &posts)
            .json(&json!({"channel": "general"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_error(&v, "422");
    let (s, v) = status_and_json(n.req(Method::POST, &posts).body("{}")).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{v}");
    assert_error(&v, "415");
    // Bad ids and query strings: 400; unknown things: 404.
    let (s, v) = status_and_json(n.req(Method::GET, "/api/v1/communities/nope/posts")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, "bad id");
    let (s, v) = status_and_json(n.req(Method::GET, &format!("{posts}?limit=many"))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, "bad query");
    let (s, v) = status_and_json(n.req(Method::GET, &format!("{posts}?channel=Not%20OK"))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, "bad channel");
    let other = c.replace(&c[c.len() - 4..], "aaaa");
    let (s, v) = status_and_json(n.req(Method::GET, &format!("/api/v1/communities/{other}"))).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_error(&v, "unknown community");
    let (s, v) = status_and_json(n.req(Method::GET, "/api/v1/no-such-endpoint")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_error(&v, "unknown endpoint");
    // Refused by the community's rules: 403 (posting into a channel that does not exist).
    let (s, v) = status_and_json(
        n.req(Method::POST, &posts)
            .json(&json!({"channel": "nowhere", "text": "hi"})),
    )
    .await;
    assert!(
        s == StatusCode::FORBIDDEN || s == StatusCode::BAD_REQUEST,
        "{s} {v}"
    );
    assert_error(&v, "no channel");
    // An invalid policy and an invalid invite code: 400.
    let (s, v) = status_and_json(
        n.req(Method::POST, "/api/v1/communities")
            .json(&json!({"name": "x", "policy": "everyone"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, "bad policy");
    let (s, v) = status_and_json(
        n.req(Method::POST, "/api/v1/join")
            .json(&json!({"code": "qun1xyz"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, "bad code");
    n.stop().await;
}

/// DNS rebinding: a web page at `evil.example` whose name the attacker re-points to 127.0.0.1
/// makes the browser send same-origin requests to the node with `Host: evil.example:<port>`.
/// They are refused (421) before authentication looks at them — even with a valid token or
/// login code — and the loopback names still work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_host_is_refused_before_authentication() {
    let n = ApiNode::start(19).await;
    let port = n.server.addr.port();
    for host in [
        format!("evil.example:{port}"),
        format!("localhost.evil.example:{port}"),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
        "127.0.0.1".to_string(),
    ] {
        let (s, body) = raw_request(&n, "/api/v1/status", Some(&host), true).await;
        assert_eq!(s, 421, "{host}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_error(&v, &host);
        assert!(v["error"].as_str().unwrap().contains(&host), "{v}");
        assert!(v["hint"].as_str().unwrap().contains("DNS rebinding"), "{v}");
        // Pages too, as a page.
        let (s, body) = raw_request(&n, "/", Some(&host), true).await;
        assert_eq!(s, 421, "{host}");
        assert!(
            body.contains("<html") && body.contains("127.0.0.1"),
            "{body}"
        );
    }
    // No Host at all (HTTP/1.0): refused.
    let (s, _) = raw_request(&n, "/api/v1/status", None, true).await;
    assert_eq!(s, 421);
    // The login link is not consumed by a request under a forged name.
    let code = n.auth.login_code().unwrap();
    let evil = format!("evil.example:{port}");
    let (s, _) = raw_request(&n, &format!("/login?code={code}"), Some(&evil), false).await;
    assert_eq!(s, 421);
    assert_eq!(n.auth.login_code().as_deref(), Some(code.as_str()));
    // The node's own names work.
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LOCALHOST:{port}"),
        format!("[::1]:{port}"),
    ] {
        let (s, body) = raw_request(&n, "/api/v1/status", Some(&host), true).await;
        assert_eq!(s, 200, "{host}: {body}");
        // Authentication still applies after the Host check.
        let (s, _) = raw_request(&n, "/api/v1/status", Some(&host), false).await;
        assert_eq!(s, 401, "{host}");
    }
    n.stop().await;
}

/// A login link works for 10 minutes after it is made: someone who finds an old link (in a
/// terminal's scrollback, a log, shell history) cannot use it. The clock is the test's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_codes_expire_after_ten_minutes() {
    use qun_node::http::auth::{Auth, LOGIN_CODE_TTL};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{Duration, Instant};
    let start = Instant::now();
    let elapsed_ms = Arc::new(AtomicU64::new(0));
    let clock = {
        let e = elapsed_ms.clone();
        Arc::new(move || start + Duration::from_millis(e.load(Ordering::SeqCst)))
    };
    let set = |d: Duration| elapsed_ms.store(d.as_millis() as u64, Ordering::SeqCst);
    let n = ApiNode::start_with(18, Auth::with_clock("token-18".into(), clock)).await;
    let visit = |code: String| n.http.get(format!("{}/login?code={code}", n.url)).send();
    assert_eq!(LOGIN_CODE_TTL, Duration::from_secs(600));

    // The code made at start works until just before 10 minutes have passed.
    set(Duration::from_secs(599));
    let code = n.auth.login_code().expect("still valid at 9:59");
    let r = visit(code).await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    assert!(r.headers().get(header::SET_COOKIE).is_some());

    // A new code, made at 5:00 of the clock, counts from then: at 14:59 it still works...
    set(Duration::from_secs(300));
    let code = n.auth.renew_login_code();
    set(Duration::from_secs(300 + 599));
    assert_eq!(n.auth.login_code().as_deref(), Some(code.as_str()));
    // ...at 15:00 it does not: a page says it expired and how to get a new one.
    set(Duration::from_secs(300 + 600));
    assert_eq!(n.auth.login_code(), None);
    for _ in 0..2 {
        let r = visit(code.clone()).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(r.headers().get(header::SET_COOKIE).is_none());
        let page = r.text().await.unwrap();
        assert!(page.contains("expired"), "{page}");
        assert!(page.contains("10 minutes"), "{page}");
        assert!(page.contains("qun login"), "{page}");
    }
    // A wrong code is not told apart from a used one, and says nothing of expiry.
    let r = visit("nope".into()).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let page = r.text().await.unwrap();
    assert!(
        !page.contains("expired") && page.contains("used already"),
        "{page}"
    );
    // `qun login` (POST /api/v1/login-link) makes one that works; run twice, the first link
    // still works (it used to be killed by the second), each once.
    let link = || async {
        n.post("/api/v1/login-link", json!({})).await["path"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (first, second) = (link().await, link().await);
    for (path, works) in [(&first, true), (&second, true), (&first, false)] {
        let r = n.http.get(format!("{}{path}", n.url)).send().await.unwrap();
        assert_eq!(r.status().is_redirection(), works, "{path}: {}", r.status());
    }
    // At most MAX_LOGIN_CODES are outstanding: the oldest goes first.
    let links: Vec<String> = {
        let mut v = Vec::new();
        for _ in 0..=qun_node::http::auth::MAX_LOGIN_CODES {
            v.push(link().await);
        }
        v
    };
    let r = n
        .http
        .get(format!("{}{}", n.url, links[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = n
        .http
        .get(format!("{}{}", n.url, links[1]))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    n.stop().await;
}

/// A browser stays logged in for as long as its member chose, across a restart of the node,
/// and logs out (one browser, or all); another web site cannot log it out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_last_as_chosen_survive_a_restart_and_log_out() {
    use qun_node::http::auth::Auth;
    use qun_node::http::sessions::Lifetime;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sessions.json");
    let n = ApiNode::start_with(42, Auth::persistent("token-42".into(), &file)).await;
    let code = n.auth.login_code().unwrap();
    let r = n
        .http
        .get(format!("{}/login?code={code}", n.url))
        .send()
        .await
        .unwrap();
    let set = r.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(set.contains("Max-Age=2592000"), "30 days by default: {set}");
    let cookie = set.split(';').next().unwrap().to_string();
    let page = |path: &str| {
        n.http
            .get(format!("{}{path}", n.url))
            .header(header::COOKIE, &cookie)
    };
    let form = |path: &str, body: &str, site: &str| {
        n.http
            .post(format!("{}{path}", n.url))
            .header(header::COOKIE, &cookie)
            .header("sec-fetch-site", site)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body.to_string())
    };
    let settings = page("/settings").send().await.unwrap();
    assert_eq!(settings.status(), StatusCode::OK);
    let html = settings.text().await.unwrap();
    assert!(html.contains("Stay logged in"), "the settings say how long");
    assert!(html.contains(r#"<option value="30" selected>"#), "{html}");

    // The member chooses 7 days: the cookie and the node agree.
    let r = form("/settings/session", "keep=7", "same-origin")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let set = r.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(set.contains("Max-Age=604800"), "{set}");
    // A choice that is not offered is refused, and nothing changes.
    let r = form("/settings/session", "keep=36500", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // "Until the browser closes": a cookie without Max-Age.
    let r = form("/settings/session", "keep=browser", "same-origin")
        .send()
        .await
        .unwrap();
    let set = r.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(!set.contains("Max-Age"), "{set}");
    form("/settings/session", "keep=7", "same-origin")
        .send()
        .await
        .unwrap();

    // The node restarts: the session is still there, with the member's choice.
    let restarted = Auth::persistent("token-42b".into(), &file);
    let mut headers = header::HeaderMap::new();
    headers.insert(header::COOKIE, cookie.parse().unwrap());
    let id = restarted
        .session_of(&headers)
        .expect("the session survived");
    assert_eq!(restarted.lifetime(&id).unwrap().0, Lifetime::Days(7));
    assert!(
        !std::fs::read_to_string(&file).unwrap().contains(&id),
        "only a hash of the session is stored"
    );

    // Another web site cannot log the browser out.
    let r = form("/logout", "", "cross-site").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(page("/").send().await.unwrap().status(), StatusCode::OK);
    // Log out: the cookie is deleted and no longer works.
    let r = form("/logout", "", "same-origin").send().await.unwrap();
    assert_eq!(r.headers()[header::LOCATION], "/logged-out");
    assert!(
        r.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        page("/").send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let bye = n
        .http
        .get(format!("{}/logged-out", n.url))
        .send()
        .await
        .unwrap();
    assert_eq!(bye.status(), StatusCode::OK, "the good-bye needs no login");
    assert!(bye.text().await.unwrap().contains("qun login"));
    assert!(
        Auth::persistent("t".into(), &file)
            .session_of(&headers)
            .is_none(),
        "logged out for good, after a restart too"
    );

    // Log out all browsers.
    n.auth.renew_login_code();
    let a = login(&n).await;
    n.auth.renew_login_code();
    let b = login(&n).await;
    assert_eq!(n.auth.session_count(), 2);
    let r = n
        .http
        .post(format!("{}/logout/all", n.url))
        .header(header::COOKIE, &a)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection());
    for c in [a, b] {
        let r = n
            .http
            .get(format!("{}/", n.url))
            .header(header::COOKIE, c)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    n.stop().await;
}
