//! A `qun up` process killed with SIGKILL while changes are being written restarts with every
//! acknowledged change present.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(60);

struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_node(dir: &Path) -> (Node, String, String) {
    let _ = std::fs::remove_file(dir.join("api.json"));
    let child = Command::new(env!("CARGO_BIN_EXE_qun"))
        .args(["--data-dir"])
        .arg(dir)
        .args([
            "up",
            "--no-passphrase",
            "--no-mdns",
            "--api",
            "127.0.0.1:0",
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
        ])
        .env("QUN_KEYGEN_SEED", "crash-test")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn qun up");
    let node = Node(child);
    let start = Instant::now();
    loop {
        if let Ok(b) = std::fs::read(dir.join("api.json"))
            && let Ok(v) = serde_json::from_slice::<serde_json::Value>(&b)
        {
            let url = v["url"].as_str().unwrap().to_string();
            let token = v["token"].as_str().unwrap().to_string();
            return (node, url, token);
        }
        assert!(start.elapsed() < TIMEOUT, "qun up did not write api.json");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_write_loses_no_acknowledged_change() {
    let dir = tempfile::tempdir().unwrap();
    let (mut node, url, token) = start_node(dir.path());
    let http = reqwest::Client::new();
    let r: serde_json::Value = http
        .post(format!("{url}/api/v1/communities"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "Crash", "policy": "invite"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let c = r["id"].as_str().unwrap().to_string();

    // Post as fast as possible from a task; kill the process once some posts are acknowledged.
    let acked = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let poster = {
        let (acked, stop, http, url, token, c) = (
            acked.clone(),
            stop.clone(),
            http.clone(),
            url.clone(),
            token.clone(),
            c.clone(),
        );
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let text = format!("post {i}");
                let r = http
                    .post(format!("{url}/api/v1/communities/{c}/posts"))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({"text": text}))
                    .send()
                    .await;
                match r {
                    Ok(resp) if resp.status().is_success() => acked.lock().unwrap().push(text),
                    _ => break,
                }
                i += 1;
            }
        })
    };
    let start = Instant::now();
    while acked.lock().unwrap().len() < 40 {
        assert!(start.elapsed() < TIMEOUT, "posting too slow");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    node.0.kill().unwrap(); // SIGKILL
    node.0.wait().unwrap();
    stop.store(true, Ordering::SeqCst);
    poster.await.unwrap();
    let acked = acked.lock().unwrap().clone();

    let (_node, url, token) = start_node(dir.path());
    let posts: Vec<serde_json::Value> = http
        .get(format!("{url}/api/v1/communities/{c}/posts?limit=500"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let present: std::collections::BTreeSet<String> = posts
        .iter()
        .map(|p| p["text"].as_str().unwrap().to_string())
        .collect();
    let missing: Vec<&String> = acked.iter().filter(|t| !present.contains(*t)).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged posts lost: {missing:?}",
        missing.len()
    );
    assert!(present.len() >= acked.len());
}
