//! The ledger over the API (issue 16), three real nodes on loopback, every outcome checked on
//! all three: a deal paid through escrow and released by its completion, a dispute refunded
//! by the arbiter; a crowdfunding proposal that meets its goal and one that does not (its
//! pledges go back, and a pledge after its close is refused); a bounty paid; a trust-weighted
//! vote that a one-member-one-vote count would have failed. Refusals are 4xx naming the rule.
//!
//! ```text
//! seller/founder (80) -- buyer (81) -- arbiter (82)        escrow
//! founder (83) -- bea (84, endorsed) -- cat (85)           proposals, bounty, vote
//! ```

use super::market::{join_api, member};
use super::support::*;
use crate::common::*;
use qun_crdt::CommunityId;
use qun_identity::MemberId;
use qun_node::handle::NodeHandle;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A refused request: a 4xx with an error (returned) and a hint.
pub(super) async fn refused(
    n: &ApiNode,
    path: &str,
    body: Value,
    what: &str,
) -> (StatusCode, String) {
    let (st, v) = status_and_json(n.req(Method::POST, path).json(&body)).await;
    assert!(st.is_client_error(), "{what}: {st} {v}");
    assert_error(&v, what);
    (st, v["error"].as_str().unwrap_or_default().to_string())
}

/// Wait until `check` holds on every node.
pub(super) async fn on_all<F, Fut>(nodes: [&mut ApiNode; 3], what: &str, check: F)
where
    F: Fn(NodeHandle) -> Fut + Clone,
    Fut: std::future::Future<Output = bool>,
{
    for (i, n) in nodes.into_iter().enumerate() {
        wait_until(&mut n.node, &format!("{what} (node {i})"), check.clone()).await;
    }
}

/// Whether `h` shows these balances and nothing held.
async fn settled(h: NodeHandle, c: CommunityId, want: Vec<(MemberId, i64)>) -> bool {
    for (m, b) in want {
        match h.wallet(c, Some(m)).await {
            Ok(w) if w.account.balance == b && w.account.held == 0 => {}
            _ => return false,
        }
    }
    h.ledger_entries(c).await.is_ok_and(|e| e.holds.is_empty())
}

/// A new community of `f` with `b` and `a` admitted; its id and API base.
pub(super) async fn village(
    f: &mut ApiNode,
    b: &mut ApiNode,
    a: &mut ApiNode,
    name: &str,
) -> (CommunityId, String) {
    let v = f
        .call(
            Method::POST,
            "/api/v1/communities",
            Some(json!({"name": name, "policy": "invite"})),
            StatusCode::CREATED,
        )
        .await;
    let c = v["id"].as_str().unwrap().to_string();
    let base = format!("/api/v1/communities/{c}");
    listening(&mut f.node).await;
    join_api(f, b, &base).await;
    join_api(f, a, &base).await;
    (c.parse().unwrap(), base)
}

// seller -- buyer -- arbiter
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deals_paid_through_escrow_released_and_refunded() {
    let mut s = ApiNode::start(80).await;
    let mut b = ApiNode::start(81).await;
    let mut a = ApiNode::start(82).await;
    let (cid, base) = village(&mut s, &mut b, &mut a, "Escrow village").await;
    let (seller, buyer, arbiter) = (member(&s).await, member(&b).await, member(&a).await);
    let (sm, bm): (MemberId, MemberId) = (seller.parse().unwrap(), buyer.parse().unwrap());
    let lg = format!("{base}/ledger");
    let mk = format!("{base}/market");

    // Off until the founder turns it on; a member may not.
    let (_, e) = refused(
        &b,
        &format!("{lg}/pay"),
        json!({"to": seller, "amount": 1}),
        "a payment before the ledger is on",
    )
    .await;
    assert!(e.contains("the ledger is off"), "{e}");
    let (st, _) = refused(
        &b,
        &format!("{lg}/policy"),
        json!({"unit": "hours", "limit": "50"}),
        "a member turns the ledger on",
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    refused(
        &s,
        &format!("{lg}/policy"),
        json!({"unit": "hours", "limit": "lots"}),
        "a limit that does not parse",
    )
    .await;
    s.post(
        &format!("{lg}/policy"),
        json!({"unit": "hours", "limit": "50"}),
    )
    .await;
    on_all(
        [&mut s, &mut b, &mut a],
        "the ledger is on",
        move |h| async move {
            h.wallet(cid, None)
                .await
                .is_ok_and(|w| w.on && w.account.limit == 50)
        },
    )
    .await;
    let w = b.get(&format!("{lg}/statement")).await;
    assert_eq!(w["unit"], "hours", "{w}");
    assert_eq!(w["available"], 50, "{w}");
    assert_eq!(w["limit_why"], "the same limit for everyone", "{w}");

    // The seller offers bread at 10; the buyer proposes a deal, the seller accepts.
    let listing = s
        .call(
            Method::POST,
            &format!("{mk}/listings"),
            Some(json!({"title": "Bread", "price": 10, "quantity": 5})),
            StatusCode::CREATED,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let lid: qun_crdt::market::ListingId = listing.parse().unwrap();
    wait_until(&mut b.node, "the listing arrives", move |h| {
        let lid = lid.clone();
        async move { h.listing(cid, lid).await.is_ok() }
    })
    .await;
    let propose = |arbiter: Option<&str>| {
        let mut v = json!({"listing": listing, "quantity": 1});
        if let Some(a) = arbiter {
            v["arbiter"] = json!(a);
        }
        v
    };
    let deal = |v: Value| v["id"].as_str().unwrap().to_string();
    let d1 = deal(
        b.call(
            Method::POST,
            &format!("{mk}/deals"),
            Some(propose(None)),
            StatusCode::CREATED,
        )
        .await,
    );
    let deal_at = |d: &str, status: &'static str| {
        let id: qun_crdt::market::DealId = d.parse().unwrap();
        move |h: NodeHandle| {
            let id = id.clone();
            async move {
                h.deal(cid, id)
                    .await
                    .is_ok_and(|d| d.status.name() == status)
            }
        }
    };
    wait_until(&mut s.node, "deal 1 arrives", deal_at(&d1, "proposed")).await;
    s.post(&format!("{mk}/deals/accept"), json!({"deal": d1}))
        .await;

    // The seller cannot pay "escrow" in the buyer's place; the buyer pays into escrow.
    let (_, e) = refused(
        &s,
        &format!("{lg}/pay"),
        json!({"to": buyer, "amount": 10, "deal": d1}),
        "escrow paid by the seller",
    )
    .await;
    assert!(e.contains("buyer"), "{e}");
    wait_until(&mut b.node, "deal 1 accepted", deal_at(&d1, "accepted")).await;
    b.post(
        &format!("{lg}/pay"),
        json!({"to": seller, "amount": 10, "deal": d1, "note": "bread"}),
    )
    .await;
    let w = b.get(&format!("{lg}/statement")).await;
    assert_eq!(w["account"]["balance"], -10, "{w}");
    assert_eq!(w["account"]["held"], 10, "{w}");
    assert_eq!(w["available"], 40, "{w}");
    assert_eq!(
        w["holds"][0]["what"],
        format!("in escrow until deal {d1} ends"),
        "{w}"
    );
    // The seller sees it held for it, and that only the payer has it so far or who saw it.
    let held_for_seller = move |h: NodeHandle| async move {
        h.wallet(cid, None).await.is_ok_and(|w| {
            w.history
                .iter()
                .any(|l| l.line.what.contains("held until the deal ends") && l.counts)
        })
    };
    wait_until(
        &mut s.node,
        "the escrow reaches the seller",
        held_for_seller,
    )
    .await;

    // Delivered, completed: the hold goes to the seller, on every node.
    s.post(&format!("{mk}/deals/deliver"), json!({"deal": d1}))
        .await;
    wait_until(&mut b.node, "deal 1 delivered", deal_at(&d1, "delivered")).await;
    b.post(&format!("{mk}/deals/complete"), json!({"deal": d1}))
        .await;
    let want = vec![(sm, 10), (bm, -10)];
    on_all(
        [&mut s, &mut b, &mut a],
        "escrow released to the seller",
        move |h| settled(h, cid, want.clone()),
    )
    .await;
    let w = s.get(&format!("{lg}/statement")).await;
    let line = w["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["what"].as_str().unwrap().starts_with("settled: escrow"))
        .unwrap_or_else(|| panic!("no settlement in {w}"));
    assert_eq!(
        w["history"].as_array().unwrap().len(),
        1,
        "the held line is gone: {w}"
    );
    assert_eq!(line["amount"], 10, "{w}");
    // The founder (the one witness) built on the escrow payment: it is final.
    assert!(line["safety"].as_str().unwrap().starts_with("final"), "{w}");
    assert!(
        line["what"]
            .as_str()
            .unwrap()
            .starts_with("settled: escrow"),
        "{w}"
    );
    assert_eq!(line["counts"], true, "{w}");

    // Deal 2, with the arbiter: paid into escrow, disputed, refunded by the arbiter.
    let d2 = deal(
        b.call(
            Method::POST,
            &format!("{mk}/deals"),
            Some(propose(Some(&arbiter))),
            StatusCode::CREATED,
        )
        .await,
    );
    wait_until(&mut s.node, "deal 2 arrives", deal_at(&d2, "proposed")).await;
    s.post(&format!("{mk}/deals/accept"), json!({"deal": d2}))
        .await;
    wait_until(&mut b.node, "deal 2 accepted", deal_at(&d2, "accepted")).await;
    b.post(
        &format!("{lg}/pay"),
        json!({"to": seller, "amount": 10, "deal": d2}),
    )
    .await;
    b.post(
        &format!("{mk}/deals/dispute"),
        json!({"deal": d2, "reason": "never came"}),
    )
    .await;
    wait_until(&mut a.node, "deal 2 disputed", deal_at(&d2, "disputed")).await;
    // Only the arbiter resolves; the seller may not release the money to itself.
    refused(
        &s,
        &format!("{mk}/deals/resolve"),
        json!({"deal": d2, "outcome": "release"}),
        "the seller resolves its own dispute",
    )
    .await;
    a.post(
        &format!("{mk}/deals/resolve"),
        json!({"deal": d2, "outcome": "refund"}),
    )
    .await;
    let want = vec![(sm, 10), (bm, -10)];
    on_all(
        [&mut s, &mut b, &mut a],
        "escrow refunded to the buyer",
        move |h| settled(h, cid, want.clone()),
    )
    .await;

    // Over the limit: refused by the payer's own node, in words; nothing moved.
    let (st, e) = refused(
        &b,
        &format!("{lg}/pay"),
        json!({"to": seller, "amount": 45}),
        "a payment over the limit",
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(e.contains("over the credit limit"), "{e}");
    // Only a moderator unfreezes accounts.
    let (st, e) = refused(
        &b,
        &format!("{lg}/unfreeze"),
        json!({"member": buyer}),
        "a member unfreezes",
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(e.contains("remove permission"), "{e}");
    // Nonsense is a 400 with a hint.
    let (st, _) = refused(
        &b,
        &format!("{lg}/pay"),
        json!({"to": seller, "amount": "ten"}),
        "an amount that is not a number",
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    // The book: both escrow debits count; totals agree on every node.
    let entries = a.get(&format!("{lg}/entries")).await;
    let statuses: Vec<&str> = entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["valid", "valid"], "{entries}");
    assert_eq!(
        entries["settlements"].as_array().unwrap().len(),
        2,
        "{entries}"
    );
    for n in [&s, &b, &a] {
        let t = n.get(&format!("{lg}/totals")).await;
        assert_eq!(
            (t["volume"].as_u64(), t["held"].as_u64()),
            (Some(20), Some(0)),
            "{t}"
        );
    }

    s.stop().await;
    b.stop().await;
    a.stop().await;
}

// founder -- bea (endorsed by the founder) -- cat
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proposals_a_bounty_and_a_trust_weighted_vote() {
    let mut f = ApiNode::start(83).await;
    let mut b = ApiNode::start(84).await;
    let mut k = ApiNode::start(85).await;
    let (cid, base) = village(&mut f, &mut b, &mut k, "Oven village").await;
    let (fm, bm, km): (MemberId, MemberId, MemberId) = (
        member(&f).await.parse().unwrap(),
        member(&b).await.parse().unwrap(),
        member(&k).await.parse().unwrap(),
    );
    let lg = format!("{base}/ledger");
    f.post(
        &format!("{lg}/policy"),
        json!({"unit": "credits", "limit": "100"}),
    )
    .await;
    // The founder endorses bea: she is one step from a founder; cat is not reached.
    f.post(
        &format!("{base}/endorse"),
        json!({"member": bm.to_string()}),
    )
    .await;
    on_all(
        [&mut f, &mut b, &mut k],
        "the ledger is on",
        move |h| async move { h.wallet(cid, None).await.is_ok_and(|w| w.on) },
    )
    .await;

    let created = |v: Value| v["id"].as_str().unwrap().to_string();
    let proposal_is = |id: &str, outcome: &'static str| {
        let id = id.to_string();
        move |h: NodeHandle| {
            let id = id.clone();
            async move {
                h.proposals(cid).await.is_ok_and(|ps| {
                    ps.iter().any(|p| {
                        p.reference == id
                            && serde_json::to_value(&p.view.outcome).unwrap()["k"] == outcome
                    })
                })
            }
        }
    };
    let pledged = |id: &str, amount: u64| {
        let id = id.to_string();
        move |h: NodeHandle| {
            let id = id.clone();
            async move {
                h.proposals(cid).await.is_ok_and(|ps| {
                    ps.iter()
                        .any(|p| p.reference == id && p.view.pledged == amount)
                })
            }
        }
    };

    // A proposal that meets its goal: bea pledges 20, cat 15 of 30; the founder closes it.
    let oven = created(
        f.call(
            Method::POST,
            &format!("{lg}/proposals"),
            Some(json!({"title": "Community oven", "goal": 30, "deadline": "7d"})),
            StatusCode::CREATED,
        )
        .await,
    );
    on_all(
        [&mut f, &mut b, &mut k],
        "the oven proposal",
        proposal_is(&oven, "open"),
    )
    .await;
    b.post(
        &format!("{lg}/proposals/pledge"),
        json!({"proposal": oven, "amount": 20}),
    )
    .await;
    k.post(
        &format!("{lg}/proposals/pledge"),
        json!({"proposal": oven, "amount": 15}),
    )
    .await;
    wait_until(
        &mut f.node,
        "both pledges reach the founder",
        pledged(&oven, 35),
    )
    .await;
    let p = f.get(&format!("{lg}/proposals")).await;
    assert_eq!(p[0]["percent"], 100, "{p}");
    f.post(&format!("{lg}/proposals/close"), json!({"proposal": oven}))
        .await;
    on_all(
        [&mut f, &mut b, &mut k],
        "the oven is funded",
        proposal_is(&oven, "funded"),
    )
    .await;
    let want = vec![(fm, 35), (bm, -20), (km, -15)];
    on_all(
        [&mut f, &mut b, &mut k],
        "the pledges went to the founder",
        move |h| settled(h, cid, want.clone()),
    )
    .await;

    // One that does not: bea pledges 10 of 100; closed, the pledge goes back; a pledge after
    // the close is refused.
    let mural = created(
        f.call(
            Method::POST,
            &format!("{lg}/proposals"),
            Some(json!({"title": "A mural", "goal": 100})),
            StatusCode::CREATED,
        )
        .await,
    );
    on_all(
        [&mut f, &mut b, &mut k],
        "the mural proposal",
        proposal_is(&mural, "open"),
    )
    .await;
    b.post(
        &format!("{lg}/proposals/pledge"),
        json!({"proposal": mural, "amount": 10}),
    )
    .await;
    wait_until(
        &mut f.node,
        "the mural pledge reaches the founder",
        pledged(&mural, 10),
    )
    .await;
    f.post(&format!("{lg}/proposals/close"), json!({"proposal": mural}))
        .await;
    on_all(
        [&mut f, &mut b, &mut k],
        "the mural failed",
        proposal_is(&mural, "failed"),
    )
    .await;
    let want = vec![(fm, 35), (bm, -20), (km, -15)];
    on_all(
        [&mut f, &mut b, &mut k],
        "the mural pledge went back",
        move |h| settled(h, cid, want.clone()),
    )
    .await;
    let (_, e) = refused(
        &k,
        &format!("{lg}/proposals/pledge"),
        json!({"proposal": mural, "amount": 5}),
        "a pledge after the close",
    )
    .await;
    assert!(!e.is_empty());
    let p = b.get(&format!("{lg}/proposals")).await;
    let m = p
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["ref"] == mural.as_str())
        .unwrap();
    assert!(
        m["outcome"]["reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "{m}"
    );

    // A bounty: the founder offers 5; bea claims (cat may not while she works), hands in,
    // cat may not accept for the founder, the founder pays her.
    let gate = created(
        f.call(
            Method::POST,
            &format!("{lg}/bounties"),
            Some(json!({"title": "Fix the gate", "reward": 5})),
            StatusCode::CREATED,
        )
        .await,
    );
    let bounty_is = |id: &str, pred: fn(&qun_node::dto::BountyOut) -> bool| {
        let id = id.to_string();
        move |h: NodeHandle| {
            let id = id.clone();
            async move {
                h.bounties(cid)
                    .await
                    .is_ok_and(|bs| bs.iter().any(|x| x.reference == id && pred(x)))
            }
        }
    };
    wait_until(
        &mut b.node,
        "the bounty arrives",
        bounty_is(&gate, |_| true),
    )
    .await;
    b.post(&format!("{lg}/bounties/claim"), json!({"bounty": gate}))
        .await;
    wait_until(
        &mut k.node,
        "bea's claim arrives",
        bounty_is(&gate, |x| !x.state.claims.is_empty()),
    )
    .await;
    let (_, e) = refused(
        &k,
        &format!("{lg}/bounties/claim"),
        json!({"bounty": gate}),
        "a second claimant",
    )
    .await;
    assert!(e.contains("one claimant at a time"), "{e}");
    b.post(
        &format!("{lg}/bounties/submit"),
        json!({"bounty": gate, "work": "new hinges"}),
    )
    .await;
    wait_until(
        &mut f.node,
        "the work arrives",
        bounty_is(&gate, |x| {
            x.state
                .claims
                .values()
                .any(|c| matches!(c, qun_crdt::ledger::bounty::Claim::Submitted { .. }))
        }),
    )
    .await;
    refused(
        &k,
        &format!("{lg}/bounties/accept"),
        json!({"bounty": gate, "claimant": bm.to_string()}),
        "cat accepts for the sponsor",
    )
    .await;
    f.post(
        &format!("{lg}/bounties/accept"),
        json!({"bounty": gate, "claimant": bm.to_string()}),
    )
    .await;
    let want = vec![(fm, 30), (bm, -15), (km, -15)];
    on_all(
        [&mut f, &mut b, &mut k],
        "the reward went to bea",
        move |h| settled(h, cid, want.clone()),
    )
    .await;

    // A trust-weighted vote: founder yes, bea abstains, cat no. By trust the founder and bea
    // weigh 8 each and cat (unreached) 0: 100 % yes, quorum met, it passes — one member one
    // vote would have been 1 yes against 1 no.
    let roof = created(
        f.call(
            Method::POST,
            &format!("{lg}/proposals"),
            Some(
                json!({"title": "New roof", "goal": 1, "vote": "trust", "cap": 60,
                        "quorum": 50, "threshold": 50}),
            ),
            StatusCode::CREATED,
        )
        .await,
    );
    on_all(
        [&mut f, &mut b, &mut k],
        "the roof proposal",
        proposal_is(&roof, "open"),
    )
    .await;
    for (n, choice) in [(&f, "yes"), (&b, "abstain"), (&k, "no")] {
        n.post(
            &format!("{lg}/proposals/vote"),
            json!({"proposal": roof, "choice": choice}),
        )
        .await;
    }
    refused(
        &k,
        &format!("{lg}/proposals/vote"),
        json!({"proposal": roof, "choice": "maybe"}),
        "a vote that is not one",
    )
    .await;
    k.post(
        &format!("{lg}/proposals/pledge"),
        json!({"proposal": roof, "amount": 1}),
    )
    .await;
    let tallied = {
        let roof = roof.clone();
        move |h: NodeHandle| {
            let roof = roof.clone();
            async move {
                h.proposals(cid).await.is_ok_and(|ps| {
                    ps.iter().any(|p| {
                        p.reference == roof
                            && p.view.pledged == 1
                            && p.view.tally.as_ref().is_some_and(|t| {
                                (t.yes, t.no, t.abstain, t.voters, t.eligible, t.passed)
                                    == (8, 0, 8, 3, 16, true)
                            })
                    })
                })
            }
        }
    };
    on_all([&mut f, &mut b, &mut k], "the tally", tallied).await;
    let words = |v: &Value| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|x| x["ref"] == roof.as_str())
            .unwrap()
            .clone()
    };
    let on_k = words(&k.get(&format!("{lg}/proposals")).await);
    assert_eq!(
        on_k["tally_words"], "100 % yes of 3 voters (16 of 16 weight cast); quorum met; passes",
        "{on_k}"
    );
    assert_eq!(on_k["my_vote"], "no", "{on_k}");
    let w = on_k["my_weight"].as_str().unwrap();
    assert!(w.starts_with("your vote weighs 0 of 16"), "{w}");
    assert!(
        w.contains("the founders' trust does not reach you yet"),
        "{w}"
    );
    let on_b = words(&b.get(&format!("{lg}/proposals")).await);
    let w = on_b["my_weight"].as_str().unwrap();
    assert!(w.starts_with("your vote weighs 8 of 16 (50.0 %)"), "{w}");
    assert!(w.contains("a founder endorses you"), "{w}");
    f.post(&format!("{lg}/proposals/close"), json!({"proposal": roof}))
        .await;
    on_all(
        [&mut f, &mut b, &mut k],
        "the roof is funded",
        proposal_is(&roof, "funded"),
    )
    .await;

    f.stop().await;
    b.stop().await;
    k.stop().await;
}
