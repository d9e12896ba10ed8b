//! Keyfile parsing on arbitrary input.
//!
//! The input is tried as it is, then wrapped as `magic || input || blake3` so that it gets past
//! the checksum and reaches the parser. Passphrase-protected files are opened with a passphrase
//! only when their KDF parameters are cheap: the point is the parser, not Argon2's cost.
//!
//! Invariants: nothing panics; a file that opens re-seals (unencrypted) to a file that opens to
//! the same bundle.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qun_identity::keyfile::{self, KeyBundle, Protection};

const MAGIC: &[u8; 8] = b"QUNKEY\x00\x01";

fn try_open(bytes: &[u8]) {
    let _ = keyfile::is_encrypted(bytes);
    let _ = keyfile::open(bytes, None);
    if let Ok(b) = KeyBundle::open(bytes, None) {
        let again = b
            .seal(Protection::Unencrypted)
            .expect("a bundle that opened seals");
        let back = KeyBundle::open(&again, None).expect("re-sealed bundle opens");
        assert_eq!(back.device, b.device);
        assert_eq!(back.root, b.root);
        assert_eq!(back.device_cert, b.device_cert);
    }
    let cheap = bytes.len() >= 21 && bytes[8] == 1 && {
        let word =
            |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        word(9) <= 256 && word(13) <= 2 && word(17) <= 2
    };
    if cheap {
        let _ = KeyBundle::open(bytes, Some("pw"));
    }
}

fuzz_target!(|data: &[u8]| {
    try_open(data);
    let mut wrapped = MAGIC.to_vec();
    wrapped.extend_from_slice(data);
    let sum = *blake3::hash(&wrapped).as_bytes();
    wrapped.extend_from_slice(&sum);
    try_open(&wrapped);
});
