//! Property: random concurrent deal steps and reviews, made by the parties and the arbiter on
//! their own replicas with partial syncs in between, then delivered to fresh replicas in any
//! order, duplicated and delayed, give identical market views everywhere; and every state the
//! views show is one the state machine allows.

mod market_support;

use market_support::*;
use proptest::prelude::*;
use qun_crdt::market::*;
use qun_crdt::test_utils::*;
use qun_crdt::*;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha12Rng;
use std::collections::BTreeSet;

#[derive(Debug, Clone)]
enum Op {
    Propose,
    Accept,
    Deliver,
    Complete,
    Dispute,
    Resolve(u8),
    Cancel,
    Review(u8),
    /// The founder removes the buyer B (`alt`) or the arbiter R: revocation wins over their
    /// concurrent steps, and cascades.
    Remove,
    /// The seller rewrites its listing (open or reserved, `alt`).
    Relist,
    /// The founder turns the market off (`alt`) or opens it: turning it off revokes everyone's
    /// concurrent trading.
    Policy,
}

/// One step: what, on which deal, whether the actor first syncs from another replica (most
/// do, so deals progress; the others act on stale copies, which makes steps concurrent), and
/// which party acts where either may (`alt`: the seller, else the buyer; for proposals the
/// founder instead of B as the buyer).
type Step = (Op, usize, Option<usize>, bool);

fn op() -> impl Strategy<Value = Step> {
    let kind = prop_oneof![
        2 => Just(Op::Propose),
        2 => Just(Op::Accept),
        2 => Just(Op::Deliver),
        2 => Just(Op::Complete),
        1 => Just(Op::Dispute),
        1 => (0u8..3).prop_map(Op::Resolve),
        1 => Just(Op::Cancel),
        2 => (1u8..=5).prop_map(Op::Review),
        1 => Just(Op::Remove),
        1 => Just(Op::Relist),
        1 => Just(Op::Policy),
    ];
    let sync = prop_oneof![1 => Just(None), 3 => (0usize..4).prop_map(Some)];
    (kind, 0usize..3, sync, any::<bool>())
}

type Signed = (DocId, Vec<u8>, [u8; 64]);

fn author(ops: &[Step]) -> (CommunityGenesis, Vec<Signed>) {
    let mut w = World::new();
    let l = w.offer(A, "goods", 1_000);
    w.mesh();
    // Deals and their buyer.
    let mut deals: Vec<(DealId, usize)> = Vec::new();
    for (op, k, sync, alt) in ops {
        let deal = deals.get(*k % deals.len().max(1)).cloned();
        let who = match (op, &deal) {
            (Op::Propose, _) => {
                if *alt {
                    F
                } else {
                    B
                }
            }
            (Op::Accept | Op::Deliver | Op::Relist, _) => A,
            (Op::Remove | Op::Policy, _) => F,
            (Op::Resolve(_), _) => R,
            (_, Some((_, buyer))) if !*alt => *buyer,
            _ => A,
        };
        if let Some(src) = sync
            && *src != who
        {
            w.sync(*src, who);
        }
        let action = match (op, deal) {
            (Op::Propose, _) => {
                let d = DealId::new(w.id(who), &format!("d{}", deals.len())).unwrap();
                let a = propose_action(&d, &l, Some(w.id(R)));
                if w.act(who, a).is_ok() {
                    deals.push((d, who));
                }
                None
            }
            (Op::Remove, _) => Some(Action::Remove {
                member: w.id(if *alt { B } else { R }),
                reason: "r".into(),
                cut: Default::default(),
            }),
            (Op::Policy, _) => Some(Action::MarketPolicy {
                policy: if *alt {
                    MarketPolicy::Off
                } else {
                    MarketPolicy::Open
                },
            }),
            (Op::Relist, _) => {
                let mut l2 = listing(ListingKind::Offer, "goods", 1_000);
                if *alt {
                    l2.status = ListingStatus::Reserved;
                }
                Some(Action::ListingSet {
                    id: l.clone(),
                    listing: l2.into(),
                })
            }
            (_, None) => None,
            (Op::Accept, Some((deal, _))) => Some(Action::DealAccept { deal }),
            (Op::Deliver, Some((deal, _))) => Some(Action::DealDeliver { deal }),
            (Op::Complete, Some((deal, _))) => Some(Action::DealComplete { deal }),
            (Op::Dispute, Some((deal, _))) => Some(Action::DealDispute {
                deal,
                reason: "r".into(),
            }),
            (Op::Resolve(o), Some((deal, _))) => Some(Action::DealResolve {
                deal,
                outcome: match o {
                    0 => Outcome::Refund,
                    1 => Outcome::Release,
                    _ => Outcome::Split { buyer_percent: 40 },
                },
            }),
            (Op::Cancel, Some((deal, _))) => Some(Action::DealCancel { deal }),
            (Op::Review(s), Some((deal, _))) => Some(Action::Review {
                deal,
                stars: *s,
                text: String::new(),
            }),
        };
        if let Some(a) = action {
            // Steps the author's own state forbids are refused locally (and never leave).
            let _ = w.act(who, a);
        }
    }
    let mut all = Vec::new();
    let mut seen = BTreeSet::new();
    for r in &w.reps {
        for (doc, h) in r.all_changes() {
            if seen.insert(h) {
                let (b, s) = r.signed_change(&doc, &h).unwrap();
                all.push((doc, b, s));
            }
        }
    }
    (w.g.clone(), all)
}

/// Statuses a step may lead to.
fn allowed(action: &str, s: DealStatus) -> bool {
    use DealStatus::*;
    match action {
        "deal.propose" => s == Proposed,
        "deal.accept" => s == Accepted,
        "deal.deliver" => s == Delivered,
        "deal.complete" => s == Completed,
        "deal.dispute" => s == Disputed,
        "deal.resolve" => s == Resolved,
        // An ask keeps the status; an agreement cancels; the proposer's withdrawal withdraws.
        "deal.cancel" => matches!(s, Accepted | Delivered | Disputed | Cancelled | Withdrawn),
        _ => false,
    }
}

fn fingerprint(c: &mut Community) -> String {
    let deals = c.deals();
    for d in &deals {
        assert!(!d.history.is_empty());
        assert_eq!(d.history[0].action, "deal.propose");
        for e in &d.history {
            assert!(
                allowed(e.action, e.status),
                "{} led to {:?}",
                e.action,
                e.status
            );
        }
        // The current state is the state one of its steps led to.
        assert!(d.history.iter().any(|e| e.status == d.status));
        // Reviews only of deals that earn them... in the review's past (checked at admission);
        // an outcome only with a resolution, a dispute only after one was raised.
        assert_eq!(d.outcome.is_some(), d.status == DealStatus::Resolved);
        if d.status == DealStatus::Disputed || d.status == DealStatus::Resolved {
            assert!(d.dispute.is_some());
        }
    }
    for r in c.reviews() {
        assert!((1..=5).contains(&r.stars));
        assert_ne!(r.reviewer, r.about);
    }
    let st = c.state();
    let members: Vec<_> = st.members.keys().copied().collect();
    let policy = st.market.policy.to_string();
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{policy}",
        deals,
        c.reviews(),
        c.listings(&ListingQuery::default()),
        members
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]
    #[test]
    fn any_order_gives_the_same_market(
        ops in proptest::collection::vec(op(), 10..60),
        n in 3usize..=5,
        seed: u64,
    ) {
        let (g, all) = author(&ops);
        let mut rng = ChaCha12Rng::seed_from_u64(seed);
        let mut prints = Vec::new();
        for r in 0..n {
            let mut c = replica(&g, &key(100 + r as u8));
            let mut queue: Vec<Signed> = all.clone();
            for _ in 0..all.len() / 3 {
                let i = rng.random_range(0..all.len().max(1));
                if let Some(x) = all.get(i) { queue.push(x.clone()); }
            }
            queue.shuffle(&mut rng);
            let mut waiting = queue;
            for _round in 0..all.len() + 2 {
                let mut next = Vec::new();
                for (doc, b, s) in waiting {
                    match c.ingest(&doc, &b, &s) {
                        Ok(_) => {}
                        Err(e) if e.is_pending() => next.push((doc, b, s)),
                        Err(e) => panic!("valid change refused: {e}"),
                    }
                }
                if next.is_empty() { break; }
                next.shuffle(&mut rng);
                waiting = next;
            }
            let p = fingerprint(&mut c);
            // States derived change by change (a trade on top of a cached state) are the
            // states folded from scratch.
            resolve_from_scratch(&mut c);
            prop_assert_eq!(&fingerprint(&mut c), &p);
            prints.push(p);
        }
        for p in &prints[1..] {
            prop_assert_eq!(p, &prints[0]);
        }
    }
}

#[test]
fn the_author_simulation_makes_concurrent_deals() {
    // Guard against a vacuous property: a proposal, then a delivery and a dispute made on
    // copies that have not seen each other, both accepted everywhere.
    let ops = vec![
        (Op::Propose, 0, None, false),
        (Op::Accept, 0, Some(B), false),
        (Op::Dispute, 0, Some(A), false),
        (Op::Deliver, 0, None, false),
    ];
    let (g, all) = author(&ops);
    let mut c = replica(&g, &key(99));
    for (doc, b, s) in &all {
        c.ingest(doc, b, s).unwrap();
    }
    let d = c.deals();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].status, DealStatus::Disputed);
    assert_eq!(d[0].history.len(), 4);
}
