//! Catch-up and the gossip path through the real `Replicator`s (a table binary: the figures
//! are counts and one-shot timings, which criterion does not fit).
//!
//! 1. Catch-up: replica B holds the governance history and the first 1,000 posts; replica A
//!    holds 10,000 more. B learns of A (`PeerJoined`) and syncs; every `SyncSend` is handed to
//!    A as a `SyncRequest`, every `SyncRespond` back to B as a `SyncResponse`, with no loss,
//!    until both are quiet. Reported: round trips (request/response exchanges), bytes on the
//!    wire both ways, and their ratio to the raw size of the 10,000 missing changes.
//! 2. Gossip path: each post arrives as its own gossip message (`Input::Gossip`) at a
//!    replicator holding the governance history; changes/s.
//!
//! Run: `cargo bench -p qun-crdt --bench catchup`.

mod common;

use common::{History, Workload, generate, thread_cpu_ns};
use qun_crdt::replicate::wire::{self, GossipMsg};
use qun_crdt::test_utils::{T0, all_heads, key};
use qun_crdt::*;
use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

fn replicator(seed: u8) -> Replicator<u8> {
    let k = key(seed);
    let m = k.member_id();
    Replicator::new(k, m, None, Config::default()).expect("replicator")
}

fn restored(h: &History, seed: u8, posts: usize) -> (Replicator<u8>, CommunityId) {
    let mut r = replicator(seed);
    let id = h.genesis.id();
    let changes = h
        .all()
        .take(h.gov.len() + posts)
        .map(|s| (s.doc.clone(), s.wire()))
        .collect();
    let rep = r
        .restore(T0, &id, &h.genesis.to_bytes(), changes)
        .expect("restore");
    assert_eq!(rep.restored, h.gov.len() + posts, "{rep:?}");
    r.drain().for_each(drop);
    (r, id)
}

struct CatchUp {
    round_trips: usize,
    request_bytes: usize,
    response_bytes: usize,
    messages: usize,
    secs: f64,
    cpu: f64,
}

/// Drive B (`nodes[1]`) catching up from A (`nodes[0]`) until both are quiet. A peer's id is
/// its index.
fn catch_up(nodes: &mut [Replicator<u8>; 2], id: CommunityId) -> CatchUp {
    let mut out = CatchUp {
        round_trips: 0,
        request_bytes: 0,
        response_bytes: 0,
        messages: 0,
        secs: 0.0,
        cpu: 0.0,
    };
    let start = Instant::now();
    let cpu = thread_cpu_ns();
    let now = T0.plus_millis(1_000);
    nodes[1].handle(
        now,
        Input::PeerJoined {
            peer: 0,
            community: id,
        },
    );
    let mut next_reply = 0u64;
    let mut queue: VecDeque<(u8, Output<u8>)> = nodes[1].drain().map(|o| (1, o)).collect();
    let mut requester_of: BTreeMap<u64, u8> = BTreeMap::new();
    while let Some((from, o)) = queue.pop_front() {
        match o {
            Output::SyncSend { to, bytes, .. } => {
                out.request_bytes += bytes.len();
                out.messages += 1;
                next_reply += 1;
                requester_of.insert(next_reply, from);
                let device = Some(nodes[usize::from(from)].device());
                let n = &mut nodes[usize::from(to)];
                n.handle(
                    now,
                    Input::SyncRequest {
                        from,
                        device,
                        reply: ReplyId(next_reply),
                        bytes,
                    },
                );
                queue.extend(n.drain().map(|o| (to, o)));
            }
            Output::SyncRespond { reply, bytes } => {
                let requester = requester_of.remove(&reply.0).expect("a request");
                out.round_trips += 1;
                out.response_bytes += bytes.len();
                out.messages += 1;
                let n = &mut nodes[usize::from(requester)];
                n.handle(now, Input::SyncResponse { from, bytes });
                queue.extend(n.drain().map(|o| (requester, o)));
            }
            _ => {}
        }
    }
    out.secs = start.elapsed().as_secs_f64();
    out.cpu = (thread_cpu_ns() - cpu) as f64 / 1e9;
    out
}

/// Gossip arrival rate in the gossip-path run: 20 messages per ms of virtual time (the
/// 20k changes/s target).
const ARRIVALS_PER_MS: u64 = 20;

/// Accepted changes, wall seconds, CPU seconds.
fn gossip_path(h: &History) -> (usize, f64, f64) {
    let mut r = replicator(200);
    let id = h.genesis.id();
    let gov = h.gov.iter().map(|s| (s.doc.clone(), s.wire())).collect();
    r.restore(T0, &id, &h.genesis.to_bytes(), gov)
        .expect("restore");
    r.drain().for_each(drop);
    let msgs: Vec<Vec<u8>> = h
        .posts
        .iter()
        .map(|s| {
            wire::encode(&GossipMsg {
                community: id,
                doc: s.doc.clone(),
                changes: vec![s.wire()],
            })
        })
        .collect();
    let start = Instant::now();
    let cpu = thread_cpu_ns();
    let mut accepted = 0;
    for (i, bytes) in msgs.into_iter().enumerate() {
        // Messages arrive at ARRIVALS_PER_MS; the driver ticks when a timer is due.
        let now = T0.plus_millis(60_000 + i as u64 / ARRIVALS_PER_MS);
        if r.poll_timeout().is_some_and(|t| t <= now) {
            r.handle(now, Input::Tick);
        }
        r.handle(
            now,
            Input::Gossip {
                from: 1,
                id: MsgId(vec![]),
                bytes,
            },
        );
        for o in r.drain() {
            if let Output::Verdict {
                verdict: Verdict::Accept,
                ..
            } = o
            {
                accepted += 1;
            }
        }
    }
    // Reading the document applies anything still staged: part of the cost.
    let mut c = r.community(&id).expect("community");
    for d in c.docs() {
        c.heads(&d).expect("heads");
    }
    (
        accepted,
        start.elapsed().as_secs_f64(),
        (thread_cpu_ns() - cpu) as f64 / 1e9,
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let only = |part: &str| {
        let i = args.iter().position(|a| a == "--only");
        i.and_then(|i| args.get(i + 1)).is_none_or(|p| p == part)
    };
    let missed = if quick { 2_000 } else { 10_000 };
    let before = 1_000;
    if only("catchup") {
        catch_up_table(before, missed);
    }
    if only("gossip") {
        gossip_table(quick);
    }
}

fn catch_up_table(before: usize, missed: usize) {
    let t = Instant::now();
    let h = generate(Workload::one_window(before + missed));
    eprintln!(
        "generated {} posts in {:.1} s",
        h.posts.len(),
        t.elapsed().as_secs_f64()
    );
    let (a, id) = restored(&h, 100, before + missed);
    let (b, _) = restored(&h, 101, before);
    let raw: usize = h.posts[before..].iter().map(|s| s.bytes.len()).sum();
    let mut nodes = [a, b];
    let r = catch_up(&mut nodes, id);
    let [mut a, mut b] = nodes;
    let ha = all_heads(a.community(&id).expect("a"));
    let hb = all_heads(b.community(&id).expect("b"));
    assert_eq!(ha, hb, "B did not catch up");
    let wire_bytes = r.request_bytes + r.response_bytes;
    println!("## catch-up of {missed} missed changes (one content document)\n");
    println!(
        "| round trips | messages | request bytes | response bytes | raw change bytes | wire / raw | CPU (both sides) | changes/s (CPU) | wall |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {} | {} | {} | {} | {:.3} | {:.2} s | {:.0} | {:.2} s |",
        r.round_trips,
        r.messages,
        r.request_bytes,
        r.response_bytes,
        raw,
        wire_bytes as f64 / raw as f64,
        r.cpu,
        missed as f64 / r.cpu,
        r.secs
    );
    println!(
        "\nmean change {:.0} bytes (+ 64-byte signature)\n",
        raw as f64 / missed as f64
    );
}

fn gossip_table(quick: bool) {
    println!(
        "## gossip path: one change per gossip message, `Replicator::handle`, {} messages/ms\n",
        ARRIVALS_PER_MS
    );
    println!("| changes | accepted | CPU | changes/s (CPU) | wall |");
    println!("|---|---|---|---|---|");
    let sizes: &[usize] = if quick {
        &[1_000]
    } else {
        &[1_000, 10_000, 20_000]
    };
    for &n in sizes {
        let h = generate(Workload::one_window(n));
        let (acc, secs, cpu) = gossip_path(&h);
        assert_eq!(acc, n);
        println!(
            "| {n} | {acc} | {cpu:.2} s | {:.0} | {secs:.2} s |",
            n as f64 / cpu
        );
    }
}
