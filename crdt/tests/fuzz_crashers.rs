//! Every input a fuzzer ever crashed on is kept under `tests/fuzz-crashers/<target>/` and must
//! now be refused (`Err`) without a panic, through the same entry points as the fuzz targets
//! (`crdt/fuzz`, see `tests/fuzz_harness/mod.rs`).

mod fuzz_harness;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

type Target = fn(&[u8]) -> Result<usize, String>;

const TARGETS: [(&str, Target); 3] = [
    ("gossip_decode", fuzz_harness::gossip_decode),
    ("sync_decode", fuzz_harness::sync_decode),
    ("ingest", fuzz_harness::ingest),
];

/// Crasher folders checked elsewhere (`tests/prescan.rs` feeds `prescan/` to its harness).
const CHECKED_ELSEWHERE: [&str; 1] = ["prescan"];

fn files_of(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|f| f.is_file() && f.extension().is_none_or(|e| e != "md"))
        .collect();
    files.sort();
    files
}

#[test]
fn fuzz_crashers_are_refused() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-crashers");
    // A crasher filed under a folder no harness reads would never be checked.
    for e in std::fs::read_dir(&root).expect("tests/fuzz-crashers exists") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            assert!(
                TARGETS.iter().any(|(t, _)| *t == name) || CHECKED_ELSEWHERE.contains(&name),
                "crashers in {} belong to no harness",
                p.display()
            );
        }
    }
    let mut failures = Vec::new();
    let mut seen = 0;
    for (target, run) in TARGETS {
        for f in files_of(&root.join(target)) {
            seen += 1;
            let data = std::fs::read(&f).expect("read crasher");
            match catch_unwind(AssertUnwindSafe(|| run(&data))) {
                Ok(Err(_)) => {}
                Ok(Ok(n)) => failures.push(format!("{}: accepted {n} change(s)", f.display())),
                Err(_) => failures.push(format!("{}: panicked", f.display())),
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    eprintln!("{seen} crasher fixtures refused");
}

/// The harnesses reach the core on real inputs: every seed of every target runs without a
/// panic, and each target accepts at least one of its seeds (so a harness that refused
/// everything, or a seed folder gone stale after a format change, fails here rather than
/// making the fuzzers and the crasher check above vacuous).
#[test]
fn fuzz_seeds_reach_the_core() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    for (target, run) in TARGETS {
        let seeds = files_of(&root.join(target));
        assert!(
            seeds.len() >= 3,
            "{target}: only {} seeds under fuzz/seeds (regenerate with write_fuzz_seeds)",
            seeds.len()
        );
        // Decoders accept a seed by decoding it; `ingest` only when a change went in.
        let needs_changes = target == "ingest";
        let mut accepted = 0;
        for f in &seeds {
            let data = std::fs::read(f).expect("read seed");
            match catch_unwind(AssertUnwindSafe(|| run(&data))) {
                Ok(Ok(n)) if n > 0 || !needs_changes => accepted += 1,
                Ok(_) => {}
                Err(_) => panic!("{}: panicked", f.display()),
            }
        }
        assert!(
            accepted > 0,
            "{target}: none of {} seeds was accepted: the harness no longer reaches the core",
            seeds.len()
        );
        eprintln!("{target}: {accepted} of {} seeds accepted", seeds.len());
    }
}

/// Writes the fuzzers' seed inputs (valid messages and changes of the fixture, in each target's
/// input format) to `crdt/fuzz/seeds/<target>/`. Run by hand after changing the harness:
/// `cargo test -p qun-crdt --test fuzz_crashers -- --ignored write_fuzz_seeds`.
#[test]
#[ignore]
fn write_fuzz_seeds() {
    use fuzz_harness::{Mode, fixture};
    use qun_crdt::replicate::wire::{self, GossipMsg, SyncRequest, SyncResponse, WireChange};
    let fx = fixture();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let write = |target: &str, name: String, data: &[u8]| {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join(name), data).expect("write seed");
    };
    let doc_ix = |d: &qun_crdt::DocId| fx.docs.iter().position(|x| x == d).unwrap_or(0) as u8;
    let heads: Vec<(qun_crdt::DocId, Vec<wire::WireHash>)> = {
        let mut c = fuzz_harness::community();
        qun_crdt::test_utils::all_heads(&mut c)
            .into_iter()
            .map(|(d, h)| (d, h.into_iter().map(wire::WireHash::from).collect()))
            .collect()
    };
    for (i, (doc, bytes, sig)) in fx.changes.iter().enumerate() {
        let wc = WireChange {
            bytes: bytes.clone(),
            sig: *sig,
        };
        let gossip = wire::encode(&GossipMsg {
            community: fx.id,
            doc: doc.clone(),
            changes: vec![wc.clone()],
        });
        write("gossip_decode", format!("change-{i:02}"), &gossip);
        let push = wire::encode(&SyncRequest::Push {
            community: fx.id,
            docs: vec![(doc.clone(), vec![wc.clone()])],
        });
        let resp = wire::encode(&SyncResponse::Changes {
            community: fx.id,
            genesis: (i == 0).then(|| fx.genesis.to_bytes()),
            docs: vec![(doc.clone(), vec![wc])],
            heads: heads.clone(),
            samples: Vec::new(),
            more: i % 2 == 0,
        });
        write(
            "sync_decode",
            format!("push-{i:02}"),
            &[[0].as_slice(), &push].concat(),
        );
        write(
            "sync_decode",
            format!("changes-{i:02}"),
            &[[1].as_slice(), &resp].concat(),
        );
        let raw = [[doc_ix(doc)].as_slice(), sig.as_slice(), bytes].concat();
        for mode in [
            Mode::Direct,
            Mode::GossipWrapped,
            Mode::SyncPushWrapped,
            Mode::SyncResponseWrapped,
        ] {
            write(
                "ingest",
                format!("{mode:?}-{i:02}"),
                &[[mode.byte()].as_slice(), &raw].concat(),
            );
        }
        write(
            "ingest",
            format!("GossipRaw-{i:02}"),
            &[[Mode::GossipRaw.byte()].as_slice(), &gossip].concat(),
        );
        write(
            "ingest",
            format!("SyncRequestRaw-{i:02}"),
            &[[Mode::SyncRequestRaw.byte()].as_slice(), &push].concat(),
        );
        write(
            "ingest",
            format!("SyncResponseRaw-{i:02}"),
            &[[Mode::SyncResponseRaw.byte()].as_slice(), &resp].concat(),
        );
        write(
            "ingest",
            format!("MutateValid-{i:02}"),
            &[Mode::MutateValid.byte(), i as u8, 70, 0, 1],
        );
    }
    // `SignedBody` seeds: bodies of changes the fixture lacks (new posts, a reaction, a
    // profile, a channel by the founder), which the harness seals and signs again.
    for (i, (doc, body, signer)) in fuzz_harness::fresh_bodies().into_iter().enumerate() {
        write(
            "ingest",
            format!("SignedBody-{i:02}"),
            &[
                [Mode::SignedBody.byte(), doc_ix(&doc), signer].as_slice(),
                &body,
            ]
            .concat(),
        );
    }
    let req = wire::encode(&SyncRequest::Heads {
        community: fx.id,
        want_genesis: true,
        docs: heads.clone(),
        access: None,
    });
    write(
        "sync_decode",
        "heads".into(),
        &[[0].as_slice(), &req].concat(),
    );
    write(
        "ingest",
        "SyncRequestRaw-heads".into(),
        &[[Mode::SyncRequestRaw.byte()].as_slice(), &req].concat(),
    );
    let ack = wire::encode(&SyncResponse::Ack {
        community: fx.id,
        accepted: 3,
    });
    write(
        "sync_decode",
        "ack".into(),
        &[[1].as_slice(), &ack].concat(),
    );
}
