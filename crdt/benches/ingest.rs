//! Ingest throughput: verify + authorize + apply signed post changes into a fresh replica.
//!
//! The changes are made beforehand by 5 members posting concurrently into one content
//! document (one channel, one window: the worst case, since Automerge's per-call cost grows with
//! the document) and syncing with each other every 20 posts. Each iteration offers all of them,
//! in the order they were made, to a replica that holds only the governance history:
//!
//! * `sync`: in the batches one sync response carries (up to the 4 MiB sync limit), one
//!   `flush` (= one `apply_changes`) per batch, as `Replicator::ingest_batch` does;
//! * `tick64`: a flush every 64 changes (one full gossip message, or a timer tick's worth);
//! * `gossip1`: one change per call and a flush after each, as one gossip message at a time
//!   without batching would be;
//! * `verify_only`: just the strict ed25519 verification of the same signatures (the floor).
//!
//! Times are CPU time of the benchmark thread (the machine is shared; see `common::CpuTime`).
//!
//! Run: `cargo bench -p qun-crdt --bench ingest` (`-- sync` etc. to filter).

mod common;

use common::{CpuTime, History, Signed, Workload, generate};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use qun_crdt::Community;
use qun_crdt::limits::DEFAULT_MAX_SYNC_BYTES;
use qun_crdt::test_utils::key;
use std::hint::black_box;
use std::time::Duration;

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

fn bench(c: &mut Criterion<CpuTime>) {
    for n in [1_000usize, 10_000, 20_000] {
        let h = generate(Workload::one_window(n));
        let mut g = c.benchmark_group("ingest");
        g.sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(if n >= 10_000 { 20 } else { 5 }))
            .throughput(Throughput::Elements(n as u64));
        let sync = sync_batches(&h.posts);
        g.bench_with_input(BenchmarkId::new("sync", n), &h, |b, h| {
            b.iter_batched(
                || h.replica_with_gov(&key(200)),
                |c| run(c, h, &sync),
                BatchSize::PerIteration,
            )
        });
        let tick: Vec<&[Signed]> = h.posts.chunks(64).collect();
        g.bench_with_input(BenchmarkId::new("tick64", n), &h, |b, h| {
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
            g.bench_with_input(BenchmarkId::new("gossip1", n), &h, |b, h| {
                b.iter_batched(
                    || h.replica_with_gov(&key(200)),
                    |c| run(c, h, &one),
                    BatchSize::PerIteration,
                )
            });
        }
        // The floor: strict ed25519 verification of the same signatures and nothing else
        // (every node must decide identically, so no batch verification: see DESIGN).
        let msgs: Vec<(
            ed25519_dalek::VerifyingKey,
            Vec<u8>,
            ed25519_dalek::Signature,
        )> = h
            .posts
            .iter()
            .map(|s| {
                let change = automerge::Change::from_bytes(s.bytes.clone()).expect("change");
                let actor: [u8; 32] = change.actor_id().to_bytes().try_into().expect("actor");
                let key = ed25519_dalek::VerifyingKey::from_bytes(&actor).expect("key");
                let msg = qun_crdt::signing_message(&h.genesis.id(), &s.doc, &change.hash());
                (key, msg, ed25519_dalek::Signature::from_bytes(&s.sig))
            })
            .collect();
        g.bench_function(BenchmarkId::new("verify_only", n), |b| {
            b.iter(|| {
                for (k, m, s) in &msgs {
                    k.verify_strict(m, s).expect("valid");
                }
            })
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    // CPU time of the benchmark thread: the machine is shared (see `common::CpuTime`).
    config = Criterion::default().with_measurement(CpuTime);
    targets = bench
}
criterion_main!(benches);
