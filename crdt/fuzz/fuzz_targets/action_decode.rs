//! Fuzz target `action_decode`: change messages (every action, the ledger's and the market's
//! included) as peers send them; see `crdt/tests/fuzz_harness/mod.rs` for the invariants.
#![no_main]

#[path = "../../tests/fuzz_harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = harness::action_decode(data);
});
