//! The wallet the way members use it in the page: the founder turns the ledger on, opens the
//! wallet from the sidebar in Chromium, pays another member with the Pay form and sees the
//! line (it counts, to whom, newest first); a payment over the limit is refused in words with
//! what was typed kept. On the payee's node the money arrives marked "only the payer has it so
//! far", and becomes "seen by 1 other member" once another member has built on it.
//!
//! ```text
//! browser -- node A (page, founder, 86) -- node B (page, 87)
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
    br.wait_for("#form-error", Some("over the credit limit"))
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
    let html = page_shows(&sb, &wallet, "seen by 1 other member").await;
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
