//! Property: replicas that receive the same signed changes in any order, duplicated and
//! delayed, end with the same heads, the same accepted set and the same materialized state.

use proptest::prelude::*;
use qun_crdt::test_utils::*;
use qun_crdt::*;
use qun_identity::SecretIdentity;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha12Rng;
use std::collections::BTreeSet;

#[derive(Debug, Clone)]
enum Op {
    Post,
    Reply,
    React,
    EditOwn,
    DeleteOwn,
    Profile,
    PromoteOrRemove,
    Hide,
    SyncFrom(usize),
}

fn op() -> impl Strategy<Value = (usize, Op)> {
    let kind = prop_oneof![
        4 => Just(Op::Post),
        2 => Just(Op::Reply),
        2 => Just(Op::React),
        1 => Just(Op::EditOwn),
        1 => Just(Op::DeleteOwn),
        1 => Just(Op::Profile),
        1 => Just(Op::PromoteOrRemove),
        1 => Just(Op::Hide),
        3 => (0usize..4).prop_map(Op::SyncFrom),
    ];
    (0usize..4, kind)
}

/// Authors: 0 is the founder, 1..4 join first. Each works on its own replica and syncs from
/// others now and then, so their changes are concurrent in many ways.
type Signed = (DocId, Vec<u8>, [u8; 64]);

fn author_changes(ops: &[(usize, Op)]) -> (CommunityGenesis, Vec<Signed>) {
    let keys: Vec<SecretIdentity> = (1..=4).map(key).collect();
    let g = genesis(&keys[0], AdmissionPolicy::Open);
    let mut reps: Vec<Community> = keys.iter().map(|k| replica(&g, k)).collect();
    let mut clock = 0u64;
    let mut tick = || {
        clock += 1000;
        T0.plus_millis(clock)
    };
    for i in 1..4 {
        let t = tick();
        reps[i]
            .edit(
                &keys[i],
                t,
                Edit::Govern(Action::Join {
                    cert: None,
                    invitation: None,
                    proof: None,
                }),
            )
            .unwrap();
    }
    for i in 1..4 {
        let (l, r) = reps.split_at_mut(i);
        sync_all(&r[0], &mut l[0]);
    }
    for i in 1..4 {
        let src = std::mem::replace(&mut reps[0], replica(&g, &keys[0]));
        sync_all(&src, &mut reps[i]);
        reps[0] = src;
    }
    for (who, op) in ops {
        let k = &keys[*who];
        let now = tick();
        let c = &mut reps[*who];
        let mine: Vec<PostId> = c
            .posts(&ChannelId::general(), 100, None)
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.device == k.device_id() && !p.deleted)
            .map(|p| p.id)
            .collect();
        let any: Vec<PostId> = c
            .posts(&ChannelId::general(), 100, None)
            .unwrap_or_default()
            .into_iter()
            .map(|p| p.id)
            .collect();
        let edit = match op {
            Op::Post => Some(post("general", &format!("{who} at {now}"))),
            Op::Reply => any.first().map(|p| Edit::Post {
                channel: ChannelId::general(),
                text: format!("re {p}"),
                reply_to: Some(p.clone()),
                attachments: vec![],
            }),
            Op::React => any.last().map(|p| Edit::React {
                post: p.clone(),
                emoji: "👍".into(),
                on: true,
            }),
            Op::EditOwn => mine.first().map(|p| Edit::EditPost {
                post: p.clone(),
                text: "edited".into(),
            }),
            Op::DeleteOwn => mine.last().map(|p| Edit::DeletePost { post: p.clone() }),
            Op::Profile => Some(Edit::Profile(Profile {
                name: format!("n{who}{now}"),
                ..Profile::default()
            })),
            Op::PromoteOrRemove => {
                let target = keys[1 + (now.as_millis() as usize / 1000) % 3].member_id();
                Some(if now.as_millis() % 3000 == 0 {
                    Edit::Govern(Action::Remove {
                        member: target,
                        reason: "test".into(),
                        cut: Default::default(),
                    })
                } else {
                    Edit::Govern(Action::SetRole {
                        member: target,
                        role: Role::Moderator,
                        cut: Default::default(),
                    })
                })
            }
            Op::Hide => any.first().map(|p| {
                Edit::Govern(Action::Hide {
                    post: p.clone(),
                    reason: "h".into(),
                })
            }),
            Op::SyncFrom(src) => {
                if *src != *who {
                    let s = std::mem::replace(&mut reps[*src], replica(&g, &keys[*src]));
                    sync_all(&s, &mut reps[*who]);
                    reps[*src] = s;
                }
                None
            }
        };
        if let Some(e) = edit {
            // Unauthorized edits (a removed member, a non-moderator hiding) are refused locally.
            let _ = reps[*who].edit(k, now, e);
        }
    }
    let mut all = Vec::new();
    let mut seen = BTreeSet::new();
    for r in &reps {
        for (doc, h) in r.all_changes() {
            if seen.insert(h) {
                let (b, s) = r.signed_change(&doc, &h).unwrap();
                all.push((doc, b, s));
            }
        }
    }
    (g, all)
}

fn fingerprint(c: &mut Community) -> (Vec<(DocId, Vec<Hash>)>, String) {
    let st = c.state();
    let members: Vec<String> = st.members.iter().map(|(m, r)| format!("{m}:{r}")).collect();
    let posts: Vec<String> = c
        .posts(&ChannelId::general(), 1000, None)
        .unwrap()
        .into_iter()
        .map(|p| {
            format!(
                "{}|{}|{}|{:?}|{:?}|{}",
                p.id, p.text, p.deleted, p.hidden, p.reactions, p.replies
            )
        })
        .collect();
    let profiles = format!("{:?}", c.profiles().unwrap());
    (
        all_heads(c),
        format!("{members:?}\n{posts:?}\n{profiles}\n{:?}", st.removed),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn any_order_converges(ops in proptest::collection::vec(op(), 5..40), n in 3usize..=7, seed: u64) {
        let (g, all) = author_changes(&ops);
        let mut rng = ChaCha12Rng::seed_from_u64(seed);
        let mut prints = Vec::new();
        let mut accepted_sets = Vec::new();
        for r in 0..n {
            let mut c = replica(&g, &key(100 + r as u8));
            // Shuffle, duplicate some, hold some back to deliver late.
            let mut queue: Vec<Signed> = all.clone();
            for _ in 0..all.len() / 3 {
                let i = rng.random_range(0..all.len().max(1));
                if let Some(x) = all.get(i) { queue.push(x.clone()); }
            }
            queue.shuffle(&mut rng);
            let mut accepted = BTreeSet::new();
            let mut waiting = queue;
            for _round in 0..all.len() + 2 {
                let mut next = Vec::new();
                for (doc, b, s) in waiting {
                    match c.ingest(&doc, &b, &s) {
                        Ok(Ingested::Accepted(a)) => { accepted.insert(a.hash); }
                        Ok(Ingested::Duplicate(_)) => {}
                        Err(e) if e.is_pending() => next.push((doc, b, s)),
                        Err(e) => panic!("valid change refused: {e}"),
                    }
                }
                if next.is_empty() { break; }
                next.shuffle(&mut rng);
                waiting = next;
            }
            prints.push(fingerprint(&mut c));
            accepted_sets.push(accepted);
        }
        for p in &prints[1..] {
            prop_assert_eq!(&p.0, &prints[0].0);
            prop_assert_eq!(&p.1, &prints[0].1);
        }
        for a in &accepted_sets[1..] {
            prop_assert_eq!(a, &accepted_sets[0]);
        }
        prop_assert_eq!(accepted_sets[0].len(), all.len());
    }
}

#[test]
fn author_simulation_produces_changes() {
    // Guard against a vacuous property: three joins, two posts and a reaction.
    let ops = vec![
        (0, Op::Post),
        (1, Op::Post),
        (2, Op::SyncFrom(0)),
        (2, Op::React),
    ];
    let (_, all) = author_changes(&ops);
    assert_eq!(all.len(), 6);
}
