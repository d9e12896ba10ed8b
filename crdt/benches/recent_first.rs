//! Recent first: how soon a joiner shows the newest week of a large, old community (a table
//! binary; the figures are one-shot timings).
//!
//! A community of 10,000 members (Open policy, each joined with its own key) and 100,000
//! posts by 50 of them, one every ~5 minutes of virtual time over 52 weekly windows. Replica
//! A holds all of it (restored, so verified once); replica B joins with nothing and catches up
//! from A over an in-memory channel with no loss (every `SyncSend` handed to A as a
//! `SyncRequest`, every `SyncRespond` back to B). Reported: the time until B's view holds
//! every post of the newest window, the time until B holds everything, rounds and bytes.
//! Both replicas run on this thread, so the times include A's serving.
//!
//! Run: `cargo bench -p qun-crdt --bench recent_first` (`-- 2000 10000` for a smaller run:
//! members, posts).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use qun_crdt::replicate::wire::WireChange;
use qun_crdt::test_utils::{T0, genesis_with, join_action, key, key_n, post, replica};
use qun_crdt::*;
use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

const WEEK_MS: u64 = 7 * 24 * 3600 * 1000;
const WEEKS: u64 = 52;
const AUTHORS: u32 = 50;

struct Built {
    genesis: CommunityGenesis,
    changes: Vec<(DocId, WireChange)>,
    newest: Vec<String>,
    end: qun_identity::Timestamp,
}

/// Joins are made concurrently (each on a replica holding only the genesis, as joiners who
/// arrive at the same time do), and the founder merges them every [`MERGE_EVERY`] with a
/// governance change depending on all of them; posts come from [`AUTHORS`] members, each on
/// its own replica, which takes in the others' posts every 100 posts.
const MERGE_EVERY: u32 = 500;

fn build(members: u32, posts: u64) -> Built {
    let founder = key(1);
    let g = genesis_with(&founder, AdmissionPolicy::Open, WEEK_MS, [7; 16]);
    let mut hub = replica(&g, &founder);
    let mut changes: Vec<(DocId, WireChange)> = Vec::new();
    let wire = |lc: LocalChange| {
        (
            lc.accepted.doc,
            WireChange {
                bytes: lc.bytes,
                sig: lc.sig,
            },
        )
    };
    // (An author's own changes come back to it here, and are known already: not an error
    // worth stopping for; A's restore below checks every change is valid.)
    let take_in = |c: &mut Community, from: &[(DocId, WireChange)]| {
        for (d, w) in from {
            let _ = c.ingest(d, &w.bytes, &w.sig);
        }
    };
    for i in 0..members {
        let k = key_n(7, i);
        let mut r = replica(&g, &k);
        let at = T0.plus_millis(u64::from(i) + 1);
        let lc = r
            .edit(
                &k,
                at,
                Edit::Govern(join_action(&k.member_id(), None, None, None)),
            )
            .unwrap();
        let (d, w) = wire(lc);
        hub.ingest(&d, &w.bytes, &w.sig).unwrap();
        changes.push((d, w));
        if (i + 1) % MERGE_EVERY == 0 || i + 1 == members {
            let meta = Action::SetMeta {
                name: format!("Test community ({} members)", i + 1),
                description: "for benches".into(),
            };
            changes.push(wire(hub.edit(&founder, at, Edit::Govern(meta)).unwrap()));
        }
    }
    let gov_len = changes.len();
    let mut authors: Vec<(qun_identity::SecretIdentity, Community, usize)> = (0..AUTHORS
        .min(members))
        .map(|i| {
            let k = key_n(7, i);
            let mut r = replica(&g, &k);
            take_in(&mut r, &changes);
            (k, r, gov_len)
        })
        .collect();
    let step = WEEKS * WEEK_MS / posts.max(1);
    let start = T0.plus_millis(u64::from(members) + 1);
    let mut newest = Vec::new();
    let last_window = start.plus_millis((posts - 1) * step).as_millis() / WEEK_MS;
    for p in 0..posts {
        let at = start.plus_millis(p * step);
        let text = format!("post {p} of week {}", at.as_millis() / WEEK_MS);
        if at.as_millis() / WEEK_MS == last_window {
            newest.push(text.clone());
        }
        let n = authors.len();
        let (k, r, seen) = &mut authors[(p % n as u64) as usize];
        if p % (100 * n as u64) < n as u64 {
            take_in(r, &changes[*seen..]);
            *seen = changes.len();
        }
        let lc = r.edit(k, at, post("general", &text)).unwrap();
        changes.push(wire(lc));
    }
    let end = start.plus_millis(posts * step);
    Built {
        genesis: g,
        changes,
        newest,
        end,
    }
}

fn replicator(k: qun_identity::SecretIdentity) -> Replicator<u8> {
    let m = k.member_id();
    Replicator::new(k, m, None, Config::default()).expect("replicator")
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let members = args.first().copied().unwrap_or(10_000) as u32;
    let posts = args.get(1).copied().unwrap_or(100_000);
    let t = Instant::now();
    let b = build(members, posts);
    println!(
        "built {members} members, {posts} posts ({} changes, {} in the newest window) in {:.1} s",
        b.changes.len(),
        b.newest.len(),
        t.elapsed().as_secs_f64()
    );
    let id = b.genesis.id();
    let mut nodes = [replicator(key(1)), replicator(key(2))];
    let t = Instant::now();
    let rep = nodes[0]
        .restore(b.end, &id, &b.genesis.to_bytes(), b.changes.clone())
        .expect("restore");
    nodes[0].drain().for_each(drop);
    assert_eq!(rep.restored, b.changes.len(), "{rep:?}");
    println!(
        "A restored {} changes in {:.1} s",
        rep.restored,
        t.elapsed().as_secs_f64()
    );

    let now = b.end;
    let start = Instant::now();
    nodes[1].join(now, id, None).unwrap();
    nodes[1].handle(
        now,
        Input::PeerJoined {
            peer: 0,
            community: id,
        },
    );
    let mut queue: VecDeque<(u8, Output<u8>)> = nodes[1].drain().map(|o| (1, o)).collect();
    let mut requester_of: BTreeMap<u64, u8> = BTreeMap::new();
    let (mut next_reply, mut rounds, mut bytes) = (0u64, 0usize, 0usize);
    let mut newest_at: Option<(f64, usize)> = None;
    let want: std::collections::BTreeSet<&str> = b.newest.iter().map(String::as_str).collect();
    while let Some((from, o)) = queue.pop_front() {
        match o {
            Output::SyncSend { to, bytes: req, .. } => {
                bytes += req.len();
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
                        bytes: req,
                    },
                );
                queue.extend(n.drain().map(|o| (to, o)));
            }
            Output::SyncRespond { reply, bytes: resp } => {
                let Some(requester) = requester_of.remove(&reply.0) else {
                    continue;
                };
                rounds += 1;
                bytes += resp.len();
                let n = &mut nodes[usize::from(requester)];
                n.handle(now, Input::SyncResponse { from, bytes: resp });
                queue.extend(n.drain().map(|o| (requester, o)));
                if requester == 1
                    && newest_at.is_none()
                    && let Some(mut c) = nodes[1].community(&id)
                {
                    let shown = c
                        .posts(&ChannelId::general(), want.len() + 10, None)
                        .unwrap_or_default();
                    if shown
                        .iter()
                        .filter(|p| want.contains(p.text.as_str()))
                        .count()
                        == want.len()
                    {
                        newest_at = Some((start.elapsed().as_secs_f64(), rounds));
                    }
                }
            }
            _ => {}
        }
    }
    let all = start.elapsed().as_secs_f64();
    let held = nodes[1].community(&id).map(|mut c| {
        c.posts(&ChannelId::general(), posts as usize + 10, None)
            .map(|p| p.len())
            .unwrap_or(0)
    });
    match newest_at {
        Some((s, r)) => println!(
            "newest week ({} posts) shown after {s:.2} s ({r} rounds)",
            want.len()
        ),
        None => println!("newest week never shown completely"),
    }
    println!(
        "everything ({} posts held) after {all:.2} s, {rounds} rounds, {:.1} MB both ways",
        held.unwrap_or(0),
        bytes as f64 / 1e6
    );
}
