//! Ingest throughput: verify + authorize + apply signed post changes into a fresh replica.
//!
//! The changes are made beforehand by 5 members posting concurrently into one content
//! document (one channel, one window: the worst case, since Automerge's per-call cost grows with
//! the document) and syncing with each other every 20 posts. Each iteration offers all of them,
//! in the order they were made, to a replica that holds only the governance history:
//!
//! * `sync`: in the batches one sync response carries (up to the 4 MiB sync limit), one change
//!   at a time through `Community::ingest` (single ZIP-215 verification), one `flush` (= one
//!   `apply_changes`) per batch;
//! * `sync_batch`: the same batches through `Community::ingest_many`, as
//!   `Replicator::ingest_batch` does: the batch's signatures first, in ZIP-215 batch equations
//!   (`qun_identity::consensus`), then each change; `_t2` spreads the signatures over 2 threads
//!   (`sync_batch_t2_main` in the `ingest` group is the bench thread's share alone: the
//!   critical path, what the wall clock shows when the second core is free);
//! * `tick64`: a flush every 64 changes (one full gossip message, or a timer tick's worth);
//! * `gossip1`: one change per call and a flush after each, as one gossip message at a time
//!   without batching would be;
//! * `verify_strict` / `verify_zip215` / `verify_zip215_batch`: the signatures alone, strict
//!   ed25519 (what ingest did before), ZIP-215 one at a time, ZIP-215 in batches;
//!   `verify_ed25519_consensus`: the same checks by the `ed25519-consensus` crate, for scale;
//! * `automerge_only`: the physical limit — the same changes parsed and applied by Automerge in
//!   the same batches, no checks at all.
//!
//! Three groups, by what the clock measures: `ingest` is the CPU time of the benchmark thread
//! (everything on one core), `ingest_cpu` the CPU time of the whole process (every thread;
//! "changes per CPU-second" when verification runs on 2 threads), `ingest_wall` wall-clock
//! time (what 2 cores deliver; noisy on a shared machine).
//!
//! Run: `cargo bench -p qun-crdt --bench ingest` (`-- sync_batch` etc. to filter).

mod common;

use common::{CpuTime, History, ProcessCpuTime, Signed, Workload, generate};
use criterion::measurement::{Measurement, WallTime};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use qun_crdt::limits::DEFAULT_MAX_SYNC_BYTES;
use qun_crdt::test_utils::key;
use qun_crdt::{Community, DocId};
use qun_identity::consensus::{ConsensusKey, Item, verify_each};
use std::hint::black_box;
use std::time::Duration;

/// Sizes measured (`QUN_BENCH_SIZES=1000,10000` to choose).
fn sizes() -> Vec<usize> {
    std::env::var("QUN_BENCH_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 10_000, 20_000])
}

/// Batches as a sync response would cut them: by bytes, ~64 KiB margin, 72 bytes per change.
fn sync_batches(posts: &[Signed]) -> Vec<&[Signed]> {
    let budget = DEFAULT_MAX_SYNC_BYTES - 64 * 1024;
    let mut out = Vec::new();
    let (mut start, mut used) = (0, 0);
    for (i, s) in posts.iter().enumerate() {
        let size = s.bytes.len() + 72;
        if used + size > budget {
            out.push(&posts[start..i]);
            start = i;
            used = 0;
        }
        used += size;
    }
    out.push(&posts[start..]);
    out
}

fn run(mut c: Community, h: &History, batches: &[&[Signed]]) -> Community {
    let mut n = 0;
    for b in batches {
        for s in *b {
            if let Ok(qun_crdt::Ingested::Accepted(_)) = c.ingest(&s.doc, &s.bytes, &s.sig) {
                n += 1;
            }
        }
        c.flush().expect("flush");
    }
    assert_eq!(n, h.posts.len(), "every change must go in");
    black_box(c)
}

fn run_batched(mut c: Community, h: &History, batches: &[&[Signed]], threads: usize) -> Community {
    c.set_verify_threads(threads);
    let mut n = 0;
    for b in batches {
        let items: Vec<(&DocId, &[u8], &[u8; 64])> = b
            .iter()
            .map(|s| (&s.doc, s.bytes.as_slice(), &s.sig))
            .collect();
        n += c
            .ingest_many(&items)
            .into_iter()
            .filter(|r| matches!(r, Ok(qun_crdt::Ingested::Accepted(_))))
            .count();
        c.flush().expect("flush");
    }
    assert_eq!(n, h.posts.len(), "every change must go in");
    black_box(c)
}

/// The content document's genesis change (every post depends on it), taken from a replica.
fn doc_genesis(h: &History) -> automerge::Change {
    let mut c = h.replica_with_gov(&key(200));
    let s = &h.posts[0];
    c.ingest(&s.doc, &s.bytes, &s.sig).expect("first post");
    let saved = c.export_doc(&s.doc).expect("export");
    let doc = automerge::Automerge::load(&saved).expect("load");
    doc.get_changes(&[])
        .into_iter()
        .find(|c| c.deps().is_empty())
        .expect("genesis")
}

/// Automerge alone: parse and apply the same batches, nothing checked.
fn automerge_only(genesis: &automerge::Change, batches: &[&[Signed]]) -> automerge::Automerge {
    let mut doc = automerge::Automerge::new();
    doc.apply_changes([genesis.clone()]).expect("genesis");
    for b in batches {
        let changes: Vec<automerge::Change> = b
            .iter()
            .map(|s| automerge::Change::from_bytes(s.bytes.clone()).expect("change"))
            .collect();
        doc.apply_changes(changes).expect("apply");
    }
    black_box(doc)
}

struct Fixture {
    n: usize,
    h: History,
    genesis: automerge::Change,
}

fn fixtures() -> Vec<Fixture> {
    sizes()
        .into_iter()
        .map(|n| {
            let h = generate(Workload::one_window(n));
            let genesis = doc_genesis(&h);
            Fixture { n, h, genesis }
        })
        .collect()
}

fn group<'a, M: Measurement>(
    c: &'a mut Criterion<M>,
    name: &str,
    n: usize,
) -> criterion::BenchmarkGroup<'a, M> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(if n >= 10_000 { 20 } else { 5 }))
        .throughput(Throughput::Elements(n as u64));
    g
}

fn bench_thread_cpu(c: &mut Criterion<CpuTime>) {
    for f in fixtures() {
        let (n, h) = (f.n, &f.h);
        let sync = sync_batches(&h.posts);
        let mut g = group(c, "ingest", n);
        g.bench_with_input(BenchmarkId::new("sync", n), h, |b, h| {
            b.iter_batched(
                || h.replica_with_gov(&key(200)),
                |c| run(c, h, &sync),
                BatchSize::PerIteration,
            )
        });
        g.bench_with_input(BenchmarkId::new("sync_batch", n), h, |b, h| {
            b.iter_batched(
                || h.replica_with_gov(&key(200)),
                |c| run_batched(c, h, &sync, 1),
                BatchSize::PerIteration,
            )
        });
        // The bench thread's share when a second thread takes half the signatures: the
        // critical path, i.e. the wall-clock time when the second core is free.
        g.bench_with_input(BenchmarkId::new("sync_batch_t2_main", n), h, |b, h| {
            b.iter_batched(
                || h.replica_with_gov(&key(200)),
                |c| run_batched(c, h, &sync, 2),
                BatchSize::PerIteration,
            )
        });
        let tick: Vec<&[Signed]> = h.posts.chunks(64).collect();
        g.bench_with_input(BenchmarkId::new("tick64", n), h, |b, h| {
            b.iter_batched(
                || h.replica_with_gov(&key(200)),
                |c| run(c, h, &tick),
                BatchSize::PerIteration,
            )
        });
        // One flush per change is quadratic in Automerge 0.12: only the small size fits in a
        // criterion run; the table binary `catchup` measures the others once.
        if n <= 1_000 {
            let one: Vec<&[Signed]> = h.posts.chunks(1).collect();
            g.bench_with_input(BenchmarkId::new("gossip1", n), h, |b, h| {
                b.iter_batched(
                    || h.replica_with_gov(&key(200)),
                    |c| run(c, h, &one),
                    BatchSize::PerIteration,
                )
            });
        }
        g.bench_function(BenchmarkId::new("automerge_only", n), |b| {
            b.iter(|| automerge_only(&f.genesis, &sync))
        });
        // The signatures alone.
        let sigs: Vec<([u8; 32], Vec<u8>, [u8; 64])> = h
            .posts
            .iter()
            .map(|s| {
                let change = automerge::Change::from_bytes(s.bytes.clone()).expect("change");
                let actor: [u8; 32] = change.actor_id().to_bytes().try_into().expect("actor");
                let msg = qun_crdt::signing_message(&h.genesis.id(), &s.doc, &change.hash());
                (actor, msg, s.sig)
            })
            .collect();
        let strict: Vec<ed25519_dalek::VerifyingKey> = sigs
            .iter()
            .map(|(a, _, _)| ed25519_dalek::VerifyingKey::from_bytes(a).expect("key"))
            .collect();
        let zip: Vec<ConsensusKey> = sigs
            .iter()
            .map(|(a, _, _)| ConsensusKey::from_bytes(a).expect("key"))
            .collect();
        g.bench_function(BenchmarkId::new("verify_strict", n), |b| {
            b.iter(|| {
                for (k, (_, m, s)) in strict.iter().zip(&sigs) {
                    k.verify_strict(m, &ed25519_dalek::Signature::from_bytes(s))
                        .expect("valid");
                }
            })
        });
        g.bench_function(BenchmarkId::new("verify_zip215", n), |b| {
            b.iter(|| {
                for (k, (_, m, s)) in zip.iter().zip(&sigs) {
                    k.verify(m, s).expect("valid");
                }
            })
        });
        // The crate whose rules ZIP-215 verification follows (the tests' oracle), for scale:
        // its curve25519-dalek-ng fork has no runtime-selected SIMD backend.
        let consensus: Vec<ed25519_consensus::VerificationKey> = sigs
            .iter()
            .map(|(a, _, _)| ed25519_consensus::VerificationKey::try_from(*a).expect("key"))
            .collect();
        g.bench_function(BenchmarkId::new("verify_ed25519_consensus", n), |b| {
            b.iter(|| {
                for (k, (_, m, s)) in consensus.iter().zip(&sigs) {
                    k.verify(&ed25519_consensus::Signature::from(*s), m)
                        .expect("valid");
                }
            })
        });
        let items: Vec<Item<'_>> = zip
            .iter()
            .zip(&sigs)
            .map(|(key, (_, msg, sig))| Item { key, msg, sig })
            .collect();
        g.bench_function(BenchmarkId::new("verify_zip215_batch", n), |b| {
            b.iter(|| assert!(verify_each(&items, 1).into_iter().all(|ok| ok)))
        });
        g.finish();
    }
}

fn bench_process_cpu(c: &mut Criterion<ProcessCpuTime>) {
    for f in fixtures() {
        let (n, h) = (f.n, &f.h);
        let sync = sync_batches(&h.posts);
        let mut g = group(c, "ingest_cpu", n);
        for threads in [1, 2] {
            g.bench_with_input(
                BenchmarkId::new(format!("sync_batch_t{threads}"), n),
                h,
                |b, h| {
                    b.iter_batched(
                        || h.replica_with_gov(&key(200)),
                        |c| run_batched(c, h, &sync, threads),
                        BatchSize::PerIteration,
                    )
                },
            );
        }
        g.finish();
    }
}

fn bench_wall(c: &mut Criterion<WallTime>) {
    for f in fixtures() {
        let (n, h) = (f.n, &f.h);
        let sync = sync_batches(&h.posts);
        let mut g = group(c, "ingest_wall", n);
        for threads in [1, 2] {
            g.bench_with_input(
                BenchmarkId::new(format!("sync_batch_t{threads}"), n),
                h,
                |b, h| {
                    b.iter_batched(
                        || h.replica_with_gov(&key(200)),
                        |c| run_batched(c, h, &sync, threads),
                        BatchSize::PerIteration,
                    )
                },
            );
        }
        g.bench_function(BenchmarkId::new("automerge_only", n), |b| {
            b.iter(|| automerge_only(&f.genesis, &sync))
        });
        g.finish();
    }
}

criterion_group! {
    name = thread_cpu;
    // CPU time of the benchmark thread: the machine is shared (see `common::CpuTime`).
    config = Criterion::default().with_measurement(CpuTime);
    targets = bench_thread_cpu
}
criterion_group! {
    name = process_cpu;
    config = Criterion::default().with_measurement(ProcessCpuTime);
    targets = bench_process_cpu
}
criterion_group! {
    name = wall;
    config = Criterion::default();
    targets = bench_wall
}
criterion_main!(thread_cpu, process_cpu, wall);
