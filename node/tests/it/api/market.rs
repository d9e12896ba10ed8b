//! The market over the API, with real nodes on loopback: a whole deal between two members
//! (offer, propose, accept, deliver, complete, a review each way), and the attacks a dishonest
//! trader would try over HTTP (completing on the other's behalf, a stranger to the deal moving
//! it, a review without a finished deal), each refused with a 4xx and nothing changed.
//!
//! ```text
//! seller/founder (60) -- buyer (61) -- mallory (62)
//! ```

use super::support::*;
use crate::common::*;
use qun_crdt::CommunityId;
use qun_node::dto::NodeEvent;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The member id of an API node.
pub(super) async fn member(n: &ApiNode) -> String {
    n.get("/api/v1/status").await["member"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `n` joins the founder's community through the API and waits until admitted.
pub(super) async fn join_api(f: &ApiNode, n: &mut ApiNode, base: &str) {
    let code = f
        .post(&format!("{base}/invite"), json!({"valid_hours": 1}))
        .await["code"]
        .as_str()
        .unwrap()
        .to_string();
    n.post("/api/v1/join", json!({ "code": code })).await;
    wait_for(
        &mut n.node.events,
        "admitted",
        |e| matches!(e, NodeEvent::Membership { status, .. } if status.is_member()),
    )
    .await;
}

/// Wait until `n` shows deal `deal` in status `status`.
async fn deal_reaches(n: &mut ApiNode, c: CommunityId, deal: &str, status: &'static str) {
    let id: qun_crdt::market::DealId = deal.parse().unwrap();
    wait_until(&mut n.node, &format!("deal {deal} {status}"), move |h| {
        let id = id.clone();
        async move { h.deal(c, id).await.is_ok_and(|d| d.status.name() == status) }
    })
    .await;
}

/// A refused request: a 4xx with an error and a hint.
async fn refused(n: &ApiNode, path: &str, body: Value, what: &str) -> (StatusCode, Value) {
    let (st, v) = status_and_json(n.req(Method::POST, path).json(&body)).await;
    assert!(st.is_client_error(), "{what}: {st} {v}");
    assert_error(&v, what);
    (st, v)
}

// seller -- buyer -- mallory
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_deal_and_the_attacks_on_it() {
    let mut s = ApiNode::start(60).await;
    let mut b = ApiNode::start(61).await;
    let mut m = ApiNode::start(62).await;
    let (seller, buyer) = (member(&s).await, member(&b).await);
    let v = s
        .call(
            Method::POST,
            "/api/v1/communities",
            Some(json!({"name": "Village market", "policy": "invite"})),
            StatusCode::CREATED,
        )
        .await;
    let c = v["id"].as_str().unwrap().to_string();
    let cid: CommunityId = c.parse().unwrap();
    let base = format!("/api/v1/communities/{c}");
    let mk = format!("{base}/market");
    listening(&mut s.node).await;
    join_api(&s, &mut b, &base).await;
    join_api(&s, &mut m, &base).await;

    // The policy: open by default; a plain member may not change it.
    assert_eq!(s.get(&format!("{mk}/policy")).await["policy"], "open");
    let (st, _) = refused(
        &b,
        &format!("{mk}/policy"),
        json!({"policy": "off"}),
        "a member sets the market policy",
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    refused(
        &s,
        &format!("{mk}/policy"),
        json!({"policy": "sometimes"}),
        "a policy that does not parse",
    )
    .await;

    // The seller offers eggs; bad listings are refused with a hint.
    refused(
        &s,
        &format!("{mk}/listings"),
        json!({"title": "  ", "price": 3}),
        "a listing without a title",
    )
    .await;
    refused(
        &s,
        &format!("{mk}/listings"),
        json!({"title": "Eggs", "price": "cheap"}),
        "a price that is not a number",
    )
    .await;
    let made = s
        .call(
            Method::POST,
            &format!("{mk}/listings"),
            Some(
                json!({"kind": "offer", "title": "Fresh eggs", "price": 3, "quantity": 12,
                        "tags": ["food", "local"], "description": "From happy hens"}),
            ),
            StatusCode::CREATED,
        )
        .await;
    let listing = made["id"].as_str().unwrap().to_string();
    assert!(
        listing.starts_with(&format!("{seller}/fresh-eggs-")),
        "{listing}"
    );

    // The buyer finds it by text and tag once it arrives.
    let lid: qun_crdt::market::ListingId = listing.parse().unwrap();
    wait_until(&mut b.node, "the listing arrives", move |h| {
        let lid = lid.clone();
        async move { h.listing(cid, lid).await.is_ok() }
    })
    .await;
    let found = b
        .get(&format!(
            "{mk}/listings?q=EGGS&tag=food&kind=offer&status=open"
        ))
        .await;
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["listing"]["title"], "Fresh eggs");
    let none = b.get(&format!("{mk}/listings?kind=request")).await;
    assert_eq!(none, json!([]));
    let shop = b.get(&format!("{mk}/shop/{seller}")).await;
    assert_eq!(shop[0]["ref"], listing.as_str());
    let one = b
        .get(&format!(
            "{mk}/listing?id={}",
            qun_node::http::web::enc(&listing)
        ))
        .await;
    assert_eq!(one["owner"], seller.as_str());

    // Mallory may not edit the seller's listing (the id names its owner).
    refused(
        &m,
        &format!("{mk}/listings/hide"),
        json!({"id": listing, "reason": "mine now"}),
        "a member hides a listing",
    )
    .await;

    // No review before a finished deal.
    let (st, _) = refused(
        &b,
        &format!("{mk}/reviews"),
        json!({"deal": format!("{buyer}/nope"), "stars": 5}),
        "a review without a deal",
    )
    .await;
    assert!(st.is_client_error());

    // The buyer proposes 2 eggs at the listed price.
    let d = b
        .call(
            Method::POST,
            &format!("{mk}/deals"),
            Some(json!({"listing": listing, "quantity": 2, "terms": "pick up Saturday"})),
            StatusCode::CREATED,
        )
        .await;
    let deal = d["id"].as_str().unwrap().to_string();
    let q = qun_node::http::web::enc(&deal);
    let view = b.get(&format!("{mk}/deal?id={q}")).await;
    assert_eq!(view["status"], "proposed");
    assert_eq!(view["terms"]["price"], 6);
    assert_eq!(view["terms"]["buyer"], buyer.as_str());
    assert_eq!(view["terms"]["seller"], seller.as_str());
    deal_reaches(&mut s, cid, &deal, "proposed").await;

    // The buyer cannot accept its own proposal; mallory cannot accept it either.
    let (st, v) = refused(
        &b,
        &format!("{mk}/deals/accept"),
        json!({"deal": deal}),
        "the proposer accepts",
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    refused(
        &m,
        &format!("{mk}/deals/accept"),
        json!({"deal": deal}),
        "a stranger accepts",
    )
    .await;
    let steps_on = |who: &str| {
        let who = who.to_string();
        move |v: &Value| -> bool {
            v["history"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["by"] == who.as_str() && e["action"] != "deal.propose")
        }
    };
    assert!(!steps_on(&buyer)(
        &b.get(&format!("{mk}/deal?id={q}")).await
    ));

    // The seller accepts and delivers.
    s.post(&format!("{mk}/deals/accept"), json!({"deal": deal}))
        .await;
    // The buyer may not complete before delivery; may not deliver for the seller.
    refused(
        &s,
        &format!("{mk}/deals/complete"),
        json!({"deal": deal}),
        "the seller completes",
    )
    .await;
    s.post(&format!("{mk}/deals/deliver"), json!({"deal": deal}))
        .await;
    deal_reaches(&mut b, cid, &deal, "delivered").await;
    deal_reaches(&mut m, cid, &deal, "delivered").await;

    // Attacks on the delivered deal: the seller completes on the buyer's behalf, mallory
    // completes, cancels and disputes; each is refused and the deal stays delivered.
    let (st, v) = refused(
        &s,
        &format!("{mk}/deals/complete"),
        json!({"deal": deal}),
        "the seller completes on the buyer's behalf",
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    assert!(v["error"].as_str().unwrap().contains("buyer"), "{v}");
    for step in ["complete", "cancel", "dispute", "deliver"] {
        refused(
            &m,
            &format!("{mk}/deals/{step}"),
            json!({"deal": deal, "reason": "mine"}),
            &format!("mallory tries {step}"),
        )
        .await;
    }
    refused(
        &m,
        &format!("{mk}/deals/resolve"),
        json!({"deal": deal, "outcome": "refund"}),
        "mallory resolves",
    )
    .await;
    refused(
        &b,
        &format!("{mk}/deals/resolve"),
        json!({"deal": deal, "outcome": "bribe"}),
        "an outcome that does not parse",
    )
    .await;
    // A review is not earned by a delivered deal.
    refused(
        &s,
        &format!("{mk}/reviews"),
        json!({"deal": deal, "stars": 5}),
        "a review before completion",
    )
    .await;
    refused(
        &b,
        &format!("{mk}/reviews"),
        json!({"deal": deal, "stars": 9}),
        "nine stars",
    )
    .await;
    let now = s.get(&format!("{mk}/deal?id={q}")).await;
    assert_eq!(now["status"], "delivered");
    assert!(!steps_on(&member(&m).await)(&now), "{now}");
    assert_eq!(
        s.get(&format!("{mk}/reviews?about={seller}")).await["count"],
        0
    );

    // The buyer completes; both review; mallory cannot review a deal she is not in.
    b.post(&format!("{mk}/deals/complete"), json!({"deal": deal}))
        .await;
    deal_reaches(&mut s, cid, &deal, "completed").await;
    deal_reaches(&mut m, cid, &deal, "completed").await;
    refused(
        &m,
        &format!("{mk}/reviews"),
        json!({"deal": deal, "stars": 1, "text": "never bought"}),
        "a review by a stranger to the deal",
    )
    .await;
    b.post(
        &format!("{mk}/reviews"),
        json!({"deal": deal, "stars": 5, "text": "great eggs"}),
    )
    .await;
    s.post(
        &format!("{mk}/reviews"),
        json!({"deal": deal, "stars": 4, "text": "paid on time"}),
    )
    .await;
    let about = seller.clone();
    wait_until(&mut s.node, "the buyer's review arrives", move |h| {
        let about: qun_identity::MemberId = about.parse().unwrap();
        async move {
            h.reviews(cid, Some(about))
                .await
                .is_ok_and(|r| r.len() == 1)
        }
    })
    .await;
    let r = s.get(&format!("{mk}/reviews?about={seller}")).await;
    assert_eq!(
        (r["count"].as_u64(), r["average"].as_f64()),
        (Some(1), Some(5.0)),
        "{r}"
    );
    assert_eq!(r["reviews"][0]["reviewer"], buyer.as_str());
    assert_eq!(r["reviews"][0]["text"], "great eggs");
    let r = s.get(&format!("{mk}/reviews?about={buyer}")).await;
    assert_eq!(r["reviews"][0]["stars"], 4, "{r}");

    // Mine: both parties list the deal; mallory has none. The history is whole.
    assert_eq!(b.get(&format!("{mk}/deals")).await[0]["ref"], deal.as_str());
    assert_eq!(m.get(&format!("{mk}/deals")).await, json!([]));
    let hist: Vec<String> = s.get(&format!("{mk}/deal?id={q}")).await["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        hist,
        [
            "deal.propose",
            "deal.accept",
            "deal.deliver",
            "deal.complete"
        ]
    );

    // Ids that do not parse and things that are not there.
    let (st, v) = status_and_json(s.req(Method::GET, &format!("{mk}/deal?id=nonsense"))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_error(&v, "a bad deal id");
    let (st, _) =
        status_and_json(s.req(Method::GET, &format!("{mk}/deal?id={seller}%2Fnone"))).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Moderation: the founder hides mallory's listing; members no longer see it, moderators
    // see it marked; unhidden, it is back.
    let ml = m
        .call(
            Method::POST,
            &format!("{mk}/listings"),
            Some(json!({"kind": "request", "title": "Cheap watches", "key": "watches"})),
            StatusCode::CREATED,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mlid: qun_crdt::market::ListingId = ml.parse().unwrap();
    wait_until(&mut s.node, "mallory's listing arrives", move |h| {
        let mlid = mlid.clone();
        async move { h.listing(cid, mlid).await.is_ok() }
    })
    .await;
    s.post(
        &format!("{mk}/listings/hide"),
        json!({"id": ml, "reason": "spam"}),
    )
    .await;
    let shown = s.get(&format!("{mk}/listings?kind=request")).await;
    assert_eq!(shown, json!([]), "{shown}");
    let all = s
        .get(&format!("{mk}/listings?kind=request&hidden=true"))
        .await;
    assert_eq!(all[0]["hidden"]["reason"], "spam", "{all}");
    s.post(&format!("{mk}/listings/unhide"), json!({"id": ml}))
        .await;
    let shown = s.get(&format!("{mk}/listings?kind=request")).await;
    assert_eq!(shown[0]["ref"], ml.as_str(), "{shown}");

    // The founder may turn the market off: no listings shown then.
    s.post(&format!("{mk}/policy"), json!({"policy": "off"}))
        .await;
    assert_eq!(s.get(&format!("{mk}/policy")).await["policy"], "off");
    assert_eq!(s.get(&format!("{mk}/listings")).await, json!([]));

    s.stop().await;
    b.stop().await;
    m.stop().await;
}
