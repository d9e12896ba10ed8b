//! Replays `tests/fuzz-crashers/<target>/*`: inputs of the fuzz targets in `dm/fuzz` that broke
//! a decoder once, or were made by hand to break one. Each must be refused with an error. The
//! input formats (a mode byte, then bytes) are described in `src/test_utils.rs`.
//!
//! `cargo test -p qun-dm --test fuzz_crashers -- --ignored` writes the fuzz seeds
//! (`dm/fuzz/seeds/`) and the hand-made fixtures again.

use qun_dm::bundle::{MAX_BUNDLE_BYTES, MAX_ONE_TIME_KEYS};
use qun_dm::test_utils::{EnvelopeFixture, NOW, alice, check_bundle, signed_bundle_body};
use qun_dm::{DmDevice, FanOut, Item, Kind, PrekeyBundle};
use std::path::{Path, PathBuf};

fn dir(parts: &[&str]) -> PathBuf {
    let mut p = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for part in parts {
        p.push(part);
    }
    p
}

fn fixtures(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let d = dir(&["tests", "fuzz-crashers", target]);
    let mut files: Vec<_> = std::fs::read_dir(&d)
        .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).expect("readable fixture");
            (p, bytes)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", d.display());
    files
}

#[test]
fn bundle_decode_crashers_are_refused() {
    for (name, input) in fixtures("bundle_decode") {
        assert!(check_bundle(&input).is_err(), "{} accepted", name.display());
    }
}

#[test]
fn envelope_decode_crashers_are_refused() {
    let mut fixture = EnvelopeFixture::new().expect("fixture");
    for (name, input) in fixtures("envelope_decode") {
        let r = fixture.check(&input);
        assert!(r.is_err(), "{} accepted: {r:?}", name.display());
    }
}

fn with_mode(mode: u8, bytes: &[u8]) -> Vec<u8> {
    let mut v = vec![mode];
    v.extend_from_slice(bytes);
    v
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, bytes).expect("write");
}

#[test]
#[ignore = "writes the fuzz seeds and hand-made fixtures"]
fn write_seeds_and_fixtures() {
    let (root, dev) = alice();
    let mut a = DmDevice::new(root.member_id(), dev.device_id());
    let bundle = a.publish_bundle(&dev, 3, NOW).expect("bundle");
    let seeds = dir(&["fuzz", "seeds", "bundle_decode"]);
    write(
        &seeds.join("bundle-envelope"),
        &with_mode(0, &bundle.to_bytes()),
    );
    write(
        &seeds.join("bundle-body"),
        &with_mode(1, bundle.envelope().body()),
    );

    let mut f = EnvelopeFixture::new().expect("fixture");
    let recipient = f.recipient.member();
    let sent = f.sender.encrypt(recipient, b"seed", NOW).expect("encrypt");
    let env = sent.envelope.to_bytes();
    let seeds = dir(&["fuzz", "seeds", "envelope_decode"]);
    write(&seeds.join("fanout"), &with_mode(0, &env));
    write(
        &seeds.join("prekey-message"),
        &with_mode(1, &sent.envelope.items[0].ciphertext),
    );
    f.recipient.decrypt(&env).expect("decrypt");
    let reply = f
        .recipient
        .encrypt(f.sender.member(), b"r", NOW)
        .expect("reply");
    f.sender
        .decrypt(&reply.envelope.to_bytes())
        .expect("decrypt reply");
    let normal = f.sender.encrypt(recipient, b"n", NOW).expect("normal");
    write(
        &seeds.join("normal-message"),
        &with_mode(3, &normal.envelope.items[0].ciphertext),
    );

    // Hand-made inputs that must be refused.
    let crash = dir(&["tests", "fuzz-crashers", "bundle_decode"]);
    write(
        &crash.join("oversized"),
        &with_mode(0, &vec![0; MAX_BUNDLE_BYTES + 1]),
    );
    let b = bundle.to_bytes();
    write(&crash.join("truncated"), &with_mode(0, &b[..b.len() / 2]));
    let mut too_many = bundle.value().clone();
    too_many.one_time_keys = (0..=MAX_ONE_TIME_KEYS as u8).map(|i| [i; 32]).collect();
    write(
        &crash.join("too-many-one-time-keys"),
        &with_mode(1, &postcard::to_allocvec(&too_many).expect("encode")),
    );
    let mut unsorted: PrekeyBundle = bundle.value().clone();
    unsorted.one_time_keys.reverse();
    write(
        &crash.join("unsorted-one-time-keys"),
        &with_mode(1, &postcard::to_allocvec(&unsorted).expect("encode")),
    );
    let mut resigned = signed_bundle_body(&dev, bundle.envelope().body());
    let last = resigned.len() - 1;
    resigned[last] ^= 0x40;
    write(&crash.join("bad-signature"), &with_mode(0, &resigned));

    let crash = dir(&["tests", "fuzz-crashers", "envelope_decode"]);
    write(
        &crash.join("truncated"),
        &with_mode(0, &env[..env.len() / 2]),
    );
    write(
        &crash.join("short-prekey-message"),
        &with_mode(1, &[3, 0x0a, 0x20]),
    );
    write(
        &crash.join("garbage-normal-message"),
        &with_mode(3, &[0x03; 100]),
    );
    let item = |k: u8| Item::new([k; 32], Kind::Normal, vec![1]);
    let dup = FanOut::new(
        f.sender.device(),
        f.sender.identity_key(),
        vec![item(1), item(1)],
    );
    write(
        &crash.join("duplicate-recipient"),
        &with_mode(0, &dup.to_bytes()),
    );
    // Made by other accounts (keys are random per run): addressed to nobody here.
    write(
        &crash.join("envelope-for-another-device"),
        &with_mode(0, &env),
    );
}
