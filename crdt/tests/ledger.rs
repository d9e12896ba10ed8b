//! The mutual-credit ledger, proposals, bounties and votes (docs/ledger.md), each rule tried
//! the way a member uses it and the way an attacker would break it: five members on five
//! replicas, changes moved explicitly, crafted changes judged through the real ingest path.

mod market_support;

use market_support::*;
use qun_crdt::ledger::book::{self, PaymentStatus};
use qun_crdt::ledger::*;
use qun_crdt::market::*;
use qun_crdt::test_utils::*;
use qun_crdt::*;
use qun_identity::{Capabilities, MemberId, SecretIdentity};

fn enable(w: &mut World, limit: CreditLimit) {
    w.act(
        F,
        Action::LedgerPolicy {
            policy: LedgerPolicy {
                on: true,
                unit: "hours".into(),
                limit,
            },
        },
    )
    .unwrap();
    w.mesh();
}

fn ledger_world(limit: u64) -> World {
    let mut w = World::new();
    enable(&mut w, CreditLimit::Fixed { amount: limit });
    w
}

fn pay(w: &World, to: usize, amount: u64) -> Action {
    Action::Pay {
        to: w.id(to),
        amount,
        note: "thanks".into(),
        deal: None,
    }
}

/// Every replica has the same balances, holds and entry statuses, and they sum to zero.
fn agree(w: &mut World) -> Vec<(MemberId, i64)> {
    let books: Vec<_> = w.reps.iter_mut().map(|c| c.ledger_book()).collect();
    for b in &books {
        assert_eq!(b.imbalance(), 0, "balances plus holds must sum to zero");
    }
    let key = |b: &Book| {
        (
            b.accounts
                .iter()
                .map(|(m, a)| (*m, a.balance, a.held, a.frozen))
                .collect::<Vec<_>>(),
            b.entries
                .iter()
                .map(|e| (e.hash, e.status))
                .collect::<Vec<_>>(),
            b.holds.clone(),
        )
    };
    for b in &books[1..] {
        assert_eq!(key(b), key(&books[0]), "replicas disagree");
    }
    books[0]
        .accounts
        .iter()
        .map(|(m, a)| (*m, a.balance))
        .collect()
}

fn balance(w: &mut World, on: usize, who: usize) -> i64 {
    let m = w.id(who);
    w.reps[on].ledger_book().account(&m).balance
}

#[test]
fn a_payment_moves_money_and_everything_sums_to_zero() {
    let mut w = ledger_world(50);
    w.act(B, pay(&w, A, 30)).unwrap();
    w.mesh();
    agree(&mut w);
    assert_eq!(balance(&mut w, F, A), 30);
    assert_eq!(balance(&mut w, F, B), -30);
    let a = w.id(A);
    let s = w.reps[A].statement(&a);
    assert_eq!(s.available, 80);
    assert_eq!(s.history.len(), 1);
    assert_eq!(s.history[0].amount, 30);
    assert_eq!(s.history[0].counterpart, Some(w.id(B)));
}

#[test]
fn the_ledger_is_off_until_turned_on_and_only_by_the_policy_permission() {
    let mut w = World::new();
    let r = w.act(B, pay(&w, A, 1));
    assert_eq!(rule(r), "the ledger is off");
    let r = w.act(
        X,
        Action::LedgerPolicy {
            policy: LedgerPolicy {
                on: true,
                unit: "x".into(),
                limit: CreditLimit::Fixed { amount: 1_000 },
            },
        },
    );
    assert!(r.is_err(), "a plain member cannot turn the ledger on");
}

#[test]
fn an_honest_node_refuses_to_overdraw_and_a_crafted_overdraft_is_void_everywhere() {
    let mut w = ledger_world(50);
    w.act(B, pay(&w, A, 40)).unwrap();
    let r = w.act(B, pay(&w, A, 20));
    assert!(rule(r).starts_with("over the credit limit"));
    // The attacker's node makes it anyway.
    let crafted = pay(&w, A, 20);
    w.attack(B, &crafted, B).unwrap();
    w.mesh();
    agree(&mut w);
    assert_eq!(
        balance(&mut w, R, B),
        -40,
        "the over-limit payment moved nothing"
    );
    let book = w.reps[R].ledger_book();
    assert_eq!(
        book.entries.iter().map(|e| e.status).collect::<Vec<_>>(),
        vec![PaymentStatus::Valid, PaymentStatus::OverLimit]
    );
}

/// A second device of member `i`, linked, holding everything.
fn second_device(w: &mut World, i: usize, seed: u8) -> (SecretIdentity, Community) {
    let phone = key_n(seed, 1);
    let mut rep = replica(&w.g, &phone);
    sync_all(&w.reps[i], &mut rep);
    let c = cert(&w.keys[i], &phone, Capabilities::ALL);
    rep.edit(
        &phone,
        w.now(),
        Edit::Govern(Action::LinkDevice { cert: c }),
    )
    .unwrap();
    for r in w.reps.iter_mut() {
        sync_all(&rep, r);
    }
    w.mesh();
    (phone, rep)
}

#[test]
fn spending_twice_from_two_devices_at_once_is_a_fork_both_void_and_the_account_frozen() {
    let mut w = ledger_world(50);
    let (phone, mut phone_rep) = second_device(&mut w, B, 90);
    // Each device spends 40 of the 50 on its own copy, neither seeing the other.
    w.act(B, pay(&w, A, 40)).unwrap();
    let t = w.now();
    phone_rep
        .edit(&phone, t, Edit::Govern(pay(&w, R, 40)))
        .unwrap();
    for r in w.reps.iter_mut() {
        sync_all(&phone_rep, r);
    }
    w.mesh();
    agree(&mut w);
    let book = w.reps[F].ledger_book();
    assert!(
        book.entries
            .iter()
            .all(|e| e.status == PaymentStatus::Forked),
        "both are void: {:?}",
        book.entries
    );
    assert!(book.account(&w.id(B)).frozen);
    assert_eq!(balance(&mut w, F, A), 0);
    assert_eq!(balance(&mut w, F, R), 0);
    // Frozen: the honest node refuses; a crafted payment after the fork is void.
    assert!(rule(w.act(B, pay(&w, X, 5))).contains("frozen"));
    w.attack(B, &pay(&w, X, 5), B).unwrap();
    w.mesh();
    agree(&mut w);
    assert_eq!(balance(&mut w, F, X), 0);
    // Only a moderator unfreezes; after it the account works again.
    assert!(w.act(X, Action::Unfreeze { member: w.id(B) }).is_err());
    w.act(F, Action::Unfreeze { member: w.id(B) }).unwrap();
    w.mesh();
    w.act(B, pay(&w, X, 5)).unwrap();
    w.mesh();
    agree(&mut w);
    assert_eq!(balance(&mut w, F, X), 5);
    assert!(!w.reps[F].ledger_book().account(&w.id(B)).frozen);
}

#[test]
fn an_unfreeze_without_a_fork_in_its_past_changes_nothing() {
    let mut w = ledger_world(50);
    // F unfreezes B before any fork; B then forks: the unfreeze does not split its chain.
    w.act(F, Action::Unfreeze { member: w.id(B) }).unwrap();
    w.mesh();
    let (phone, mut phone_rep) = second_device(&mut w, B, 91);
    w.act(B, pay(&w, A, 30)).unwrap();
    let t = w.now();
    phone_rep
        .edit(&phone, t, Edit::Govern(pay(&w, R, 30)))
        .unwrap();
    for r in w.reps.iter_mut() {
        sync_all(&phone_rep, r);
    }
    w.mesh();
    agree(&mut w);
    assert!(w.reps[F].ledger_book().account(&w.id(B)).frozen);
}

#[test]
fn nobody_pays_from_anothers_account_and_a_replayed_payment_is_a_duplicate() {
    let mut w = ledger_world(50);
    // X signs a payment made with B's device as actor: the signature does not verify.
    let kb = w.keys[B].clone();
    let c = w.craft(X, &kb, &pay(&w, X, 10));
    let sig = w.sign(&w.keys[X].clone(), &c.hash);
    assert!(
        w.reps[F]
            .ingest(&DocId::Governance, &c.bytes, &sig)
            .is_err()
    );
    // B's real payment, copied and sent again, is the same change.
    w.act(B, pay(&w, A, 10)).unwrap();
    w.mesh();
    let (bytes, sig) = {
        let h = w.reps[B].ledger_book().entries[0].hash;
        w.reps[B].signed_change(&DocId::Governance, &h).unwrap()
    };
    let _ = w.reps[F].ingest(&DocId::Governance, &bytes, &sig);
    agree(&mut w);
    assert_eq!(balance(&mut w, F, A), 10);
}

#[test]
fn escrow_for_a_deal_is_released_to_the_seller_on_completion() {
    let mut w = ledger_world(50);
    let d = w.accepted_deal("bread", true);
    let escrow = Action::Pay {
        to: w.id(A),
        amount: 10,
        note: String::new(),
        deal: Some(d.clone()),
    };
    // Only the buyer pays into escrow, and only to the seller.
    assert!(w.act(X, escrow.clone()).is_err());
    w.act(B, escrow).unwrap();
    w.mesh();
    agree(&mut w);
    assert_eq!(balance(&mut w, F, A), 0, "held, not paid");
    assert_eq!(w.reps[F].ledger_book().holds.len(), 1);
    // The seller cannot release it: only the buyer completes.
    w.act(A, Action::DealDeliver { deal: d.clone() }).unwrap();
    w.mesh();
    assert!(
        w.attack(A, &Action::DealComplete { deal: d.clone() }, F)
            .is_err()
    );
    assert_eq!(balance(&mut w, F, A), 0);
    w.act(B, Action::DealComplete { deal: d.clone() }).unwrap();
    w.mesh();
    agree(&mut w);
    assert_eq!(balance(&mut w, F, A), 10);
    assert_eq!(balance(&mut w, F, B), -10);
    assert!(w.reps[F].ledger_book().holds.is_empty());
    // The seller can spend what was released.
    w.act(A, pay(&w, X, 60)).unwrap();
    w.mesh();
    agree(&mut w);
    assert_eq!(balance(&mut w, F, A), -50);
}

#[test]
fn a_dispute_refunded_by_the_arbiter_returns_the_escrow_and_a_split_shares_it() {
    for (outcome, buyer_back) in [
        (Outcome::Refund, 10),
        (Outcome::Split { buyer_percent: 30 }, 3),
        (Outcome::Release, 0),
    ] {
        let mut w = ledger_world(50);
        let d = w.accepted_deal("fish", true);
        w.act(
            B,
            Action::Pay {
                to: w.id(A),
                amount: 10,
                note: String::new(),
                deal: Some(d.clone()),
            },
        )
        .unwrap();
        w.mesh();
        w.act(
            B,
            Action::DealDispute {
                deal: d.clone(),
                reason: "rotten".into(),
            },
        )
        .unwrap();
        w.mesh();
        // The buyer's opponent cannot resolve it in its own favour: only the arbiter can.
        assert!(
            w.attack(
                A,
                &Action::DealResolve {
                    deal: d.clone(),
                    outcome: Outcome::Release
                },
                F
            )
            .is_err()
        );
        w.act(
            R,
            Action::DealResolve {
                deal: d.clone(),
                outcome,
            },
        )
        .unwrap();
        w.mesh();
        agree(&mut w);
        assert_eq!(balance(&mut w, F, B), -10 + buyer_back);
        assert_eq!(balance(&mut w, F, A), 10 - buyer_back);
    }
}

fn propose_fund(w: &mut World, by: usize, key: &str, goal: u64, vote: Option<VoteRule>) -> FundId {
    let id = FundId::new(w.id(by), key).unwrap();
    w.act(
        by,
        Action::FundPropose {
            id: id.clone(),
            fund: Box::new(Fund {
                title: format!("fund {key}"),
                description: "a new oven".into(),
                goal,
                deadline: T0.plus_millis(3_600_000),
                recipient: w.id(R),
                vote,
            }),
        },
    )
    .unwrap();
    w.mesh();
    id
}

#[test]
fn a_proposal_that_meets_its_goal_pays_the_recipient_and_one_that_does_not_refunds() {
    let mut w = ledger_world(50);
    let good = propose_fund(&mut w, F, "oven", 50, None);
    let bad = propose_fund(&mut w, F, "moon", 500, None);
    for (i, f) in [(A, &good), (B, &good), (A, &bad), (X, &bad)] {
        w.act(
            i,
            Action::Pledge {
                fund: f.clone(),
                amount: 20.min(if i == B { 30 } else { 20 }) + if i == B { 10 } else { 0 },
            },
        )
        .unwrap();
    }
    w.mesh();
    agree(&mut w);
    assert_eq!(w.reps[F].ledger_book().holds.len(), 4);
    // Only the author or recipient closes before the deadline (clocks here are before it).
    w.act(X, Action::FundClose { fund: good.clone() }).unwrap();
    w.mesh();
    assert_eq!(
        w.reps[F]
            .funds()
            .iter()
            .find(|f| f.id == good)
            .unwrap()
            .outcome,
        FundOutcome::Open,
        "a member's close before the deadline does not count"
    );
    w.act(R, Action::FundClose { fund: good.clone() }).unwrap();
    w.act(F, Action::FundClose { fund: bad.clone() }).unwrap();
    w.mesh();
    agree(&mut w);
    let funds = w.reps[B].funds();
    let g = funds.iter().find(|f| f.id == good).unwrap();
    assert_eq!((g.pledged, g.outcome.clone()), (50, FundOutcome::Funded));
    assert!(matches!(
        funds.iter().find(|f| f.id == bad).unwrap().outcome,
        FundOutcome::Failed { .. }
    ));
    assert_eq!(balance(&mut w, F, R), 50);
    assert_eq!(
        balance(&mut w, F, A),
        -20,
        "A's pledge to the failed proposal came back"
    );
    assert_eq!(balance(&mut w, F, X), 0);
    assert!(w.reps[F].ledger_book().holds.is_empty());
}

#[test]
fn a_pledge_backdated_before_the_close_is_void() {
    let mut w = ledger_world(50);
    let f = propose_fund(&mut w, F, "roof", 30, None);
    w.act(
        A,
        Action::Pledge {
            fund: f.clone(),
            amount: 20,
        },
    )
    .unwrap();
    w.mesh();
    // X keeps a copy from before the close and pledges on it after the close is out.
    let mut stale = replica(&w.g, &w.keys[X]);
    sync_all(&w.reps[X], &mut stale);
    w.act(R, Action::FundClose { fund: f.clone() }).unwrap();
    w.mesh();
    let t = w.now();
    let kx = w.keys[X].clone();
    stale
        .edit(
            &kx,
            t,
            Edit::Govern(Action::Pledge {
                fund: f.clone(),
                amount: 10,
            }),
        )
        .unwrap();
    for r in w.reps.iter_mut() {
        sync_all(&stale, r);
    }
    agree(&mut w);
    let book = w.reps[F].ledger_book();
    assert_eq!(
        book.entries.iter().map(|e| e.status).collect::<Vec<_>>(),
        vec![PaymentStatus::Valid, PaymentStatus::AfterClose]
    );
    assert!(matches!(book.funds[&f].outcome, FundOutcome::Failed { .. }));
    assert_eq!(balance(&mut w, F, X), 0);
    assert_eq!(balance(&mut w, F, A), 0, "refunded");
}

#[test]
fn a_bounty_pays_its_reward_to_the_accepted_claimant() {
    let mut w = ledger_world(50);
    let id = BountyId::new(w.id(F), "fix-fence").unwrap();
    w.act(
        F,
        Action::BountyCreate {
            id: id.clone(),
            bounty: Box::new(Bounty {
                title: "Fix the fence".into(),
                description: String::new(),
                reward: 20,
                several: false,
                funded_by: None,
            }),
        },
    )
    .unwrap();
    w.mesh();
    assert_eq!(balance(&mut w, X, F), -20);
    w.act(X, Action::BountyClaim { id: id.clone() }).unwrap();
    w.mesh();
    // One claimant at a time.
    assert!(w.act(A, Action::BountyClaim { id: id.clone() }).is_err());
    // Nobody but the sponsor accepts; nothing is accepted before work is handed in.
    assert!(
        w.act(
            F,
            Action::BountyAccept {
                id: id.clone(),
                claimant: w.id(X)
            }
        )
        .is_err()
    );
    w.act(
        X,
        Action::BountySubmit {
            id: id.clone(),
            work: "done, photo in #general".into(),
        },
    )
    .unwrap();
    w.mesh();
    assert!(
        w.attack(
            X,
            &Action::BountyAccept {
                id: id.clone(),
                claimant: w.id(X)
            },
            F
        )
        .is_err()
    );
    w.act(
        F,
        Action::BountyAccept {
            id: id.clone(),
            claimant: w.id(X),
        },
    )
    .unwrap();
    w.mesh();
    agree(&mut w);
    assert_eq!(balance(&mut w, A, X), 20);
    assert_eq!(balance(&mut w, A, F), -20);
    assert!(
        w.act(F, Action::BountyCancel { id }).is_err(),
        "paid is final"
    );
}

#[test]
fn a_cancelled_bounty_refunds_its_sponsor() {
    let mut w = ledger_world(50);
    let id = BountyId::new(w.id(A), "paint").unwrap();
    w.act(
        A,
        Action::BountyCreate {
            id: id.clone(),
            bounty: Box::new(Bounty {
                title: "Paint".into(),
                description: String::new(),
                reward: 15,
                several: true,
                funded_by: None,
            }),
        },
    )
    .unwrap();
    w.mesh();
    w.act(B, Action::BountyClaim { id: id.clone() }).unwrap();
    w.act(X, Action::BountyClaim { id: id.clone() }).unwrap();
    w.mesh();
    w.act(A, Action::BountyCancel { id }).unwrap();
    w.mesh();
    agree(&mut w);
    assert_eq!(balance(&mut w, F, A), 0);
}

fn majority(weighting: Weighting) -> VoteRule {
    VoteRule {
        weighting,
        quorum_permille: 500,
        threshold_permille: 500,
    }
}

#[test]
fn a_voted_proposal_is_funded_only_when_the_vote_passes_and_each_member_counts_once() {
    let mut w = ledger_world(50);
    let f = propose_fund(&mut w, F, "hall", 10, Some(majority(Weighting::Equal)));
    w.act(
        A,
        Action::Pledge {
            fund: f.clone(),
            amount: 10,
        },
    )
    .unwrap();
    // B votes no twice then yes: only its latest vote counts.
    for c in [Choice::No, Choice::No, Choice::Yes] {
        w.act(
            B,
            Action::Vote {
                fund: f.clone(),
                choice: c,
            },
        )
        .unwrap();
    }
    w.act(
        A,
        Action::Vote {
            fund: f.clone(),
            choice: Choice::Yes,
        },
    )
    .unwrap();
    w.act(
        X,
        Action::Vote {
            fund: f.clone(),
            choice: Choice::No,
        },
    )
    .unwrap();
    w.mesh();
    let t = w.reps[F].funds()[0].tally.clone().unwrap();
    assert_eq!((t.yes, t.no, t.voters, t.eligible), (2, 1, 3, 5));
    assert!(t.passed);
    w.act(R, Action::FundClose { fund: f.clone() }).unwrap();
    w.mesh();
    agree(&mut w);
    assert_eq!(w.reps[X].funds()[0].outcome, FundOutcome::Funded);
    assert_eq!(balance(&mut w, F, R), 10);
}

#[test]
fn a_vote_that_fails_refunds_and_a_removed_members_concurrent_vote_does_not_count() {
    let mut w = ledger_world(50);
    let f = propose_fund(&mut w, F, "bar", 10, Some(majority(Weighting::Equal)));
    w.act(
        A,
        Action::Pledge {
            fund: f.clone(),
            amount: 10,
        },
    )
    .unwrap();
    w.act(
        A,
        Action::Vote {
            fund: f.clone(),
            choice: Choice::Yes,
        },
    )
    .unwrap();
    w.act(
        B,
        Action::Vote {
            fund: f.clone(),
            choice: Choice::No,
        },
    )
    .unwrap();
    w.mesh();
    // X votes yes on a copy that has not seen its removal; F removes X concurrently.
    w.act(
        X,
        Action::Vote {
            fund: f.clone(),
            choice: Choice::Yes,
        },
    )
    .unwrap();
    w.act(
        F,
        Action::Remove {
            member: w.id(X),
            reason: "spam".into(),
            cut: Default::default(),
        },
    )
    .unwrap();
    w.mesh();
    let t = w.reps[B].funds()[0].tally.clone().unwrap();
    assert_eq!((t.yes, t.no), (1, 1), "{t:?}");
    assert!(!t.passed, "a tie does not pass a majority");
    assert!(
        w.act(
            X,
            Action::Vote {
                fund: f.clone(),
                choice: Choice::Yes
            }
        )
        .is_err()
    );
    w.act(F, Action::FundClose { fund: f.clone() }).unwrap();
    w.mesh();
    agree(&mut w);
    assert!(matches!(
        w.reps[R].funds()[0].outcome,
        FundOutcome::Failed { .. }
    ));
    assert_eq!(balance(&mut w, R, A), 0);
}

#[test]
fn trust_scaled_limits_follow_endorsements_from_the_founders() {
    let mut w = World::new();
    enable(&mut w, CreditLimit::Trust { max: 64 });
    let book = w.reps[A].ledger_book();
    assert_eq!(book.account(&w.id(F)).limit, 64);
    assert_eq!(book.account(&w.id(A)).limit, 0, "nobody vouches for A yet");
    assert!(rule(w.act(A, pay(&w, B, 1))).starts_with("over the credit limit"));
}

#[test]
fn a_payment_a_quorum_of_witnesses_saw_first_is_final_and_survives_a_later_fork() {
    let mut w = ledger_world(50);
    let (phone, mut phone_rep) = second_device(&mut w, B, 92);
    w.act(B, pay(&w, A, 40)).unwrap();
    w.mesh();
    {
        let book = w.reps[A].ledger_book();
        assert_eq!(book.entries[0].confirmations, 0);
        assert!(!book.entries[0].settled, "no witness has built on it yet");
    }
    // The founder (the only witness: quorum 1) makes any governance change after it.
    w.act(
        F,
        Action::SetMeta {
            name: "Market town".into(),
            description: String::new(),
        },
    )
    .unwrap();
    w.mesh();
    {
        let book = w.reps[A].ledger_book();
        assert_eq!(book.entries[0].confirmations, 1);
        assert!(book.entries[0].settled, "final for the payee");
    }
    // Then B's other device, which never saw the payment, spends the same credit elsewhere.
    let t = w.now();
    phone_rep
        .edit(&phone, t, Edit::Govern(pay(&w, R, 40)))
        .unwrap();
    for r in w.reps.iter_mut() {
        sync_all(&phone_rep, r);
    }
    w.mesh();
    agree(&mut w);
    let book = w.reps[X].ledger_book();
    let by_to: Vec<PaymentStatus> = book.entries.iter().map(|e| e.status).collect();
    assert_eq!(by_to, vec![PaymentStatus::Valid, PaymentStatus::Forked]);
    assert_eq!(balance(&mut w, X, A), 40, "the witnessed payment stands");
    assert_eq!(balance(&mut w, X, R), 0);
    assert!(
        book.account(&w.id(B)).frozen,
        "the fork still freezes the account"
    );
}

#[test]
fn a_bounty_funded_from_a_proposal_stays_within_what_it_raised() {
    let mut w = ledger_world(50);
    let f = propose_fund(&mut w, F, "tools", 30, None);
    let r_id = w.id(R);
    let bounty = |key: &str, reward: u64, funded: Option<&FundId>| Action::BountyCreate {
        id: BountyId::new(r_id, key).unwrap(),
        bounty: Box::new(Bounty {
            title: format!("Bounty {key}"),
            description: String::new(),
            reward,
            several: false,
            funded_by: funded.cloned(),
        }),
    };
    // Only the recipient funds a bounty from the proposal.
    let by_a = Action::BountyCreate {
        id: BountyId::new(w.id(A), "a").unwrap(),
        bounty: Box::new(Bounty {
            title: "not mine".into(),
            description: String::new(),
            reward: 5,
            several: false,
            funded_by: Some(f.clone()),
        }),
    };
    assert!(rule(w.act(A, by_a)).contains("recipient"));
    // Before the proposal is closed funded, a bounty from it is void everywhere.
    w.attack(R, &bounty("early", 10, Some(&f)), R).unwrap();
    for i in [A, B] {
        w.act(
            i,
            Action::Pledge {
                fund: f.clone(),
                amount: 20,
            },
        )
        .unwrap();
    }
    w.mesh();
    w.act(R, Action::FundClose { fund: f.clone() }).unwrap();
    w.mesh();
    w.act(R, bounty("rake", 25, Some(&f))).unwrap();
    w.mesh();
    // 25 of the 40 raised are spoken for: a second bounty of 20 from it is void.
    w.attack(R, &bounty("hoe", 20, Some(&f)), R).unwrap();
    w.mesh();
    agree(&mut w);
    let book = w.reps[X].ledger_book();
    let statuses: Vec<PaymentStatus> = book
        .entries
        .iter()
        .filter(|e| matches!(e.movement, book::Movement::Reward { .. }))
        .map(|e| e.status)
        .collect();
    assert_eq!(
        statuses,
        vec![
            PaymentStatus::Unfunded,
            PaymentStatus::Valid,
            PaymentStatus::Unfunded
        ]
    );
    assert_eq!(balance(&mut w, X, R), 40 - 25);
}
