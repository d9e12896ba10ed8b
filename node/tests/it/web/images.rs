//! Images the way a member uses them: "Attach image" in the composer on node A, the post read
//! on node B's page, where the image is shown — fetched by B from A over `/qun/blob/1` and
//! verified against its hash. A file over the limit is refused in place, and what the member
//! typed stays.
//!
//! ```text
//! browser -- node A (page) -- node B (page)      an_image_attached_on_one_node_is_shown_on_the_other
//! ```

use super::*;
use std::time::Duration;

/// A PNG of `w`×`h` pixels (a gradient: every pixel differs, so it compresses little).
fn png(w: u32, h: u32) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x * y) % 239) as u8])
    }))
    .write_to(&mut out, image::ImageOutputFormat::Png)
    .unwrap();
    out.into_inner()
}

/// Give a file input a file, as a member choosing it would.
async fn choose_file(b: &Browser, css: &str, path: &std::path::Path) {
    b.wait_for(css, None).await;
    let e = b.find(css).await.expect("the file input");
    b.cmd(
        "POST",
        &format!("/element/{e}/value"),
        json!({ "text": path.to_str().unwrap() }),
    )
    .await;
}

/// The composer's text as the page holds it.
async fn composer_text(b: &Browser) -> String {
    b.js(
        "return document.querySelector('#composer textarea').value;",
        json!([]),
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}

/// Wait until the image `css` is loaded and shown; its width in pixels.
async fn shown(br: &Browser, css: &str) -> u64 {
    br.wait_for(css, None).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let width = br
            .js(
                "var i = document.querySelector(arguments[0]); return i && i.complete ? i.naturalWidth : 0;",
                json!([css]),
            )
            .await
            .as_u64()
            .unwrap_or(0);
        if width > 0 {
            return width;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the image {css} is not shown"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_attached_on_one_node_is_shown_on_the_other() {
    let mut a = WebNode::start(73).await;
    let mut b = WebNode::start(74).await;
    listening(&mut a.node).await;
    let c = a.create("Photo Club").await;
    b.join_through(&mut a, &c).await;

    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("sunset.png");
    let bytes = png(900, 600);
    std::fs::write(&photo, &bytes).unwrap();
    let id = qun_identity::ContentId::of(&bytes);
    let max = a.node.handle().blobs().limits().max_blob_bytes;
    let huge = dir.path().join("huge.png");
    std::fs::write(&huge, vec![7u8; max as usize + 1]).unwrap();

    let br = Browser::start().await;
    br.goto(&a.login_url()).await;
    br.goto(&format!("{}/c/{c}", a.url)).await;
    br.wait_for("#composer .attach:not([hidden])", None).await;

    // Too large: refused in place with the reason, and nothing typed is lost.
    br.type_into("#composer textarea", "Evening at the lake")
        .await;
    choose_file(&br, "#composer .attach-input", &huge).await;
    br.wait_for("#composer .attach-status.error", Some("Not attached"))
        .await;
    br.wait_for(
        "#composer .attach-status",
        Some(&format!("huge.png is {} bytes", max + 1)),
    )
    .await;
    br.wait_for(
        "#composer .attach-status",
        Some(&format!("at most {max} bytes can be attached")),
    )
    .await;
    assert_eq!(composer_text(&br).await, "Evening at the lake");
    br.screenshot("images-01-too-large").await;

    // The photo: uploaded to A, named in the text by its hash.
    choose_file(&br, "#composer .attach-input", &photo).await;
    br.wait_for("#composer .attach-status", Some("Attached sunset.png"))
        .await;
    let text = composer_text(&br).await;
    assert_eq!(text, format!("Evening at the lake\n![sunset](/blob/{id})"));
    assert!(a.node.handle().blobs().contains(&id));
    br.click("#composer button[type=submit]").await;
    let img = format!("#posts img[src='/blob/{id}?thumb=1']");
    // The thumbnail: 480 pixels wide at most.
    assert_eq!(shown(&br, &img).await, 480);
    br.screenshot("images-02-posted-on-a").await;

    // B has the post (its attachment named) but not the image yet.
    let posts = format!("/api/v1/communities/{c}/posts");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let v = b.api(Method::GET, &posts, json!(null)).await;
        if v.to_string().contains("Evening at the lake") {
            assert!(v.to_string().contains(&id.to_string()), "{v}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "B never got the post"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(!b.node.handle().blobs().contains(&id));

    // B's page shows it: B fetched it from A and verified it.
    br.goto(&b.login_url()).await;
    br.goto(&format!("{}/c/{c}", b.url)).await;
    assert_eq!(shown(&br, &img).await, 480);
    br.screenshot("images-03-shown-on-b").await;
    let blobs = b.node.handle().blobs();
    assert_eq!(blobs.get(&id).unwrap().unwrap(), bytes);
    assert_eq!(
        blobs
            .counters
            .fetched
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    // The original, as the link opens it.
    let resp = b
        .http
        .get(format!("{}/blob/{id}", b.url))
        .bearer_auth(b.auth.token())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), bytes.as_slice());

    br.quit();
    a.stop().await;
    b.stop().await;
}
