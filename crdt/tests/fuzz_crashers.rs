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

#[test]
fn fuzz_crashers_are_refused() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-crashers");
    let mut failures = Vec::new();
    let mut seen = 0;
    for (target, run) in TARGETS {
        let Ok(dir) = std::fs::read_dir(root.join(target)) else {
            continue;
        };
        let mut files: Vec<_> = dir.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        files.sort();
        for f in files.into_iter().filter(|f| f.is_file()) {
            if f.extension().is_some_and(|e| e == "md") {
                continue;
            }
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
