//! Replicators driven through an in-memory bus with delay, loss and reordering.

use qun_crdt::replicate::wire::{self, GossipMsg, WireChange};
use qun_crdt::test_utils::bus::Bus;
use qun_crdt::test_utils::*;
use qun_crdt::*;

fn heads_of(bus: &mut Bus, n: usize, c: &CommunityId) -> Vec<(DocId, Vec<Hash>)> {
    all_heads(bus.nodes[n].community(c).unwrap())
}

fn texts(bus: &mut Bus, n: usize, c: &CommunityId) -> Vec<String> {
    let mut v: Vec<String> = bus.nodes[n]
        .community(c)
        .unwrap()
        .posts(&ChannelId::general(), 1000, None)
        .unwrap()
        .into_iter()
        .map(|p| p.text)
        .collect();
    v.sort();
    v
}

/// founder, alice, bob on a lossy bus (20 % loss, up to 200 ms delay): alice and bob join by
/// invitation-free open policy, everyone posts, everyone converges.
#[test]
fn three_nodes_converge_over_lossy_bus() {
    let mut bus = Bus::new(7, T0);
    bus.loss = 0.2;
    bus.max_delay_ms = 200;
    let (f, a, b) = (key(1), key(2), key(3));
    let g = genesis(&f, AdmissionPolicy::Open);
    let nf = bus.add(f);
    let na = bus.add(a.clone());
    let nb = bus.add(b.clone());
    let c = bus.nodes[nf].create(T0, g).unwrap();
    bus.route(nf);
    bus.nodes[nf]
        .edit(T0, &c, post("general", "welcome"))
        .unwrap();
    bus.route(nf);
    bus.nodes[na].join(bus.now, c, None).unwrap();
    bus.route(na);
    bus.nodes[nb].join(bus.now, c, None).unwrap();
    bus.route(nb);
    // Joining takes a sync round or two (and anti-entropy retries after losses).
    bus.run_for(120_000);
    for n in [na, nb] {
        assert!(
            bus.nodes[n]
                .community(&c)
                .unwrap()
                .state()
                .is_member(&bus.nodes[n].member()),
            "node {n} not admitted"
        );
    }
    for (i, n) in [nf, na, nb].into_iter().enumerate() {
        for k in 0..5 {
            let now = bus.now;
            bus.nodes[n]
                .edit(now, &c, post("general", &format!("post {k} from {i}")))
                .unwrap();
            bus.route(n);
            bus.run_for(100);
        }
    }
    // Anti-entropy repairs what gossip lost.
    bus.run_for(200_000);
    let h0 = heads_of(&mut bus, nf, &c);
    assert_eq!(heads_of(&mut bus, na, &c), h0);
    assert_eq!(heads_of(&mut bus, nb, &c), h0);
    let t0 = texts(&mut bus, nf, &c);
    assert_eq!(t0.len(), 16);
    assert_eq!(texts(&mut bus, na, &c), t0);
    assert_eq!(texts(&mut bus, nb, &c), t0);
}

/// A node that was away catches up in one sync exchange when it comes back.
#[test]
fn late_joiner_catches_up_by_sync() {
    let mut bus = Bus::new(1, T0);
    let (f, a) = (key(1), key(2));
    let g = genesis(&f, AdmissionPolicy::Open);
    let nf = bus.add(f);
    let na = bus.add(a);
    let c = bus.nodes[nf].create(T0, g).unwrap();
    bus.route(nf);
    for k in 0..200 {
        bus.nodes[nf]
            .edit(T0.plus_millis(k), &c, post("general", &format!("p{k}")))
            .unwrap();
    }
    bus.route(nf);
    bus.nodes[na].join(bus.now, c, None).unwrap();
    bus.route(na);
    bus.settle(60_000);
    assert_eq!(texts(&mut bus, na, &c).len(), 200);
    assert_eq!(heads_of(&mut bus, na, &c), heads_of(&mut bus, nf, &c));
    // Catch-up took one request for the genesis and history, plus the join's push.
    let syncs = bus
        .log
        .iter()
        .filter(|(n, o)| *n == na && matches!(o, Output::SyncSend { .. }))
        .count();
    assert!(syncs <= 3, "{syncs} sync requests");
}

/// A joiner whose catch-up takes several sync rounds gets the newest window's posts in the
/// first one, and history after (recent first: governance, then content newest window back).
#[test]
fn catch_up_serves_the_newest_window_first() {
    let mut bus = Bus::new(3, T0);
    let (f, a) = (key(1), key(2));
    let g = genesis(&f, AdmissionPolicy::Open);
    let week = g.value().window_ms;
    // Small messages, so four windows of posts take several rounds.
    let limits = Limits {
        max_change_bytes: 4 * 1024,
        max_gossip_bytes: 32 * 1024,
        // About 36 KiB of changes per response besides framing and heads.
        max_sync_bytes: 40 * 1024,
        ..Limits::default()
    };
    let config = Config {
        limits,
        ..Config::default()
    };
    let nf = bus.add_with(f, config.clone());
    let na = bus.add_with(a, config);
    let c = bus.nodes[nf].create(T0, g).unwrap();
    bus.route(nf);
    let filler = "x".repeat(1000);
    for w in 0..4u64 {
        for k in 0..20u64 {
            let at = T0.plus_millis(w * week + k * 1000);
            bus.nodes[nf]
                .edit(at, &c, post("general", &format!("w{w} p{k} {filler}")))
                .unwrap();
        }
    }
    bus.route(nf);
    bus.now = T0.plus_millis(3 * week + 3_600_000);
    bus.nodes[na].join(bus.now, c, None).unwrap();
    bus.route(na);
    // Step until the joiner shows its first posts.
    let until = bus.now.plus_millis(60_000);
    let mut first = Vec::new();
    while first.is_empty() && bus.step(until) {
        if bus.nodes[na].community(&c).is_some() {
            first = texts(&mut bus, na, &c);
        }
    }
    assert!(!first.is_empty(), "the joiner never showed a post");
    assert!(
        first.len() < 80,
        "everything came in one round ({}): the test needs several",
        first.len()
    );
    // The first round holds the whole newest window, then as much of the one before as fits;
    // nothing older.
    let newest = first.iter().filter(|t| t.starts_with("w3 ")).count();
    assert_eq!(
        newest,
        20,
        "first round: {:?}",
        first.iter().map(|t| &t[..6]).collect::<Vec<_>>()
    );
    assert!(
        first
            .iter()
            .all(|t| t.starts_with("w3 ") || t.starts_with("w2 ")),
        "first round reaches back too far: {:?}",
        first.iter().map(|t| &t[..6]).collect::<Vec<_>>()
    );
    bus.settle(120_000);
    assert_eq!(texts(&mut bus, na, &c).len(), 80);
    assert_eq!(heads_of(&mut bus, na, &c), heads_of(&mut bus, nf, &c));
}

/// Many concurrent heads (authors who wrote at once in many windows, and nobody merged since)
/// take more room in a sync response than a fixed margin: every part of the response is
/// counted, so it never exceeds what the peer accepts, and a joiner still catches up.
#[test]
fn a_response_with_many_heads_stays_within_the_limit() {
    let founder = key(1);
    let g = genesis(&founder, AdmissionPolicy::Open);
    let week = g.value().window_ms;
    let id = g.id();
    let mut changes = Vec::new();
    for i in 0..40u32 {
        let k = key_n(9, i);
        let mut r = replica(&g, &k);
        let mut keep = |lc: LocalChange| {
            changes.push((
                lc.accepted.doc,
                WireChange {
                    bytes: lc.bytes,
                    sig: lc.sig,
                },
            ))
        };
        keep(
            r.edit(
                &k,
                T0.plus_millis(u64::from(i)),
                Edit::Govern(join_action(&k.member_id(), None, None, None)),
            )
            .unwrap(),
        );
        for w in 0..8u64 {
            let at = T0.plus_millis(w * week + 1000 + u64::from(i));
            keep(
                r.edit(&k, at, post("general", &format!("w{w} by {i}")))
                    .unwrap(),
            );
        }
    }
    let limits = Limits {
        max_change_bytes: 4 * 1024,
        max_gossip_bytes: 32 * 1024,
        max_sync_bytes: 40 * 1024,
        ..Limits::default()
    };
    let config = Config {
        limits,
        ..Config::default()
    };
    let mut bus = Bus::new(5, T0);
    let nf = bus.add_with(founder, config.clone());
    let na = bus.add_with(key(2), config);
    bus.now = T0.plus_millis(7 * week + 3_600_000);
    let now = bus.now;
    let rep = bus.nodes[nf]
        .restore(now, &id, &g.to_bytes(), changes)
        .unwrap();
    assert_eq!(rep.restored, 40 * 9, "{rep:?}");
    bus.route(nf);
    // 9 documents of 40 heads each: 11.5 KiB of heads, over a quarter of the limit.
    bus.nodes[na].join(now, id, None).unwrap();
    bus.route(na);
    bus.settle(600_000);
    let too_large: Vec<_> = bus
        .log
        .iter()
        .filter(|(_, o)| {
            matches!(
                o,
                Output::Event(Event::Rejected {
                    error: Error::TooLarge { .. },
                    ..
                })
            )
        })
        .collect();
    assert!(too_large.is_empty(), "{too_large:?}");
    assert_eq!(texts(&mut bus, na, &id).len(), 40 * 8);
    assert_eq!(heads_of(&mut bus, na, &id), heads_of(&mut bus, nf, &id));
}

/// Forged or garbage gossip gets a Reject verdict (which penalises the sender in gossipsub),
/// and changes nothing.
#[test]
fn invalid_gossip_is_rejected() {
    let mut bus = Bus::new(3, T0);
    let (f, a) = (key(1), key(2));
    let g = genesis(&f, AdmissionPolicy::Open);
    let nf = bus.add(f.clone());
    let c = bus.nodes[nf].create(T0, g).unwrap();
    bus.route(nf);
    let before = bus.nodes[nf].community(&c).unwrap().total_changes();
    // Garbage bytes.
    bus.nodes[nf].handle(
        T0,
        Input::Gossip {
            from: 9,
            id: MsgId(vec![1]),
            bytes: vec![1, 2, 3],
        },
    );
    // A well-formed message whose change has a bad signature.
    let lc = {
        let mut other = replica(bus.nodes[nf].community(&c).unwrap().genesis(), &f);
        other.edit(&f, T0, post("general", "x")).unwrap()
    };
    let msg = GossipMsg {
        community: c,
        doc: lc.accepted.doc.clone(),
        changes: vec![WireChange {
            bytes: lc.bytes.clone(),
            sig: [0; 64],
        }],
    };
    bus.nodes[nf].handle(
        T0,
        Input::Gossip {
            from: 9,
            id: MsgId(vec![2]),
            bytes: wire::encode(&msg),
        },
    );
    // A non-member's post.
    let mut am = replica(bus.nodes[nf].community(&c).unwrap().genesis(), &a);
    assert!(am.edit(&a, T0, post("general", "y")).is_err());
    let verdicts: Vec<Verdict> = bus.nodes[nf]
        .drain()
        .filter_map(|o| match o {
            Output::Verdict { verdict, .. } => Some(verdict),
            _ => None,
        })
        .collect();
    assert_eq!(verdicts, vec![Verdict::Reject, Verdict::Reject]);
    assert_eq!(bus.nodes[nf].community(&c).unwrap().total_changes(), before);
}

/// Persist comes before the verdict that lets gossipsub forward a change.
#[test]
fn persist_precedes_accept() {
    let mut bus = Bus::new(4, T0);
    let (f, a) = (key(1), key(2));
    let g = genesis(&f, AdmissionPolicy::Open);
    let nf = bus.add(f.clone());
    let na = bus.add(a);
    let c = bus.nodes[nf].create(T0, g).unwrap();
    bus.route(nf);
    bus.nodes[na].join(bus.now, c, None).unwrap();
    bus.route(na);
    bus.settle(10_000);
    bus.log.clear();
    bus.nodes[nf]
        .edit(bus.now, &c, post("general", "ordered"))
        .unwrap();
    bus.route(nf);
    bus.settle(10_000);
    let outs: Vec<&Output<usize>> = bus
        .log
        .iter()
        .filter(|(n, _)| *n == na)
        .map(|(_, o)| o)
        .collect();
    let p = outs
        .iter()
        .position(|o| matches!(o, Output::Persist(_)))
        .expect("persist");
    let v = outs
        .iter()
        .position(|o| {
            matches!(
                o,
                Output::Verdict {
                    verdict: Verdict::Accept,
                    ..
                }
            )
        })
        .expect("accept");
    let e = outs
        .iter()
        .position(|o| matches!(o, Output::Event(Event::Accepted { .. })))
        .expect("event");
    assert!(p < v && v < e, "{p} {v} {e}");
}

/// Two nodes cut off from each other both write into the same documents, then meet again with
/// nothing new to gossip: neither knows the other's heads. Anti-entropy alone must bring them
/// together (the responder shows some of its history, the requester finds what they share).
#[test]
fn diverged_nodes_converge_by_sync_alone() {
    let mut bus = Bus::new(11, T0);
    let (f, a) = (key(1), key(2));
    let g = genesis(&f, AdmissionPolicy::Open);
    let nf = bus.add(f);
    let na = bus.add(a);
    let c = bus.nodes[nf].create(T0, g).unwrap();
    bus.route(nf);
    bus.nodes[nf]
        .edit(bus.now, &c, post("general", "before"))
        .unwrap();
    bus.route(nf);
    bus.nodes[na].join(bus.now, c, None).unwrap();
    bus.route(na);
    bus.settle(60_000);
    assert_eq!(heads_of(&mut bus, na, &c), heads_of(&mut bus, nf, &c));
    // A partition: everything is lost while both write (more than a handful each, so the
    // shared point is deep in each history).
    bus.loss = 1.0;
    for k in 0..40 {
        for n in [nf, na] {
            let now = bus.now;
            bus.nodes[n]
                .edit(now, &c, post("general", &format!("{n}: {k}")))
                .unwrap();
            bus.route(n);
        }
        bus.run_for(1_000);
    }
    bus.run_for(30_000);
    assert_ne!(heads_of(&mut bus, na, &c), heads_of(&mut bus, nf, &c));
    // Healed, nothing new is written: the periodic sync has to do it.
    bus.loss = 0.0;
    bus.run_for(300_000);
    assert_eq!(texts(&mut bus, na, &c).len(), 81);
    assert_eq!(heads_of(&mut bus, na, &c), heads_of(&mut bus, nf, &c));
}

mod partitions {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Step {
        Post(usize),
        Cut,
        Heal,
        Wait(u64),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => (0..3usize).prop_map(Step::Post),
            1 => Just(Step::Cut),
            1 => Just(Step::Heal),
            2 => (1..20_000u64).prop_map(Step::Wait),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Whatever the partitions and writes, once the network heals and nobody writes, every
        /// node ends with the same heads and every post.
        #[test]
        fn nodes_converge_after_any_partitions(
            seed in any::<u64>(),
            steps in proptest::collection::vec(step(), 1..60),
        ) {
            let mut bus = Bus::new(seed, T0);
            let keys = [key(1), key(2), key(3)];
            let g = genesis(&keys[0], AdmissionPolicy::Open);
            let ns: Vec<usize> = keys.iter().map(|k| bus.add(k.clone())).collect();
            let c = bus.nodes[ns[0]].create(T0, g).unwrap();
            bus.route(ns[0]);
            for &n in &ns[1..] {
                bus.nodes[n].join(bus.now, c, None).unwrap();
                bus.route(n);
            }
            bus.settle(60_000);
            let mut posts = 0;
            for s in steps {
                match s {
                    Step::Post(i) => {
                        let now = bus.now;
                        let n = ns[i];
                        // A node that has not got in yet cannot post; that is fine.
                        if bus.nodes[n].edit(now, &c, post("general", &format!("p{posts}"))).is_ok() {
                            posts += 1;
                        }
                        bus.route(n);
                    }
                    Step::Cut => bus.loss = 1.0,
                    Step::Heal => bus.loss = 0.0,
                    Step::Wait(ms) => bus.run_for(ms),
                }
            }
            bus.loss = 0.0;
            bus.run_for(600_000);
            let h0 = heads_of(&mut bus, ns[0], &c);
            for &n in &ns[1..] {
                prop_assert_eq!(&heads_of(&mut bus, n, &c), &h0, "node {} differs", n);
            }
            prop_assert_eq!(texts(&mut bus, ns[0], &c).len(), posts);
        }
    }
}
