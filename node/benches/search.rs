//! Search bench: the full-text index with 100,000 posts of a community (words drawn from a
//! 5,000-word vocabulary with a Zipf-like skew, 8–60 words per post, in 10 channels of 52
//! windows), written to a temporary directory as the node writes it; then 2,000 queries of one
//! to three words (common, rare and absent words, phrases) and their latency, p50/p99/max,
//! including the snippets the page shows.
//!
//! `cargo bench -p qun-node --bench search` (release; about a minute). Results go in
//! BENCHMARKS.md.

use qun_crdt::{CommunityId, PostView};
use qun_identity::{ContentId, DeviceId, MemberId, Timestamp};
use qun_node::search::SearchIndex;
use std::collections::BTreeMap;
use std::time::Instant;

const POSTS: usize = 100_000;
const VOCAB: usize = 5_000;
const QUERIES: usize = 2_000;

/// xorshift64*.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// Skewed towards small indexes (word i has weight ~1/(i+1)).
    fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        (((n as f64 + 1.0).powf(u)) as usize)
            .saturating_sub(1)
            .min(n - 1)
    }
}

fn word(i: usize) -> String {
    const SYL: [&str; 16] = [
        "ka", "to", "mi", "ra", "su", "ne", "lo", "pi", "da", "ve", "sho", "gu", "ri", "an", "el",
        "or",
    ];
    let mut w = String::new();
    let mut x = i + 16;
    while x > 0 {
        w.push_str(SYL[x % 16]);
        x /= 16;
    }
    w
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let idx = SearchIndex::open(&dir.path().join("search")).expect("index");
    let c = CommunityId(ContentId::of(b"bench community"));
    let k = qun_crdt::test_utils::key(1);
    let author = MemberId(k.public());
    let device = DeviceId(k.public());
    let words: Vec<String> = (0..VOCAB).map(word).collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let names = BTreeMap::new();
    let t0 = Instant::now();
    let mut by_window: BTreeMap<(usize, u32), Vec<PostView>> = BTreeMap::new();
    for i in 0..POSTS {
        let n = 8 + rng.below(53);
        let text: Vec<&str> = (0..n).map(|_| words[rng.zipf(VOCAB)].as_str()).collect();
        let ch = i % 10;
        let w = (i / 10 % 52) as u32;
        by_window.entry((ch, w)).or_default().push(PostView {
            id: format!("ch{ch}/{w}/k{i}").parse().expect("post id"),
            author,
            device,
            text: text.join(" "),
            created: Timestamp::from_millis(1_700_000_000_000 + i as u64 * 1000),
            edited: None,
            reply_to: None,
            attachments: Vec::new(),
            deleted: false,
            hidden: None,
            reactions: BTreeMap::new(),
            replies: 0,
            pinned: false,
        });
    }
    for ((ch, w), posts) in &by_window {
        idx.put_window(&c, &format!("ch{ch}"), *w, posts, &names)
            .expect("put");
    }
    idx.commit(&[(c, POSTS)]).expect("commit");
    let build = t0.elapsed();
    assert_eq!(idx.len(), POSTS as u64);

    let mut lat = Vec::with_capacity(QUERIES);
    let mut found = 0usize;
    for q in 0..QUERIES {
        let query = match q % 5 {
            0 => words[rng.zipf(50)].clone(),
            1 => format!("{} {}", words[rng.zipf(VOCAB)], words[rng.zipf(VOCAB)]),
            2 => format!(
                "{} {} {}",
                words[rng.zipf(500)],
                words[rng.zipf(500)],
                words[rng.zipf(500)]
            ),
            3 => format!("\"{} {}\"", words[rng.zipf(20)], words[rng.zipf(20)]),
            _ => format!("zzz{q}"),
        };
        let t = Instant::now();
        let hits = idx.query(&query, None, 20).expect("query");
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        found += hits.len();
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    let size: u64 = walk(dir.path());
    println!(
        "| posts | build (s) | index size (MiB) | queries | p50 (ms) | p99 (ms) | max (ms) | hits/query |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {POSTS} | {:.1} | {:.1} | {QUERIES} | {:.2} | {:.2} | {:.2} | {:.1} |",
        build.as_secs_f64(),
        size as f64 / (1 << 20) as f64,
        pct(0.5),
        pct(0.99),
        lat[lat.len() - 1],
        found as f64 / QUERIES as f64
    );
}

fn walk(p: &std::path::Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(p) else {
        return std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    };
    rd.flatten().map(|e| walk(&e.path())).sum()
}
