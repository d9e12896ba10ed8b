//! The wallet the way members use it in the page: the founder turns the ledger on, opens the
//! wallet from the sidebar in Chromium, pays another member with the Pay form and sees the
//! line (it counts, to whom, newest first); a payment over the limit is refused in words with
//! what was typed kept. On the payee's node the money arrives marked "only the payer has it so
//! far", and becomes "seen by 1 other member, not final yet" once another member has built on
//! it (final needs most of the witnesses, here the payer itself: never). Then,
//! with forms only: the ledger's settings, a proposal (a refused one keeps what was typed)
//! pledged to and closed, a bounty claimed, handed in and paid, and "Pay into escrow" on the
//! deals page for the buyer only.
//!
//! ```text
//! browser -- node A (page, founder, 86) -- node B (page, 87)          the wallet
//! HTTP client -- node A (page, 88) -- node B (page, 89)                proposals, bounties, escrow
//! ```

use super::*;
use std::time::Duration;

/// Wait until `path` on a session contains `needle`.
async fn page_shows(s: &Session, path: &str, needle: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let html = s.html(path.to_string()).await;
        if html.contains(needle) {
            return html;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{path} never showed {needle:?}: {html}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paying_a_member_from_the_wallet_page() {
    let mut a = WebNode::start(86).await;
    let mut b = WebNode::start(87).await;
    listening(&mut a.node).await;
    let c = a.create("Apple Exchange").await;
    b.join_through(&mut a, &c).await;
    b.api(
        Method::PUT,
        &format!("/api/v1/communities/{c}/profile"),
        json!({ "name": "Bob Payee" }),
    )
    .await;
    a.api(
        Method::POST,
        &format!("/api/v1/communities/{c}/ledger/policy"),
        json!({ "unit": "hours", "limit": "20" }),
    )
    .await;
    let bob = b.node.handle().member().to_string();
    let cid: qun_crdt::CommunityId = c.parse().unwrap();
    wait_until(&mut b.node, "the ledger is on at B", move |h| async move {
        h.wallet(cid, None).await.is_ok_and(|w| w.on)
    })
    .await;
    let name_known = {
        let bob = bob.clone();
        move |h: qun_node::handle::NodeHandle| {
            let bob = bob.clone();
            async move {
                h.community_view(cid).await.is_ok_and(|v| {
                    v.names.values().any(|n| n == "Bob Payee")
                        && v.roles.keys().any(|m| m.to_string() == bob)
                })
            }
        }
    };
    wait_until(&mut a.node, "B's name reaches A", name_known).await;

    // A, in Chromium: the sidebar's Wallet link, the account, the Pay form.
    let br = Browser::start().await;
    br.goto(&a.login_url()).await;
    br.goto(&format!("{}/c/{c}", a.url)).await;
    br.click(".channel-list a[href$='/wallet']").await;
    br.wait_for("#balance", Some("0 hours")).await;
    br.wait_for("#limit", Some("20")).await;
    br.wait_for("#limit-why", Some("the same limit for everyone"))
        .await;
    br.wait_for("#no-history", None).await;
    br.click(&format!("#pay-to option[value='{bob}']")).await;
    br.type_into("#pay-amount", "7").await;
    br.type_into("#pay-note", "apples").await;
    br.click("#pay-submit").await;
    br.wait_for("#saved", Some("Payment made.")).await;
    br.wait_for("#balance", Some("-7 hours")).await;
    br.wait_for("#available", Some("13")).await;
    br.wait_for(".ledger-line", Some("payment: apples")).await;
    br.wait_for(".ledger-line", Some("to Bob Payee")).await;
    br.wait_for(".ledger-line .counts", Some("counts")).await;
    br.screenshot("wallet").await;

    // Over the limit: refused in words, and what was typed is still there.
    br.click(&format!("#pay-to option[value='{bob}']")).await;
    br.type_into("#pay-amount", "100").await;
    br.type_into("#pay-note", "the whole orchard").await;
    br.click("#pay-submit").await;
    br.wait_for("#form-error", Some("Over the credit limit: 13 available"))
        .await;
    let kept = br
        .js(
            "return [document.querySelector('#pay-amount').value, document.querySelector('#pay-note').value, document.querySelector('#pay-to').value];",
            json!([]),
        )
        .await;
    assert_eq!(kept, json!(["100", "the whole orchard", bob]), "{kept}");
    br.wait_for("#balance", Some("-7 hours")).await;
    br.screenshot("wallet-refused").await;

    // The proposals page: a progress bar, the tally in words and my weight; the board.
    let lg = format!("/api/v1/communities/{c}/ledger");
    let roof = a
        .api(
            Method::POST,
            &format!("{lg}/proposals"),
            json!({"title": "New roof", "goal": 10, "vote": "trust", "quorum": 50}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    a.api(
        Method::POST,
        &format!("{lg}/proposals/pledge"),
        json!({"proposal": roof, "amount": 4}),
    )
    .await;
    a.api(
        Method::POST,
        &format!("{lg}/bounties"),
        json!({"title": "Prune the pear trees", "reward": 3, "description": "Before March"}),
    )
    .await;
    br.click(".channel-list a[href$='/proposals']").await;
    br.wait_for(".proposal .pledged", Some("4 of 10 hours (40 %)"))
        .await;
    br.click(".proposal button[id^='vote-yes-']").await;
    br.wait_for(".proposal .tally", Some("100 % yes of 1 voter"))
        .await;
    br.wait_for(".proposal .weight", Some("because you are a founder"))
        .await;
    br.screenshot("proposals").await;
    br.click(".channel-list a[href$='/bounties']").await;
    br.wait_for(".bounty", Some("Prune the pear trees")).await;
    assert!(br.find(".bounty button[id^='cancel-']").await.is_some());
    assert!(br.find(".bounty button[id^='claim-']").await.is_none());
    br.screenshot("bounties").await;
    br.quit();

    // B's node: the money arrives, not yet seen by anyone but the payer.
    b.auth.renew_login_code();
    let sb = Session::login(&b).await;
    let wallet = format!("/c/{c}/wallet");
    let html = page_shows(&sb, &wallet, "+7 hours").await;
    assert!(html.contains("only the payer has it so far"), "{html}");
    // Once another member (here B itself, paying 2 back) has built on it, it is seen.
    let founder = a.node.handle().member().to_string();
    let to = sb
        .submit(
            &format!("/c/{c}/wallet/pay"),
            &[("to", &founder), ("amount", "2"), ("note", "change")],
        )
        .await;
    assert!(to.ends_with("/wallet?saved=paid"), "{to}");
    let html = page_shows(&sb, &wallet, "seen by 1 other member, not final yet").await;
    assert!(html.contains("id=\"balance\""), "{html}");
    // Without JavaScript, a refused payment is a page with the reason, not a redirect.
    let r = sb
        .form(
            &format!("/c/{c}/wallet/pay"),
            &[("to", &founder), ("amount", "0")],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("id=\"form-error\""));

    a.stop().await;
    b.stop().await;
}

/// The id in a page after `marker` up to the next quote.
fn after(html: &str, marker: &str) -> String {
    html.split(marker)
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("no {marker:?} in {html}"))
        .to_string()
}

// founder (88, page) -- member (89, page); forms only, no browser
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proposals_bounties_and_escrow_from_the_pages() {
    let mut a = WebNode::start(88).await;
    let mut b = WebNode::start(89).await;
    listening(&mut a.node).await;
    let c = a.create("Tool Library").await;
    b.join_through(&mut a, &c).await;
    let cid: qun_crdt::CommunityId = c.parse().unwrap();
    let sa = Session::login(&a).await;
    let sb = Session::login(&b).await;
    let founder = a.node.handle().member().to_string();
    let member = b.node.handle().member().to_string();

    // The founder turns the ledger on from the wallet's settings; a member has no such form.
    let html = sa.html(format!("/c/{c}/wallet")).await;
    assert!(html.contains("id=\"ledger-settings\""), "{html}");
    assert!(html.contains("id=\"ledger-off\""), "{html}");
    assert!(
        !sb.html(format!("/c/{c}/wallet"))
            .await
            .contains("id=\"ledger-settings\"")
    );
    let to = sa
        .submit(
            &format!("/c/{c}/wallet/policy"),
            &[("unit", "credits"), ("limit", "40"), ("enabled", "true")],
        )
        .await;
    assert!(to.ends_with("/wallet?saved=policy"), "{to}");
    wait_until(&mut b.node, "the ledger is on at B", move |h| async move {
        h.wallet(cid, None).await.is_ok_and(|w| w.on)
    })
    .await;

    // A proposal from the page: a refused one keeps what was typed; a good one shows its
    // progress; B pledges from its page; the founder closes it: funded.
    let r = sa
        .form(
            &format!("/c/{c}/proposals/new"),
            &[("title", "Cordless drill"), ("goal", "0")],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"form-error\""), "{html}");
    assert!(html.contains("value=\"Cordless drill\""), "{html}");
    let to = sa
        .submit(
            &format!("/c/{c}/proposals/new"),
            &[
                ("title", "Cordless drill"),
                ("goal", "12"),
                ("vote", "none"),
            ],
        )
        .await;
    assert!(to.contains("/proposals?saved=proposed#f-"), "{to}");
    let html = page_shows(&sb, &format!("/c/{c}/proposals"), "Cordless drill").await;
    let proposal = after(&html, "name=\"proposal\" value=\"");
    assert!(html.contains("0 of 12 credits (0 %)"), "{html}");
    // B may pledge but not close a proposal that is neither its own nor past its deadline.
    assert!(!html.contains("id=\"close-"), "{html}");
    sb.submit(
        &format!("/c/{c}/proposals/pledge"),
        &[("proposal", &proposal), ("amount", "12")],
    )
    .await;
    page_shows(&sb, &format!("/c/{c}/proposals"), "You pledged 12 credits.").await;
    let html = page_shows(
        &sa,
        &format!("/c/{c}/proposals"),
        "12 of 12 credits (100 %)",
    )
    .await;
    assert!(html.contains("id=\"close-"), "{html}");
    sa.submit(
        &format!("/c/{c}/proposals/close"),
        &[("proposal", &proposal)],
    )
    .await;
    page_shows(&sb, &format!("/c/{c}/proposals"), "data-outcome=\"funded\"").await;

    // A bounty: B sees Claim, then Hand in work; the founder sees Accept and pays it.
    sa.submit(
        &format!("/c/{c}/bounties/new"),
        &[("title", "Sharpen the saws"), ("reward", "5")],
    )
    .await;
    let bounties = format!("/c/{c}/bounties");
    let html = page_shows(&sb, &bounties, "id=\"claim-").await;
    assert!(!html.contains("id=\"cancel-"), "{html}");
    let bounty = after(&html, "name=\"bounty\" value=\"");
    sb.submit(
        &format!("/c/{c}/bounties/step"),
        &[("bounty", &bounty), ("step", "claim")],
    )
    .await;
    page_shows(&sb, &bounties, "id=\"submit-").await;
    sb.submit(
        &format!("/c/{c}/bounties/step"),
        &[
            ("bounty", &bounty),
            ("step", "submit"),
            ("work", "all twelve saws"),
        ],
    )
    .await;
    let html = page_shows(&sa, &bounties, "id=\"accept-").await;
    assert!(html.contains("handed in: all twelve saws"), "{html}");
    sa.submit(
        &format!("/c/{c}/bounties/step"),
        &[
            ("bounty", &bounty),
            ("step", "accept"),
            ("claimant", &member),
        ],
    )
    .await;
    page_shows(&sb, &bounties, "data-status=\"paid\"").await;
    // B: -12 pledged, +5 reward.
    page_shows(&sb, &format!("/c/{c}/wallet"), "-7 credits").await;

    // Escrow from the deals page: the buyer (B) pays into escrow with one button.
    let listing = a
        .api(
            Method::POST,
            &format!("/api/v1/communities/{c}/market/listings"),
            json!({"title": "Ladder rental", "price": 3}),
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
    let deal = b
        .api(
            Method::POST,
            &format!("/api/v1/communities/{c}/market/deals"),
            json!({"listing": listing}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let did: qun_crdt::market::DealId = deal.parse().unwrap();
    let d = did.clone();
    wait_until(&mut a.node, "the deal arrives", move |h| {
        let d = d.clone();
        async move { h.deal(cid, d).await.is_ok() }
    })
    .await;
    a.api(
        Method::POST,
        &format!("/api/v1/communities/{c}/market/deals/accept"),
        json!({"deal": deal}),
    )
    .await;
    let deals = format!("/c/{c}/market/deals");
    let html = page_shows(&sb, &deals, &format!("id=\"escrow-{}\"", did.key)).await;
    assert!(html.contains("into escrow"), "{html}");
    // The seller is not offered to pay into its own escrow.
    assert!(
        !page_shows(&sa, &deals, "data-status=\"accepted\"")
            .await
            .contains("id=\"escrow-")
    );
    let to = sb
        .submit(
            &format!("/c/{c}/wallet/pay"),
            &[
                ("to", &founder),
                ("amount", "3"),
                ("deal", &deal),
                ("back", &format!("/c/{c}/market/deals?saved=escrow")),
            ],
        )
        .await;
    assert!(to.contains("/market/deals?saved=escrow"), "{to}");
    let html = sb.html(deals.clone()).await;
    assert!(
        html.contains(&format!("in escrow until deal {deal} ends")),
        "{html}"
    );
    assert!(!html.contains("id=\"escrow-"), "{html}");

    a.stop().await;
    b.stop().await;
}
