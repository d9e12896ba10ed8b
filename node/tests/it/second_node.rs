//! A second node on the same machine with the same flags: its API port is taken by the first,
//! so it takes a free one, says so, and `qun` commands with its data directory find it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(60);

struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn qun(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_qun"));
    c.arg("--data-dir").arg(dir);
    c
}

#[test]
fn a_taken_api_port_falls_back_and_says_so() {
    // Hold a port as the first node would hold 7420.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let mut child = qun(dir.path())
        .args([
            "up",
            "--no-passphrase",
            "--no-mdns",
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
        ])
        .args(["--api", &format!("127.0.0.1:{port}")])
        .env("QUN_KEYGEN_SEED", "second-node")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let node = Node(child);
    let lines = std::sync::mpsc::channel();
    let tx = lines.0;
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let start = Instant::now();
    let mut said = None;
    while said.is_none() {
        assert!(start.elapsed() < TIMEOUT, "no word about the taken port");
        if let Ok(l) = lines.1.recv_timeout(Duration::from_millis(200))
            && l.contains("is taken")
        {
            said = Some(l);
        }
    }
    let said = said.unwrap();
    assert!(said.contains(&port.to_string()), "{said}");
    // The CLI finds the node through api.json.
    let start = Instant::now();
    loop {
        let st = qun(dir.path()).args(["status", "--json"]).output().unwrap();
        if st.status.success() {
            let v: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
            assert!(v["peer_id"].is_string());
            break;
        }
        assert!(
            start.elapsed() < TIMEOUT,
            "qun status never reached the node"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(node);
    drop(held);
}
