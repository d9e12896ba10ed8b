//! Memory and load time of a community with 100,000 posts (a table binary).
//!
//! The posts are made by 5 members, one every `--interval-s` seconds of virtual time (default
//! 300 s: a busy community's year), so the weekly content windows shard them into ~50
//! documents. The history is generated once and written to a file; each measurement then
//! runs in a fresh child process, so its peak RSS is its own:
//!
//! * `restore`: `Replicator::restore` of every stored change (each re-verified: signature,
//!   authorization, ownership), then the live heap (counting allocator) and the RSS;
//! * `load`: Automerge `load` of the saved documents (`Community::export`), the way a node
//!   could keep a snapshot next to its change log.
//!
//! Run: `cargo bench -p qun-crdt --bench memory` (`-- --posts 20000 --interval-s 30` to vary).

mod common;

use common::{Signed, Workload, generate_fresh, peak_rss_kib, rss_kib, thread_cpu_ns};
use qun_crdt::replicate::wire::WireChange;
use qun_crdt::test_utils::{T0, key};
use qun_crdt::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// The system allocator, counting live and peak heap bytes.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = LIVE.fetch_add(l.size(), Ordering::Relaxed) + l.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            if new >= l.size() {
                let now = LIVE.fetch_add(new - l.size(), Ordering::Relaxed) + new - l.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(l.size() - new, Ordering::Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn kib_mib(k: Option<u64>) -> f64 {
    k.unwrap_or(0) as f64 / 1024.0
}

/// The stored history: genesis, then `(doc, change, signature)` per change.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    genesis: Vec<u8>,
    community: CommunityId,
    changes: Vec<(DocId, WireChange)>,
}

fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn cache_path(posts: usize, interval_s: u64) -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    dir.join(format!("qun-crdt-bench-v2-{posts}-{interval_s}s.postcard"))
}

fn write_history(path: &Path, posts: usize, interval_s: u64) {
    let t = Instant::now();
    let h = generate_fresh(Workload {
        authors: 5,
        posts,
        post_interval_ms: interval_s * 1000,
        window_ms: qun_crdt::community::genesis::DEFAULT_WINDOW_MS,
        sync_every: 20,
        text_len: 120,
    });
    let stored = Stored {
        genesis: h.genesis.to_bytes(),
        community: h.genesis.id(),
        changes: h
            .all()
            .map(|s: &Signed| (s.doc.clone(), s.wire()))
            .collect(),
    };
    let bytes = postcard::to_allocvec(&stored).expect("encode");
    std::fs::write(path, bytes).expect("write history");
    eprintln!(
        "generated {posts} posts in {} documents in {:.1} s -> {}",
        h.content_docs(),
        t.elapsed().as_secs_f64(),
        path.display()
    );
}

fn read_history(path: &Path) -> Stored {
    let bytes = std::fs::read(path).expect("read history");
    postcard::from_bytes(&bytes).expect("decode history")
}

/// Child: restore through the Replicator; print one JSON line.
fn phase_restore(path: &Path) {
    let stored = read_history(path);
    let n = stored.changes.len();
    let raw: usize = stored.changes.iter().map(|(_, c)| c.bytes.len()).sum();
    let docs = {
        let mut d: Vec<&DocId> = stored.changes.iter().map(|(d, _)| d).collect();
        d.sort();
        d.dedup();
        d.len()
    };
    let (base_live, base_rss) = (LIVE.load(Ordering::Relaxed), rss_kib());
    PEAK.store(base_live, Ordering::Relaxed);
    let k = key(200);
    let m = k.member_id();
    let mut r: Replicator<u8> = Replicator::new(k, m, None, Config::default()).expect("new");
    // The node restores at the current time: after the last content window (at T0 every
    // window past the first would be "in the future" and refused).
    let last_window = stored
        .changes
        .iter()
        .filter_map(|(d, _)| match d {
            DocId::Content { window, .. } => Some(u64::from(*window)),
            DocId::Governance => None,
        })
        .max()
        .unwrap_or(0);
    let now = qun_identity::Timestamp::from_millis(
        (last_window + 1) * qun_crdt::community::genesis::DEFAULT_WINDOW_MS,
    )
    .max(T0);
    let t = Instant::now();
    let cpu0 = thread_cpu_ns();
    let rep = r
        .restore(now, &stored.community, &stored.genesis, stored.changes)
        .expect("restore");
    let secs = t.elapsed().as_secs_f64();
    let cpu = (thread_cpu_ns() - cpu0) as f64 / 1e9;
    assert_eq!(rep.restored, n, "{rep:?}");
    let live = LIVE.load(Ordering::Relaxed) - base_live;
    let peak = PEAK.load(Ordering::Relaxed) - base_live;
    // Saved documents, for the load phase.
    let mut c = r.community(&stored.community).expect("community");
    let saved = c.export().expect("export");
    let saved_bytes: usize = saved.iter().map(|(_, b)| b.len()).sum();
    let out: Vec<(String, Vec<u8>)> = saved.into_iter().map(|(d, b)| (d.key(), b)).collect();
    std::fs::write(
        path.with_extension("saved"),
        postcard::to_allocvec(&out).expect("encode"),
    )
    .expect("write saved");
    println!(
        "{{\"changes\":{n},\"docs\":{docs},\"raw\":{raw},\"secs\":{secs},\"cpu\":{cpu},\"live\":{live},\"peak\":{peak},\"rss_base_kib\":{},\"rss_kib\":{},\"hwm_kib\":{},\"saved\":{saved_bytes}}}",
        base_rss.unwrap_or(0),
        rss_kib().unwrap_or(0),
        peak_rss_kib().unwrap_or(0)
    );
}

/// Child: Automerge `load` of the saved documents; print one JSON line.
fn phase_load(path: &Path) {
    let bytes = std::fs::read(path.with_extension("saved")).expect("read saved");
    let saved: Vec<(String, Vec<u8>)> = postcard::from_bytes(&bytes).expect("decode");
    drop(bytes);
    let (base_live, base_rss) = (LIVE.load(Ordering::Relaxed), rss_kib());
    PEAK.store(base_live, Ordering::Relaxed);
    let t = Instant::now();
    let cpu0 = thread_cpu_ns();
    let docs: Vec<automerge::Automerge> = saved
        .iter()
        .map(|(_, b)| automerge::Automerge::load(b).expect("load"))
        .collect();
    let secs = t.elapsed().as_secs_f64();
    let cpu = (thread_cpu_ns() - cpu0) as f64 / 1e9;
    let live = LIVE.load(Ordering::Relaxed) - base_live;
    let peak = PEAK.load(Ordering::Relaxed) - base_live;
    let changes: usize = docs.iter().map(|d| d.get_changes(&[]).len()).sum();
    println!(
        "{{\"changes\":{changes},\"secs\":{secs},\"cpu\":{cpu},\"live\":{live},\"peak\":{peak},\"rss_base_kib\":{},\"rss_kib\":{},\"hwm_kib\":{}}}",
        base_rss.unwrap_or(0),
        rss_kib().unwrap_or(0),
        peak_rss_kib().unwrap_or(0)
    );
}

fn child(phase: &str, path: &Path) -> serde_json::Value {
    let out = Command::new(std::env::current_exe().expect("exe"))
        .args(["--phase", phase, "--file"])
        .arg(path)
        .output()
        .expect("run child");
    assert!(
        out.status.success(),
        "{phase}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("child output")
}

fn main() {
    let phase: String = arg("--phase", String::new());
    if !phase.is_empty() {
        let file: PathBuf = arg("--file", PathBuf::new());
        match phase.as_str() {
            "restore" => phase_restore(&file),
            "load" => phase_load(&file),
            p => panic!("unknown phase {p}"),
        }
        return;
    }
    let posts: usize = arg("--posts", 100_000);
    let interval_s: u64 = arg("--interval-s", 300);
    let path = cache_path(posts, interval_s);
    if !path.exists() {
        write_history(&path, posts, interval_s);
    }
    let r = child("restore", &path);
    let l = child("load", &path);
    let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap_or(0.0);
    println!(
        "## {posts} posts, one every {interval_s} s, in {} content documents\n",
        f(&r, "docs")
    );
    println!(
        "| what | changes | CPU | changes/s (CPU) | wall | live heap after | peak heap | process RSS after (start) | peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (name, v) in [
        ("`Replicator::restore` (re-verify)", &r),
        ("Automerge `load` of saved docs", &l),
    ] {
        println!(
            "| {name} | {} | {:.2} s | {:.0} | {:.2} s | {:.1} MiB | {:.1} MiB | {:.1} MiB ({:.1}) | {:.1} MiB |",
            f(v, "changes"),
            f(v, "cpu"),
            f(v, "changes") / f(v, "cpu"),
            f(v, "secs"),
            mib(f(v, "live") as usize),
            mib(f(v, "peak") as usize),
            kib_mib(Some(f(v, "rss_kib") as u64)),
            kib_mib(Some(f(v, "rss_base_kib") as u64)),
            kib_mib(Some(f(v, "hwm_kib") as u64)),
        );
    }
    println!(
        "\nraw change bytes {:.1} MiB; saved documents {:.1} MiB; live heap per post {:.0} bytes",
        mib(f(&r, "raw") as usize),
        mib(f(&r, "saved") as usize),
        f(&r, "live") / f(&r, "changes")
    );
}
