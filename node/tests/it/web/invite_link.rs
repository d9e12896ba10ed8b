//! An invite link, followed the way an invitee follows it: the inviter copies the link from the
//! invite dialog; the invitee opens it in a browser that is not logged in to their node yet,
//! logs in with the link `qun login` printed, lands on the join page with the code filled in
//! (the code never left the browser: it travels after `#`), and joins with one click.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invite_link_fills_the_join_page_after_login() {
    let mut a = WebNode::start(43).await;
    let mut inv = WebNode::start(44).await;
    listening(&mut a.node).await;
    let c = a.create("Allotment Club").await;
    let b = Browser::start().await;

    // The inviter makes a code and copies the link.
    b.goto(&a.login_url()).await;
    b.goto(&format!("{}/c/{c}/invite", a.url)).await;
    b.click("#make-invite").await;
    b.wait_for("#invite-link", None).await;
    let link = b
        .js(
            "return document.getElementById('invite-link').value;",
            json!([]),
        )
        .await;
    let link = link.as_str().unwrap().to_string();
    let code = link
        .strip_prefix("http://127.0.0.1:7420/join#")
        .unwrap_or_else(|| panic!("a link to the invitee's own node: {link}"))
        .to_string();
    assert!(code.starts_with("qun1"), "{link}");
    b.find("button[data-copy=invite-link]")
        .await
        .expect("a Copy invite link button");

    // The invitee's browser is not logged in to their own node yet.
    b.goto(&format!("{}/join#{code}", inv.url)).await;
    b.wait_for("[data-login-needed]", None).await;
    // They open their login link: the node's home page sends them on to the join page.
    b.goto(&inv.login_url()).await;
    b.wait_for("#join-code", None).await;
    let filled = b
        .js(
            "return [document.getElementById('join-code').value, location.hash];",
            json!([]),
        )
        .await;
    assert_eq!(filled[0], json!(code), "the code is filled in");
    assert_eq!(
        filled[1],
        json!(""),
        "and taken out of the address bar afterwards"
    );
    b.click("form[action='/join'] button[type=submit]").await;
    wait_for(
        &mut inv.node.events,
        "admitted through the link",
        |e| matches!(e, NodeEvent::Membership { status, .. } if status.is_member()),
    )
    .await;
    assert!(
        b.url().await.contains(&format!("/c/{c}")),
        "the join page leads to the community"
    );
    b.goto(&format!("{}/c/{c}", inv.url)).await;
    b.wait_for("#composer", None).await;
    b.quit();
    a.stop().await;
    inv.stop().await;
}
