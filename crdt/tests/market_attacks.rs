//! Attacks a dishonest trader would try on the market, each made the way an attacker works:
//! changes crafted without any local rule, signed by the attacker's own key (or carrying a
//! signature copied from someone else), with whatever dependencies its stale copy has, and
//! offered to honest replicas through the real ingest path. Each must be refused (or void)
//! on every replica. Cast: F founder, A seller, B buyer, R arbiter, X another member.

mod market_support;

use market_support::*;
use qun_crdt::market::*;
use qun_crdt::test_utils::*;
use qun_crdt::*;
use qun_identity::Capabilities;

#[test]
fn a_non_owner_cannot_write_someone_elses_listing() {
    let mut w = World::new();
    let l = w.offer(A, "bread", 3);
    w.mesh();
    let mut forged = listing(ListingKind::Offer, "bread (now free!)", 3);
    forged.price = Price::Amount { amount: 0 };
    let a = Action::ListingSet {
        id: l.clone(),
        listing: forged.into(),
    };
    // X's own node refuses to make it; a crafted one is refused by every honest replica.
    assert_eq!(
        rule(w.act(X, a.clone())),
        "only the owner edits its listings"
    );
    for to in [F, A, B] {
        assert_eq!(
            rule(w.attack(X, &a, to)),
            "only the owner edits its listings"
        );
    }
    // A founder cannot either: ownership is not a rank.
    assert_eq!(
        rule(w.attack(F, &a, B)),
        "only the owner edits its listings"
    );
    assert_eq!(w.reps[B].listing(&l).unwrap().listing.title, "bread");

    // A device of A's (content capability) may edit; a device of X's may not.
    let dev = key(40);
    let mut cd = replica(&w.g, &dev);
    sync_all(&w.reps[A], &mut cd);
    let link = |root: &qun_identity::SecretIdentity| Action::LinkDevice {
        cert: cert(root, &dev, Capabilities::CONTENT),
    };
    cd.edit(
        &dev,
        T0.plus_millis(900_000),
        Edit::Govern(link(&w.keys[A])),
    )
    .unwrap();
    let mut edited = listing(ListingKind::Offer, "bread, rye", 2);
    edited.status = ListingStatus::Reserved;
    cd.edit(
        &dev,
        T0.plus_millis(901_000),
        Edit::Govern(Action::ListingSet {
            id: l.clone(),
            listing: edited.into(),
        }),
    )
    .unwrap();
    sync_all(&cd, &mut w.reps[B]);
    let v = w.reps[B].listing(&l).unwrap();
    assert_eq!(
        (v.listing.title.as_str(), v.listing.status),
        ("bread, rye", ListingStatus::Reserved)
    );
    let dev_x = key(41);
    let mut cx = replica(&w.g, &dev_x);
    sync_all(&w.reps[X], &mut cx);
    cx.edit(
        &dev_x,
        T0.plus_millis(902_000),
        Edit::Govern(Action::LinkDevice {
            cert: cert(&w.keys[X], &dev_x, Capabilities::CONTENT),
        }),
    )
    .unwrap();
    let e = cx
        .edit(&dev_x, T0.plus_millis(903_000), Edit::Govern(a))
        .unwrap_err();
    assert!(
        matches!(&e, Error::Unauthorized { reason, .. } if reason == "only the owner edits its listings"),
        "{e}"
    );
}

#[test]
fn a_non_party_cannot_move_a_deal() {
    let mut w = World::new();
    let d = w.accepted_deal("d1", true);
    for a in [
        Action::DealDeliver { deal: d.clone() },
        Action::DealDispute {
            deal: d.clone(),
            reason: "mine now".into(),
        },
        Action::DealCancel { deal: d.clone() },
    ] {
        let r = rule(w.attack(X, &a, F));
        assert!(
            r.starts_with("only the seller") || r.starts_with("only a party"),
            "{r}"
        );
        // Not even the arbiter or the founder.
        assert!(w.attack(R, &a, F).is_err());
    }
    assert_eq!(w.status_everywhere(&d), Some(DealStatus::Accepted));
    // Nor accept a proposal in the owner's place.
    let l = w.offer(A, "jam", 2);
    w.mesh();
    let d2 = w.propose(B, "d2", &l, None).unwrap();
    w.mesh();
    assert_eq!(
        rule(w.attack(X, &Action::DealAccept { deal: d2.clone() }, A)),
        "only the listing's owner accepts a proposed deal"
    );
    // The proposer cannot accept its own proposal either.
    assert_eq!(
        rule(w.attack(B, &Action::DealAccept { deal: d2.clone() }, A)),
        "only the listing's owner accepts a proposed deal"
    );
    assert_eq!(w.status_everywhere(&d2), Some(DealStatus::Proposed));
}

#[test]
fn the_seller_cannot_complete_on_the_buyers_behalf() {
    let mut w = World::new();
    let d = w.accepted_deal("d1", true);
    w.act(A, Action::DealDeliver { deal: d.clone() }).unwrap();
    w.mesh();
    let complete = Action::DealComplete { deal: d.clone() };
    assert_eq!(
        rule(w.act(A, complete.clone())),
        "only the buyer can mark a deal completed"
    );
    assert_eq!(
        rule(w.attack(A, &complete, B)),
        "only the buyer can mark a deal completed"
    );
    // Nor can the buyer mark it delivered for the seller.
    assert_eq!(
        rule(w.attack(B, &Action::DealDeliver { deal: d.clone() }, A)),
        "only the seller can mark a deal delivered"
    );
    let e = w.act(A, complete).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "unauthorized deal.complete by {}: only the buyer can mark a deal completed",
            w.id(A)
        )
    );
    assert_eq!(w.status_everywhere(&d), Some(DealStatus::Delivered));
}

#[test]
fn a_backdated_step_that_does_not_cite_the_state_it_leaves_is_refused() {
    let mut w = World::new();
    let l = w.offer(A, "bike", 1);
    w.mesh();
    let d = w.propose(B, "d1", &l, Some(R)).unwrap();
    w.mesh();
    // A accepts and delivers; B's copy has seen neither.
    w.act(A, Action::DealAccept { deal: d.clone() }).unwrap();
    w.act(A, Action::DealDeliver { deal: d.clone() }).unwrap();
    w.sync(A, F);
    // B, at dependencies where the deal is only proposed, says completed: refused everywhere
    // (a completion must have the delivery in its causal past).
    let complete = Action::DealComplete { deal: d.clone() };
    let e = w.attack(B, &complete, F).unwrap_err();
    assert_eq!(
        e,
        Error::DealTransition {
            status: "proposed",
            action: "deal.complete"
        }
    );
    // The arbiter, whose copy holds only the proposal, cannot resolve from there either.
    let e = w.attack(
        R,
        &Action::DealResolve {
            deal: d.clone(),
            outcome: Outcome::Release,
        },
        F,
    );
    assert_eq!(rule(e), "an arbiter resolves only a disputed deal");
    // Once B's copy holds the delivery, the same step is fine.
    w.sync(F, B);
    w.act(B, complete).unwrap();
    w.mesh();
    assert_eq!(w.status_everywhere(&d), Some(DealStatus::Completed));
    // A step on a deal its dependencies do not know is refused too.
    let unknown = DealId::new(w.id(B), "nope").unwrap();
    assert_eq!(
        rule(w.attack(B, &Action::DealComplete { deal: unknown }, F)),
        "no such deal (a step must cite the deal's proposal)"
    );
}

#[test]
fn a_replayed_step_copied_from_another_deal_gains_nothing() {
    let mut w = World::new();
    let d1 = w.completed_deal("d1");
    let d2 = w.accepted_deal("d2", true);
    w.act(A, Action::DealDeliver { deal: d2.clone() }).unwrap();
    w.mesh();
    // The buyer's signed completion of d1.
    let (doc, h) = w.reps[B]
        .all_changes()
        .into_iter()
        .rev()
        .find(|(doc, h)| {
            doc.is_governance() && {
                let (b, _) = w.reps[B].signed_change(doc, h).unwrap();
                String::from_utf8_lossy(&b).contains("deal.complete")
            }
        })
        .unwrap();
    let (bytes, sig) = w.reps[B].signed_change(&doc, &h).unwrap();
    // Offered again: a duplicate, nothing changes.
    assert!(matches!(
        w.reps[F].ingest(&doc, &bytes, &sig),
        Ok(Ingested::Duplicate(_))
    ));
    // Offered to another community: its signature names this one.
    let g2 = genesis_with(
        &w.keys[F],
        AdmissionPolicy::Open,
        7 * 24 * 3600 * 1000,
        [9; 16],
    );
    let mut other = replica(&g2, &w.keys[F]);
    assert!(matches!(
        other.ingest(&doc, &bytes, &sig),
        Err(Error::BadSignature { .. })
    ));
    // The same step pointed at d2 in B's name, carrying B's signature of d1's completion: the
    // signature covers the change hash, so it does not verify.
    let bk = w.keys[B].clone();
    let c = w.craft(A, &bk, &Action::DealComplete { deal: d2.clone() });
    assert!(matches!(
        w.reps[F].ingest(&DocId::Governance, &c.bytes, &sig),
        Err(Error::BadSignature { .. })
    ));
    // The seller signing it itself is not the buyer.
    assert_eq!(
        rule(w.attack(A, &Action::DealComplete { deal: d2.clone() }, F)),
        "only the buyer can mark a deal completed"
    );
    assert_eq!(w.status_everywhere(&d1), Some(DealStatus::Completed));
    assert_eq!(w.status_everywhere(&d2), Some(DealStatus::Delivered));
}

#[test]
fn an_arbiter_resolves_only_a_disputed_deal_of_its_own() {
    let mut w = World::new();
    let d = w.accepted_deal("d1", true);
    let resolve = Action::DealResolve {
        deal: d.clone(),
        outcome: Outcome::Refund,
    };
    assert_eq!(
        rule(w.act(R, resolve.clone())),
        "an arbiter resolves only a disputed deal"
    );
    assert_eq!(
        rule(w.attack(R, &resolve, F)),
        "an arbiter resolves only a disputed deal"
    );
    w.act(
        B,
        Action::DealDispute {
            deal: d.clone(),
            reason: "never came".into(),
        },
    )
    .unwrap();
    w.mesh();
    // Someone who is not its arbiter cannot resolve it, not even the founder.
    assert_eq!(
        rule(w.attack(X, &resolve, A)),
        "only the deal's arbiter can resolve it"
    );
    assert_eq!(
        rule(w.attack(F, &resolve, A)),
        "only the deal's arbiter can resolve it"
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
    // Once resolved, not again.
    assert!(w.attack(R, &resolve, A).is_err());
    let v = w.reps[X].deal(&d).unwrap();
    assert_eq!(
        (v.status, v.outcome),
        (
            DealStatus::Resolved,
            Some(Outcome::Split { buyer_percent: 50 })
        )
    );
    // A deal without an arbiter cannot be disputed.
    let d2 = w.accepted_deal("d2", false);
    assert_eq!(
        rule(w.act(
            B,
            Action::DealDispute {
                deal: d2,
                reason: "x".into()
            }
        )),
        "a deal without an arbiter cannot be disputed: cancel it together"
    );
}

#[test]
fn a_review_needs_a_completed_deal_in_its_causal_past() {
    let mut w = World::new();
    let d = w.accepted_deal("d1", true);
    let review = Action::Review {
        deal: d.clone(),
        stars: 5,
        text: "great".into(),
    };
    assert_eq!(
        rule(w.act(B, review.clone())),
        "a review needs a completed deal"
    );
    assert_eq!(
        rule(w.attack(B, &review, F)),
        "a review needs a completed deal"
    );
    // No deal at all.
    let ghost = Action::Review {
        deal: DealId::new(w.id(X), "ghost").unwrap(),
        stars: 5,
        text: String::new(),
    };
    assert!(rule(w.attack(X, &ghost, F)).starts_with("a review needs a completed deal"));
    // B completes on its own copy; A has not seen it: A's review is backdated, refused.
    w.act(A, Action::DealDeliver { deal: d.clone() }).unwrap();
    w.sync(A, B);
    w.act(B, Action::DealComplete { deal: d.clone() }).unwrap();
    let by_a = Action::Review {
        deal: d.clone(),
        stars: 4,
        text: "paid".into(),
    };
    assert_eq!(
        rule(w.attack(A, &by_a, B)),
        "a review needs a completed deal"
    );
    w.mesh();
    w.act(A, by_a).unwrap();
    w.act(B, review).unwrap();
    // A third member of the completed deal's community is no party.
    assert_eq!(
        rule(w.attack(
            X,
            &Action::Review {
                deal: d.clone(),
                stars: 1,
                text: "bad".into()
            },
            F
        )),
        "only a party of the deal reviews it"
    );
    w.mesh();
    let edges = w.reps[X].review_edges();
    assert_eq!(edges.len(), 2);
    assert!(
        edges
            .iter()
            .any(|e| e.reviewer == w.id(A) && e.reviewed == w.id(B) && e.stars == 4)
    );
    assert!(
        edges
            .iter()
            .any(|e| e.reviewer == w.id(B) && e.reviewed == w.id(A) && e.stars == 5)
    );
}

#[test]
fn a_review_copied_to_another_deal_or_community_gains_nothing() {
    let mut w = World::new();
    let d1 = w.completed_deal("d1");
    w.act(
        B,
        Action::Review {
            deal: d1.clone(),
            stars: 5,
            text: "great".into(),
        },
    )
    .unwrap();
    w.mesh();
    // X trades with A too (X buys), completed.
    let l = w.offer(A, "honey", 5);
    w.mesh();
    let d2 = w.propose(X, "d2", &l, None).unwrap();
    w.mesh();
    w.act(A, Action::DealAccept { deal: d2.clone() }).unwrap();
    w.act(A, Action::DealDeliver { deal: d2.clone() }).unwrap();
    w.mesh();
    w.act(X, Action::DealComplete { deal: d2.clone() }).unwrap();
    w.mesh();
    let (doc, h) = w.reps[B]
        .all_changes()
        .into_iter()
        .rev()
        .find(|(doc, h)| {
            String::from_utf8_lossy(&w.reps[B].signed_change(doc, h).unwrap().0)
                .contains("\"review\"")
        })
        .unwrap();
    let (bytes, sig) = w.reps[B].signed_change(&doc, &h).unwrap();
    let g2 = genesis_with(
        &w.keys[F],
        AdmissionPolicy::Open,
        7 * 24 * 3600 * 1000,
        [9; 16],
    );
    assert!(matches!(
        replica(&g2, &w.keys[F]).ingest(&doc, &bytes, &sig),
        Err(Error::BadSignature { .. })
    ));
    // B's review pointed at d2 (where B is no party) with B's signature: does not verify.
    let bk = w.keys[B].clone();
    let c = w.craft(
        B,
        &bk,
        &Action::Review {
            deal: d2.clone(),
            stars: 5,
            text: "great".into(),
        },
    );
    assert!(matches!(
        w.reps[F].ingest(&DocId::Governance, &c.bytes, &sig),
        Err(Error::BadSignature { .. })
    ));
    // Signed by B for real: B is no party of d2.
    assert_eq!(
        rule(w.attack(
            B,
            &Action::Review {
                deal: d2.clone(),
                stars: 5,
                text: "great".into()
            },
            F
        )),
        "only a party of the deal reviews it"
    );
    // X copying B's review of d1 in its own name: X is no party of d1.
    assert_eq!(
        rule(w.attack(
            X,
            &Action::Review {
                deal: d1.clone(),
                stars: 5,
                text: "great".into()
            },
            F
        )),
        "only a party of the deal reviews it"
    );
    // A review cannot name whom it is about: it is always the counterpart.
    let about_a: Vec<_> = w.reps[F].reviews_about(&w.keys[A].member_id());
    assert_eq!(about_a.len(), 1);
    assert_eq!(
        (about_a[0].reviewer, about_a[0].deal.clone()),
        (w.id(B), d1)
    );
}

#[test]
fn two_reviews_by_one_party_the_latest_counts_and_concurrent_ones_resolve_alike() {
    let mut w = World::new();
    let d = w.completed_deal("d1");
    w.act(
        B,
        Action::Review {
            deal: d.clone(),
            stars: 5,
            text: "first".into(),
        },
    )
    .unwrap();
    w.act(
        B,
        Action::Review {
            deal: d.clone(),
            stars: 2,
            text: "changed my mind".into(),
        },
    )
    .unwrap();
    w.mesh();
    let r = w.reps[F].reviews_about(&w.keys[A].member_id());
    assert_eq!(r.len(), 1);
    assert_eq!((r[0].stars, r[0].text.as_str()), (2, "changed my mind"));
    // Two concurrent reviews by B (root and a second device): one counts, the same everywhere.
    let dev = key(42);
    let mut cd = replica(&w.g, &dev);
    sync_all(&w.reps[B], &mut cd);
    cd.edit(
        &dev,
        T0.plus_millis(900_000),
        Edit::Govern(Action::LinkDevice {
            cert: cert(&w.keys[B], &dev, Capabilities::CONTENT),
        }),
    )
    .unwrap();
    cd.edit(
        &dev,
        T0.plus_millis(901_000),
        Edit::Govern(Action::Review {
            deal: d.clone(),
            stars: 3,
            text: "device".into(),
        }),
    )
    .unwrap();
    w.act(
        B,
        Action::Review {
            deal: d.clone(),
            stars: 4,
            text: "root".into(),
        },
    )
    .unwrap();
    sync_all(&cd, &mut w.reps[F]);
    sync_all(&w.reps[B], &mut cd);
    w.mesh();
    let mut seen = Vec::new();
    for c in w.reps.iter_mut().chain(std::iter::once(&mut cd)) {
        let r = c.reviews_about(&w.keys[A].member_id());
        assert_eq!(r.len(), 1);
        seen.push(r[0].stars);
    }
    assert!(seen.windows(2).all(|p| p[0] == p[1]), "{seen:?}");
}

#[test]
fn a_member_cannot_deal_with_itself() {
    let mut w = World::new();
    let l = w.offer(A, "lamp", 1);
    w.mesh();
    let own = DealId::new(w.id(A), "self").unwrap();
    let a = propose_action(&own, &l, None);
    assert_eq!(
        rule(w.act(A, a.clone())),
        "a member cannot deal with itself"
    );
    assert_eq!(rule(w.attack(A, &a, F)), "a member cannot deal with itself");
    // A party as its own arbiter, or an outsider as arbiter, is refused too.
    let d = DealId::new(w.id(B), "d1").unwrap();
    assert_eq!(
        rule(w.act(B, propose_action(&d, &l, Some(w.id(B))))),
        "the arbiter must be a member who is neither party"
    );
    assert_eq!(
        rule(w.act(B, propose_action(&d, &l, Some(key(77).member_id())))),
        "the arbiter must be a member who is neither party"
    );
    // A deal id names its proposer: B cannot open a deal in A's name.
    let in_a_name = DealId::new(w.id(A), "d2").unwrap();
    assert_eq!(
        rule(w.attack(B, &propose_action(&in_a_name, &l, None), F)),
        "a deal's id names its proposer"
    );
}

#[test]
fn a_backdated_withdrawal_does_not_undo_an_acceptance() {
    let mut w = World::new();
    let l = w.offer(A, "sofa", 1);
    w.mesh();
    let d = w.propose(B, "d1", &l, Some(R)).unwrap();
    w.mesh();
    // B keeps a copy from before A's acceptance; A accepts and delivers.
    let stale = w.craft(
        B,
        &w.keys[B].clone(),
        &Action::DealCancel { deal: d.clone() },
    );
    w.act(A, Action::DealAccept { deal: d.clone() }).unwrap();
    w.act(A, Action::DealDeliver { deal: d.clone() }).unwrap();
    w.mesh();
    // Having the sofa, B publishes a withdrawal made at the proposal: admitted (it was legal
    // there), but it does not undo the acceptance, nor the delivery.
    let sig = w.sign(&w.keys[B].clone(), &stale.hash);
    assert!(matches!(
        w.reps[F].ingest(&DocId::Governance, &stale.bytes, &sig),
        Ok(Ingested::Accepted(_))
    ));
    w.mesh();
    assert_eq!(w.status_everywhere(&d), Some(DealStatus::Delivered));
    // The seller keeps its recourse.
    w.act(
        A,
        Action::DealDispute {
            deal: d.clone(),
            reason: "not paid".into(),
        },
    )
    .unwrap();
    w.mesh();
    assert_eq!(w.status_everywhere(&d), Some(DealStatus::Disputed));
}

#[test]
fn a_backdated_agreement_to_an_old_cancel_request_does_not_undo_a_delivery() {
    let mut w = World::new();
    let d = w.accepted_deal("d1", true);
    // A asks to cancel, then changes its mind and delivers (which clears the request).
    w.act(A, Action::DealCancel { deal: d.clone() }).unwrap();
    w.mesh();
    let stale = w.craft(
        B,
        &w.keys[B].clone(),
        &Action::DealCancel { deal: d.clone() },
    );
    w.act(A, Action::DealDeliver { deal: d.clone() }).unwrap();
    w.mesh();
    assert_eq!(w.reps[B].deal(&d).unwrap().cancel_asked, None);
    // B, goods in hand, agrees to the old request with dependencies from before the delivery.
    let sig = w.sign(&w.keys[B].clone(), &stale.hash);
    assert!(
        w.reps[F]
            .ingest(&DocId::Governance, &stale.bytes, &sig)
            .is_ok()
    );
    w.mesh();
    // The delivery stands; B can complete or dispute, not make it vanish.
    assert_eq!(w.status_everywhere(&d), Some(DealStatus::Delivered));
    let v = w.reps[R].deal(&d).unwrap();
    assert!(v.history.iter().any(|e| e.status == DealStatus::Cancelled));
}
