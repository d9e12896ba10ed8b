//! Attacks through revocation and policy: a removed member's concurrent market writes (and
//! what others built on them) are void on every replica, whatever the order; so is the trading
//! a market policy (or a role change) stops, made concurrently on copies that had not seen it,
//! while deals under way finish. Cast: F founder, A seller, B buyer, R arbiter, X another
//! member (removed, or excluded by the policy).

mod market_support;

use market_support::*;
use qun_crdt::market::*;
use qun_crdt::test_utils::*;
use qun_crdt::*;

#[test]
fn a_removed_members_concurrent_market_writes_are_void() {
    let mut w = World::new();
    // Before its removal X had an accepted deal with A (X buys) and a listing.
    let old_l = w.offer(X, "old", 1);
    let la = w.offer(A, "tools", 5);
    w.mesh();
    let pending = w.propose(X, "pending", &la, None).unwrap();
    w.mesh();
    w.act(
        A,
        Action::DealAccept {
            deal: pending.clone(),
        },
    )
    .unwrap();
    w.mesh();
    // X also bought something from A, completed: X may review it.
    let lc = w.offer(A, "cups", 5);
    w.mesh();
    let done = w.propose(X, "done", &lc, None).unwrap();
    w.mesh();
    w.act(A, Action::DealAccept { deal: done.clone() }).unwrap();
    w.act(A, Action::DealDeliver { deal: done.clone() })
        .unwrap();
    w.mesh();
    w.act(X, Action::DealComplete { deal: done.clone() })
        .unwrap();
    w.mesh();
    // F removes X; concurrently X (not having seen it) lists, proposes, reviews A one star, and
    // B, who saw X's proposal but not the removal, accepts it.
    w.act(
        F,
        Action::Remove {
            member: w.id(X),
            reason: "fraud".into(),
            cut: Default::default(),
        },
    )
    .unwrap();
    let lb = w.offer(B, "chairs", 5);
    w.sync(B, X);
    let new_l = w.offer(X, "stolen-goods", 9);
    w.act(
        X,
        Action::Review {
            deal: done.clone(),
            stars: 1,
            text: "revenge".into(),
        },
    )
    .unwrap();
    let late = w.propose(X, "late", &lb, None).unwrap();
    w.sync(X, B);
    w.act(B, Action::DealAccept { deal: late.clone() }).unwrap();
    w.mesh();
    for i in [F, A, B, R] {
        let c = &mut w.reps[i];
        // Its listings disappear (old and new), the concurrent proposal is void, and so is
        // the acceptance built on it (cascade).
        assert!(c.listing(&new_l).is_none() && c.listing(&old_l).is_none());
        // (The old listing is valid but not shown; the concurrent one is void.)
        let st = c.state();
        assert!(st.market.listings.contains_key(&old_l));
        assert!(!st.market.listings.contains_key(&new_l));
        // The concurrent review is void, not merely unshown.
        assert!(
            !st.market
                .reviews
                .contains_key(&(done.clone(), w.keys[X].member_id()))
        );
        assert_eq!(st.market.deals[&done].status, DealStatus::Completed);
        assert!(c.shop(&w.keys[X].member_id()).is_empty());
        assert!(c.deal(&late).is_none(), "replica {i}");
        // The deal made before the removal stays, marked; A may cancel it alone.
        let v = c.deal(&pending).unwrap();
        assert_eq!(
            (v.status, v.gone.clone()),
            (DealStatus::Accepted, vec![w.keys[X].member_id()])
        );
    }
    // A replica that resolves everything from scratch (as after a restart, or with another
    // arrival order) decides the same.
    let before = format!("{:?}", w.reps[B].deals());
    resolve_from_scratch(&mut w.reps[B]);
    assert_eq!(format!("{:?}", w.reps[B].deals()), before);
    w.act(
        A,
        Action::DealCancel {
            deal: pending.clone(),
        },
    )
    .unwrap();
    w.mesh();
    assert_eq!(w.status_everywhere(&pending), Some(DealStatus::Cancelled));
}

#[test]
fn a_market_turned_off_voids_concurrent_trading() {
    let mut w = World::new();
    let la = w.offer(A, "eggs", 5);
    w.mesh();
    // Only the policy permission changes the policy.
    let off = Action::MarketPolicy {
        policy: MarketPolicy::Off,
    };
    assert_eq!(rule(w.attack(X, &off, F)), "needs the policy permission");
    w.act(F, off).unwrap();
    // A and B, on copies that have not seen it, keep trading: A lists, B proposes on A's eggs
    // and A accepts. Each was legal at its own dependencies, so each is admitted...
    let la2 = w.offer(A, "milk", 5);
    let d = w.propose(B, "d1", &la, None).unwrap();
    w.sync(B, A);
    w.act(A, Action::DealAccept { deal: d.clone() }).unwrap();
    w.mesh();
    // ...and void: the policy took the right to trade from everyone, and revocation wins.
    for c in w.reps.iter_mut() {
        let st = c.state();
        assert!(!st.market.listings.contains_key(&la2));
        assert!(st.market.deals.is_empty());
        // The listing from before stays, unshown while the market is off.
        assert!(st.market.listings.contains_key(&la));
        assert!(c.listings(&ListingQuery::default()).is_empty());
    }
    // From now on trading is refused outright.
    assert!(
        rule(w.act(
            A,
            Action::ListingSet {
                id: la2.clone(),
                listing: listing(ListingKind::Offer, "milk", 1).into()
            }
        ))
        .starts_with("the market policy (off)")
    );
    let d2 = DealId::new(w.id(B), "d2").unwrap();
    assert!(
        rule(w.attack(B, &propose_action(&d2, &la, None), F))
            .starts_with("the market policy (off)")
    );
}

#[test]
fn deals_under_way_finish_when_the_market_is_turned_off() {
    let mut w = World::new();
    let d = w.accepted_deal("d1", true);
    w.act(
        F,
        Action::MarketPolicy {
            policy: MarketPolicy::Off,
        },
    )
    .unwrap();
    // Concurrently the seller delivers: steps after acceptance do not trade.
    w.act(A, Action::DealDeliver { deal: d.clone() }).unwrap();
    w.mesh();
    w.act(B, Action::DealComplete { deal: d.clone() }).unwrap();
    w.mesh();
    w.act(
        B,
        Action::Review {
            deal: d.clone(),
            stars: 5,
            text: String::new(),
        },
    )
    .unwrap();
    w.mesh();
    assert_eq!(w.status_everywhere(&d), Some(DealStatus::Completed));
    assert_eq!(w.reps[X].reviews_about(&w.keys[A].member_id()).len(), 1);
}

#[test]
fn a_role_limited_market_voids_concurrent_trading_of_those_it_excludes() {
    let mut w = World::new();
    w.act(
        F,
        Action::DefineRole {
            name: "vendor".into(),
            perms: [Perm::Post, Perm::React].into(),
        },
    )
    .unwrap();
    w.act(
        F,
        Action::SetRole {
            member: w.id(B),
            role: Role::custom("vendor").unwrap(),
            cut: Default::default(),
        },
    )
    .unwrap();
    w.sync(F, B);
    w.act(
        F,
        Action::MarketPolicy {
            policy: "roles:vendor".parse().unwrap(),
        },
    )
    .unwrap();
    // X lists on a copy that has not seen the policy, and B (a vendor) too.
    let backdated = w.offer(X, "cheap", 5);
    let stall = w.offer(B, "stall", 2);
    w.mesh();
    assert_eq!(w.reps[F].market_policy().to_string(), "roles:vendor");
    // X's listing is void; the vendor's stands and is the only one shown.
    assert!(!w.reps[A].state().market.listings.contains_key(&backdated));
    let shown = |c: &mut Community| {
        c.listings(&ListingQuery::default())
            .into_iter()
            .map(|v| v.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(shown(&mut w.reps[X]), vec![stall.clone()]);
    assert!(
        rule(w.act(
            X,
            Action::ListingSet {
                id: backdated.clone(),
                listing: listing(ListingKind::Offer, "x", 1).into()
            }
        ))
        .starts_with("the market policy (roles:vendor)")
    );
    // A role change that takes B out of the policy takes its right to trade: B's listing made
    // concurrently with it is void, the one from before stays (unshown: B may not trade now).
    w.act(
        F,
        Action::SetRole {
            member: w.id(B),
            role: Role::Member,
            cut: Default::default(),
        },
    )
    .unwrap();
    let late = w.offer(B, "late", 1);
    w.mesh();
    for c in w.reps.iter_mut() {
        let st = c.state();
        assert!(!st.market.listings.contains_key(&late));
        assert!(st.market.listings.contains_key(&stall));
        assert!(shown(c).is_empty());
    }
}
