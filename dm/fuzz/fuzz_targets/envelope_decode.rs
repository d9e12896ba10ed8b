//! Fan-out envelope decoding and decryption on arbitrary input
//! (`qun_dm::test_utils::EnvelopeFixture::check`: mode byte, then envelope bytes or an Olm
//! message addressed to the fixture recipient). Invariants: nothing panics; a decoded
//! envelope re-encodes to its input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qun_dm::test_utils::EnvelopeFixture;
use std::sync::{Mutex, OnceLock};

static FIXTURE: OnceLock<Mutex<EnvelopeFixture>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let fixture = FIXTURE.get_or_init(|| {
        Mutex::new(EnvelopeFixture::new().expect("the fixture devices know each other"))
    });
    let mut fixture = fixture.lock().unwrap_or_else(|e| e.into_inner());
    let _ = fixture.check(data);
});
