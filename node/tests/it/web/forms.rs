//! The page without a browser: forms posted with the session cookie alone, a community run
//! from the page, the backup phrase behind the keyfile's passphrase.

use super::*;

/// The forms post and redirect with the session cookie alone; member text is escaped; errors
/// are pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_work_without_javascript() {
    let mut n = WebNode::start(20).await;
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
    // Edit the post twice: the post says "edited" and links to its history, which lists every
    // version (the API too).
    let posts = n
        .api(
            Method::GET,
            &format!("/api/v1/communities/{c}/posts"),
            json!(null),
        )
        .await;
    let pid = posts[0]["id"].as_str().unwrap().to_string();
    for text in ["Second version", "Third version"] {
        let r = form(
            &format!("/c/{c}/edit"),
            &[("post", pid.as_str()), ("text", text)],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let html = page(format!("/c/{c}")).await.unwrap().text().await.unwrap();
    assert!(html.contains("edited-link"), "no link to the history");
    let hist = page(format!(
        "/c/{c}/history?post={}",
        qun_node::http::web::enc(&pid)
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    let (a, b2, c3) = (
        hist.find("&lt;script&gt;").unwrap(),
        hist.find("Second version").unwrap(),
        hist.find("Third version").unwrap(),
    );
    assert!(c3 < b2 && b2 < a, "newest first");
    let v = n
        .api(
            Method::GET,
            &format!(
                "/api/v1/communities/{c}/posts/history?post={}",
                qun_node::http::web::enc(&pid)
            ),
            json!(null),
        )
        .await;
    assert_eq!(v.as_array().unwrap().len(), 3, "{v}");
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
    // A code that does not work: the join page again, with the code as typed and the reason
    // in a member's words (no decoder internals, no CLI commands).
    let r = form("/join", &[("code", "qun1nope")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("invalid invite code"), "{html}");
    assert!(
        html.contains(">qun1nope</textarea>"),
        "the code typed is kept"
    );
    let code = n.invite_code(&c).await;
    for (bad, why) in [
        (&code[..code.len() / 2], "cut off"),
        (&code[..code.len() - 3], "cut off"),
        (&format!("{code}{}", &code[4..20]), "altered"),
    ] {
        let r = form("/join", &[("code", bad)]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(html.contains(why), "{why}: {html}");
        assert!(html.contains(&format!(">{bad}</textarea>")), "code kept");
        for internal in [
            "discriminant",
            "end of buffer",
            "Hit the end",
            "qun community",
        ] {
            assert!(!html.contains(internal), "{internal}: {html}");
        }
    }
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
    // The page's new-channel form needs only a title: the id is derived from it, and a title
    // whose id is in use gets another id (it never overwrites that channel).
    let to = fs
        .submit(
            &format!("/c/{c}/manage/channel/new"),
            &[("title", "Seed Swap!"), ("description", "The second one")],
        )
        .await;
    assert_eq!(to, format!("/c/{c}?channel=seed-swap-2"));
    let to = fs
        .submit(
            &format!("/c/{c}/manage/channel/new"),
            &[("title", "种子交换")],
        )
        .await;
    assert!(to.contains("?channel=channel-"), "{to}");
    let r = fs
        .form(&format!("/c/{c}/manage/channel/new"), &[("title", "  ")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "a title is needed");
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
    // Removal asks first.
    assert!(
        html.contains(r#"data-confirm="Remove this member"#),
        "removal without a confirmation"
    );
    // An invited member of an invite-only community is not labelled as refused by a trust
    // flow the community does not use.
    let html = fs.html(format!("/c/{c}/members")).await;
    assert!(html.contains(&am) && !html.contains("trust flow"), "{html}");
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

    s.submit(
        &format!("/c/{c}/post"),
        &[("channel", "general"), ("text", "A's last post")],
    )
    .await;
    // The removal's cut must hold the post, or the post is void with the removal (it would
    // be concurrent with it): the founder removes A once it has the post.
    wait_until(
        &mut f.node,
        "the founder has A's post",
        move |h| async move {
            posts(&h, cid)
                .await
                .iter()
                .any(|p| p.text == "A's last post")
        },
    )
    .await;
    fs.submit(
        &format!("/c/{c}/remove"),
        &[("member", &am), ("reason", "moved away")],
    )
    .await;
    let html = fs.html(format!("/c/{c}/m/{am}")).await;
    assert!(html.contains("removed") && !html.contains(r#"id="remove-member""#));
    // A removed member is no longer offered Edit and Delete on its own posts.
    wait_until(&mut a.node, "A sees its removal", move |h| async move {
        h.community_view(cid)
            .await
            .is_ok_and(|v| !v.can(qun_crdt::Perm::Post))
    })
    .await;
    let html = s.html(format!("/c/{c}")).await;
    assert!(
        html.contains("A&#39;s last post") || html.contains("A's last post"),
        "{html}"
    );
    assert!(
        !html.contains(&format!(r#"action="/c/{c}/edit""#))
            && !html.contains(&format!(r#"action="/c/{c}/delete""#)),
        "Edit or Delete offered to a removed member"
    );
    f.stop().await;
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

/// One profile, named once: saved from one community's page, it is the member's profile in
/// every community it is in (unless the box is unticked).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_profile_in_all_my_communities() {
    let n = WebNode::start(56).await;
    let me = n.api(Method::GET, "/api/v1/status", json!(null)).await["member"]
        .as_str()
        .unwrap()
        .to_string();
    let (c1, c2) = (n.create("Choir").await, n.create("Allotments").await);
    let s = Session::login(&n).await;
    let html = s.html(format!("/c/{c1}/m/{me}")).await;
    assert!(
        html.contains(r#"id="profile-everywhere" checked"#)
            || html.contains(r#"checked id="profile-everywhere""#),
        "ticked by default"
    );
    let to = s
        .submit(
            &format!("/c/{c1}/profile"),
            &[
                ("name", "Ada"),
                ("bio", "Sings, grows beans"),
                ("everywhere", "on"),
            ],
        )
        .await;
    assert!(to.contains("saved=profile-everywhere"), "{to}");
    for c in [&c1, &c2] {
        let p = n
            .api(
                Method::GET,
                &format!("/api/v1/communities/{c}/profile"),
                json!(null),
            )
            .await;
        assert_eq!(p["name"], "Ada", "{c}: {p}");
    }
    // Unticked: this community only.
    s.submit(&format!("/c/{c1}/profile"), &[("name", "Ada L.")])
        .await;
    let other = n
        .api(
            Method::GET,
            &format!("/api/v1/communities/{c2}/profile"),
            json!(null),
        )
        .await;
    assert_eq!(other["name"], "Ada");
    n.stop().await;
}

/// A moderator pins an older post: it leads the channel's newest page, marked; unpinned, it
/// goes back to its place. A plain member is offered no Pin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_post_leads_its_channel() {
    let n = WebNode::start(57).await;
    let c = n.create("Bakery Co-op").await;
    let posts = format!("/api/v1/communities/{c}/posts");
    let mut ids = Vec::new();
    for text in [
        "House rules: be kind",
        "Bread on Friday",
        "Flour delivery Monday",
    ] {
        let v = n
            .api(
                Method::POST,
                &posts,
                json!({ "channel": "general", "text": text }),
            )
            .await;
        ids.push(v["post"].as_str().unwrap().to_string());
    }
    let s = Session::login(&n).await;
    let first_post = |html: &str| {
        let i = html.find(r#"class="post-text md""#).unwrap();
        html[i..i + 200].to_string()
    };
    let html = s.html(format!("/c/{c}")).await;
    assert!(first_post(&html).contains("Flour delivery"), "newest first");
    s.submit(
        &format!("/c/{c}/pin"),
        &[("post", ids[0].as_str()), ("on", "true")],
    )
    .await;
    let html = s.html(format!("/c/{c}")).await;
    assert!(
        first_post(&html).contains("House rules"),
        "the pinned post leads"
    );
    assert!(html.contains("📌 Pinned"));
    let anchor: String = ids[0]
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    assert_eq!(
        html.matches(&format!(r#"id="p-{anchor}""#)).count(),
        1,
        "shown once"
    );
    s.submit(
        &format!("/c/{c}/pin"),
        &[("post", ids[0].as_str()), ("on", "false")],
    )
    .await;
    let html = s.html(format!("/c/{c}")).await;
    assert!(first_post(&html).contains("Flour delivery"));
    assert!(!html.contains("📌 Pinned"));
    n.stop().await;
}

/// A petname: the name this member gives another, seen only on this node, shown wherever the
/// other's name would be (and their own name kept on the profile); the same-name warning
/// goes away once the member told them apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn petnames_are_mine_alone() {
    let mut f = WebNode::start(58).await;
    let mut a = WebNode::start(59).await;
    listening(&mut f.node).await;
    let c = f.create("Chess Club").await;
    a.join_through(&mut f, &c).await;
    let am = a.api(Method::GET, "/api/v1/status", json!(null)).await["member"]
        .as_str()
        .unwrap()
        .to_string();
    // A calls itself what the founder calls itself.
    for n in [&f, &a] {
        n.api(
            Method::PUT,
            &format!("/api/v1/communities/{c}/profile"),
            json!({ "name": "Alice" }),
        )
        .await;
    }
    a.api(
        Method::POST,
        &format!("/api/v1/communities/{c}/posts"),
        json!({ "channel": "general", "text": "Fancy a game?" }),
    )
    .await;
    let cid: qun_crdt::CommunityId = c.parse().unwrap();
    let who: qun_identity::MemberId = am.parse().unwrap();
    wait_until(
        &mut f.node,
        "the founder has A's name and post",
        move |h| async move {
            h.community_view(cid)
                .await
                .is_ok_and(|v| v.names.get(&who).is_some_and(|n| n == "Alice"))
                && h.posts(
                    cid,
                    qun_node::dto::PostQuery {
                        channel: qun_crdt::ChannelId::general(),
                        limit: 10,
                        before: None,
                        following: false,
                    },
                )
                .await
                .is_ok_and(|p| !p.is_empty())
        },
    )
    .await;
    let s = Session::login(&f).await;
    assert!(
        s.html(format!("/c/{c}"))
            .await
            .contains("same name as another member")
    );
    s.submit(
        &format!("/c/{c}/m/{am}/petname"),
        &[("petname", "Alice from the park")],
    )
    .await;
    let html = s.html(format!("/c/{c}")).await;
    assert!(html.contains("Alice from the park"), "the petname is shown");
    assert!(!html.contains("same name as another member"), "told apart");
    let profile = s.html(format!("/c/{c}/m/{am}")).await;
    assert!(profile.contains(r#"id="petname-note""#) && profile.contains("They call themselves"));
    // Only on this node: A's own node and the API still say "Alice".
    let members = f
        .api(
            Method::GET,
            &format!("/api/v1/communities/{c}/members"),
            json!(null),
        )
        .await;
    assert!(!members.to_string().contains("from the park"));
    // Empty removes it.
    s.submit(&format!("/c/{c}/m/{am}/petname"), &[("petname", " ")])
        .await;
    assert!(!s.html(format!("/c/{c}")).await.contains("from the park"));
    f.stop().await;
    a.stop().await;
}
