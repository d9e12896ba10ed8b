//! A member's standing changing under an open page: removed by a moderator (the page reloads by
//! itself and says who removed the member and why), and leaving a community (founders cannot;
//! a member who left reads on as an outsider).

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removal_shows_live_with_its_reason_and_members_can_leave() {
    let mut f = WebNode::start(45).await;
    let mut m = WebNode::start(46).await;
    let mut l = WebNode::start(47).await;
    listening(&mut f.node).await;
    let c = f.create("Orchard").await;
    m.join_through(&mut f, &c).await;
    l.join_through(&mut f, &c).await;
    let member = m.api(Method::GET, "/api/v1/status", json!(null)).await["member"]
        .as_str()
        .unwrap()
        .to_string();

    // The member has the community open.
    let b = Browser::start().await;
    b.goto(&m.login_url()).await;
    b.goto(&format!("{}/c/{c}", m.url)).await;
    b.wait_for("#composer", None).await;
    b.wait_for("body[data-live=on]", None).await;
    // The founder removes it, with a reason.
    let fs = Session::login(&f).await;
    fs.submit(
        &format!("/c/{c}/remove"),
        &[("member", &member), ("reason", "selling fake seeds")],
    )
    .await;
    // The page reloads by itself: no composer, and who removed the member and why.
    b.wait_for("#removed-notice", Some("selling fake seeds"))
        .await;
    b.wait_for("#removed-notice", Some("removed you")).await;
    assert!(b.find("#composer").await.is_none(), "still a composer");
    // The API says so too.
    let info = m
        .api(
            Method::GET,
            &format!("/api/v1/communities/{c}"),
            json!(null),
        )
        .await;
    assert_eq!(info["removed"]["reason"], "selling fake seeds", "{info}");

    // Another member leaves from the page (after confirming).
    b.goto(&l.login_url()).await;
    b.goto(&format!("{}/c/{c}", l.url)).await;
    b.wait_for("#leave", None).await;
    b.js(
        "window.confirm = function () { return true; }; return true;",
        json!([]),
    )
    .await;
    b.click("#leave button[type=submit]").await;
    b.wait_for("#outsider-notice", None).await;
    assert!(b.find("#composer").await.is_none());
    assert!(
        b.find("#leave").await.is_none(),
        "nothing to leave any more"
    );
    let cid: qun_crdt::CommunityId = c.parse().unwrap();
    let gone: qun_identity::MemberId =
        l.api(Method::GET, "/api/v1/status", json!(null)).await["member"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
    wait_until(
        &mut f.node,
        "the founder sees the member leave",
        move |h| async move {
            h.members(cid)
                .await
                .is_ok_and(|ms| !ms.iter().any(|x| x.member == gone))
        },
    )
    .await;

    // A founder is offered no Leave, and the node refuses it.
    f.auth.renew_login_code();
    b.goto(&f.login_url()).await;
    b.goto(&format!("{}/c/{c}", f.url)).await;
    b.wait_for("#composer", None).await;
    assert!(b.find("#leave").await.is_none(), "a founder offered Leave");
    let r = fs.form(&format!("/c/{c}/leave"), &[]).send().await.unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    assert!(r.text().await.unwrap().contains("founders cannot leave"));
    b.quit();
    f.stop().await;
    m.stop().await;
    l.stop().await;
}
