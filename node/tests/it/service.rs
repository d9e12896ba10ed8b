//! `qun up` as a service, with the real binary: the systemd unit verifies; a headless node
//! reads its passphrase from systemd's credential directory or a file, logs JSON lines,
//! serves /health and /metrics, and stops cleanly on SIGTERM; `qun backup` and `qun restore`
//! move a node to a new data directory, where it waits to catch up before it writes (or not,
//! when the operator says this is the only copy).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(60);
const UNIT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../contrib/systemd/qun.service"
);

/// A `qun up` child, killed if the test fails; stderr goes to a file.
struct Node {
    child: Child,
    stderr: PathBuf,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn qun(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_qun"));
    c.arg("--data-dir")
        .arg(dir)
        .env_remove("QUN_PASSPHRASE")
        .env_remove("CREDENTIALS_DIRECTORY")
        .env("RUST_LOG", "warn,qun_node=info");
    c
}

fn up(dir: &Path, extra: &[&str], env: &[(&str, &Path)]) -> Node {
    let _ = std::fs::remove_file(dir.join("api.json"));
    let stderr = dir.with_extension("stderr");
    let mut c = qun(dir);
    c.args([
        "--log-format",
        "json",
        "up",
        "--no-mdns",
        "--api",
        "127.0.0.1:0",
    ])
    .args(["--listen", "/ip4/127.0.0.1/tcp/0"])
    .args(extra)
    .stdout(Stdio::null())
    .stderr(std::fs::File::create(&stderr).unwrap());
    for (k, v) in env {
        c.env(k, v);
    }
    Node {
        child: c.spawn().expect("spawn qun up"),
        stderr,
    }
}

/// `api.json` once the node wrote it.
fn api(dir: &Path, node: &mut Node) -> Value {
    let start = Instant::now();
    loop {
        if let Ok(b) = std::fs::read(dir.join("api.json"))
            && let Ok(v) = serde_json::from_slice::<Value>(&b)
        {
            return v;
        }
        if let Some(status) = node.child.try_wait().unwrap() {
            panic!(
                "qun up exited ({status}): {}",
                std::fs::read_to_string(&node.stderr).unwrap_or_default()
            );
        }
        assert!(start.elapsed() < TIMEOUT, "qun up did not write api.json");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SIGTERM, then the exit status and stderr.
fn terminate(mut node: Node) -> (std::process::ExitStatus, String) {
    let pid = node.child.id() as libc::pid_t;
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let start = Instant::now();
    let status = loop {
        if let Some(s) = node.child.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < TIMEOUT, "qun up did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    (
        status,
        std::fs::read_to_string(&node.stderr).unwrap_or_default(),
    )
}

fn run(c: &mut Command) -> Output {
    c.stdin(Stdio::null()).output().expect("run qun")
}

#[test]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    let Ok(which) = Command::new("systemd-analyze").arg("--version").output() else {
        println!("skipped: systemd-analyze is not installed");
        return;
    };
    assert!(which.status.success());
    let unit = std::fs::read_to_string(UNIT).unwrap();
    for needed in [
        "User=qun",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "StateDirectory=qun",
        "LoadCredential=qun-passphrase:",
        "KillSignal=SIGTERM",
        "--headless",
        "--log-format json",
    ] {
        assert!(unit.contains(needed), "the unit lacks {needed}");
    }
    // Verify it with ExecStart pointing at the binary under test (verify checks it exists).
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("qun.service");
    std::fs::write(
        &path,
        unit.replace("/usr/local/bin/qun", env!("CARGO_BIN_EXE_qun")),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "systemd-analyze verify: {stderr}");
    // Unknown or unparsable settings are only warnings: refuse them too.
    let about_unit: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("qun.service"))
        .collect();
    assert!(about_unit.is_empty(), "{about_unit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_headless_node_reads_its_passphrase_logs_json_and_stops_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("node");
    let creds = tmp.path().join("credentials");
    std::fs::create_dir_all(&creds).unwrap();
    std::fs::write(creds.join("qun-passphrase"), "correct horse\n").unwrap();
    let http = reqwest::Client::new();

    // First start: systemd's credential directory; the new keyfile is sealed with it.
    let mut node = up(
        &dir,
        &["--headless", "--metrics-addr", "127.0.0.1:0"],
        &[("CREDENTIALS_DIRECTORY", &creds)],
    );
    let info = api(&dir, &mut node);
    let url = info["url"].as_str().unwrap();
    let token = info["token"].as_str().unwrap();
    assert_eq!(
        qun_node::keystore::is_encrypted(&dir.join("identity.key")),
        Some(true)
    );
    let start = Instant::now();
    loop {
        let r = http.get(format!("{url}/health")).send().await.unwrap();
        if r.status().is_success() {
            break;
        }
        assert!(start.elapsed() < TIMEOUT, "never healthy: {}", r.status());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let page = http
        .get(format!("{url}/"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.status(),
        reqwest::StatusCode::NOT_FOUND,
        "headless: no web page"
    );
    let metrics_url = info["metrics_url"]
        .as_str()
        .expect("metrics_url in api.json");
    let text = http
        .get(metrics_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("qun_build_info"), "{text}");

    let (status, stderr) = terminate(node);
    assert!(status.success(), "{status}: {stderr}");
    assert!(!dir.join("api.json").exists());
    let lines: Vec<Value> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let said = |what: &str| {
        lines.iter().any(|l| {
            l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(what))
        })
    };
    assert!(said("stopping: flushing the store"), "{stderr}");
    assert!(said("node stopped cleanly"), "{stderr}");
    assert!(
        lines.iter().any(|l| l["fields"]["signal"] == "SIGTERM"),
        "{stderr}"
    );

    // Headless never prompts: a sealed keyfile without a passphrase source is refused.
    let out = run(qun(&dir).args(["up", "--headless", "--no-mdns", "--api", "127.0.0.1:0"]));
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--passphrase-file"));

    // --passphrase-file opens it too.
    let file = tmp.path().join("passphrase");
    std::fs::write(&file, "correct horse\n").unwrap();
    let mut node = up(
        &dir,
        &["--headless", "--passphrase-file", file.to_str().unwrap()],
        &[],
    );
    api(&dir, &mut node);
    let (status, _) = terminate(node);
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_and_restore_with_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    let out = tmp.path().join("backup");
    let http = reqwest::Client::new();
    let mut node = up(&a, &["--no-passphrase"], &[]);
    let info = api(&a, &mut node);
    let (url, token) = (
        info["url"].as_str().unwrap().to_string(),
        info["token"].as_str().unwrap().to_string(),
    );
    let created: Value = http
        .post(format!("{url}/api/v1/communities"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "Backed", "policy": "invite"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let c = created["id"].as_str().unwrap().to_string();
    let posted = http
        .post(format!("{url}/api/v1/communities/{c}/posts"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"text": "in the backup"}))
        .send()
        .await
        .unwrap();
    assert!(posted.status().is_success());

    let o = run(qun(&a).arg("backup").arg(&out));
    assert!(o.status.success(), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("qun restore"));
    assert!(out.join("manifest.json").exists());
    let o = run(qun(&a).arg("backup").arg(&out));
    assert!(!o.status.success(), "a backup never overwrites another");
    let (status, _) = terminate(node);
    assert!(status.success());

    let o = run(qun(&b).arg("restore").arg(&out));
    assert!(o.status.success(), "{o:?}");
    let o = run(qun(&b).arg("restore").arg(&out));
    assert_eq!(o.status.code(), Some(5), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("exists already"));

    // Restored and alone: it waits to catch up before it writes.
    let post = |url: String, token: String, text: &'static str| {
        let http = http.clone();
        let c = c.clone();
        async move {
            http.post(format!("{url}/api/v1/communities/{c}/posts"))
                .bearer_auth(token)
                .json(&serde_json::json!({ "text": text }))
                .send()
                .await
                .unwrap()
        }
    };
    let mut node = up(&b, &[], &[]);
    let info = api(&b, &mut node);
    let (url, token) = (
        info["url"].as_str().unwrap().to_string(),
        info["token"].as_str().unwrap().to_string(),
    );
    let r = post(url.clone(), token.clone(), "too early").await;
    assert_eq!(r.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("restored from a backup"),
        "{body}"
    );
    assert!(
        body["hint"]
            .as_str()
            .unwrap()
            .contains("--i-know-this-is-the-only-copy")
    );
    let (status, _) = terminate(node);
    assert!(status.success());

    // The operator knows this is the only copy.
    let mut node = up(&b, &["--i-know-this-is-the-only-copy"], &[]);
    let info = api(&b, &mut node);
    let (url, token) = (
        info["url"].as_str().unwrap().to_string(),
        info["token"].as_str().unwrap().to_string(),
    );
    let r = post(url.clone(), token.clone(), "after the restore").await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let posts: Vec<Value> = http
        .get(format!("{url}/api/v1/communities/{c}/posts"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let texts: Vec<&str> = posts.iter().filter_map(|p| p["text"].as_str()).collect();
    assert!(texts.contains(&"in the backup"), "{texts:?}");
    assert!(texts.contains(&"after the restore"), "{texts:?}");
    assert!(!b.join("restored.json").exists());
    terminate(node);
}
