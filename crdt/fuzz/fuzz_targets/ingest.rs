//! Fuzz target `ingest`: see `crdt/tests/fuzz_harness/mod.rs` for how the input is read and
//! which invariants are checked. Crashers go to `crdt/tests/fuzz-crashers/ingest/`.
#![no_main]

#[path = "../../tests/fuzz_harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = harness::ingest(data);
});
