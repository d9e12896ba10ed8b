//! Every page at a phone's width (390×844): nothing wider than the screen (no sideways
//! scrolling), the sidebar folded behind "Menu" and opened by it, and a screenshot of each
//! page (`target/web-screenshots/phone-*.png`) next to the desktop ones.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_fits_a_phone() {
    let n = WebNode::start(55).await;
    let me = n.api(Method::GET, "/api/v1/status", json!(null)).await["member"]
        .as_str()
        .unwrap()
        .to_string();
    let c = n.create("Neighbourhood Tool Library").await;
    let post = n
        .api(
            Method::POST,
            &format!("/api/v1/communities/{c}/posts"),
            json!({ "channel": "general", "text": "Who has a long ladder? https://example.org/a/very/long/address/that/should/wrap/somewhere/and/not/widen/the/page ```\nlet code = \"wide line of code that must scroll inside its box and not widen the page at all\";\n```" }),
        )
        .await["post"]
        .as_str()
        .unwrap()
        .to_string();
    let b = Browser::start().await;
    b.cmd(
        "POST",
        "/window/rect",
        json!({ "width": 390, "height": 844 }),
    )
    .await;
    b.goto(&n.login_url()).await;
    let width = b.js("return window.innerWidth;", json!([])).await;
    assert!(width.as_u64().unwrap() <= 400, "not a phone width: {width}");

    // The sidebar is folded; Menu opens it.
    b.goto(&format!("{}/c/{c}", n.url)).await;
    b.wait_for("#composer", None).await;
    let shown = "return getComputedStyle(document.getElementById('side-rest')).display !== 'none';";
    assert_eq!(b.js(shown, json!([])).await, json!(false), "folded");
    b.click("#menu-toggle").await;
    assert_eq!(b.js(shown, json!([])).await, json!(true), "opened");

    let pages = [
        ("home", "/".to_string()),
        ("community", format!("/c/{c}")),
        (
            "thread",
            format!("/c/{c}/thread?post={}", qun_node::http::web::enc(&post)),
        ),
        ("members", format!("/c/{c}/members")),
        ("profile", format!("/c/{c}/m/{me}")),
        ("invite", format!("/c/{c}/invite")),
        ("manage", format!("/c/{c}/manage")),
        ("notifications", "/notifications".to_string()),
        ("search", "/search?q=ladder".to_string()),
        ("settings", "/settings".to_string()),
        ("new", "/new".to_string()),
        ("join", "/join".to_string()),
    ];
    let mut too_wide = Vec::new();
    for (name, path) in pages {
        b.goto(&format!("{}{path}", n.url)).await;
        b.wait_for("main", None).await;
        let w = b
            .js(
                "var over = Array.from(document.querySelectorAll('body *')).filter(function (e) {
                   var r = e.getBoundingClientRect(); return r.right > window.innerWidth + 1 && r.width > 0;
                 }).slice(0, 3).map(function (e) { return e.tagName + '.' + e.className; });
                 return [document.documentElement.scrollWidth, window.innerWidth, over];",
                json!([]),
            )
            .await;
        b.screenshot(&format!("phone-{name}")).await;
        if w[0].as_u64() > w[1].as_u64() {
            too_wide.push(format!("{name}: {w}"));
        }
    }
    assert!(
        too_wide.is_empty(),
        "pages wider than a phone: {too_wide:#?}"
    );
    b.quit();
    n.stop().await;
}
