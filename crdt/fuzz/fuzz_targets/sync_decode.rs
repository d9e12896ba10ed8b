//! Fuzz target `sync_decode`: see `crdt/tests/fuzz_harness/mod.rs` for how the input is read and
//! which invariants are checked. Crashers go to `crdt/tests/fuzz-crashers/sync_decode/`.
#![no_main]

#[path = "../../tests/fuzz_harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = harness::sync_decode(data);
});
