//! Envelope throughput: signing, single and batch verification, key text parsing.
//!
//! Run with `cargo bench -p qun-identity --bench envelope`; the figures go into BENCHMARKS.md.
//! Everything runs on one thread.
//!
//! Times are the benchmark thread's CPU time (Linux `CLOCK_THREAD_CPUTIME_ID`), not wall time,
//! so the figures say what one core does even when other work shares the machine (a busy
//! shared machine otherwise halves or thirds them at random). Set `QUN_BENCH_WALL=1` to
//! measure wall time instead.

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use qun_identity::{
    ContentId, Endorsement, Envelope, Limits, PublicIdentity, Scope, SecretIdentity, Signed,
    Timestamp, Topic, Weight, verify_batch,
};
use std::hint::black_box;
use std::time::Duration;

/// Envelopes in one batch.
const BATCH: usize = 10_000;
/// Distinct signers among them.
const SIGNERS: usize = 1_000;

const NOW: Timestamp = Timestamp::from_millis(1_700_000_000_000);

/// Criterion measurement: CPU time of the calling thread (wall time with `QUN_BENCH_WALL=1`).
struct ThreadTime {
    wall: bool,
}

impl ThreadTime {
    fn from_env() -> Self {
        ThreadTime {
            wall: std::env::var_os("QUN_BENCH_WALL").is_some_and(|v| v != "0"),
        }
    }

    fn now(&self) -> Duration {
        #[cfg(target_os = "linux")]
        if !self.wall {
            return thread_cpu_time();
        }
        static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        EPOCH.get_or_init(std::time::Instant::now).elapsed()
    }
}

/// The calling thread's CPU time.
#[cfg(target_os = "linux")]
fn thread_cpu_time() -> Duration {
    use std::ffi::{c_int, c_long};
    #[repr(C)]
    struct Timespec {
        tv_sec: c_long,
        tv_nsec: c_long,
    }
    unsafe extern "C" {
        fn clock_gettime(clock: c_int, ts: *mut Timespec) -> c_int;
    }
    const CLOCK_THREAD_CPUTIME_ID: c_int = 3;
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the call writes only into it.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

impl Measurement for ThreadTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        self.now()
    }
    fn end(&self, start: Duration) -> Duration {
        self.now().saturating_sub(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        static WALL: WallTime = WallTime;
        WALL.formatter()
    }
}

fn key(i: usize) -> SecretIdentity {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
    seed[31] = 0x51;
    SecretIdentity::from_seed(&seed)
}

/// A realistic endorsement: topic, community scope, expiry and a short note (~180-byte
/// envelope).
fn endorsement(from: &SecretIdentity, to: &SecretIdentity, i: usize) -> Endorsement {
    Endorsement {
        from: from.member_id(),
        to: to.member_id(),
        topic: Topic::new("rust").expect("valid"),
        scope: Scope::Community(ContentId::of(b"bench community")),
        weight: Weight::from_millis(((i % 2001) as i16) - 1000).expect("in range"),
        created: NOW.plus_millis(i as u64),
        expires: Some(NOW.plus_millis(365 * 86_400_000)),
        note: "good reviews".into(),
    }
}

/// `BATCH` signed endorsement envelopes as wire bytes.
fn corpus() -> Vec<Vec<u8>> {
    let keys: Vec<SecretIdentity> = (0..SIGNERS).map(key).collect();
    (0..BATCH)
        .map(|i| {
            let from = &keys[i % SIGNERS];
            let to = &keys[(i * 7 + 1) % SIGNERS];
            let to = if to == from {
                &keys[(i + 1) % SIGNERS]
            } else {
                to
            };
            Signed::sign(from, endorsement(from, to, i))
                .expect("valid")
                .to_bytes()
        })
        .collect()
}

fn sign_and_verify(c: &mut Criterion<ThreadTime>) {
    let (alice, bob) = (key(1), key(2));
    let e = endorsement(&alice, &bob, 0);
    let bytes = Signed::sign(&alice, e.clone()).expect("valid").to_bytes();
    let limits = Limits::default();

    let mut g = c.benchmark_group("envelope");
    g.throughput(Throughput::Elements(1));
    g.bench_function("sign", |b| {
        b.iter_batched(
            || e.clone(),
            |e| Signed::sign(&alice, e).expect("valid").to_bytes(),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("decode", |b| {
        b.iter(|| Envelope::decode(black_box(&bytes), &limits).expect("decodes"))
    });
    g.bench_function("decode_verify", |b| {
        b.iter(|| {
            Envelope::decode(black_box(&bytes), &limits)
                .and_then(|env| env.verify::<Endorsement>(NOW))
                .expect("verifies")
        })
    });
    let msg = b"qun/endorsement/v1\0 a message of about the size of an endorsement body";
    let sig = alice.sign_raw(msg);
    let public = alice.public();
    g.bench_function("ed25519_verify_strict", |b| {
        b.iter(|| qun_identity::verify_raw(&public, black_box(msg), &sig).expect("valid"))
    });
    g.finish();
}

fn batch(c: &mut Criterion<ThreadTime>) {
    let bytes = corpus();
    let limits = Limits::default();
    let envelopes: Vec<Envelope> = bytes
        .iter()
        .map(|b| Envelope::decode(b, &limits).expect("decodes"))
        .collect();

    let mut g = c.benchmark_group("batch_10k");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    // The yardstick, measured next to the batch: plain strict ed25519 over the same 10k
    // signatures, no envelope work. On a shared machine the ratios to it are what carries over.
    let raw: Vec<(PublicIdentity, Vec<u8>, [u8; 64])> = envelopes
        .iter()
        .map(|e| {
            let b = e.to_bytes();
            let mut sig = [0u8; 64];
            sig.copy_from_slice(&b[b.len() - 64..]);
            let mut msg = e.tag().as_bytes().to_vec();
            msg.push(0);
            msg.extend_from_slice(e.body());
            (*e.author(), msg, sig)
        })
        .collect();
    g.bench_function("ed25519_verify_strict_each", |b| {
        b.iter(|| {
            for (k, m, s) in &raw {
                qun_identity::verify_raw(k, m, s).expect("valid");
            }
        })
    });
    g.bench_function("verify_batch", |b| {
        b.iter_batched(
            || envelopes.clone(),
            |envs| {
                let r = verify_batch::<Endorsement>(envs, NOW);
                assert!(r.iter().all(Result::is_ok));
                r
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("decode_and_verify_batch", |b| {
        b.iter(|| {
            let envs: Vec<Envelope> = bytes
                .iter()
                .map(|b| Envelope::decode(b, &limits).expect("decodes"))
                .collect();
            let r = verify_batch::<Endorsement>(envs, NOW);
            assert!(r.iter().all(Result::is_ok));
            r
        })
    });
    g.bench_function("verify_each", |b| {
        b.iter_batched(
            || envelopes.clone(),
            |envs| {
                for e in envs {
                    black_box(e.verify::<Endorsement>(NOW).expect("valid"));
                }
            },
            BatchSize::LargeInput,
        )
    });
    // One bad signature in the batch: the batch check fails and every envelope is checked
    // alone (the cost of an attacker slipping one bad envelope in).
    let mut poisoned = envelopes.clone();
    let mut bad = bytes[0].clone();
    let n = bad.len();
    bad[n - 40] ^= 1;
    poisoned[BATCH / 2] = Envelope::decode(&bad, &limits).expect("decodes");
    g.bench_function("verify_batch_one_bad", |b| {
        b.iter_batched(
            || poisoned.clone(),
            |envs| verify_batch::<Endorsement>(envs, NOW),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn text(c: &mut Criterion<ThreadTime>) {
    let k = key(3).public();
    let s = k.to_string();
    let id = ContentId::of(b"x");
    let id_s = id.to_string();
    let mut g = c.benchmark_group("text");
    g.throughput(Throughput::Elements(1));
    g.bench_function("public_key_parse", |b| {
        b.iter(|| {
            black_box(s.as_str())
                .parse::<PublicIdentity>()
                .expect("valid")
        })
    });
    g.bench_function("public_key_display", |b| {
        b.iter(|| black_box(&k).to_string())
    });
    g.bench_function("content_id_parse", |b| {
        b.iter(|| {
            black_box(id_s.as_str())
                .parse::<ContentId>()
                .expect("valid")
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .with_measurement(ThreadTime::from_env())
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = sign_and_verify, batch, text
}
criterion_main!(benches);
