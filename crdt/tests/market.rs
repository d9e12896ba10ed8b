//! The market through the real `Community` edit/ingest/validity path: a whole deal with a
//! dispute, concurrent steps resolved by the documented rule whatever the arrival order,
//! cancellation, moderation of listings by rank, search and shops, and the limits as typed
//! errors. Attacks are in `market_attacks.rs` and `market_revocation.rs`, the convergence
//! property in `market_props.rs`.

mod market_support;

use market_support::*;
use qun_crdt::community::action::ChangeMeta;
use qun_crdt::market::*;
use qun_crdt::test_utils::*;
use qun_crdt::*;

fn statuses(v: &DealView) -> Vec<(&'static str, DealStatus)> {
    v.history.iter().map(|e| (e.action, e.status)).collect()
}

#[test]
fn a_whole_deal_with_a_dispute_resolved_by_the_arbiter_then_reviews() {
    let mut w = World::new();
    let d = w.accepted_deal("d1", true);
    w.act(A, Action::DealDeliver { deal: d.clone() }).unwrap();
    w.mesh();
    w.act(
        B,
        Action::DealDispute {
            deal: d.clone(),
            reason: "half of it was broken".into(),
        },
    )
    .unwrap();
    w.mesh();
    // While disputed, nobody but the arbiter moves it.
    assert_eq!(
        rule(w.act(B, Action::DealComplete { deal: d.clone() })),
        "a deal that is disputed cannot take deal.complete"
    );
    assert_eq!(
        rule(w.act(A, Action::DealCancel { deal: d.clone() })),
        "a disputed deal is the arbiter's to resolve"
    );
    w.act(
        R,
        Action::DealResolve {
            deal: d.clone(),
            outcome: Outcome::Split { buyer_percent: 50 },
        },
    )
    .unwrap();
    w.mesh();
    for (i, stars) in [(A, 3), (B, 4)] {
        w.act(
            i,
            Action::Review {
                deal: d.clone(),
                stars,
                text: "fair in the end".into(),
            },
        )
        .unwrap();
    }
    w.mesh();
    let (a, b, r) = (w.id(A), w.id(B), w.id(R));
    for c in w.reps.iter_mut() {
        let v = c.deal(&d).unwrap();
        assert_eq!(v.status, DealStatus::Resolved);
        assert_eq!(v.outcome, Some(Outcome::Split { buyer_percent: 50 }));
        assert_eq!(
            (v.terms.buyer, v.terms.seller, v.terms.arbiter),
            (b, a, Some(r))
        );
        assert_eq!(v.dispute.as_ref().map(|x| x.by), Some(b));
        assert_eq!(
            statuses(&v),
            vec![
                ("deal.propose", DealStatus::Proposed),
                ("deal.accept", DealStatus::Accepted),
                ("deal.deliver", DealStatus::Delivered),
                ("deal.dispute", DealStatus::Disputed),
                ("deal.resolve", DealStatus::Resolved),
            ]
        );
        assert!(v.gone.is_empty());
        let edges = c.review_edges();
        assert_eq!(edges.len(), 2);
        assert!(edges.contains(&ReviewEdge {
            reviewer: b,
            reviewed: a,
            stars: 4,
            deal: d.clone()
        }));
        assert_eq!(c.deals_of(&r).len(), 1);
        assert!(c.deals_of(&w.keys[X].member_id()).is_empty());
    }
}

/// Deliver two sets of changes to a fresh replica in both orders; the deal's status.
fn both_orders(w: &mut World, first: usize, second: usize, d: &DealId) -> [DealStatus; 2] {
    let mut out = [DealStatus::Proposed; 2];
    for (k, (x, y)) in [(first, second), (second, first)].into_iter().enumerate() {
        let mut c = replica(&w.g, &key(90 + k as u8));
        sync_all(&w.reps[x], &mut c);
        sync_all(&w.reps[y], &mut c);
        out[k] = c.deal(d).unwrap().status;
    }
    out
}

#[test]
fn a_dispute_concurrent_with_a_delivery_wins_in_any_order() {
    let mut w = World::new();
    let d = w.accepted_deal("d1", true);
    // The seller marks it delivered while the buyer, not having seen it, disputes.
    w.act(A, Action::DealDeliver { deal: d.clone() }).unwrap();
    w.act(
        B,
        Action::DealDispute {
            deal: d.clone(),
            reason: "nothing came".into(),
        },
    )
    .unwrap();
    assert_eq!(both_orders(&mut w, A, B, &d), [DealStatus::Disputed; 2]);
    w.mesh();
    assert_eq!(w.status_everywhere(&d), Some(DealStatus::Disputed));
    // Both steps stay in the history; the seller cannot complete or deliver from here.
    let v = w.reps[F].deal(&d).unwrap();
    assert_eq!(v.history.len(), 4);
    assert!(w.act(A, Action::DealDeliver { deal: d.clone() }).is_err());
    // The arbiter takes it from the merged state.
    w.act(
        R,
        Action::DealResolve {
            deal: d.clone(),
            outcome: Outcome::Release,
        },
    )
    .unwrap();
    w.mesh();
    assert_eq!(w.status_everywhere(&d), Some(DealStatus::Resolved));
}

#[test]
fn a_completion_concurrent_with_a_cancellation_wins_in_any_order() {
    let mut w = World::new();
    let d = w.accepted_deal("d1", false);
    w.act(A, Action::DealDeliver { deal: d.clone() }).unwrap();
    w.mesh();
    // B asks to cancel; A agrees (cancelled) while B, changing its mind, completes.
    w.act(B, Action::DealCancel { deal: d.clone() }).unwrap();
    w.mesh();
    assert_eq!(w.reps[F].deal(&d).unwrap().cancel_asked, Some(w.id(B)));
    w.act(A, Action::DealCancel { deal: d.clone() }).unwrap();
    w.act(B, Action::DealComplete { deal: d.clone() }).unwrap();
    assert_eq!(w.reps[A].deal(&d).unwrap().status, DealStatus::Cancelled);
    assert_eq!(both_orders(&mut w, A, B, &d), [DealStatus::Completed; 2]);
    w.mesh();
    assert_eq!(w.status_everywhere(&d), Some(DealStatus::Completed));
    // Both can review: the completion is in their past now.
    w.act(
        A,
        Action::Review {
            deal: d.clone(),
            stars: 5,
            text: String::new(),
        },
    )
    .unwrap();
}

#[test]
fn cancelling_before_acceptance_is_the_proposers_after_it_both_parties() {
    let mut w = World::new();
    let l = w.offer(A, "chair", 3);
    w.mesh();
    let d1 = w.propose(B, "d1", &l, None).unwrap();
    w.mesh();
    assert_eq!(
        rule(w.act(A, Action::DealCancel { deal: d1.clone() })),
        "before acceptance only the proposer cancels a deal"
    );
    // The proposer withdraws: withdrawn, final.
    w.act(B, Action::DealCancel { deal: d1.clone() }).unwrap();
    w.mesh();
    assert_eq!(w.status_everywhere(&d1), Some(DealStatus::Withdrawn));
    assert!(w.act(A, Action::DealAccept { deal: d1 }).is_err());
    // A withdrawal concurrent with the acceptance loses to it, in any order (the mailbox
    // rule: see `market_attacks.rs` for why).
    let d0 = w.propose(B, "d0", &l, None).unwrap();
    w.mesh();
    w.act(B, Action::DealCancel { deal: d0.clone() }).unwrap();
    w.act(A, Action::DealAccept { deal: d0.clone() }).unwrap();
    assert_eq!(both_orders(&mut w, A, B, &d0), [DealStatus::Accepted; 2]);
    // After acceptance: one asks, the other agrees.
    let d2 = w.propose(B, "d2", &l, None).unwrap();
    w.mesh();
    w.act(A, Action::DealAccept { deal: d2.clone() }).unwrap();
    w.act(A, Action::DealCancel { deal: d2.clone() }).unwrap();
    assert_eq!(
        rule(w.act(A, Action::DealCancel { deal: d2.clone() })),
        "already asked to cancel: the other party must agree"
    );
    w.mesh();
    assert_eq!(w.status_everywhere(&d2), Some(DealStatus::Accepted));
    w.act(B, Action::DealCancel { deal: d2.clone() }).unwrap();
    w.mesh();
    assert_eq!(w.status_everywhere(&d2), Some(DealStatus::Cancelled));
    // Nothing follows a final state, and a cancelled deal earns no review.
    assert!(w.act(B, Action::DealCancel { deal: d2.clone() }).is_err());
    assert_eq!(
        rule(w.act(
            B,
            Action::Review {
                deal: d2,
                stars: 1,
                text: String::new()
            }
        )),
        "a review needs a completed deal"
    );
}

#[test]
fn a_disputed_deal_whose_arbiter_is_gone_is_cancelled_by_both() {
    let mut w = World::new();
    let d = w.accepted_deal("d1", true);
    let d2 = w.accepted_deal("d2", true);
    w.act(
        B,
        Action::DealDispute {
            deal: d.clone(),
            reason: "late".into(),
        },
    )
    .unwrap();
    w.mesh();
    w.act(
        F,
        Action::Remove {
            member: w.id(R),
            reason: "gone".into(),
            cut: Default::default(),
        },
    )
    .unwrap();
    w.mesh();
    assert_eq!(w.reps[A].deal(&d).unwrap().gone, vec![w.id(R)]);
    // A gone arbiter cannot be called, nor named in a new proposal.
    assert_eq!(
        rule(w.act(
            B,
            Action::DealDispute {
                deal: d2,
                reason: "x".into()
            }
        )),
        "the arbiter is no longer a member: cancel it together"
    );
    let l = w.offer(A, "third", 1);
    w.mesh();
    let d3 = DealId::new(w.id(B), "d3").unwrap();
    assert_eq!(
        rule(w.act(B, propose_action(&d3, &l, Some(w.id(R))))),
        "the arbiter must be a member who is neither party"
    );
    // The disputed deal: one asks, the other agrees.
    w.act(A, Action::DealCancel { deal: d.clone() }).unwrap();
    w.mesh();
    assert_eq!(w.status_everywhere(&d), Some(DealStatus::Disputed));
    w.act(B, Action::DealCancel { deal: d.clone() }).unwrap();
    w.mesh();
    assert_eq!(w.status_everywhere(&d), Some(DealStatus::Cancelled));
}

#[test]
fn moderators_hide_listings_by_rank() {
    let mut w = World::new();
    w.act(
        F,
        Action::SetRole {
            member: w.id(R),
            role: Role::Moderator,
            cut: Default::default(),
        },
    )
    .unwrap();
    let la = w.offer(A, "spam", 1);
    let lf = w.offer(F, "founders-jam", 1);
    w.mesh();
    let hide = |id: &ListingId| Action::ListingHide {
        id: id.clone(),
        reason: "off-topic".into(),
    };
    assert_eq!(rule(w.act(X, hide(&la))), "needs the hide permission");
    assert_eq!(
        rule(w.act(R, hide(&lf))),
        "the listing's owner ranks above you"
    );
    w.act(R, hide(&la)).unwrap();
    w.mesh();
    // Hidden: not browsed, marked in the shop, no deals on it.
    assert!(
        w.reps[B]
            .listings(&ListingQuery::default())
            .iter()
            .all(|v| v.id != la)
    );
    let shop = w.reps[B].shop(&w.keys[A].member_id());
    assert_eq!(shop[0].hidden.as_ref().map(|h| h.by), Some(w.id(R)));
    let d = DealId::new(w.id(B), "d1").unwrap();
    assert_eq!(
        rule(w.act(B, propose_action(&d, &la, None))),
        "the listing is hidden"
    );
    // The founder's hide stands against the moderator; the founder undoes it.
    w.act(F, hide(&la)).unwrap();
    w.mesh();
    assert_eq!(
        rule(w.act(R, Action::ListingUnhide { id: la.clone() })),
        "hidden by a member of higher rank"
    );
    w.act(F, Action::ListingUnhide { id: la.clone() }).unwrap();
    w.mesh();
    assert!(w.reps[B].listing(&la).unwrap().hidden.is_none());
    w.act(B, propose_action(&d, &la, None)).unwrap();
}

#[test]
fn search_shops_and_requests() {
    let mut w = World::new();
    let mut honey = listing(ListingKind::Offer, "Wildflower honey", 10);
    honey.tags = vec!["food".into(), "local".into()];
    let lh = ListingId::new(w.id(A), "honey").unwrap();
    w.act(
        A,
        Action::ListingSet {
            id: lh.clone(),
            listing: honey.into(),
        },
    )
    .unwrap();
    let mut want = listing(ListingKind::Request, "Need a bike repair", 1);
    want.price = Price::Negotiable;
    want.tags = vec!["repair".into()];
    let lr = ListingId::new(w.id(B), "bike").unwrap();
    w.act(
        B,
        Action::ListingSet {
            id: lr.clone(),
            listing: want.into(),
        },
    )
    .unwrap();
    w.mesh();
    let c = &mut w.reps[X];
    let q = |text: Option<&str>, tags: &[&str]| ListingQuery {
        text: text.map(String::from),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        ..Default::default()
    };
    let ids = |v: Vec<ListingView>| v.into_iter().map(|l| l.id).collect::<Vec<_>>();
    assert_eq!(ids(c.listings(&q(Some("HONEY"), &[]))), vec![lh.clone()]);
    assert_eq!(
        ids(c.listings(&q(None, &["food", "local"]))),
        vec![lh.clone()]
    );
    assert_eq!(ids(c.listings(&q(None, &["repair"]))), vec![lr.clone()]);
    assert!(c.listings(&q(Some("car"), &[])).is_empty());
    assert_eq!(ids(c.shop(&lr.owner)), vec![lr.clone()]);
    // A proposal on a request makes the proposer the seller.
    let d = w.propose(X, "fix", &lr, None).unwrap();
    w.mesh();
    let v = w.reps[B].deal(&d).unwrap();
    assert_eq!((v.terms.buyer, v.terms.seller), (w.id(B), w.id(X)));
    // The owner (the buyer) accepts; the proposer (the seller) delivers.
    w.act(B, Action::DealAccept { deal: d.clone() }).unwrap();
    w.mesh();
    w.act(X, Action::DealDeliver { deal: d.clone() }).unwrap();
    // Proposals need an open listing and a quantity it has.
    let mut closed = listing(ListingKind::Offer, "Wildflower honey", 10);
    closed.status = ListingStatus::Closed;
    w.act(
        A,
        Action::ListingSet {
            id: lh.clone(),
            listing: closed.into(),
        },
    )
    .unwrap();
    w.mesh();
    let d2 = DealId::new(w.id(X), "more").unwrap();
    assert_eq!(
        rule(w.act(X, propose_action(&d2, &lh, None))),
        "the listing is not open"
    );
}

#[test]
fn limits_are_typed_errors_on_every_input() {
    let mut w = World::new();
    let id = ListingId::new(w.id(A), "ok").unwrap();
    let set = |l: Listing| Action::ListingSet {
        id: id.clone(),
        listing: l.into(),
    };
    let base = || listing(ListingKind::Offer, "t", 1);
    let mut l = base();
    l.title = "x".repeat(201);
    assert!(matches!(
        w.act(A, set(l)),
        Err(Error::TooLarge {
            what: "listing title",
            limit: 200,
            actual: 201
        })
    ));
    let mut l = base();
    l.description = "x".repeat(8 * 1024 + 1);
    assert!(matches!(
        w.act(A, set(l.clone())),
        Err(Error::TooLarge {
            what: "listing description",
            ..
        })
    ));
    // The same, crafted and sent: refused when the message is decoded, before anything else.
    let big = set(l);
    assert!(matches!(
        w.attack(A, &big, F),
        Err(Error::TooLarge {
            what: "listing description",
            ..
        })
    ));
    let mut l = base();
    l.title = "  ".into();
    assert!(matches!(
        w.act(A, set(l)),
        Err(Error::MarketField { field: "title", .. })
    ));
    let mut l = base();
    l.tags = vec!["Not OK".into()];
    assert!(matches!(
        w.act(A, set(l)),
        Err(Error::MarketField { field: "tag", .. })
    ));
    let mut l = base();
    l.tags = (0..11).map(|i| format!("t{i}")).collect();
    assert!(matches!(
        w.act(A, set(l)),
        Err(Error::TooLarge {
            what: "listing tags",
            ..
        })
    ));
    let mut l = base();
    l.quantity = 0;
    assert!(matches!(
        w.act(A, set(l)),
        Err(Error::MarketField {
            field: "quantity",
            ..
        })
    ));
    assert!(matches!(
        ListingId::new(w.id(A), "Bad Key"),
        Err(Error::MarketField {
            field: "listing id",
            ..
        })
    ));
    assert!("roles:".parse::<MarketPolicy>().is_err());
    let d = DealId::new(w.id(B), "d").unwrap();
    for (stars, ok) in [(0u8, false), (6, false)] {
        let e = w.act(
            B,
            Action::Review {
                deal: d.clone(),
                stars,
                text: String::new(),
            },
        );
        assert_eq!(
            matches!(e, Err(Error::MarketField { field: "stars", .. })),
            !ok
        );
    }
    let e = w.act(
        R,
        Action::DealResolve {
            deal: d.clone(),
            outcome: Outcome::Split { buyer_percent: 100 },
        },
    );
    assert!(matches!(
        e,
        Err(Error::MarketField {
            field: "outcome",
            ..
        })
    ));
    // A proposal for more than the listing holds.
    let l = w.offer(A, "few", 2);
    w.mesh();
    let mut a = propose_action(&d, &l, None);
    if let Action::DealPropose(p) = &mut a {
        p.quantity = 3;
    }
    assert_eq!(rule(w.act(B, a)), "more than the listing's quantity");
}

#[test]
fn a_member_keeps_at_most_so_many_listings_open() {
    let mut w = World::new();
    for i in 0..MAX_OPEN_LISTINGS {
        w.offer(A, &format!("l{i}"), 1);
    }
    let over = ListingId::new(w.id(A), "one-more").unwrap();
    let a = Action::ListingSet {
        id: over.clone(),
        listing: listing(ListingKind::Offer, "one more", 1).into(),
    };
    assert_eq!(
        rule(w.act(A, a.clone())),
        "too many listings that are not closed (close some first)"
    );
    // Closing one makes room; editing an existing one is always fine.
    let mut closed = listing(ListingKind::Offer, "l0", 1);
    closed.status = ListingStatus::Closed;
    w.act(
        A,
        Action::ListingSet {
            id: ListingId::new(w.id(A), "l0").unwrap(),
            listing: closed.into(),
        },
    )
    .unwrap();
    w.act(A, a).unwrap();
}

#[test]
fn old_messages_still_decode_and_market_actions_round_trip() {
    // A stored change of before the market decodes as it always did.
    let (a, _) = ChangeMeta::decode(Some(r#"{"v":1,"a":{"t":"member.leave"}}"#)).unwrap();
    assert_eq!(a, Action::Leave);
    let w = World::new();
    let deal = DealId::new(w.id(B), "d1").unwrap();
    for a in [
        Action::MarketPolicy {
            policy: "roles:moderator,member".parse().unwrap(),
        },
        Action::ListingSet {
            id: ListingId::new(w.id(A), "x").unwrap(),
            listing: listing(ListingKind::Request, "x", 1).into(),
        },
        propose_action(&deal, &ListingId::new(w.id(A), "x").unwrap(), Some(w.id(R))),
        Action::DealResolve {
            deal: deal.clone(),
            outcome: Outcome::Split { buyer_percent: 30 },
        },
        Action::Review {
            deal,
            stars: 5,
            text: "ok".into(),
        },
    ] {
        let m = ChangeMeta::encode(&a, &[]);
        assert!(m.contains(&format!("\"t\":\"{}\"", a.tag())), "{m}");
        assert_eq!(ChangeMeta::decode(Some(&m)).unwrap().0, a);
        assert!(a.is_governance() && a.section().is_none() && a.is_market());
    }
    assert!(!Action::Leave.is_market());
}
