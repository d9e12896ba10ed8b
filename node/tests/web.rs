//! The web page in headless Chromium (driven over WebDriver by `web/webdriver.rs`) against
//! in-process nodes whose API and page are served on 127.0.0.1. Screenshots go to
//! `<target dir>/web-screenshots/`.
//!
//! ```text
//! HTTP client -- node (page)                  forms_work_without_javascript
//! HTTP client -- node F (page) -- node A      managing_a_community_from_the_page
//! browser -- node A (page)                    create_post_and_read
//! browser -- node A (page) -- node B (API)    a_post_on_node_b_appears_live_on_node_a
//! ```

mod common;
#[path = "web/webdriver.rs"]
mod webdriver;

use common::*;
use qun_node::dto::NodeEvent;
use qun_node::http::auth::Auth;
use qun_node::http::{self, AppState, Server};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use webdriver::Browser;

struct WebNode {
    node: TestNode,
    server: Server,
    auth: Arc<Auth>,
    url: String,
    http: Client,
}

impl WebNode {
    async fn start(seed: u8) -> Self {
        Self::start_with_keyfile(seed, None).await
    }

    /// With the keyfile the API checks before showing the backup phrase.
    async fn start_with_keyfile(seed: u8, keyfile: Option<std::path::PathBuf>) -> Self {
        let node = spawn(seed).await;
        let auth = Arc::new(Auth::new(format!("token-{seed}")));
        let server = http::serve(
            "127.0.0.1:0".parse().unwrap(),
            AppState {
                node: node.handle().clone(),
                auth: auth.clone(),
                keyfile,
            },
        )
        .await
        .unwrap();
        let url = format!("http://{}", server.addr);
        WebNode {
            node,
            server,
            auth,
            url,
            http: Client::new(),
        }
    }

    fn login_url(&self) -> String {
        format!(
            "{}/login?code={}",
            self.url,
            self.auth.login_code().unwrap()
        )
    }

    async fn api(&self, method: Method, path: &str, body: Value) -> Value {
        let resp = self
            .http
            .request(method.clone(), format!("{}{path}", self.url))
            .bearer_auth(self.auth.token())
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v
    }

    /// Join community `c` with an invite code from `inviter`, both through the API; returns
    /// once this node is a member.
    async fn join_through(&mut self, inviter: &mut WebNode, c: &str) {
        listening(&mut inviter.node).await;
        let code = inviter
            .api(
                Method::POST,
                &format!("/api/v1/communities/{c}/invite"),
                json!({}),
            )
            .await["code"]
            .as_str()
            .unwrap()
            .to_string();
        self.api(Method::POST, "/api/v1/join", json!({ "code": code }))
            .await;
        wait_for(
            &mut self.node.events,
            "admitted",
            |e| matches!(e, NodeEvent::Membership { status, .. } if status.is_member()),
        )
        .await;
    }

    async fn stop(self) {
        self.server.task.abort();
        self.node.handle().shutdown().await.unwrap();
    }
}

/// The community id in a page URL `…/c/<id>…`.
fn community_of(url: &str) -> String {
    url.split("/c/")
        .nth(1)
        .and_then(|r| r.split(['/', '?', '#']).next())
        .unwrap_or_else(|| panic!("no community in {url}"))
        .to_string()
}

/// A session without a browser: the login link's cookie, forms posted from the page's origin,
/// redirects not followed.
struct Session {
    http: Client,
    url: String,
    cookie: String,
}

impl Session {
    async fn login(n: &WebNode) -> Self {
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let login = http.get(n.login_url()).send().await.unwrap();
        let cookie = login.headers()[reqwest::header::SET_COOKIE]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        Session {
            http,
            url: n.url.clone(),
            cookie,
        }
    }

    fn form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.url))
            .header(reqwest::header::COOKIE, &self.cookie)
            .header(reqwest::header::ORIGIN, &self.url)
            .form(fields)
    }

    fn page(&self, path: String) -> impl Future<Output = reqwest::Result<reqwest::Response>> {
        self.http
            .get(format!("{}{path}", self.url))
            .header(reqwest::header::COOKIE, &self.cookie)
            .send()
    }

    /// POST a form; expect a redirect and return where to.
    async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> String {
        let r = self.form(path, fields).send().await.unwrap();
        let status = r.status();
        let location = r
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .map(String::from);
        match location {
            Some(l) if status == StatusCode::SEE_OTHER => l,
            _ => panic!("{path}: {status} {}", r.text().await.unwrap_or_default()),
        }
    }

    async fn html(&self, path: String) -> String {
        let r = self.page(path.clone()).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        r.text().await.unwrap()
    }
}

/// The forms post and redirect with the session cookie alone; member text is escaped; errors
/// are pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_work_without_javascript() {
    let n = WebNode::start(20).await;
    let session = Session::login(&n).await;
    let form = |path: &str, fields: &[(&str, &str)]| session.form(path, fields);
    let page = |path: String| session.page(path);

    let r = form("/new", &[("name", "Plain <HTML>"), ("policy", "invite")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let at = r.headers()["location"].to_str().unwrap().to_string();
    let c = community_of(&at);
    let r = form(
        &format!("/c/{c}/post"),
        &[
            ("channel", "general"),
            ("text", "<script>alert('x')</script> & friends"),
            ("back", "//evil.example/"),
        ],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        format!("/c/{c}").as_str(),
        "no open redirect"
    );
    let html = page(format!("/c/{c}")).await.unwrap().text().await.unwrap();
    assert!(
        html.contains("Plain &lt;HTML&gt;"),
        "community name escaped"
    );
    assert!(html.contains("&lt;script&gt;alert('x')&lt;/script&gt; &amp; friends"));
    assert!(
        !html.contains("<script>alert"),
        "post text reached the page as HTML"
    );
    let fragment = page(format!("/c/{c}/posts-fragment?channel=general"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(fragment.contains("&amp; friends") && !fragment.contains("<html"));
    // A refused form is an HTML page with the reason and a hint.
    let r = form(
        &format!("/c/{c}/post"),
        &[("channel", "nowhere"), ("text", "hi")],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let html = r.text().await.unwrap();
    assert!(html.contains("no such channel"), "{html}");
    let r = form(
        &format!("/c/{c}/post"),
        &[("channel", "general"), ("text", "  ")],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let big = "x".repeat(qun_node::http::MAX_BODY_BYTES + 1);
    let r = form(
        &format!("/c/{c}/post"),
        &[("channel", "general"), ("text", big.as_str())],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let r = form("/join", &[("code", "qun1nope")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("invalid invite code"));
    // Unknown pages are 404 pages; the backup phrase needs a POST, and (these keys were never
    // in a file: like an unencrypted keyfile) the confirmation.
    let r = page("/c/nope".into()).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = page("/no/such/page".into()).await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("<html"));
    let r = page("/settings/backup-phrase".into()).await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let r = form("/settings/backup-phrase", &[]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(!html.contains(r#"id="phrase""#));
    assert!(html.contains("no passphrase"), "{html}");
    let r = form("/settings/backup-phrase", &[("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let phrase = html.split(r#"id="phrase""#).nth(1).unwrap();
    let words = phrase
        .split("</ol>")
        .next()
        .unwrap()
        .matches("<li>")
        .count();
    assert_eq!(words, 24);
    n.stop().await;
}

/// A founder runs the community from the page (channels, policy, name, custom roles, a
/// member's role, removal); a plain member is not offered those forms and is refused when
/// posting them anyway.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managing_a_community_from_the_page() {
    let mut f = WebNode::start(26).await;
    let mut a = WebNode::start(27).await;
    let fs = Session::login(&f).await;
    let at = fs
        .submit("/new", &[("name", "Garden Club"), ("policy", "invite")])
        .await;
    let c = community_of(&at);
    assert!(
        fs.html(format!("/c/{c}"))
            .await
            .contains(r#"id="manage-btn""#)
    );
    let html = fs.html(format!("/c/{c}/manage")).await;
    for section in [
        r#"id="channels""#,
        r#"id="policy""#,
        r#"id="about""#,
        r#"id="roles""#,
    ] {
        assert!(html.contains(section), "{section} missing");
    }

    // Channels: create one, then archive it; a bad id is a 400 page.
    let to = fs
        .submit(
            &format!("/c/{c}/manage/channel"),
            &[
                ("id", "seed-swap"),
                ("title", "Seed swap"),
                ("description", "Trade seeds"),
            ],
        )
        .await;
    assert_eq!(to, format!("/c/{c}?channel=seed-swap"));
    let html = fs.html(to).await;
    assert!(html.contains("Seed swap"), "new channel in the sidebar");
    let r = fs
        .form(&format!("/c/{c}/manage/channel"), &[("id", "Not An Id")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    fs.submit(
        &format!("/c/{c}/manage/channel"),
        &[
            ("id", "seed-swap"),
            ("title", "Seed swap"),
            ("archived", "on"),
        ],
    )
    .await;
    let info = f
        .api(
            Method::GET,
            &format!("/api/v1/communities/{c}"),
            json!(null),
        )
        .await;
    let swap = info["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|ch| ch["id"] == "seed-swap")
        .cloned()
        .unwrap();
    assert_eq!(swap["archived"], true, "{swap}");
    assert_eq!(swap["description"], "", "an edit replaces the settings");

    // Policy and name.
    fs.submit(
        &format!("/c/{c}/manage/policy"),
        &[("policy", "endorsements"), ("k", "3")],
    )
    .await;
    fs.submit(
        &format!("/c/{c}/manage/meta"),
        &[
            ("name", "Garden Club 2"),
            ("description", "Vegetables and more"),
        ],
    )
    .await;
    let info = f
        .api(
            Method::GET,
            &format!("/api/v1/communities/{c}"),
            json!(null),
        )
        .await;
    assert_eq!(info["policy"], "endorsements:3");
    assert_eq!(info["name"], "Garden Club 2");
    assert_eq!(info["description"], "Vegetables and more");
    let r = fs
        .form(
            &format!("/c/{c}/manage/policy"),
            &[("policy", "endorsements"), ("k", "0")],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "k = 0 is refused");
    fs.submit(&format!("/c/{c}/manage/policy"), &[("policy", "invite")])
        .await;

    // A custom role with the permissions ticked; built-in names are refused.
    fs.submit(
        &format!("/c/{c}/manage/role"),
        &[
            ("name", "gardener"),
            ("perm", "post"),
            ("perm", "react"),
            ("perm", "hide"),
        ],
    )
    .await;
    let r = fs
        .form(
            &format!("/c/{c}/manage/role"),
            &[("name", "moderator"), ("perm", "post")],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = fs.html(format!("/c/{c}/manage")).await;
    assert!(html.contains("gardener") && html.contains("Hide posts"));

    // A member joins; the founder gives them the custom role, then removes them.
    a.join_through(&mut f, &c).await;
    let am = a.api(Method::GET, "/api/v1/status", json!(null)).await["member"]
        .as_str()
        .unwrap()
        .to_string();
    let cid: qun_crdt::CommunityId = c.parse().unwrap();
    let member: qun_identity::MemberId = am.parse().unwrap();
    wait_until(&mut f.node, "founder sees A", move |h| async move {
        h.members(cid)
            .await
            .is_ok_and(|ms| ms.iter().any(|m| m.member == member))
    })
    .await;
    let html = fs.html(format!("/c/{c}/m/{am}")).await;
    assert!(html.contains(r#"id="set-role""#) && html.contains(r#"value="gardener""#));
    fs.submit(
        &format!("/c/{c}/role"),
        &[("member", &am), ("role", "gardener")],
    )
    .await;
    assert!(
        fs.html(format!("/c/{c}/m/{am}"))
            .await
            .contains("role-gardener")
    );

    // Following: the founder follows A; the "Following" tab shows A's posts only.
    fs.submit(
        &format!("/c/{c}/post"),
        &[("channel", "general"), ("text", "founder's note")],
    )
    .await;
    a.api(
        Method::POST,
        &format!("/api/v1/communities/{c}/posts"),
        json!({"channel": "general", "text": "a gardener's tip"}),
    )
    .await;
    wait_until(
        &mut f.node,
        "the founder holds A's post",
        move |h| async move {
            h.posts(cid, general(50))
                .await
                .is_ok_and(|p| p.iter().any(|p| p.text == "a gardener's tip"))
        },
    )
    .await;
    fs.submit(
        &format!("/c/{c}/follow"),
        &[("member", &am), ("on", "true")],
    )
    .await;
    assert!(
        fs.html(format!("/c/{c}/m/{am}"))
            .await
            .contains("Following ✓")
    );
    let html = fs
        .html(format!("/c/{c}?channel=general&following=true"))
        .await;
    assert!(html.contains("a gardener&#39;s tip") || html.contains("a gardener's tip"));
    assert!(!html.contains("founder&#39;s note") && !html.contains("founder's note"));
    let fragment = fs
        .html(format!(
            "/c/{c}/posts-fragment?channel=general&following=true"
        ))
        .await;
    assert!(
        !fragment.contains("founder"),
        "the live fragment keeps the filter"
    );
    let html = fs.html(format!("/c/{c}?channel=general")).await;
    assert!(html.contains("founder") && html.contains(r#"id="following-tab""#));

    // A plain member sees no manage controls and cannot post the forms.
    let s = Session::login(&a).await;
    wait_until(&mut a.node, "A has the role", move |h| async move {
        h.members(cid).await.is_ok_and(|ms| {
            ms.iter()
                .any(|m| m.member == member && m.role == "gardener")
        })
    })
    .await;
    assert!(
        !s.html(format!("/c/{c}"))
            .await
            .contains(r#"id="manage-btn""#)
    );
    assert!(
        s.html(format!("/c/{c}/manage"))
            .await
            .contains("does not let you change")
    );
    let r = s
        .form(&format!("/c/{c}/manage/channel"), &[("id", "mine")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("<html"), "an error page");

    fs.submit(
        &format!("/c/{c}/remove"),
        &[("member", &am), ("reason", "moved away")],
    )
    .await;
    let html = fs.html(format!("/c/{c}/m/{am}")).await;
    assert!(html.contains("removed") && !html.contains(r#"id="remove-member""#));
    f.stop().await;
    a.stop().await;
}

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

    // Set a display name on my profile page.
    b.goto(&format!("{}/c/{c}/m/{me}", n.url)).await;
    b.type_into("input[name=name]", "Ada Lovelace").await;
    b.type_into("textarea[name=bio]", "Organiser. Rust, embedded, tea.")
        .await;
    b.click("#save-profile").await;
    b.wait_for(".profile-main h1", Some("Ada Lovelace")).await;

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
    b.wait_for(".notice.ok", Some("You endorse")).await;
    b.screenshot("11-profile-endorsed").await;
    b.goto(&format!("{}/c/{c}/members", a.url)).await;
    b.click(".why summary").await;
    b.wait_for(".why[open] .endorsers", None).await;
    b.screenshot("12-members-why").await;

    b.quit();
    bn.stop().await;
    a.stop().await;
}

/// Someone at an unlocked, logged-in browser (or with the API token) does not get the root
/// key's backup phrase without the keyfile's passphrase: right, wrong and missing passphrase.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backup_phrase_needs_the_keyfile_passphrase_again() {
    use qun_identity::keyfile::{KdfParams, Protection};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("identity.key");
    let bundle = keys(26);
    bundle
        .save(
            &path,
            Protection::Passphrase("correct horse", KdfParams::INSECURE_FAST),
        )
        .unwrap();
    let expected = qun_node::keystore::phrase_of(bundle.root.as_ref().unwrap());
    let n = WebNode::start_with_keyfile(26, Some(path)).await;
    let session = Session::login(&n).await;
    // The settings page asks for the passphrase (no confirmation box).
    let html = session.html("/settings".into()).await;
    assert!(html.contains(r#"name="passphrase""#), "{html}");
    assert!(!html.contains(r#"name="confirm""#));
    let shown = |html: &str| html.contains(r#"id="phrase""#) || html.contains(expected.as_str());
    // Missing: no field, an empty one, or only the confirmation meant for unencrypted files.
    for fields in [
        &[][..],
        &[("passphrase", "")][..],
        &[("confirm", "yes")][..],
    ] {
        let r = session
            .form("/settings/backup-phrase", fields)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{fields:?}");
        let html = r.text().await.unwrap();
        assert!(!shown(&html), "{fields:?}");
        assert!(html.contains("typed again"), "{html}");
    }
    // Wrong.
    let r = session
        .form(
            "/settings/backup-phrase",
            &[("passphrase", "correct horse!")],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let html = r.text().await.unwrap();
    assert!(!shown(&html));
    assert!(html.contains("wrong passphrase"), "{html}");
    // Right: the 24 words of this node's root key.
    let r = session
        .form(
            "/settings/backup-phrase",
            &[("passphrase", "correct horse")],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let words: Vec<&str> = html
        .split(r#"id="phrase""#)
        .nth(1)
        .unwrap()
        .split("</ol>")
        .next()
        .unwrap()
        .split("<li>")
        .skip(1)
        .map(|w| w.split("</li>").next().unwrap())
        .collect();
    assert_eq!(words.join(" "), expected);
    // The bearer token alone (no form, no passphrase) gets nothing either.
    let r = n
        .http
        .post(format!("{}/settings/backup-phrase", n.url))
        .bearer_auth(n.auth.token())
        .form(&[("passphrase", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    n.stop().await;
}
