//! Replays `tests/fuzz-crashers/<target>/*`: inputs of the fuzz targets in `identity/fuzz` that
//! broke a decoder once, or were made by hand to break one. Each must be refused with an error.
//!
//! The files are fuzz inputs, so `cargo +nightly fuzz run <target> <file>` replays one in the
//! fuzzer. `envelope_decode` inputs start with a mode byte: even means the rest is envelope
//! bytes; odd means the rest is a body, signed under kind `mode >> 1 & 3` by the key with seed
//! `[1 + (mode >> 3) % 4; 32]`. `keyfile_open` inputs are keyfile bytes (the fuzzer also tries
//! them wrapped as `magic || input || blake3`; the fixtures here are whole files).

mod common;

use common::*;
use qun_identity::keyfile::{self, KeyBundle};
use qun_identity::{
    DeviceCert, Endorsement, Envelope, Error, Invitation, Limits, Revocation, SecretIdentity,
    SignedBody, verify_batch,
};
use std::path::{Path, PathBuf};

fn fixtures(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-crashers")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).expect("readable fixture");
            (p, bytes)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
}

/// The envelope bytes a fuzz input stands for.
fn envelope_bytes(input: &[u8]) -> Vec<u8> {
    let Some((&mode, rest)) = input.split_first() else {
        return Vec::new();
    };
    if mode & 1 == 0 {
        return rest.to_vec();
    }
    let tag = match mode >> 1 & 3 {
        0 => tag_of::<Endorsement>(),
        1 => tag_of::<DeviceCert>(),
        2 => tag_of::<Invitation>(),
        _ => tag_of::<Revocation>(),
    };
    forge(
        &SecretIdentity::from_seed(&[1 + (mode >> 3) % 4; 32]),
        &tag,
        rest,
    )
}

fn refused<T: SignedBody + PartialEq + std::fmt::Debug>(name: &Path, env: &Envelope) {
    let single = env.clone().verify::<T>(NOW);
    assert!(
        single.is_err(),
        "{} verified as {}",
        name.display(),
        T::KIND
    );
    assert_eq!(
        verify_batch::<T>(vec![env.clone(), env.clone()], NOW),
        vec![single.clone(), single],
        "{}: batch and single disagree",
        name.display()
    );
}

#[test]
fn envelope_decode_crashers_are_refused() {
    for (name, input) in fixtures("envelope_decode") {
        let bytes = envelope_bytes(&input);
        let env = match Envelope::decode(&bytes, &Limits::default()) {
            Ok(env) => env,
            Err(e) => {
                assert!(
                    matches!(e, Error::Decode { .. } | Error::TooLarge { .. }),
                    "{}: {e:?}",
                    name.display()
                );
                continue;
            }
        };
        assert_eq!(env.to_bytes(), bytes, "{}", name.display());
        refused::<Endorsement>(&name, &env);
        refused::<DeviceCert>(&name, &env);
        refused::<Invitation>(&name, &env);
        refused::<Revocation>(&name, &env);
    }
}

#[test]
fn hand_made_envelope_fixtures_fail_for_their_reason() {
    // The named fixtures pin the check each one exercises (see tests/tamper.rs).
    type Reason = fn(&Error) -> bool;
    let expect: &[(&str, Reason)] = &[
        ("small-order-r-signature", |e| {
            matches!(e, Error::BadSignature { .. })
        }),
        ("weak-key-universal-signature", |e| {
            matches!(e, Error::BadSignature { .. })
        }),
        ("unreduced-s", |e| matches!(e, Error::BadSignature { .. })),
        (
            "overlong-tag-length",
            |e| matches!(e, Error::Decode { reason, .. } if reason.contains("non-canonical")),
        ),
        ("oversized-body", |e| {
            matches!(
                e,
                Error::TooLarge {
                    limit: 1024,
                    actual: 1025
                }
            )
        }),
    ];
    let files = fixtures("envelope_decode");
    for (file, check) in expect {
        let (name, input) = files
            .iter()
            .find(|(p, _)| p.file_name().is_some_and(|n| n == *file))
            .unwrap_or_else(|| panic!("fixture {file} is missing"));
        let err = Envelope::decode(&envelope_bytes(input), &Limits::default())
            .and_then(|env| env.verify::<Endorsement>(NOW))
            .expect_err(file);
        assert!(check(&err), "{}: {err:?}", name.display());
    }
}

#[test]
fn keyfile_open_crashers_are_refused() {
    for (name, bytes) in fixtures("keyfile_open") {
        for pass in [None, Some("pw")] {
            let r = KeyBundle::open(&bytes, pass);
            assert!(r.is_err(), "{} opened with {pass:?}", name.display());
        }
        if name.ends_with("kdf-1gib-5-passes") {
            assert!(matches!(
                keyfile::open(&bytes, Some("pw")),
                Err(Error::KdfParams { .. })
            ));
        }
    }
}
