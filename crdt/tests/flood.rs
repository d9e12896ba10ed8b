//! A flood of junk from throwaway keys, through the replicator's gossip input: 100k changes
//! signed by 100k fresh keys (non-members posting, changes waiting for dependencies that will
//! never come, joins without invitations waiting for unknown heads, garbage), spread over a
//! thousand forwarding peers. The heap (measured by a counting allocator) must stay within
//! 64 MiB of where it started, nothing from the flood may get in, and a member's post sent
//! after it must still be accepted. (How long the flood takes to process is a benchmark, not
//! a test: see BENCHMARKS.md.)

use automerge::transaction::CommitOptions;
use automerge::{ActorId, Automerge, ReadDoc};
use qun_crdt::replicate::wire::{self, GossipMsg, WireChange};
use qun_crdt::test_utils::*;
use qun_crdt::*;
use qun_identity::SecretIdentity;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts live heap bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = LIVE.fetch_add(l.size(), Ordering::Relaxed) + l.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const FLOOD: usize = 100_000;
const PEERS: usize = 1_000;
const MIB: usize = 1024 * 1024;

/// A throwaway key for junk change `i`.
fn throwaway(i: usize) -> SecretIdentity {
    key_n(0xF1, i as u32)
}

/// One junk change: signed by a fresh key, of one of four kinds.
fn junk(base: &Automerge, c: &CommunityId, i: usize) -> Vec<u8> {
    let k = throwaway(i);
    let mut am = base.fork();
    let commit = |am: &mut Automerge, msg: &str| {
        am.empty_commit(
            CommitOptions::default()
                .with_message(msg.to_string())
                .with_time(T0.as_millis() as i64),
        )
    };
    let kind = i % 4;
    if kind == 3 {
        // Garbage that only looks like a gossip message.
        return wire::encode(&GossipMsg {
            community: *c,
            doc: DocId::Governance,
            changes: vec![WireChange {
                bytes: (0..200).map(|b| (b * i) as u8).collect(),
                sig: [7; 64],
            }],
        });
    }
    if kind >= 1 {
        // Depend on a change nobody else has: waits forever.
        am.set_actor(ActorId::from(&throwaway(i + FLOOD).public().to_bytes()[..]));
        commit(&mut am, r#"{"v":1,"a":{"t":"member.leave"}}"#);
    }
    am.set_actor(ActorId::from(&k.public().to_bytes()[..]));
    let msg = match kind {
        // A non-member's governance action, on the real heads.
        0 => r#"{"v":1,"a":{"t":"post.hide","post":"general/1/abc","reason":"spam"}}"#,
        // A non-member's action waiting for a dependency.
        1 => r#"{"v":1,"a":{"t":"meta.set","name":"pwned","description":""}}"#,
        // A join without invitation waiting for unknown heads (joins may wait).
        _ => r#"{"v":1,"a":{"t":"member.join"}}"#,
    };
    let h = commit(&mut am, msg);
    let bytes = am.get_change_by_hash(&h).unwrap().raw_bytes().to_vec();
    let sig = k.sign_raw(&signing_message(c, &DocId::Governance, &h));
    wire::encode(&GossipMsg {
        community: *c,
        doc: DocId::Governance,
        changes: vec![WireChange { bytes, sig }],
    })
}

#[test]
fn flood_from_throwaway_keys_stays_bounded_and_members_get_through() {
    let (f, m) = (key(1), key(2));
    let g = genesis(&f, AdmissionPolicy::Invite);
    let mut rf =
        Replicator::<usize>::new(f.clone(), f.member_id(), None, Config::default()).unwrap();
    let mut rm =
        Replicator::<usize>::new(m.clone(), m.member_id(), None, Config::default()).unwrap();
    let c = rf.create(T0, g.clone()).unwrap();
    rf.edit(
        T0,
        &c,
        Edit::Govern(Action::Admit {
            member: m.member_id(),
        }),
    )
    .unwrap();
    // The member catches up directly from the founder's community.
    rm.join(T0, c, None).unwrap();
    let base = Automerge::load(
        &rf.community(&c)
            .unwrap()
            .export_doc(&DocId::Governance)
            .unwrap(),
    )
    .unwrap();
    rf.drain().for_each(drop);
    rm.drain().for_each(drop);
    {
        let from = rf.community(&c).unwrap();
        let changes: Vec<(DocId, WireChange)> = from
            .all_changes()
            .into_iter()
            .filter_map(|(d, h)| {
                let (bytes, sig) = from.signed_change(&d, &h)?;
                Some((d, WireChange { bytes, sig }))
            })
            .collect();
        let genesis_bytes = g.to_bytes();
        let mut fresh =
            Replicator::<usize>::new(m.clone(), m.member_id(), None, Config::default()).unwrap();
        fresh.restore(T0, &c, &genesis_bytes, changes).unwrap();
        rm = fresh;
    }
    assert!(rm.community(&c).unwrap().state().is_member(&m.member_id()));
    rm.drain().for_each(drop);

    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let held_before = rf.community(&c).unwrap().total_changes();
    let mut rejected = 0usize;
    for i in 0..FLOOD {
        let bytes = junk(&base, &c, i);
        rf.handle(
            T0,
            Input::Gossip {
                from: 1_000 + i % PEERS,
                id: MsgId(i.to_le_bytes().to_vec()),
                bytes,
            },
        );
        for o in rf.drain() {
            if let Output::Verdict { verdict, .. } = o {
                assert_ne!(verdict, Verdict::Accept, "junk {i} accepted");
                rejected += usize::from(verdict == Verdict::Reject);
            }
        }
    }
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    eprintln!(
        "flood of {FLOOD}: heap peak +{:.1} MiB, live after +{:.1} MiB, pending {}",
        peak as f64 / MIB as f64,
        LIVE.load(Ordering::Relaxed).saturating_sub(before) as f64 / MIB as f64,
        rf.pending(&c)
    );
    assert!(
        peak < 64 * MIB,
        "heap grew by {} MiB during the flood",
        peak / MIB
    );
    assert_eq!(
        rf.community(&c).unwrap().total_changes(),
        held_before,
        "nothing got in"
    );
    assert!(rf.pending(&c) <= Limits::default().max_pending);
    assert!(
        rejected >= FLOOD / 4,
        "non-members' changes are rejected (penalised): {rejected}"
    );

    // After the flood, a member's post still gets in at once.
    let lc = rm.edit(T0, &c, post("general", "still heard")).unwrap();
    let publish = rm
        .drain()
        .find_map(|o| match o {
            Output::Publish { bytes, .. } => Some(bytes),
            _ => None,
        })
        .unwrap();
    rf.handle(
        T0,
        Input::Gossip {
            from: 2,
            id: MsgId(vec![0xAA]),
            bytes: publish,
        },
    );
    let accepted = rf.drain().any(|o| {
        matches!(
            o,
            Output::Verdict {
                verdict: Verdict::Accept,
                ..
            }
        )
    });
    assert!(accepted);
    assert!(
        rf.community(&c)
            .unwrap()
            .has_change(&lc.accepted.doc, &lc.accepted.hash)
    );
}
