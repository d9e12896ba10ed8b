//! Workload shared by the benchmarks: a community with a few members who post concurrently,
//! each on their own replica, syncing with each other now and then — so the content documents
//! have the branch-and-merge shape real traffic gives them.
//!
//! Everything is deterministic (seeded keys, a virtual clock): the same parameters give the
//! same signed changes byte for byte.
#![allow(dead_code, clippy::unwrap_used)]

use qun_crdt::replicate::wire::WireChange;
use qun_crdt::test_utils::{T0, genesis_with, key, key_n, post, replica};
use qun_crdt::*;
use qun_identity::{SecretIdentity, Timestamp};

/// One signed change and the document it belongs to.
#[derive(Clone)]
pub struct Signed {
    pub doc: DocId,
    pub bytes: Vec<u8>,
    pub sig: [u8; 64],
}

impl Signed {
    pub fn wire(&self) -> WireChange {
        WireChange {
            bytes: self.bytes.clone(),
            sig: self.sig,
        }
    }
}

/// How to generate a workload.
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    /// Posting members (the founder included).
    pub authors: u32,
    /// Posts in all.
    pub posts: usize,
    /// Virtual time between two posts, ms (with the window length this sets how many content
    /// documents the posts fall into).
    pub post_interval_ms: u64,
    /// Content window length, ms.
    pub window_ms: u64,
    /// Each author takes in the others' new changes every this many posts of its own.
    pub sync_every: usize,
    /// Post text length, bytes.
    pub text_len: usize,
}

impl Workload {
    /// `posts` posts by 5 members, all in one window (one content document: the worst case
    /// for Automerge, whose per-call cost grows with the document).
    pub fn one_window(posts: usize) -> Self {
        Workload {
            authors: 5,
            posts,
            post_interval_ms: 1_000,
            window_ms: 365 * 24 * 3600 * 1000,
            sync_every: 20,
            text_len: 120,
        }
    }
}

/// A generated community history.
pub struct History {
    pub genesis: CommunityGenesis,
    pub founder: SecretIdentity,
    /// Governance changes (joins), in causal order.
    pub gov: Vec<Signed>,
    /// Post changes, in the order they were made (a causal order).
    pub posts: Vec<Signed>,
}

impl History {
    /// Every change, governance first, in causal order.
    pub fn all(&self) -> impl Iterator<Item = &Signed> {
        self.gov.iter().chain(self.posts.iter())
    }

    /// Sum of the raw change sizes (the Automerge change bytes).
    pub fn post_bytes(&self) -> usize {
        self.posts.iter().map(|s| s.bytes.len()).sum()
    }

    /// Number of distinct content documents.
    pub fn content_docs(&self) -> usize {
        let mut d: Vec<&DocId> = self.posts.iter().map(|s| &s.doc).collect();
        d.sort();
        d.dedup();
        d.len()
    }

    /// A fresh replica that holds the governance history (members joined), flushed.
    pub fn replica_with_gov(&self, device: &SecretIdentity) -> Community {
        let mut c = replica(&self.genesis, device);
        for s in &self.gov {
            c.ingest(&s.doc, &s.bytes, &s.sig).unwrap();
        }
        c.flush().unwrap();
        c
    }
}

/// Generate a history, or read it from the cache file a previous run left (in
/// `$CARGO_TARGET_DIR`, else the temp dir): generating 100k posts takes a while.
pub fn generate(w: Workload) -> History {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let path = dir.join(format!(
        "qun-crdt-bench-v3-{}a-{}p-{}i-{}w-{}s-{}t.postcard",
        w.authors, w.posts, w.post_interval_ms, w.window_ms, w.sync_every, w.text_len
    ));
    type Stored = (Vec<u8>, Vec<(DocId, Vec<u8>, Vec<u8>)>, usize);
    let load = |bytes: &[u8]| -> Option<History> {
        let (g, changes, gov_len): Stored = postcard::from_bytes(bytes).ok()?;
        let id = CommunityId(qun_identity::ContentId::of(&g));
        let genesis = CommunityGenesis::from_bytes(&g, &id).ok()?;
        let mut all: Vec<Signed> = changes
            .into_iter()
            .map(|(doc, bytes, sig)| {
                Some(Signed {
                    doc,
                    bytes,
                    sig: sig.try_into().ok()?,
                })
            })
            .collect::<Option<_>>()?;
        let posts = all.split_off(gov_len);
        Some(History {
            genesis,
            founder: key(1),
            gov: all,
            posts,
        })
    };
    if let Some(h) = std::fs::read(&path).ok().and_then(|b| load(&b)) {
        return h;
    }
    let h = generate_fresh(w);
    let stored: Stored = (
        h.genesis.to_bytes(),
        h.all()
            .map(|s| (s.doc.clone(), s.bytes.clone(), s.sig.to_vec()))
            .collect(),
        h.gov.len(),
    );
    if let Ok(b) = postcard::to_allocvec(&stored) {
        let _ = std::fs::write(&path, b);
    }
    h
}

/// Generate a history (no cache).
pub fn generate_fresh(w: Workload) -> History {
    let founder = key(1);
    let g = genesis_with(&founder, AdmissionPolicy::Open, w.window_ms, [9; 16]);
    let mut keys = vec![founder.clone()];
    keys.extend((1..w.authors).map(|i| key_n(2, i)));
    let mut reps: Vec<Community> = keys.iter().map(|k| replica(&g, k)).collect();
    let mut log: Vec<Signed> = Vec::new();
    let mut seen: Vec<usize> = vec![0; keys.len()];
    let take = |log: &mut Vec<Signed>, lc: LocalChange| {
        log.push(Signed {
            doc: lc.accepted.doc,
            bytes: lc.bytes,
            sig: lc.sig,
        })
    };
    // Joins, one after the other, each author caught up first.
    let mut now = T0.plus_millis(1_000);
    for i in 1..keys.len() {
        catch_up(&mut reps[i], &log, &mut seen[i]);
        let lc = reps[i]
            .edit(
                &keys[i],
                now,
                Edit::Govern(Action::Join {
                    cert: None,
                    invitation: None,
                    proof: None,
                }),
            )
            .unwrap();
        take(&mut log, lc);
        seen[i] = log.len();
        now = now.plus_millis(1_000);
    }
    let gov_len = log.len();
    for i in 0..keys.len() {
        catch_up(&mut reps[i], &log, &mut seen[i]);
    }
    let n = keys.len();
    for p in 0..w.posts {
        let a = p % n;
        if (p / n) % w.sync_every == 0 {
            catch_up(&mut reps[a], &log, &mut seen[a]);
        }
        let t: Timestamp = now.plus_millis(p as u64 * w.post_interval_ms);
        let lc = reps[a]
            .edit(&keys[a], t, post("general", &text(p as u64, w.text_len)))
            .unwrap();
        take(&mut log, lc);
        // An author has seen its own change.
        if seen[a] + 1 == log.len() {
            seen[a] = log.len();
        }
    }
    let posts = log.split_off(gov_len);
    History {
        genesis: g,
        founder,
        gov: log,
        posts,
    }
}

/// `len` bytes of words picked by a seeded generator: text that compresses like prose, not
/// like one repeated sentence.
pub fn text(seed: u64, len: usize) -> String {
    const WORDS: [&str; 32] = [
        "the",
        "community",
        "meets",
        "on",
        "thursday",
        "bring",
        "your",
        "ideas",
        "for",
        "garden",
        "project",
        "we",
        "need",
        "volunteers",
        "and",
        "tools",
        "budget",
        "was",
        "approved",
        "by",
        "vote",
        "next",
        "week",
        "market",
        "stall",
        "bread",
        "repair",
        "cafe",
        "bikes",
        "lights",
        "thanks",
        "everyone",
    ];
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = String::with_capacity(len + 12);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push_str(WORDS[(x % 32) as usize]);
        out.push(' ');
    }
    out.truncate(len);
    out
}

/// Offer `c` every change of `log` after `seen` (its own included: they are duplicates).
fn catch_up(c: &mut Community, log: &[Signed], seen: &mut usize) {
    for s in &log[*seen..] {
        match c.ingest(&s.doc, &s.bytes, &s.sig) {
            Ok(_) => {}
            Err(e) => panic!("generator: {e}"),
        }
    }
    *seen = log.len();
    c.flush().unwrap();
}

/// Peak resident set size of this process so far, KiB (Linux `VmHWM`).
pub fn peak_rss_kib() -> Option<u64> {
    status_field("VmHWM:")
}

/// Current resident set size, KiB (Linux `VmRSS`).
pub fn rss_kib() -> Option<u64> {
    status_field("VmRSS:")
}

fn status_field(name: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with(name))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// CPU time this thread has run, from `/proc/thread-self/schedstat` (nanoseconds on a CPU).
/// The benchmark machine is shared: wall-clock time includes waiting for a core, CPU time
/// does not, and "changes/s on one core" is what the targets ask for.
pub fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// A criterion measurement of this thread's CPU time (see [`thread_cpu_ns`]).
pub struct CpuTime;

impl criterion::measurement::Measurement for CpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, i: u64) -> u64 {
        thread_cpu_ns().saturating_sub(i)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn criterion::measurement::ValueFormatter {
        // Nanoseconds, formatted like wall time.
        static WALL: criterion::measurement::WallTime = criterion::measurement::WallTime;
        criterion::measurement::Measurement::formatter(&WALL)
    }
}

/// CPU time of the whole process (every thread, those that ended included), nanoseconds.
pub fn process_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant the kernel knows.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if r != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// A criterion measurement of the process's CPU time (see [`process_cpu_ns`]): for work spread
/// over threads, "changes per CPU-second" counts every core's time.
pub struct ProcessCpuTime;

impl criterion::measurement::Measurement for ProcessCpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        process_cpu_ns()
    }
    fn end(&self, i: u64) -> u64 {
        process_cpu_ns().saturating_sub(i)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn criterion::measurement::ValueFormatter {
        static WALL: criterion::measurement::WallTime = criterion::measurement::WallTime;
        criterion::measurement::Measurement::formatter(&WALL)
    }
}
