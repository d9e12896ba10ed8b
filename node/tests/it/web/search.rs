//! Search the way a member uses it: a post written on another node is found by its words
//! (in the page and the API), with the words marked; a member by name; a deleted post is no
//! longer found; what is typed is never markup.

use super::*;
use std::time::Duration;

async fn find(n: &WebNode, q: &str) -> Value {
    n.api(
        Method::GET,
        &format!("/api/v1/search?q={}", qun_node::http::web::enc(q)),
        json!(null),
    )
    .await
}

fn post_ids(v: &Value) -> Vec<String> {
    v["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["post"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_written_on_another_node_is_found() {
    let mut a = WebNode::start(50).await;
    let mut b = WebNode::start(52).await;
    listening(&mut a.node).await;
    let c = a.create("Seed Library").await;
    b.join_through(&mut a, &c).await;
    b.api(
        Method::PUT,
        &format!("/api/v1/communities/{c}/profile"),
        json!({ "name": "Grace Hopper" }),
    )
    .await;
    let posts = format!("/api/v1/communities/{c}/posts");
    let p = b
        .api(
            Method::POST,
            &posts,
            json!({ "channel": "general", "text": "Heirloom tomato seeds from Sicily, free to a good home" }),
        )
        .await["post"]
        .as_str()
        .unwrap()
        .to_string();
    b.api(
        Method::POST,
        &posts,
        json!({ "channel": "general", "text": "Basil is up already" }),
    )
    .await;

    // A finds it by two of its words, whatever their case, once the index has it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if post_ids(&find(&a, "SICILY tomato").await) == [p.clone()] {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not found: {}",
            find(&a, "sicily tomato").await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let v = find(&a, "sicily tomato").await;
    assert_eq!(v["posts"][0]["author_name"], "Grace Hopper", "{v}");
    assert!(
        !v["posts"][0]["highlights"].as_array().unwrap().is_empty(),
        "{v}"
    );
    // All words must match; a phrase; an excluded word.
    assert!(post_ids(&find(&a, "tomato basil").await).is_empty());
    assert_eq!(
        post_ids(&find(&a, "\"good home\"").await),
        std::slice::from_ref(&p)
    );
    assert!(post_ids(&find(&a, "tomato -sicily").await).is_empty());
    // Broken query syntax is a query, not an error.
    find(&a, "tomato AND (\"unclosed").await;
    // A member by name.
    let m = find(&a, "grace").await;
    assert_eq!(m["members"][0]["name"], "Grace Hopper", "{m}");

    // In the page: the sidebar's search box, the words marked, markup typed shown as text.
    let br = Browser::start().await;
    br.goto(&a.login_url()).await;
    br.type_into(".side-search input[name=q]", "tomato").await;
    br.js(
        "document.querySelector('.side-search').submit(); return true;",
        json!([]),
    )
    .await;
    br.wait_for("#post-results .search-hit mark", Some("tomato"))
        .await;
    br.screenshot("21-search").await;
    br.click("#post-results .search-hit").await;
    br.wait_for("#posts .post-text", Some("Heirloom tomato"))
        .await;
    // Writing a post, `@gr` offers Grace Hopper; picking her completes the name.
    br.goto(&format!("{}/c/{c}", a.url)).await;
    br.type_into("#composer textarea", "thanks @gr").await;
    br.wait_for(".mention-box li", Some("Grace Hopper")).await;
    let v = br
        .js(
            "document.querySelector('.mention-box li').dispatchEvent(new MouseEvent('mousedown', { bubbles: true }));
             return document.querySelector('#composer textarea').value;",
            json!([]),
        )
        .await;
    assert_eq!(v, json!("thanks @Grace Hopper "));
    br.goto(&format!(
        "{}/search?q=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
        a.url
    ))
    .await;
    br.wait_for("#post-results", None).await;
    assert!(br.find("main img").await.is_none(), "a query became markup");

    // B deletes the post: A's index lets go of it.
    b.api(
        Method::POST,
        &format!("/api/v1/communities/{c}/posts/delete"),
        json!({ "post": p }),
    )
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !post_ids(&find(&a, "sicily").await).is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "a deleted post is still found"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    br.quit();
    a.stop().await;
    b.stop().await;
}
