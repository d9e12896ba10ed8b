//! The fuzz harness (`tests/fuzz_harness`, also run by `node/fuzz`) under proptest, so CI
//! covers the decoders of other people's input on every run: random bytes, and mutations of
//! valid invite codes, device codes, sync frames and blob messages.

#[path = "../fuzz_harness/mod.rs"]
mod harness;

use libp2p::Multiaddr;
use proptest::prelude::*;
use qun_crdt::CommunityId;
use qun_node::device::DeviceCode;
use qun_node::invite::InviteCode;

fn invite_code(addrs: usize, invitation: Option<Vec<u8>>) -> String {
    let c = CommunityId(qun_identity::ContentId::of(b"fuzz"));
    let a: Vec<Multiaddr> = (0..addrs)
        .map(|i| format!("/ip4/10.0.0.{i}/tcp/4001").parse().unwrap())
        .collect();
    InviteCode::new(c, &a, invitation, None).encode()
}

/// Replace byte `at % len` of `s` by `with`.
fn mutate(s: &str, at: usize, with: u8) -> Vec<u8> {
    let mut b = s.as_bytes().to_vec();
    if !b.is_empty() {
        let i = at % b.len();
        b[i] = with;
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        harness::invite(&data);
        harness::device(&data);
        harness::sync_frame(&data);
        harness::blob_frame(&data);
    }

    #[test]
    fn blob_messages(kind in 0u8..6, len in prop_oneof![0u64..2048, Just(u64::MAX)], body in proptest::collection::vec(any::<u8>(), 0..1100), framed: bool) {
        let mut msg = vec![qun_node::blobs::wire::VERSION, kind];
        msg.extend(len.to_be_bytes());
        msg.extend(body);
        harness::blob_frame(&msg);
        if framed {
            let mut data = (msg.len() as u32).to_be_bytes().to_vec();
            data.extend(msg);
            harness::blob_frame(&data);
        }
    }

    #[test]
    fn mutated_invite_codes(addrs in 0usize..20, inv in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..200)), at: usize, with: u8) {
        let code = invite_code(addrs, inv);
        harness::invite(code.as_bytes());
        harness::invite(&mutate(&code, at, with));
    }

    #[test]
    fn mutated_device_codes(cert in proptest::collection::vec(any::<u8>(), 0..200), n in 0usize..4, at: usize, with: u8) {
        let code = DeviceCode {
            cert,
            communities: (0..n).map(|i| CommunityId(qun_identity::ContentId::of(&[i as u8]))).collect(),
            addrs: vec![],
        }
        .encode();
        harness::device(code.as_bytes());
        harness::device(&mutate(&code, at, with));
    }

    #[test]
    fn sync_frames(len in 0u32..5000, body in proptest::collection::vec(any::<u8>(), 0..5000)) {
        let mut data = len.to_be_bytes().to_vec();
        data.extend(body);
        harness::sync_frame(&data);
    }
}

#[test]
fn long_codes_are_refused_quickly() {
    // base58 is quadratic: a megabyte of code must be refused by its length.
    let long = format!("qun1{}", "z".repeat(1 << 20));
    assert!(InviteCode::decode(&long).is_err());
    let long = format!("qund1{}", "z".repeat(1 << 20));
    assert!(DeviceCode::decode(&long).is_err());
}

/// Writes valid codes as seeds for `node/fuzz`:
/// `cargo test --workspace --test it -- --ignored fuzz_props::write_seeds`.
#[test]
#[ignore]
fn write_seeds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    std::fs::create_dir_all(dir.join("invite_decode")).unwrap();
    std::fs::create_dir_all(dir.join("device_decode")).unwrap();
    std::fs::write(
        dir.join("invite_decode/valid"),
        invite_code(2, Some(vec![7; 120])),
    )
    .unwrap();
    std::fs::write(dir.join("invite_decode/bare"), invite_code(0, None)).unwrap();
    let device = DeviceCode {
        cert: vec![9; 150],
        communities: vec![CommunityId(qun_identity::ContentId::of(b"seed"))],
        addrs: vec![],
    };
    std::fs::write(dir.join("device_decode/valid"), device.encode()).unwrap();
}
