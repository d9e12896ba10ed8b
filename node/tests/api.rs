//! The local HTTP API over real HTTP against in-process nodes on 127.0.0.1: authentication
//! (token, one-time login link, session cookie, CSRF), limits, JSON errors, every endpoint, and
//! server-sent events.
//!
//! ```text
//! founder (API) -- alice (API)      every_endpoint: alice joins by invite through the API
//! ```

mod common;

use common::*;
use qun_node::api::auth::{Auth, COOKIE};
use qun_node::api::{self, ApiState, MAX_BODY_BYTES, Server};
use qun_node::handle::NodeEvent;
use reqwest::{Client, Method, StatusCode, header};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// A node with its API served on 127.0.0.1:0.
struct ApiNode {
    node: TestNode,
    server: Server,
    auth: Arc<Auth>,
    url: String,
    http: Client,
}

impl ApiNode {
    async fn start(seed: u8) -> Self {
        let node = spawn(seed).await;
        let auth = Arc::new(Auth::new(format!("token-{seed}")));
        let server = api::serve(
            "127.0.0.1:0".parse().unwrap(),
            ApiState {
                node: node.handle().clone(),
                auth: auth.clone(),
            },
        )
        .await
        .unwrap();
        let url = format!("http://{}", server.addr);
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        ApiNode {
            node,
            server,
            auth,
            url,
            http,
        }
    }

    fn req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(self.auth.token())
    }

    /// A request with the token; panics unless the status is `want`; the JSON answer.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        want: StatusCode,
    ) -> Value {
        let mut r = self.req(method.clone(), path);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert_eq!(status, want, "{method} {path}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn get(&self, path: &str) -> Value {
        self.call(Method::GET, path, None, StatusCode::OK).await
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(Method::POST, path, Some(body), StatusCode::OK)
            .await
    }

    async fn stop(self) {
        self.server.task.abort();
        self.node.handle().shutdown().await.unwrap();
    }
}

/// Assert a JSON error body with both fields.
fn assert_error(v: &Value, what: &str) {
    assert!(
        v["error"].as_str().is_some_and(|s| !s.is_empty()),
        "{what}: no error in {v}"
    );
    assert!(
        v["hint"].as_str().is_some_and(|s| !s.is_empty()),
        "{what}: no hint in {v}"
    );
}

async fn status_and_json(r: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let resp = r.send().await.unwrap();
    let s = resp.status();
    let text = resp.text().await.unwrap();
    (s, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Log in with the one-time link; the session cookie (`name=value`).
async fn login(n: &ApiNode) -> String {
    let code = n.auth.login_code().expect("an unused login code");
    let resp = n
        .http
        .get(format!("{}/login?code={code}", n.url))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let cookie = resp
        .headers()
        .get(header::SET_COOKIE)
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    cookie.split(';').next().unwrap().to_string()
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_sent_events_deliver_a_change_after_a_post() {
    let n = ApiNode::start(13).await;
    let v = n
        .call(
            Method::POST,
            "/api/v1/communities",
            Some(json!({"name": "Live", "policy": "open"})),
            StatusCode::CREATED,
        )
        .await;
    let c = v["id"].as_str().unwrap().to_string();
    let mut sse = n.req(Method::GET, "/api/v1/events").send().await.unwrap();
    assert_eq!(sse.status(), StatusCode::OK);
    assert!(
        sse.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    // The stream is subscribed once its headers are out: post now.
    n.call(
        Method::POST,
        &format!("/api/v1/communities/{c}/posts"),
        Some(json!({"channel": "general", "text": "hello, stream"})),
        StatusCode::CREATED,
    )
    .await;
    let mut buf = String::new();
    let found = tokio::time::timeout(TIMEOUT, async {
        loop {
            let chunk = sse.chunk().await.unwrap().expect("the stream ended");
            buf.push_str(&String::from_utf8_lossy(&chunk));
            for line in buf.lines() {
                if let Some(data) = line.strip_prefix("data: ") {
                    let e: Value = serde_json::from_str(data).unwrap();
                    if e["type"] == "change"
                        && e["community"] == c.as_str()
                        && e["action"] == "post.create"
                    {
                        return e;
                    }
                }
            }
        }
    })
    .await
    .expect("a change event within the timeout");
    assert_eq!(found["origin"], "local");
    assert!(found["author"].as_str().unwrap().starts_with("z6Mk"));
    n.stop().await;
}

/// POST `len` bytes with `Transfer-Encoding: chunked` over a raw socket; status and JSON body.
async fn chunked_post(n: &ApiNode, path: &str, len: usize) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut sock = tokio::net::TcpStream::connect(n.server.addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        n.server.addr,
        n.auth.token()
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b' '; 4096];
    let mut sent = 0;
    while sent < len {
        let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
        // The server may answer and close before reading everything.
        if sock.write_all(&frame).await.is_err() {
            break;
        }
        sent += chunk.len();
    }
    let _ = sock.write_all(b"0\r\n\r\n").await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(TIMEOUT, sock.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out).to_string();
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    // The body may itself be chunked: take the JSON object inside.
    let json = match (body.find('{'), body.rfind('}')) {
        (Some(a), Some(b)) => serde_json::from_str(&body[a..=b]).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    (status, json)
}

fn ids(v: &Value, field: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x[field].as_str().unwrap().to_string())
        .collect()
}

// founder -- alice
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint() {
    let mut f = ApiNode::start(14).await;
    let mut a = ApiNode::start(15).await;
    let me = f.get("/api/v1/status").await["member"]
        .as_str()
        .unwrap()
        .to_string();
    let alice = a.get("/api/v1/status").await["member"]
        .as_str()
        .unwrap()
        .to_string();

    // Identity: member, device, its certificate.
    let id = f.get("/api/v1/identity").await;
    assert_eq!(id["member"], me.as_str());
    assert!(id["holds_root"].as_bool().unwrap());
    assert_eq!(id["device_cert"]["device"], id["device"]);
    assert_eq!(id["device_cert"]["capabilities"], "content+endorse+govern");

    // Communities: create, list, info.
    let v = f
        .call(
            Method::POST,
            "/api/v1/communities",
            Some(json!({"name": "Rust Meetup", "description": "we meet", "policy": "invite"})),
            StatusCode::CREATED,
        )
        .await;
    let c = v["id"].as_str().unwrap().to_string();
    let base = format!("/api/v1/communities/{c}");
    let list = f.get("/api/v1/communities").await;
    assert_eq!(ids(&list, "id"), vec![c.clone()]);
    assert_eq!(list[0]["status"], "member:founder");
    let info = f.get(&base).await;
    assert_eq!(info["description"], "we meet");
    assert_eq!(info["founders"], json!([me]));
    assert_eq!(info["policy"], "invite");

    // Invite and join over the API.
    wait_until(&mut f.node, "a listen address", |d| {
        d.swarm.listeners().count() > 0
    })
    .await;
    let code = f
        .post(&format!("{base}/invite"), json!({"valid_hours": 1}))
        .await["code"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(code.starts_with("qun1"));
    let joined = a.post("/api/v1/join", json!({ "code": code })).await;
    assert_eq!(joined["id"], c.as_str());
    wait_for(
        &mut a.node.events,
        "alice admitted",
        |e| matches!(e, NodeEvent::Membership { status, .. } if status.starts_with("member")),
    )
    .await;
    let cc = c.clone();
    wait_until(&mut f.node, "the founder sees alice", move |d| {
        d.members(&cc.parse().unwrap())
            .map(|m| m.len() == 2)
            .unwrap_or(false)
    })
    .await;

    // Status and peers see each other.
    let st = f.get("/api/v1/status").await;
    assert!(st["connected_peers"].as_u64().unwrap() >= 1, "{st}");
    assert!(st["listen_addrs"][0].as_str().unwrap().contains("/p2p/"));
    let peers = f.get("/api/v1/peers").await;
    let a_peer = a.get("/api/v1/status").await["peer_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(ids(&peers, "peer_id").contains(&a_peer), "{peers}");

    // Channels: create one, list.
    f.post(
        &format!("{base}/channels"),
        json!({"id": "random", "title": "Random", "description": "anything goes"}),
    )
    .await;
    let chans = f.get(&format!("{base}/channels")).await;
    let chan_ids: Vec<String> = chans
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(chan_ids, vec!["general", "random"]);

    // Posts: three, then paging.
    let mut post_ids = Vec::new();
    for text in ["first", "second", "third"] {
        let v = f
            .call(
                Method::POST,
                &format!("{base}/posts"),
                Some(json!({"channel": "general", "text": text})),
                StatusCode::CREATED,
            )
            .await;
        post_ids.push(v["post"].as_str().unwrap().to_string());
        // Distinct creation times, so `before` pages deterministically.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let page1 = f
        .get(&format!("{base}/posts?channel=general&limit=2"))
        .await;
    let texts: Vec<&str> = page1
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["third", "second"]);
    let before = page1[1]["created"].as_u64().unwrap();
    let page2 = f
        .get(&format!(
            "{base}/posts?channel=general&limit=2&before={before}"
        ))
        .await;
    let texts: Vec<&str> = page2
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["first"]);

    // Reply (from alice, once she has the post), thread, react, edit, delete, hide, unhide.
    let first = post_ids[0].clone();
    let (cc, pf) = (c.clone(), first.clone());
    wait_until(&mut a.node, "alice has the first post", move |d| {
        d.thread(&cc.parse().unwrap(), &pf.parse().unwrap())
            .map(|t| !t.is_empty())
            .unwrap_or(false)
    })
    .await;
    let reply = a
        .call(
            Method::POST,
            &format!("{base}/posts"),
            Some(json!({"channel": "general", "text": "a reply", "reply_to": first})),
            StatusCode::CREATED,
        )
        .await["post"]
        .as_str()
        .unwrap()
        .to_string();
    let enc = |s: &str| s.replace('/', "%2F");
    let (cc, pf) = (c.clone(), first.clone());
    wait_until(&mut f.node, "the founder has the reply", move |d| {
        d.thread(&cc.parse().unwrap(), &pf.parse().unwrap())
            .map(|t| t.len() == 2)
            .unwrap_or(false)
    })
    .await;
    let thread = f.get(&format!("{base}/thread?post={}", enc(&first))).await;
    assert_eq!(ids(&thread, "id"), vec![first.clone(), reply.clone()]);
    assert_eq!(thread[1]["author"], alice.as_str());
    f.post(
        &format!("{base}/posts/react"),
        json!({"post": first, "emoji": "🎉"}),
    )
    .await;
    f.post(
        &format!("{base}/posts/edit"),
        json!({"post": first, "text": "first (edited)"}),
    )
    .await;
    f.post(
        &format!("{base}/posts/hide"),
        json!({"post": reply, "reason": "off topic"}),
    )
    .await;
    let thread = f.get(&format!("{base}/thread?post={}", enc(&first))).await;
    assert_eq!(thread[0]["text"], "first (edited)");
    assert!(thread[0]["edited"].is_u64());
    assert_eq!(thread[0]["reactions"]["🎉"], json!([me]));
    assert_eq!(thread[1]["hidden"]["reason"], "off topic");
    f.post(&format!("{base}/posts/unhide"), json!({"post": reply}))
        .await;
    f.post(
        &format!("{base}/posts/react"),
        json!({"post": first, "emoji": "🎉", "on": false}),
    )
    .await;
    f.post(
        &format!("{base}/posts/delete"),
        json!({"post": post_ids[1]}),
    )
    .await;
    let thread = f.get(&format!("{base}/thread?post={}", enc(&first))).await;
    assert!(thread[1]["hidden"].is_null());
    assert_eq!(thread[0]["reactions"], json!({}));
    let second = f
        .get(&format!("{base}/thread?post={}", enc(&post_ids[1])))
        .await;
    assert_eq!(second[0]["deleted"], true);
    // Someone else's post cannot be edited (posts are edited by the device that wrote them).
    let (s, v) = status_and_json(
        f.req(Method::POST, &format!("{base}/posts/edit"))
            .json(&json!({"post": reply, "text": "not mine"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_error(&v, "edit someone else's post");

    // Profiles.
    a.call(
        Method::PUT,
        &format!("{base}/profile"),
        Some(json!({"name": "Alice", "bio": "rustacean", "avatar": null, "links": []})),
        StatusCode::OK,
    )
    .await;
    assert_eq!(a.get(&format!("{base}/profile")).await["name"], "Alice");
    let cc = c.clone();
    let al = alice.clone();
    wait_until(&mut f.node, "the founder sees alice's profile", move |d| {
        d.repl
            .community(&cc.parse().unwrap())
            .and_then(|x| x.profile(&al.parse().unwrap()).ok().flatten())
            .is_some()
    })
    .await;
    assert_eq!(
        f.get(&format!("{base}/profile/{alice}")).await["bio"],
        "rustacean"
    );
    assert!(f.get(&format!("{base}/profile")).await.is_null());

    // Members and roles.
    let members = f.get(&format!("{base}/members")).await;
    assert_eq!(ids(&members, "member"), vec![me.clone(), alice.clone()]);
    assert_eq!(members[1]["profile"]["name"], "Alice");
    f.post(
        &format!("{base}/members/role"),
        json!({"member": alice, "role": "moderator"}),
    )
    .await;
    assert_eq!(
        f.get(&format!("{base}/members")).await[1]["role"],
        "moderator"
    );

    // Endorsements: give, list, trust, why; revoke with weight 0.
    f.post(
        &format!("{base}/endorse"),
        json!({"member": alice, "weight": 1.0, "note": "met her"}),
    )
    .await;
    let list = f.get(&format!("{base}/endorsements")).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["from"], me.as_str());
    assert_eq!(list[0]["to"], alice.as_str());
    assert_eq!(list[0]["note"], "met her");
    let ranking = f.get(&format!("{base}/trust?top=10")).await;
    assert_eq!(ranking[0]["member"], me.as_str(), "{ranking}");
    assert_eq!(ranking[1]["member"], alice.as_str(), "{ranking}");
    assert!(ranking[1]["score"].as_f64().unwrap() > 0.0);
    let why = f.get(&format!("{base}/trust/{alice}")).await;
    assert_eq!(why["endorsers"][0][0], me.as_str(), "{why}");
    assert!(!why["paths"].as_array().unwrap().is_empty(), "{why}");
    let score_endorsed = why["score"].as_f64().unwrap();
    f.post(
        &format!("{base}/endorse"),
        json!({"member": alice, "weight": 0.0}),
    )
    .await;
    assert!(
        f.get(&format!("{base}/endorsements"))
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    let all = f
        .get(&format!("{base}/endorsements?all=true&member={alice}"))
        .await;
    assert_eq!(all[0]["weight"], 0.0, "{all}");
    let why = f.get(&format!("{base}/trust/{alice}")).await;
    assert!(why["endorsers"].as_array().unwrap().is_empty(), "{why}");
    assert!(why["score"].as_f64().unwrap() < score_endorsed, "{why}");

    // Admission policy; admitting and removing members.
    f.post(
        &format!("{base}/policy"),
        json!({"policy": "endorsements:2"}),
    )
    .await;
    assert_eq!(f.get(&base).await["policy"], "endorsements:2");
    let bob = keys(16)
        .member_id(qun_identity::Timestamp::now())
        .unwrap()
        .to_string();
    f.post(&format!("{base}/members/admit"), json!({"member": bob}))
        .await;
    assert!(ids(&f.get(&format!("{base}/members")).await, "member").contains(&bob));
    let (s, v) = status_and_json(
        f.req(Method::POST, &format!("{base}/members/admit"))
            .json(&json!({"member": bob})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "already a member: {v}");
    f.post(
        &format!("{base}/members/remove"),
        json!({"member": bob, "reason": "test"}),
    )
    .await;
    assert!(!ids(&f.get(&format!("{base}/members")).await, "member").contains(&bob));

    // Export: the Automerge documents.
    let docs = f.get(&format!("{base}/export")).await;
    assert!(
        docs.as_array().unwrap().len() >= 2,
        "governance and content: {docs}"
    );
    for d in docs.as_array().unwrap() {
        let bytes = data_encoding::BASE64
            .decode(d["automerge"].as_str().unwrap().as_bytes())
            .unwrap();
        assert!(
            bytes.len() > 8 && bytes[..4] == [0x85, 0x6f, 0x4a, 0x83],
            "automerge magic"
        );
    }
    a.stop().await;
    f.stop().await;
}
