//! `qun_crdt::prescan` against `automerge::Change::from_bytes`, on real post changes and on
//! hostile ones (refused without parsing).
//!
//! * `prescan/post`, `prescan/from_bytes_post`: one signed post change of the benchmark workload
//!   (418 bytes, 4 operations);
//! * `prescan/hostile_2^40_ops`: a ~90-byte change whose action column declares 2^40
//!   operations (`from_bytes` would run for hours; not measured);
//! * `prescan/hostile_2^40_preds`: one operation with 2^40 predecessors.
//!
//! Wall time: these take microseconds, below what `common::CpuTime` (schedstat) resolves in
//! criterion's first samples.
//!
//! Run: `cargo bench -p qun-crdt --bench prescan`.

mod common;

use common::{Workload, generate};
use criterion::{Criterion, criterion_group, criterion_main};
use qun_crdt::limits::DEFAULT_MAX_OPS_PER_CHANGE;
use qun_crdt::prescan::{PrescanError, prescan};
use sha2::{Digest, Sha256};
use std::hint::black_box;
use std::time::Duration;

const MAX: u64 = DEFAULT_MAX_OPS_PER_CHANGE as u64;

fn uleb(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// An uncompressed change chunk with one dependency, a 32-byte actor and the given columns,
/// each `(spec, data)`.
fn hostile(cols: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut body = vec![1];
    body.extend([0x11; 32]); // dependency
    body.push(32);
    body.extend([0x22; 32]); // actor
    body.extend([1, 1, 0, 0, 0]); // seq, start op, time, message, other actors
    uleb(cols.len() as u64, &mut body);
    for (spec, data) in cols {
        uleb(u64::from(*spec), &mut body);
        uleb(data.len() as u64, &mut body);
    }
    for (_, data) in cols {
        body.extend(data);
    }
    let mut head = vec![1];
    uleb(body.len() as u64, &mut head);
    let hash = Sha256::new()
        .chain_update(&head)
        .chain_update(&body)
        .finalize();
    let mut out = vec![0x85, 0x6f, 0x4a, 0x83];
    out.extend_from_slice(&hash[..4]);
    out.extend(head);
    out.extend(body);
    out
}

/// A run of `n` rows of the one-byte value `v` (`n` < 2^62).
fn run(n: u64, v: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    // Signed LEB128 of a positive n: unsigned, plus a 0 byte if the top bit is the sign bit.
    uleb(n, &mut out);
    if out.last().is_some_and(|b| b & 0x40 != 0) {
        *out.last_mut().expect("byte") |= 0x80;
        out.push(0);
    }
    out.extend_from_slice(v);
    out
}

fn bench(c: &mut Criterion) {
    let h = generate(Workload::one_window(20));
    let post = h.posts[10].bytes.clone();
    let ops = prescan(&post, MAX, MAX).expect("post").ops;
    eprintln!("post: {} bytes, {ops} operations", post.len());

    let many_ops = hostile(&[(0x42, run(1 << 40, &[1]))]);
    let mut big = Vec::new();
    uleb(1 << 40, &mut big);
    let many_preds = hostile(&[
        (0x42, run(1, &[1])),
        (0x70, run(1, &big)),
        (0x71, run(1 << 40, &[0])),
        (0x73, run(1 << 40, &[0])),
    ]);
    assert!(matches!(
        prescan(&many_ops, MAX, MAX),
        Err(PrescanError::TooManyOps { .. })
    ));
    assert!(matches!(
        prescan(&many_preds, MAX, MAX),
        Err(PrescanError::TooManyPreds { .. })
    ));
    eprintln!(
        "hostile: {} bytes (2^40 ops), {} bytes (2^40 preds)",
        many_ops.len(),
        many_preds.len()
    );

    let mut g = c.benchmark_group("prescan");
    g.warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    g.bench_function("post", |b| {
        b.iter(|| prescan(black_box(&post), MAX, MAX).expect("post"))
    });
    g.bench_function("from_bytes_post", |b| {
        b.iter(|| automerge::Change::from_bytes(black_box(post.clone())).expect("post"))
    });
    g.bench_function("hostile_2^40_ops", |b| {
        b.iter(|| prescan(black_box(&many_ops), MAX, MAX).is_err())
    });
    g.bench_function("hostile_2^40_preds", |b| {
        b.iter(|| prescan(black_box(&many_preds), MAX, MAX).is_err())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
