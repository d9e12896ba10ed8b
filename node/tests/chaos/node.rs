//! One `qun up` process in its node's namespace (`ip netns exec <ns> qun up …`: `ip` execs, so
//! the child is the node itself and `kill -9` reaches it), and a client for its API.
//!
//! The node listens for peers on `/ip4/<its address>/tcp/4001` and serves its API on
//! `<its address>:7420` — on the bridge, so the test (whose root namespace has an address on
//! the same bridge) calls it directly; the API's `Host` check accepts the bound address. Its
//! stdout and stderr go to `<run dir>/logs/<name>.log` (all starts appended), kept when a test
//! fails.

use serde_json::Value;
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const API_PORT: u16 = 7420;
pub const P2P_PORT: u16 = 4001;
/// How long `qun up` may take to answer its API (a loaded 2-core machine, debug build).
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// An error from the API: the HTTP status (none if the request did not complete) and message.
#[derive(Clone, Debug)]
pub struct ApiError {
    pub status: Option<u16>,
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(s) => write!(f, "HTTP {s}: {}", self.message),
            None => write!(f, "no answer: {}", self.message),
        }
    }
}

/// A node's API (bearer token from its `api.json`).
#[derive(Clone)]
pub struct Api {
    pub url: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    pub fn new(url: String, token: String) -> Api {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Api { url, token, http }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Value, ApiError> {
        let r = req
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| ApiError {
                status: None,
                message: e.to_string(),
            })?;
        let status = r.status();
        let text = r.text().await.map_err(|e| ApiError {
            status: Some(status.as_u16()),
            message: e.to_string(),
        })?;
        if status.is_success() {
            Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
        } else {
            Err(ApiError {
                status: Some(status.as_u16()),
                message: text,
            })
        }
    }

    pub async fn get(&self, path: &str) -> Result<Value, ApiError> {
        self.send(self.http.get(format!("{}{path}", self.url)))
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> Result<Value, ApiError> {
        self.send(self.http.post(format!("{}{path}", self.url)).json(&body))
            .await
    }

    /// Follow `/api/v1/events`, appending every event to `into`, until the stream ends.
    async fn follow_events(self, into: Arc<Mutex<Vec<Value>>>) {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let Ok(mut r) = http
            .get(format!("{}/api/v1/events", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
        else {
            return;
        };
        let mut buf: Vec<u8> = Vec::new();
        while let Ok(Some(chunk)) = r.chunk().await {
            buf.extend_from_slice(&chunk);
            while let Some(i) = buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buf.drain(..=i).collect();
                let line = String::from_utf8_lossy(&line);
                if let Some(d) = line.trim_end().strip_prefix("data:")
                    && let Ok(mut v) = serde_json::from_str::<Value>(d.trim())
                {
                    // When the test saw it (seconds since `epoch()`).
                    v["_t"] = crate::now_s().into();
                    into.lock().unwrap().push(v);
                }
            }
        }
    }
}

/// A node: its namespace, data directory, process and API.
pub struct Node {
    pub name: String,
    pub ns: String,
    pub ip: Ipv4Addr,
    pub dir: PathBuf,
    pub log: PathBuf,
    /// Extra environment (e.g. `QUN_CLOCK_OFFSET_MS`).
    pub env: Vec<(String, String)>,
    /// `--dial` addresses for the next start.
    pub dial: Vec<String>,
    child: Option<Child>,
    /// The API while the node runs (shared with load tasks, `None` while it is down).
    pub api: Arc<Mutex<Option<Api>>>,
    pub peer_id: String,
    pub member: String,
    pub starts: u32,
    pub kills: u32,
    /// Every event the node reported over its API (all runs).
    pub events: Arc<Mutex<Vec<Value>>>,
    watch: Option<tokio::task::JoinHandle<()>>,
    epoch: Instant,
}

impl Node {
    pub fn new(name: String, ns: String, ip: Ipv4Addr, dir: PathBuf, log: PathBuf) -> Node {
        Node {
            name,
            ns,
            ip,
            dir,
            log,
            env: Vec::new(),
            dial: Vec::new(),
            child: None,
            api: Arc::default(),
            peer_id: String::new(),
            member: String::new(),
            starts: 0,
            kills: 0,
            events: Arc::default(),
            watch: None,
            epoch: Instant::now(),
        }
    }

    /// Its full peer address (known once it has run).
    pub fn addr(&self) -> String {
        format!("/ip4/{}/tcp/{P2P_PORT}/p2p/{}", self.ip, self.peer_id)
    }

    pub fn is_up(&self) -> bool {
        self.child.is_some()
    }

    /// The API; panics if the node is down.
    pub fn api(&self) -> Api {
        self.api
            .lock()
            .unwrap()
            .clone()
            .unwrap_or_else(|| panic!("{} is not running", self.name))
    }

    fn log_line(&self, what: &str) {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
        {
            let _ = writeln!(
                f,
                "=== chaos harness, +{:.3} s: {what} ===",
                self.epoch.elapsed().as_secs_f64()
            );
        }
    }

    /// Start `qun up` and wait until its API answers.
    pub async fn start(&mut self) -> Result<(), String> {
        assert!(self.child.is_none(), "{} is running already", self.name);
        std::fs::create_dir_all(&self.dir).map_err(|e| e.to_string())?;
        // A node killed with SIGKILL leaves its api.json behind.
        let _ = std::fs::remove_file(self.dir.join("api.json"));
        self.log_line(&format!("start #{}", self.starts + 1));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| e.to_string())?;
        let api_addr = format!("{}:{API_PORT}", self.ip);
        let listen = format!("/ip4/{}/tcp/{P2P_PORT}", self.ip);
        let mut c = Command::new("ip");
        c.args([
            "netns",
            "exec",
            &self.ns,
            env!("CARGO_BIN_EXE_qun"),
            "--data-dir",
        ])
        .arg(&self.dir)
        .args([
            "up",
            "--no-passphrase",
            "--no-mdns",
            "--api",
            &api_addr,
            "--listen",
            &listen,
        ]);
        for d in &self.dial {
            c.args(["--dial", d]);
        }
        c.env(
            "RUST_LOG",
            std::env::var("QUN_CHAOS_LOG")
                .unwrap_or_else(|_| "warn,qun_node=info,libp2p_kad=error".into()),
        )
        .env("NO_COLOR", "1")
        .env_remove("QUN_PASSPHRASE")
        .envs(self.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log);
        let mut child = c.spawn().map_err(|e| format!("spawning qun up: {e}"))?;
        let started = Instant::now();
        let (url, token) = loop {
            if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!(
                    "{}: `qun up` exited ({status}) before its API came up; log {}:\n{}",
                    self.name,
                    self.log.display(),
                    tail(&self.log, 30)
                ));
            }
            if let Ok(b) = std::fs::read(self.dir.join("api.json"))
                && let Ok(v) = serde_json::from_slice::<Value>(&b)
                && let (Some(u), Some(t)) = (v["url"].as_str(), v["token"].as_str())
            {
                assert_eq!(
                    v["pid"].as_u64(),
                    Some(u64::from(child.id())),
                    "the child is the node itself (ip netns exec execs)"
                );
                break (u.to_string(), t.to_string());
            }
            if started.elapsed() > START_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{}: no api.json after {START_TIMEOUT:?}; log:\n{}",
                    self.name,
                    tail(&self.log, 30)
                ));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        };
        let api = Api::new(url, token);
        let status = loop {
            match api.get("/api/v1/status").await {
                Ok(s) => break s,
                Err(e) if started.elapsed() > START_TIMEOUT => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("{}: API does not answer: {e}", self.name));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        self.peer_id = status["peer_id"].as_str().unwrap_or_default().to_string();
        self.member = status["member"].as_str().unwrap_or_default().to_string();
        self.child = Some(child);
        *self.api.lock().unwrap() = Some(api.clone());
        self.watch = Some(tokio::spawn(api.follow_events(self.events.clone())));
        self.starts += 1;
        Ok(())
    }

    fn stopped(&mut self) {
        *self.api.lock().unwrap() = None;
        if let Some(w) = self.watch.take() {
            w.abort();
        }
    }

    /// `kill -9`.
    pub fn kill9(&mut self) {
        self.stopped();
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
            self.kills += 1;
            self.log_line("killed with SIGKILL");
        }
    }

    /// Ctrl-C (SIGINT: `qun up` shuts down cleanly); SIGKILL if it has not exited in 20 s.
    pub async fn stop(&mut self) {
        self.stopped();
        let Some(mut c) = self.child.take() else {
            return;
        };
        self.log_line("stopping with SIGINT");
        // SAFETY: signalling our own child.
        unsafe { libc::kill(c.id() as i32, libc::SIGINT) };
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = c.try_wait() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.log_line("did not stop within 20 s: SIGKILL");
        let _ = c.kill();
        let _ = c.wait();
    }

    /// Events of a given type seen so far.
    pub fn events_of(&self, ty: &str) -> Vec<Value> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == ty)
            .cloned()
            .collect()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The last `n` lines of a file.
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
