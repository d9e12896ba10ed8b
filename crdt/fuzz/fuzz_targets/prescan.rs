//! Fuzz target `prescan`: see `crdt/tests/prescan_harness/mod.rs` for how the input is read
//! (raw change bytes, or a change body sealed with a valid checksum) and which invariants are
//! checked. Crashers go to `crdt/tests/fuzz-crashers/prescan/`.
#![no_main]

#[path = "../../tests/prescan_harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = harness::check(data);
});
