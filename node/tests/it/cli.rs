//! CLI transcripts (STYLE §30): every `tests/cli/*.md` is one test. Each starts a real
//! `qun up` child process in a fresh data directory (deterministic keys from
//! `QUN_KEYGEN_SEED`), then runs the commands of the file's code blocks and compares their
//! output.
//!
//! Transcript format, inside fenced code blocks:
//!
//! ```text
//! $ qun community create "Rust Meetup"     a command (double quotes group words)
//! created [..]                             expected stdout then stderr; [..] matches any text
//! [exit 4]                                 expected exit code (default 0)
//! ```
//!
//! `NAME=value` words before `qun` set environment variables; `$EMPTY` in them is an empty
//! directory (for "no node running").

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long `qun up` may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A `qun up` child process, killed when dropped (also when a test fails).
struct Node {
    child: Child,
    dir: tempfile::TempDir,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn qun() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_qun"));
    c.env("RUST_LOG", "error")
        .env("NO_COLOR", "1")
        .env_remove("QUN_PASSPHRASE");
    c
}

impl Node {
    /// Start `qun up` and wait until it prints that it is up (after writing `api.json`).
    fn start() -> Node {
        let dir = tempfile::tempdir().unwrap();
        let mut child = qun()
            .args([
                "up",
                "--no-passphrase",
                "--no-mdns",
                "--api",
                "127.0.0.1:0",
                "--listen",
                "/ip4/127.0.0.1/tcp/0",
            ])
            .env("QUN_DATA_DIR", dir.path())
            .env("QUN_KEYGEN_SEED", "transcript")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.starts_with("press Ctrl-C") {
                    let _ = tx.send(());
                }
            }
        });
        let node = Node { child, dir };
        if rx.recv_timeout(START_TIMEOUT).is_err() {
            panic!("`qun up` did not start within {START_TIMEOUT:?}");
        }
        assert!(node.dir.path().join("api.json").exists());
        node
    }
}

/// Split a command line into words; double quotes group words.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// Whether `actual` matches `pattern`, where `[..]` matches any text.
fn matches(pattern: &str, actual: &str) -> bool {
    let parts: Vec<&str> = pattern.split("[..]").collect();
    if parts.len() == 1 {
        return pattern == actual;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !actual.starts_with(first) || actual.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &actual[first.len()..];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// One command of a transcript.
struct Step {
    line: usize,
    command: String,
    expected: Vec<String>,
    exit: i32,
}

fn parse(text: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut in_block = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ ") {
            steps.push(Step {
                line: i + 1,
                command: cmd.to_string(),
                expected: Vec::new(),
                exit: 0,
            });
        } else if let Some(step) = steps.last_mut() {
            match line
                .strip_prefix("[exit ")
                .and_then(|r| r.strip_suffix(']'))
            {
                Some(code) => step.exit = code.parse().unwrap(),
                None => step.expected.push(line.trim_end().to_string()),
            }
        }
    }
    steps
}

fn run_transcript(file: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cli")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let steps = parse(&text);
    assert!(!steps.is_empty(), "{file} has no commands");
    let node = Node::start();
    let empty = tempfile::tempdir().unwrap();
    for step in steps {
        let mut w = words(&step.command);
        let mut env: Vec<(String, String)> = Vec::new();
        while w.first().is_some_and(|x| x.contains('=') && x != "qun") {
            let kv = w.remove(0);
            let (k, v) = kv.split_once('=').unwrap();
            let v = v.replace("$EMPTY", &empty.path().display().to_string());
            env.push((k.to_string(), v));
        }
        assert_eq!(
            w.first().map(String::as_str),
            Some("qun"),
            "{file}:{}",
            step.line
        );
        let mut cmd = qun();
        cmd.args(&w[1..]).env("QUN_DATA_DIR", node.dir.path());
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let out = cmd.stdin(Stdio::null()).output().unwrap();
        let actual: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .chain(String::from_utf8_lossy(&out.stderr).lines())
            .map(|l| l.trim_end().to_string())
            .collect();
        let code = out.status.code().unwrap_or(-1);
        let ok = code == step.exit
            && actual.len() == step.expected.len()
            && step
                .expected
                .iter()
                .zip(&actual)
                .all(|(p, a)| matches(p, a));
        assert!(
            ok,
            "{file}:{}: `{}`\n--- expected (exit {}):\n{}\n--- actual (exit {code}):\n{}\n",
            step.line,
            step.command,
            step.exit,
            step.expected.join("\n"),
            actual.join("\n"),
        );
    }
    drop(node);
}

#[test]
fn pattern_matching() {
    assert!(matches("created [..]", "created b123"));
    assert!(matches("a [..] c [..] e", "a b c d e"));
    assert!(!matches("a [..] c", "a b d"));
    assert!(!matches("exact", "exact!"));
    assert!(matches("[..]", ""));
    assert_eq!(
        words(r#"qun post "Rust Meetup" "Hello, world""#),
        ["qun", "post", "Rust Meetup", "Hello, world"]
    );
    assert_eq!(words(r#"qun x "" y"#), ["qun", "x", "", "y"]);
}

/// Every transcript file has a test below.
#[test]
fn every_transcript_runs() {
    let dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|f| f.ends_with(".md"))
        .collect();
    files.sort();
    assert_eq!(files, TRANSCRIPTS, "add a #[test] for each transcript");
}

const TRANSCRIPTS: [&str; 5] = [
    "community.md",
    "errors.md",
    "identity.md",
    "ledger.md",
    "market.md",
];

#[test]
fn community() {
    run_transcript("community.md");
}

#[test]
fn errors() {
    run_transcript("errors.md");
}

#[test]
fn ledger() {
    run_transcript("ledger.md");
}

#[test]
fn market() {
    run_transcript("market.md");
}

#[test]
fn identity() {
    run_transcript("identity.md");
}
