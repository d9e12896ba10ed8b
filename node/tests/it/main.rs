//! The node's integration tests, one test binary with a module per topic (one link instead of
//! one per file: linking the node is most of a warm rebuild). Run one topic with
//! `cargo test -p qun-node --test it <module>::`, e.g. `--test it web::`.
//!
//! * In-process nodes on 127.0.0.1, driven through their `NodeHandle`s (`common`): `adversary`,
//!   `blobs`, `cluster`, `devices`, `discovery`, `dm`, `joining`, `known_peers`, `limits`, `private`, `restart`,
//!   `store_failure`, `two_nodes`.
//! * Their HTTP API and web page: `api`, `web` (headless Chromium over WebDriver).
//! * The real `qun` binary as a child process: `backup_phrase`, `cli` (the transcripts in
//!   `tests/cli/`), `crash`, `keygen_seed`, `second_node`, `soak` (six of them under a steady
//!   workload for 2 minutes; `QUN_SOAK_MINUTES=30` for the long run).
//! * Decoders of other people's input under proptest: `fuzz_props` (the harness in
//!   `tests/fuzz_harness`, shared with `node/fuzz`).
//!
//! The chaos suite (network faults between `qun up` processes) stays a binary of its own.

mod common;

mod adversary;
mod api;
mod backup_phrase;
mod blobs;
mod cli;
mod cluster;
mod crash;
mod devices;
mod discovery;
mod dm;
mod fuzz_props;
mod joining;
mod keygen_seed;
mod known_peers;
mod limits;
mod private;
mod restart;
mod restore;
mod second_node;
mod service;
mod soak;
mod store_failure;
mod two_nodes;
mod upgrade;
mod web;
