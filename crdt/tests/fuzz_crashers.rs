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
