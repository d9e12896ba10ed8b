//! What the browser checks before sending, as Chromium checks it: every `pattern` compiles
//! under the `v` flag (a pattern that does not is silently ignored, and the server answers
//! with an error page instead), and a post over the byte limit is refused with the reason
//! while typing, never cut silently (the limit is 16,384 bytes of UTF-8, not characters).

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_checks_what_the_server_checks() {
    let n = WebNode::start(29).await;
    let c = n.create("Limits").await;
    let b = Browser::start().await;
    b.goto(&n.login_url()).await;

    b.goto(&format!("{}/c/{c}/manage", n.url)).await;
    b.wait_for("input[pattern]", None).await;
    let bad = b
        .js(
            "return Array.from(document.querySelectorAll('input[pattern]'))
               .filter(function (i) {
                 try { new RegExp('^(?:' + i.pattern + ')$', 'v'); return false; }
                 catch (e) { return true; }
               })
               .map(function (i) { return i.name + ': ' + i.pattern; });",
            json!([]),
        )
        .await;
    assert_eq!(bad, json!([]), "patterns Chromium ignores");
    // And the pattern refuses what the server refuses.
    let refused = b
        .js(
            "var i = document.querySelector('input[name=name][pattern]');
             i.value = 'Bad Name'; var bad = i.checkValidity();
             i.value = 'good-name'; return [bad, i.checkValidity()];",
            json!([]),
        )
        .await;
    assert_eq!(refused, json!([false, true]));

    // 6,000 CJK characters: 18,000 bytes, over the limit though under 16,384 characters.
    b.goto(&format!("{}/c/{c}", n.url)).await;
    b.wait_for("#composer textarea", None).await;
    let v = b
        .js(
            "var t = document.querySelector('#composer textarea');
             t.value = '字'.repeat(6000);
             t.dispatchEvent(new Event('input', { bubbles: true }));
             return [t.value.length, t.form.checkValidity(), t.validationMessage,
                     document.querySelector('#composer .byte-count').textContent];",
            json!([]),
        )
        .await;
    assert_eq!(v[0], json!(6000), "the text was cut: {v}");
    assert_eq!(v[1], json!(false), "{v}");
    assert!(v[2].as_str().unwrap().contains("18000 bytes"), "{v}");
    assert!(v[3].as_str().unwrap().contains("/ 16384"), "{v}");
    // Under the limit it may be sent.
    let v = b
        .js(
            "var t = document.querySelector('#composer textarea');
             t.value = '字'.repeat(5000);
             t.dispatchEvent(new Event('input', { bubbles: true }));
             return t.form.checkValidity();",
            json!([]),
        )
        .await;
    assert_eq!(v, json!(true));
    b.quit();
    n.stop().await;
}
