//! `QUN_KEYGEN_SEED` (deterministic keys for tests and transcripts) is honoured by builds with
//! debug assertions only: the `qun` binary these tests run is built with the same profile as
//! the tests, so under `cargo test` it must give the same keys for the same seed, and under
//! `cargo test --release` it must ignore the seed and say so on stderr.

use std::process::Command;

/// `qun init` in a fresh directory with `QUN_KEYGEN_SEED=seed`: member id and stderr.
fn init(seed: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_qun"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--json", "init", "--no-passphrase"])
        .env("QUN_KEYGEN_SEED", seed)
        .env("RUST_LOG", "error")
        .env_remove("QUN_PASSPHRASE")
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        v["member"].as_str().unwrap().to_string(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_seed_is_honoured_only_with_debug_assertions() {
    let (a, err_a) = init("keygen-test");
    let (b, _) = init("keygen-test");
    if cfg!(debug_assertions) {
        assert_eq!(a, b, "same seed, same keys");
        assert!(err_a.contains("deterministic keys"), "{err_a}");
    } else {
        assert_ne!(a, b, "a release build must not make keys from the seed");
        assert!(err_a.contains("ignored in release builds"), "{err_a}");
    }
}
