//! An in-process node with its API on 127.0.0.1:0, and request helpers.

use crate::common::*;
use qun_node::clock::Clock;
use qun_node::http::auth::Auth;
use qun_node::http::{self, AppState, Server};
use qun_node::node::NodeConfig;
use qun_node::store::memory::MemoryStore;
use reqwest::{Client, Method, StatusCode, header};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// A node with its API served on 127.0.0.1:0.
pub struct ApiNode {
    pub node: TestNode,
    pub server: Server,
    pub auth: Arc<Auth>,
    pub url: String,
    pub http: Client,
}

impl ApiNode {
    pub async fn start(seed: u8) -> Self {
        Self::start_with(seed, Auth::new(format!("token-{seed}"))).await
    }

    /// With this `Auth` (e.g. one with a test clock).
    pub async fn start_with(seed: u8, auth: Auth) -> Self {
        Self::serve(spawn(seed).await, auth).await
    }

    /// A node reading the time from `clock`.
    pub async fn start_with_clock(seed: u8, clock: Arc<dyn Clock>) -> Self {
        let cfg = NodeConfig {
            clock,
            ..NodeConfig::loopback(keys(seed))
        };
        let node = spawn_with(cfg, Box::new(MemoryStore::default())).await;
        Self::serve(node, Auth::new(format!("token-{seed}"))).await
    }

    /// A node with these load limits.
    pub async fn start_with_limits(seed: u8, load: qun_node::limits::LoadLimits) -> Self {
        let cfg = NodeConfig {
            load,
            ..NodeConfig::loopback(keys(seed))
        };
        let node = spawn_with(cfg, Box::new(MemoryStore::default())).await;
        Self::serve(node, Auth::new(format!("token-{seed}"))).await
    }

    async fn serve(node: TestNode, auth: Auth) -> Self {
        let auth = Arc::new(auth);
        let server = http::serve(
            "127.0.0.1:0".parse().unwrap(),
            AppState {
                search: qun_node::search::spawn(node.handle().clone(), None).unwrap(),
                prefs: Arc::new(qun_node::http::prefs::Prefs::in_memory()),
                node: node.handle().clone(),
                auth: auth.clone(),
                keyfile: None,
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

    pub fn req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(self.auth.token())
    }

    /// A request with the token; panics unless the status is `want`; the JSON answer.
    pub async fn call(
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

    pub async fn get(&self, path: &str) -> Value {
        self.call(Method::GET, path, None, StatusCode::OK).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        self.call(Method::POST, path, Some(body), StatusCode::OK)
            .await
    }

    pub async fn stop(self) {
        self.server.task.abort();
        self.node.handle().shutdown().await.unwrap();
    }
}

/// Assert a JSON error body with both fields.
pub fn assert_error(v: &Value, what: &str) {
    assert!(
        v["error"].as_str().is_some_and(|s| !s.is_empty()),
        "{what}: no error in {v}"
    );
    assert!(
        v["hint"].as_str().is_some_and(|s| !s.is_empty()),
        "{what}: no hint in {v}"
    );
}

pub async fn status_and_json(r: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let resp = r.send().await.unwrap();
    let s = resp.status();
    let text = resp.text().await.unwrap();
    (s, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Log in with the one-time link; the session cookie (`name=value`).
pub async fn login(n: &ApiNode) -> String {
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

/// POST `len` bytes with `Transfer-Encoding: chunked` over a raw socket; status and JSON body.
pub async fn chunked_post(n: &ApiNode, path: &str, len: usize) -> (u16, Value) {
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

pub fn ids(v: &Value, field: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x[field].as_str().unwrap().to_string())
        .collect()
}

/// A request over a raw socket with exactly the `Host` given (`None`: none, as HTTP/1.0
/// allows); status and body (the answer is read to the end).
pub async fn raw_request(
    n: &ApiNode,
    path: &str,
    host: Option<&str>,
    with_token: bool,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut sock = tokio::net::TcpStream::connect(n.server.addr).await.unwrap();
    let mut head = match host {
        Some(h) => format!("GET {path} HTTP/1.1\r\nHost: {h}\r\n"),
        None => format!("GET {path} HTTP/1.0\r\n"),
    };
    if with_token {
        head += &format!("Authorization: Bearer {}\r\n", n.auth.token());
    }
    head += "Connection: close\r\n\r\n";
    sock.write_all(head.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(TIMEOUT, sock.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
    let body = text
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    (status, body)
}
