//! The market the way members use it in the page: one member publishes a listing from the
//! market page in Chromium, another finds it on their own node and proposes a deal from the
//! listing page; the deals page shows each party only the buttons its role allows; forms work
//! without JavaScript through to a review shown on the seller's profile; a title typed as
//! markup is shown as text.

use super::*;
use std::time::Duration;

/// Wait until `path` on `n` (a session) contains `needle`.
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
async fn a_listing_made_in_the_page_gets_a_deal_proposed_in_the_page() {
    let mut a = WebNode::start(63).await;
    let mut b = WebNode::start(64).await;
    listening(&mut a.node).await;
    let c = a.create("Repair Cafe").await;
    b.join_through(&mut a, &c).await;
    b.api(
        Method::PUT,
        &format!("/api/v1/communities/{c}/profile"),
        json!({ "name": "Bob Buyer" }),
    )
    .await;

    // A, in Chromium: the sidebar's Market link, then the new-listing form.
    let br = Browser::start().await;
    br.goto(&a.login_url()).await;
    br.goto(&format!("{}/c/{c}", a.url)).await;
    assert!(br.find(".channel-list a[href$='/market']").await.is_some());
    br.goto(&format!("{}/c/{c}/market", a.url)).await;
    br.wait_for("#new-listing", None).await;
    br.type_into("#listing-title", "Bike repair <b>fast</b>")
        .await;
    br.type_into("#listing-price", "15").await;
    br.type_into("input[name=tags]", "bikes, repair").await;
    br.click("#create-listing").await;
    br.wait_for(".listing-detail", Some("15")).await;
    let url = br.url().await;
    assert!(url.contains("/market/listing?id="), "{url}");
    // Markup typed in the title is text, not markup.
    assert!(br.find(".page-head h1 b").await.is_none());
    br.wait_for(".page-head h1", Some("Bike repair <b>fast</b>"))
        .await;
    // The owner is not offered a deal on its own listing.
    assert!(br.find("#propose-deal").await.is_none());
    br.screenshot("market-listing").await;

    // B, in the same browser on its own node: the listing arrives, ranked with its reason.
    br.goto(&b.login_url()).await;
    let market = format!("{}/c/{c}/market", b.url);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        br.goto(&market).await;
        if br.find(".listing-row .listing-title").await.is_some() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the listing never arrived"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    br.wait_for(".listing-row .why-rank", Some("no reviews yet"))
        .await;
    br.wait_for(".listing-row .price", Some("15")).await;
    br.screenshot("market-list").await;
    // Search: a word that is not there shows nothing; one that is, the listing.
    br.type_into(".market-search input[name=q]", "piano").await;
    br.click(".market-search button").await;
    br.wait_for("#no-listings", None).await;
    br.goto(&format!("{market}?q=BIKE")).await;
    br.click(".listing-row .listing-title").await;
    br.wait_for("#propose-deal", None).await;
    br.type_into("#propose textarea[name=terms]", "Saturday morning")
        .await;
    br.click("#propose-deal").await;
    br.wait_for(".deal", Some("proposed")).await;
    br.wait_for(".deal", Some("you are the buyer")).await;
    // The buyer proposed: it may withdraw, not accept.
    assert!(br.find(".deal button[id^='accept-']").await.is_none());
    assert!(br.find(".deal button[id^='cancel-']").await.is_some());
    br.screenshot("market-deals").await;
    br.quit();

    // Without a browser from here: the seller sees the proposal with Accept, and no Complete.
    a.auth.renew_login_code();
    b.auth.renew_login_code();
    let sa = Session::login(&a).await;
    let sb = Session::login(&b).await;
    let deals = format!("/c/{c}/market/deals");
    let html = page_shows(&sa, &deals, "data-status=\"proposed\"").await;
    assert!(html.contains("you are the seller"), "{html}");
    assert!(html.contains("id=\"accept-"), "{html}");
    assert!(!html.contains("id=\"complete-"), "{html}");
    let deal = html
        .split("name=\"deal\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    // The buyer posting "accept" anyway is refused by the node (an error page, not a redirect).
    let step = format!("/c/{c}/market/step");
    let r = sb
        .form(&step, &[("deal", &deal), ("step", "accept")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    sa.submit(&step, &[("deal", &deal), ("step", "accept")])
        .await;
    sa.submit(&step, &[("deal", &deal), ("step", "deliver")])
        .await;
    let html = page_shows(&sb, &deals, "data-status=\"delivered\"").await;
    assert!(html.contains("id=\"complete-"), "{html}");
    assert!(!html.contains("id=\"deliver-"), "{html}");
    sb.submit(&step, &[("deal", &deal), ("step", "complete")])
        .await;
    let html = page_shows(&sb, &deals, "data-status=\"completed\"").await;
    assert!(html.contains("id=\"review-"), "{html}");
    let to = sb
        .submit(
            &format!("/c/{c}/market/review"),
            &[
                ("deal", &deal),
                ("stars", "5"),
                ("text", "Wheels true again"),
            ],
        )
        .await;
    assert!(to.contains("/market/deals"), "{to}");
    let html = sb.html(deals.clone()).await;
    assert!(html.contains("You reviewed this deal."), "{html}");

    // The review on the seller's profile, and the market's reason, on the seller's node.
    let seller = a.node.handle().member().to_string();
    page_shows(&sa, &format!("/c/{c}/m/{seller}"), "Wheels true again").await;
    let html = sa.html(format!("/c/{c}/market")).await;
    assert!(html.contains("1 review, 5.0★"), "{html}");

    // Without JavaScript, B lists something; the founder (a moderator) hides it from the
    // listing page, and B's market no longer shows it.
    let to = sb
        .submit(
            &format!("/c/{c}/market/listing"),
            &[
                ("kind", "request"),
                ("title", "Old radios wanted"),
                ("price", ""),
            ],
        )
        .await;
    assert!(to.contains("/market/listing?id="), "{to}");
    let html = sb.html(to.clone()).await;
    assert!(!html.contains("id=\"hide-listing\""), "{html}");
    assert!(
        page_shows(&sb, &format!("/c/{c}/market"), "Old radios wanted")
            .await
            .contains("request")
    );
    let html = page_shows(&sa, &to, "Old radios wanted").await;
    assert!(html.contains("id=\"hide-listing\""), "{html}");
    let id = to.split("id=").nth(1).unwrap().replace("%2F", "/");
    sa.submit(
        &format!("/c/{c}/market/hide"),
        &[("id", &id), ("reason", "off topic")],
    )
    .await;
    page_shows(&sa, &to, "Hidden by a moderator: off topic").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while sb
        .html(format!("/c/{c}/market"))
        .await
        .contains("Old radios wanted")
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the hide never reached B"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    a.stop().await;
    b.stop().await;
}
