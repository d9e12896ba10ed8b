//! A small WebDriver client for headless Chromium (Debian's `chromium` and `chromium-driver`),
//! speaking the W3C WebDriver protocol to `chromedriver` over HTTP with reqwest, so the tests
//! need no browser-automation crate. Waits are event-driven: an async script resolves from a
//! `MutationObserver` when the DOM matches, bounded by the script timeout.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long a wait on the DOM may take (a loaded 2-core CI machine can be slow).
pub const DOM_TIMEOUT: Duration = Duration::from_secs(30);
/// One watch of the DOM: after a navigation the watch may sit on the old document, so it is
/// re-armed on the current one this often until [`DOM_TIMEOUT`].
pub const WATCH: Duration = Duration::from_secs(2);

/// Where screenshots go: `<target dir>/web-screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("web-screenshots")
}

fn which(names: &[&str]) -> Option<PathBuf> {
    for n in names {
        let p = Path::new(n);
        if p.is_absolute() {
            if p.exists() {
                return Some(p.to_path_buf());
            }
            continue;
        }
        if let Some(path) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&path) {
                let c = dir.join(n);
                if c.exists() {
                    return Some(c);
                }
            }
        }
    }
    None
}

/// A headless Chromium session.
pub struct Browser {
    http: reqwest::Client,
    driver_addr: String,
    session_path: String,
    base: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Start chromedriver and a headless Chromium with a fresh profile. Fails with a clear
    /// message when Chromium is not installed.
    pub async fn start() -> Browser {
        let chromium = which(&["/usr/lib/chromium/chromium", "chromium", "chromium-browser"])
            .expect(
                "Chromium is not installed: the web tests need it (`apt-get install chromium \
                 chromium-driver`; .ci/run installs both)",
            );
        let chromedriver = which(&["chromedriver", "/usr/lib/chromium/chromedriver"]).expect(
            "chromedriver is not installed: the web tests need it (`apt-get install \
             chromium-driver`; .ci/run installs it)",
        );
        let profile = tempfile::tempdir().unwrap();
        // chromedriver prints the port it bound once it is ready. On a loaded machine it has
        // been seen to exit before that (once in many runs): start it again, up to 3 times,
        // and say what it printed if it never comes up.
        let mut said = String::new();
        let mut started = None;
        for _ in 0..3 {
            let mut driver = Command::new(&chromedriver)
                .arg("--port=0")
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", chromedriver.display()));
            let stdout = driver.stdout.take().unwrap();
            let port = tokio::task::spawn_blocking(move || {
                let mut seen = String::new();
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if let Some(rest) = line.split("started successfully on port ").nth(1) {
                        return (rest.trim_end_matches('.').trim().parse::<u16>().ok(), seen);
                    }
                    seen.push_str(&line);
                    seen.push('\n');
                }
                (None, seen)
            });
            let (port, seen) = tokio::time::timeout(DOM_TIMEOUT, port)
                .await
                .expect("chromedriver did not start in time")
                .unwrap();
            if let Some(port) = port {
                started = Some((driver, port));
                break;
            }
            said = seen;
            let _ = driver.kill();
            let _ = driver.wait();
        }
        let (driver, port) = started
            .unwrap_or_else(|| panic!("chromedriver did not print its port (3 tries): {said}"));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-dev-shm-usage",
            "--window-size=1280,860",
            "--force-device-scale-factor=1",
            "--lang=en-US",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([format!("--user-data-dir={}", profile.path().display())])
        .collect::<Vec<_>>();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}});
        let base = format!("http://127.0.0.1:{port}");
        let resp: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .expect("chromedriver answers")
            .json()
            .await
            .unwrap();
        let session = resp["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("Chromium did not start: {resp}"))
            .to_string();
        let b = Browser {
            http,
            driver_addr: format!("127.0.0.1:{port}"),
            session_path: format!("/session/{session}"),
            base: format!("{base}/session/{session}"),
            driver,
            _profile: profile,
        };
        b.cmd(
            "POST",
            "/timeouts",
            json!({"script": WATCH.as_millis() as u64, "pageLoad": 60_000, "implicit": 0}),
        )
        .await;
        b
    }

    /// One WebDriver command; its `value`. Panics on a WebDriver error.
    pub async fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        match self.try_cmd(method, path, body).await {
            Ok(v) => v,
            Err(e) => panic!("WebDriver {method} {path}: {e}"),
        }
    }

    async fn try_cmd(&self, method: &str, path: &str, body: Value) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        let resp = req.send().await.map_err(|e| e.to_string())?;
        let v: Value = resp.json().await.map_err(|e| e.to_string())?;

        if let Some(err) = v["value"]["error"].as_str() {
            return Err(format!(
                "{err}: {}",
                v["value"]["message"].as_str().unwrap_or_default()
            ));
        }
        Ok(v["value"].clone())
    }

    /// Open a URL (returns once the page has loaded).
    pub async fn goto(&self, url: &str) {
        self.cmd("POST", "/url", json!({ "url": url })).await;
    }

    /// The current URL.
    pub async fn url(&self) -> String {
        self.cmd("GET", "/url", json!({}))
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The first element matching `css`, if any.
    pub async fn find(&self, css: &str) -> Option<String> {
        let v = self
            .try_cmd(
                "POST",
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await
            .ok()?;
        v.as_object()?.values().next()?.as_str().map(String::from)
    }

    async fn element(&self, css: &str) -> String {
        self.wait_for(css, None).await;
        self.find(css)
            .await
            .unwrap_or_else(|| panic!("no element {css:?}"))
    }

    /// Type into the element matching `css`.
    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.element(css).await;
        self.cmd("POST", &format!("/element/{e}/clear"), json!({}))
            .await;
        self.cmd(
            "POST",
            &format!("/element/{e}/value"),
            json!({ "text": text }),
        )
        .await;
    }

    /// Click the element matching `css` (a submit button's navigation completes first).
    pub async fn click(&self, css: &str) {
        let e = self.element(css).await;
        self.cmd("POST", &format!("/element/{e}/click"), json!({}))
            .await;
    }

    /// Run a script in the page; its return value.
    pub async fn js(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": args}),
        )
        .await
    }

    /// Wait until an element matches `css` (and contains `text`, when given): a
    /// MutationObserver in the page resolves the wait as soon as the DOM matches. Panics after
    /// [`DOM_TIMEOUT`].
    pub async fn wait_for(&self, css: &str, text: Option<&str>) {
        const WAIT: &str = r#"
            var sel = arguments[0], text = arguments[1], done = arguments[arguments.length - 1];
            function ok() {
              var els = document.querySelectorAll(sel);
              for (var i = 0; i < els.length; i++) {
                if (text === null || els[i].textContent.indexOf(text) >= 0) return true;
              }
              return false;
            }
            if (ok()) { done(true); return; }
            var mo = new MutationObserver(function () { if (ok()) { mo.disconnect(); done(true); } });
            mo.observe(document.documentElement, { subtree: true, childList: true, characterData: true, attributes: true });
        "#;
        let deadline = tokio::time::Instant::now() + DOM_TIMEOUT;
        loop {
            match self
                .try_cmd(
                    "POST",
                    "/execute/async",
                    json!({"script": WAIT, "args": [css, text]}),
                )
                .await
            {
                Ok(_) => return,
                // Not yet, or a navigation replaced the document under the observer: watch the
                // current document again.
                Err(_) if tokio::time::Instant::now() < deadline => continue,
                Err(e) => {
                    let shot = self.screenshot("failed-wait").await;
                    panic!(
                        "waiting for {css:?} containing {text:?}: {e} (screenshot: {})",
                        shot.display()
                    )
                }
            }
        }
    }

    /// Emulate `prefers-color-scheme: dark` (or light).
    pub async fn color_scheme(&self, scheme: &str) {
        self.cmd(
            "POST",
            "/goog/cdp/execute",
            json!({"cmd": "Emulation.setEmulatedMedia", "params": {
                "features": [{"name": "prefers-color-scheme", "value": scheme}]
            }}),
        )
        .await;
    }

    /// Save a PNG of the viewport to the screenshot directory; its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        if let Ok(v) = self.try_cmd("GET", "/screenshot", json!({})).await {
            let png = data_encoding::BASE64
                .decode(v.as_str().unwrap_or_default().as_bytes())
                .unwrap_or_default();
            std::fs::write(&path, png).unwrap();
        }
        path
    }

    /// Close the browser and the driver.
    pub fn quit(self) {
        drop(self)
    }
}

impl Drop for Browser {
    /// End the session (which closes Chromium), then stop chromedriver; also when a test
    /// panics, so no browser is left running.
    fn drop(&mut self) {
        use std::io::{Read, Write};
        if let Ok(mut s) = std::net::TcpStream::connect(&self.driver_addr) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
            let req = format!(
                "DELETE {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                self.session_path, self.driver_addr
            );
            if s.write_all(req.as_bytes()).is_ok() {
                let mut sink = Vec::new();
                let _ = s.read_to_end(&mut sink);
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
