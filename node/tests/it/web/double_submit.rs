//! Sending a form once however often it is clicked, and Back after posting: three quick
//! clicks on Post make one post; Back to the page shows an empty composer, and what is typed
//! into it then is a new post (the restored form got a new key). Against a node on loopback
//! that answers in a few milliseconds Chromium rarely sends the extra clicks at all, so the
//! server side of "once" (the form's `nonce`, sent concurrently) is checked over HTTP in
//! `api::idempotency`; the Back half fails without the page's fix. After an error page, Back
//! finds what was typed.

use super::*;

async fn post_texts(n: &WebNode, c: &str) -> Vec<String> {
    let v = n
        .api(
            Method::GET,
            &format!("/api/v1/communities/{c}/posts"),
            json!(null),
        )
        .await;
    v.as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p["text"].as_str().map(String::from))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_quick_clicks_make_one_post_and_back_starts_empty() {
    let n = WebNode::start(28).await;
    let c = n.create("Clicky").await;
    let b = Browser::start().await;
    b.goto(&n.login_url()).await;
    b.goto(&format!("{}/c/{c}/about", n.url)).await;
    b.goto(&format!("{}/c/{c}", n.url)).await;
    b.wait_for("#composer", None).await;

    // Three clicks 2 ms apart (faster than the node answers), as an impatient member makes them.
    b.type_into("#composer textarea", "Only once, please").await;
    b.js(
        "var btn = document.querySelector('#composer button[type=submit]');
         btn.click();
         setTimeout(function () { btn.click(); }, 2);
         setTimeout(function () { btn.click(); }, 4);
         return true;",
        json!([]),
    )
    .await;
    b.wait_for("#posts .post-text", Some("Only once, please"))
        .await;
    // A further post, typed after the page came back, is a barrier: every earlier request has
    // been answered by the time it shows.
    b.wait_for("#composer textarea", None).await;
    b.type_into("#composer textarea", "Barrier").await;
    b.click("#composer button[type=submit]").await;
    b.wait_for("#posts .post-text", Some("Barrier")).await;
    let texts = post_texts(&n, &c).await;
    assert_eq!(
        texts.iter().filter(|t| *t == "Only once, please").count(),
        1,
        "{texts:?}"
    );

    // Back after posting: the composer is empty and works; what is typed there is posted.
    b.js("history.back(); return true;", json!([])).await;
    b.wait_for("#composer", None).await;
    let left = b
        .js(
            "return document.querySelector('#composer textarea').value;",
            json!([]),
        )
        .await;
    assert_eq!(left, json!(""), "Back restored the sent text");
    b.type_into("#composer textarea", "After going back").await;
    b.click("#composer button[type=submit]").await;
    b.wait_for("#posts .post-text", Some("After going back"))
        .await;
    let texts = post_texts(&n, &c).await;
    assert!(texts.iter().any(|t| t == "After going back"), "{texts:?}");
    b.screenshot("double-submit").await;

    // A post the node refuses (over the limit, with the browser's own check taken away):
    // the error page, then Back finds what was typed, not an empty composer.
    b.goto(&format!("{}/c/{c}", n.url)).await;
    b.wait_for("#composer textarea", None).await;
    let typed = b
        .js(
            "var t = document.querySelector('#composer textarea');
             t.removeAttribute('data-max-bytes'); t.removeAttribute('required');
             t.value = 'My long draft ' + 'x'.repeat(17000);
             t.setCustomValidity('');
             return t.value;",
            json!([]),
        )
        .await;
    b.click("#composer button[type=submit]").await;
    b.wait_for(".error-card", None).await;
    b.js("history.back(); return true;", json!([])).await;
    b.wait_for("#composer textarea", None).await;
    let kept = b
        .js(
            "return document.querySelector('#composer textarea').value;",
            json!([]),
        )
        .await;
    assert_eq!(kept, typed, "what was typed was lost after an error");
    b.quit();
    n.stop().await;
}
