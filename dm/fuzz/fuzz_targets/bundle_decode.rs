//! Prekey bundle verification on arbitrary input, then a sender learning the bundle and
//! encrypting to it (`qun_dm::test_utils::check_bundle`: mode byte, then bundle envelope bytes
//! or a body signed by the fixture device). Invariant: nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = qun_dm::test_utils::check_bundle(data);
});
