//! The page in headless Chromium: posting and reading, and a post from another node
//! appearing live (server-sent events).

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_post_and_read() {
    let n = WebNode::start(21).await;
    let me = n.api(Method::GET, "/api/v1/status", json!(null)).await["member"]
        .as_str()
        .unwrap()
        .to_string();
    let b = Browser::start().await;

    // The login link lands on the (empty) home page.
    b.goto(&n.login_url()).await;
    b.wait_for("h2", Some("Welcome to qun")).await;
    b.screenshot("01-welcome").await;

    // Create a community through the form.
    b.click(".empty a.btn.primary").await;
    b.type_into("input[name=name]", "Rust Meetup Berlin").await;
    b.type_into(
        "textarea[name=description]",
        "Monthly meetups, talks and pair programming.",
    )
    .await;
    b.screenshot("02-new-community").await;
    b.click("form button[type=submit]").await;
    b.wait_for("#composer", None).await;
    let c = community_of(&b.url().await);

    // Post, and see the post.
    b.type_into(
        "#composer textarea",
        "Hello from the browser!\nThe next meetup is on Thursday.",
    )
    .await;
    b.click("#composer button[type=submit]").await;
    b.wait_for("#posts .post-text", Some("Hello from the browser!"))
        .await;
    // Text is shown as text: no markup from a post reaches the page; links become links.
    b.type_into(
        "#composer textarea",
        "<img src=x onerror=alert(1)> <b>not bold</b> — slides: https://example.org/slides",
    )
    .await;
    b.click("#composer button[type=submit]").await;
    b.wait_for("#posts .post-text", Some("<img src=x onerror=alert(1)>"))
        .await;
    assert!(
        b.find("#posts img").await.is_none(),
        "a post injected an <img>"
    );
    assert!(
        b.find("#posts .post-text b").await.is_none(),
        "a post injected <b>"
    );
    assert!(
        b.find("#posts a[href='https://example.org/slides']")
            .await
            .is_some(),
        "the link is clickable"
    );
    // Markdown: emphasis and a code block render; a line break stays a line break.
    b.type_into(
        "#composer textarea",
        "Agenda for **Thursday**:\n- talks\n- `cargo` tips\n\n```\nfn main() { println!(\"<hi>\"); }\n```",
    )
    .await;
    b.click("#composer button[type=submit]").await;
    b.wait_for("#posts .post-text strong", Some("Thursday"))
        .await;
    b.wait_for("#posts .post-text li code", Some("cargo")).await;
    b.wait_for("#posts .post-text pre code", Some("println!(\"<hi>\")"))
        .await;
    // Copy a link to a post: this node's address of its thread.
    b.click("#posts .post:first-of-type .copy-link").await;
    b.wait_for("#posts .post:first-of-type .copy-link[data-copied]", None)
        .await;
    let copied = b
        .js(
            "return document.querySelector('#posts .post:first-of-type .copy-link').getAttribute('data-copied');",
            json!([]),
        )
        .await;
    assert!(
        copied
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/c/{c}/thread?post=", n.url)),
        "{copied}"
    );

    // Set a display name on my profile page.
    b.goto(&format!("{}/c/{c}/m/{me}", n.url)).await;
    b.type_into("input[name=name]", "Ada Lovelace").await;
    b.type_into("textarea[name=bio]", "Organiser. Rust, embedded, tea.")
        .await;
    b.click("#save-profile").await;
    b.wait_for(".profile-main h1", Some("Ada Lovelace")).await;
    // Saying it was saved, and tidying the address (a reload does not say it again).
    b.wait_for("#saved-notice", Some("Profile saved.")).await;
    assert!(!b.url().await.contains("saved="), "{}", b.url().await);

    // React to the first post, then reply in its thread.
    b.goto(&format!("{}/c/{c}", n.url)).await;
    b.wait_for("#posts .author", Some("Ada Lovelace")).await;
    b.click("#posts .post:last-of-type .react-menu summary")
        .await;
    b.click("#posts .post:last-of-type .emoji-picker button[value='🎉']")
        .await;
    b.wait_for("#posts .chip.mine", Some("1")).await;
    b.screenshot("03-community").await;
    b.click("#posts .post:last-of-type a.icon-btn.text").await;
    b.type_into("#reply textarea", "Bringing snacks this time.")
        .await;
    b.click("#reply button[type=submit]").await;
    b.wait_for("#posts .reply .post-text", Some("Bringing snacks"))
        .await;
    b.screenshot("04-thread").await;

    // The invite dialog: a code and its QR code.
    b.goto(&format!("{}/c/{c}/invite", n.url)).await;
    b.click("#make-invite").await;
    b.wait_for(".qr svg", None).await;
    let code = b
        .js(
            "return document.getElementById('invite-code').value;",
            json!([]),
        )
        .await;
    assert!(code.as_str().unwrap().starts_with("qun1"), "{code}");
    b.screenshot("05-invite").await;
    // The code has its own address: a reload shows the same code (it used to make another),
    // and Back returns to the form without asking to send it again.
    assert!(b.url().await.contains("/invite?shown="));
    b.js("location.reload(); return true;", json!([])).await;
    b.wait_for(".qr svg", None).await;
    let again = b
        .js(
            "return document.getElementById('invite-code').value;",
            json!([]),
        )
        .await;
    assert_eq!(again, code, "a reload made another code");
    b.js("history.back(); return true;", json!([])).await;
    b.wait_for("#make-invite", None).await;

    // Members ranked by trust.
    b.goto(&format!("{}/c/{c}/members", n.url)).await;
    b.wait_for(".member-row .author", Some("Ada Lovelace"))
        .await;
    b.screenshot("06-members").await;

    // Managing the community: reached from the header's button.
    b.goto(&format!("{}/c/{c}", n.url)).await;
    b.click("#manage-btn").await;
    b.wait_for("#policy h2", Some("Who can join")).await;
    b.screenshot("06b-manage").await;

    // Settings: the backup phrase only after an explicit click.
    b.goto(&format!("{}/settings", n.url)).await;
    b.wait_for("#identity dd", Some(&me)).await;
    assert!(b.find("#phrase").await.is_none(), "phrase shown unasked");
    b.click("#phrase-confirm").await;
    b.screenshot("07a-settings-backup-confirm").await;
    b.click("#show-phrase").await;
    b.wait_for("#phrase li", None).await;
    let words = b
        .js(
            "return document.querySelectorAll('#phrase li').length;",
            json!([]),
        )
        .await;
    assert_eq!(words, json!(24));
    b.screenshot("07-settings").await;

    // The home page lists the community; dark mode.
    b.goto(&format!("{}/", n.url)).await;
    b.wait_for(".community-card h3", Some("Rust Meetup Berlin"))
        .await;
    b.screenshot("08-home").await;
    b.color_scheme("dark").await;
    b.goto(&format!("{}/c/{c}", n.url)).await;
    b.wait_for("#posts .post-text", Some("Hello from the browser!"))
        .await;
    b.screenshot("09-community-dark").await;

    b.quit();
    n.stop().await;
}

// browser -- A -- B
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_on_node_b_appears_live_on_node_a() {
    let mut a = WebNode::start(24).await;
    let mut bn = WebNode::start(25).await;
    let c = a
        .api(
            Method::POST,
            "/api/v1/communities",
            json!({"name": "Night Owls", "description": "Late-night hacking", "policy": "invite"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    bn.join_through(&mut a, &c).await;
    bn.api(
        Method::PUT,
        &format!("/api/v1/communities/{c}/profile"),
        json!({"name": "Bea Node", "bio": "Second node", "avatar": null, "links": []}),
    )
    .await;
    let b_member = bn.api(Method::GET, "/api/v1/status", json!(null)).await["member"]
        .as_str()
        .unwrap()
        .to_string();

    let b = Browser::start().await;
    b.goto(&a.login_url()).await;
    b.goto(&format!("{}/c/{c}", a.url)).await;
    b.wait_for("#composer", None).await;
    // The page's event stream is open: from now on changes reach it.
    b.wait_for("body[data-live=on]", None).await;
    b.js("window.__sameDocument = 42; return true;", json!([]))
        .await;

    // B posts through its API; the post shows up on A's open page.
    let resp = bn
        .http
        .post(format!("{}/api/v1/communities/{c}/posts", bn.url))
        .bearer_auth(bn.auth.token())
        .json(&json!({"channel": "general", "text": "Live from node B 🚀"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    b.wait_for("#posts .post-text", Some("Live from node B"))
        .await;
    assert_eq!(
        b.js("return window.__sameDocument;", json!([])).await,
        json!(42),
        "the page reloaded instead of updating live"
    );
    b.wait_for("#posts .author", Some("Bea Node")).await;
    b.screenshot("10-live-from-node-b").await;

    // Endorse B from its profile page; the members page explains the trust.
    b.goto(&format!("{}/c/{c}/m/{b_member}", a.url)).await;
    b.type_into("input[name=note]", "Runs the late-night sessions")
        .await;
    b.click("#endorse-btn").await;
    b.wait_for(".notice.ok", Some("you vouch fully")).await;
    b.screenshot("11-profile-endorsed").await;
    b.goto(&format!("{}/c/{c}/members", a.url)).await;
    b.click(".why summary").await;
    b.wait_for(".why[open] .endorsers", Some("vouches fully"))
        .await;
    // Trust in words, the same on the members page and the profile: no bare numbers.
    b.wait_for(
        &format!("#m-{b_member} .score"),
        Some("highly trusted by you"),
    )
    .await;
    b.screenshot("12-members-why").await;
    b.goto(&format!("{}/c/{c}/m/{b_member}", a.url)).await;
    b.wait_for(".profile-score", Some("highly trusted by you"))
        .await;

    b.quit();
    bn.stop().await;
    a.stop().await;
}
