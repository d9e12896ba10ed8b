//! `qun backup-phrase` runs the real binary: someone at the owner's terminal (where
//! `QUN_PASSPHRASE` may well be exported) does not get the root key's 24 words without typing
//! the keyfile's passphrase again; an unencrypted keyfile needs `--confirm`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn qun(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_qun"));
    c.arg("--data-dir")
        .arg(dir)
        .env("RUST_LOG", "error")
        .env("NO_COLOR", "1")
        .env_remove("QUN_PASSPHRASE")
        .env_remove("QUN_KEYGEN_SEED");
    c
}

/// Run with `stdin` piped in (not a terminal: the passphrase is read as one line).
fn run(mut c: Command, stdin: &str) -> Output {
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A refusal that needs no passphrase (`--confirm` missing) exits without reading stdin:
    // the pipe may be closed before the write, which is not the test's failure.
    match child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("writing stdin: {e}"),
        _ => {}
    }
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `qun init` and the phrase it printed.
fn init(dir: &Path, passphrase: Option<&str>) -> String {
    let mut c = qun(dir);
    c.arg("init");
    match passphrase {
        Some(p) => c.env("QUN_PASSPHRASE", p),
        None => c.arg("--no-passphrase"),
    };
    let out = run(c, "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let phrase = stdout
        .lines()
        .skip_while(|l| !l.contains("backup phrase"))
        .nth(1)
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(phrase.split_whitespace().count(), 24, "{stdout}");
    phrase
}

#[test]
fn an_encrypted_keyfile_needs_its_passphrase_typed_again() {
    let dir = tempfile::tempdir().unwrap();
    let phrase = init(dir.path(), Some("correct horse"));

    // Right: the phrase.
    let mut c = qun(dir.path());
    c.arg("backup-phrase");
    let out = run(c, "correct horse\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), phrase);

    // Wrong: refused (exit 5), nothing on stdout.
    let mut c = qun(dir.path());
    c.arg("backup-phrase");
    let out = run(c, "correct horse!\n");
    assert_eq!(out.status.code(), Some(5));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("wrong passphrase"),
        "{}",
        text(&out.stderr)
    );

    // Missing — also when QUN_PASSPHRASE holds it (it is not "typed again").
    for env in [None, Some("correct horse")] {
        let mut c = qun(dir.path());
        c.arg("backup-phrase");
        if let Some(p) = env {
            c.env("QUN_PASSPHRASE", p);
        }
        let out = run(c, "");
        assert_eq!(out.status.code(), Some(5), "{env:?}");
        assert!(out.stdout.is_empty());
        let err = text(&out.stderr);
        assert!(err.contains("typed again"), "{err}");
        assert!(err.contains("QUN_PASSPHRASE is not used"), "{err}");
    }
    // --confirm is no substitute for the passphrase.
    let mut c = qun(dir.path());
    c.args(["backup-phrase", "--confirm"]);
    let out = run(c, "");
    assert_eq!(out.status.code(), Some(5));
    assert!(out.stdout.is_empty());
}

#[test]
fn an_unencrypted_keyfile_needs_confirm() {
    let dir = tempfile::tempdir().unwrap();
    let phrase = init(dir.path(), None);
    let mut c = qun(dir.path());
    c.arg("backup-phrase");
    let out = run(c, "anything\n");
    assert_eq!(out.status.code(), Some(5));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert!(err.contains("no passphrase"), "{err}");
    assert!(err.contains("--confirm"), "{err}");

    let mut c = qun(dir.path());
    c.args(["backup-phrase", "--confirm"]);
    let out = run(c, "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), phrase);
}
