//! Blobs between real nodes on loopback: a node fetches a blob from a peer that shares a
//! community with it, and keeps it only if the bytes hash to the id asked for. A peer that
//! lies (other bytes, a size over the limit) is counted, never asked for that blob again, and
//! nothing it sent is stored; an honest peer that has the blob still gives it.
//!
//! ```text
//! liar (founder, lies about its blobs) -- reader -- honest (member, has the same blob)
//! ```
//!
//! And over HTTP: uploads over the limit are refused before they are read, with an error
//! that says so; files are served with the type their bytes show (never SVG inline); a post's
//! images become its attachments; `POST /api/v1/blobs/gc` removes only unreferenced blobs.

use crate::api::support::ApiNode;
use crate::common::*;
use qun_crdt::AdmissionPolicy;
use qun_identity::ContentId;
use qun_node::blobs::{BlobLie, BlobLimits, BlobSettings};
use qun_node::dto::NodeEvent;
use qun_node::node::NodeConfig;
use qun_node::store::memory::MemoryStore;
use std::sync::atomic::Ordering;

/// A node keeping its blobs in `dir`.
async fn spawn_on_disk(seed: u8, dir: &std::path::Path, limits: BlobLimits) -> TestNode {
    spawn_with(
        NodeConfig {
            blobs: BlobSettings {
                dir: Some(dir.to_path_buf()),
                limits,
            },
            ..NodeConfig::loopback(keys(seed))
        },
        Box::new(MemoryStore::default()),
    )
    .await
}

/// Wait until `n` sees `peer` on the community's topic (so it may ask it for blobs).
async fn shares(n: &mut TestNode, c: qun_crdt::CommunityId, peer: libp2p::PeerId) {
    wait_until(
        n,
        "the peer on the community's topic",
        move |h| async move {
            h.peer_topics(peer).await.is_ok_and(|t| !t.is_empty()) && is_member(&h, c).await
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_sending_corrupted_bytes_is_refused_and_not_asked_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut liar = spawn(70).await;
    let mut reader = spawn_on_disk(71, dir.path(), BlobLimits::default()).await;
    let c = create(&mut liar, AdmissionPolicy::Open).await;
    join(&liar, &mut reader, c).await;
    let liar_id = liar.handle().peer_id();
    shares(&mut reader, c, liar_id).await;

    let photo = b"\x89PNG\r\n\x1a\n a photo of the lake".to_vec();
    let id = liar.handle().blobs().put(&photo).unwrap();

    // Other bytes than the id names: refused, nothing stored, the liar counted and reported.
    liar.handle()
        .blob_lie(Some(BlobLie::FlipByte))
        .await
        .unwrap();
    let err = reader.handle().fetch_blob(id).await.unwrap_err();
    assert!(
        matches!(err, qun_node::Error::BlobUnavailable { .. }),
        "{err}"
    );
    wait_for(&mut reader.events, "the liar reported", |e| {
        matches!(e, NodeEvent::Rejected { peer, error, .. }
            if *peer == liar_id.to_string() && error.contains("hash to"))
    })
    .await;
    let blobs = reader.handle().blobs().clone();
    assert!(!blobs.contains(&id));
    assert!(blobs.list().unwrap().is_empty());
    assert_eq!(blobs.used(), 0);
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0,
        "no partial file left"
    );
    assert_eq!(blobs.counters.corrupt.load(Ordering::Relaxed), 1);
    let liar_blobs = liar.handle().blobs().clone();
    let served = &liar_blobs.counters.served;
    assert_eq!(served.load(Ordering::Relaxed), 1);

    // Asked again, the liar is not asked for that blob.
    let err = reader.handle().fetch_blob(id).await.unwrap_err();
    assert!(err.to_string().contains("sent bad bytes"), "{err}");
    assert_eq!(served.load(Ordering::Relaxed), 1);

    // A size over the limit (declared in a few bytes): refused before it is read.
    let other = liar.handle().blobs().put(b"another picture").unwrap();
    liar.handle()
        .blob_lie(Some(BlobLie::HugeSize))
        .await
        .unwrap();
    assert!(reader.handle().fetch_blob(other).await.is_err());
    assert!(!reader.handle().blobs().contains(&other));
    assert_eq!(blobs.counters.corrupt.load(Ordering::Relaxed), 2);
    let served_before = served.load(Ordering::Relaxed);
    assert_eq!(served_before, 2);

    // An honest member holding the same photo gives it; the bytes are the photo's.
    let mut honest = spawn(72).await;
    join(&liar, &mut honest, c).await;
    honest.handle().blobs().put(&photo).unwrap();
    let honest_id = honest.handle().peer_id();
    reader
        .handle()
        .dial(listening(&mut honest).await[0].clone())
        .await
        .unwrap();
    shares(&mut reader, c, honest_id).await;
    reader.handle().fetch_blob(id).await.unwrap();
    assert_eq!(reader.handle().blob(id).await.unwrap(), photo);
    assert_eq!(
        served.load(Ordering::Relaxed),
        served_before,
        "the liar was not asked"
    );
    assert_eq!(blobs.counters.fetched.load(Ordering::Relaxed), 1);
    // On disk, under its hash, whole.
    let hex = data_encoding::HEXLOWER.encode(id.as_bytes());
    assert_eq!(
        std::fs::read(dir.path().join(&hex[..2]).join(&hex)).unwrap(),
        photo
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_is_served_only_to_peers_sharing_a_community() {
    let mut a = spawn(75).await;
    let mut b = spawn(76).await;
    let c = create(&mut a, AdmissionPolicy::Open).await;
    // b is connected to a but holds no community: it has nobody to ask.
    b.handle()
        .dial(listening(&mut a).await[0].clone())
        .await
        .unwrap();
    let id = a.handle().blobs().put(b"members only").unwrap();
    wait_until(&mut b, "connected", |h| async move {
        h.peers().await.is_ok_and(|p| !p.is_empty())
    })
    .await;
    let err = b.handle().fetch_blob(id).await.unwrap_err();
    assert!(err.to_string().contains("shares a community"), "{err}");
    assert_eq!(
        a.handle().blobs().counters.served.load(Ordering::Relaxed),
        0
    );
    // Once it is a member, it is served.
    join(&a, &mut b, c).await;
    let a_id = a.handle().peer_id();
    shares(&mut b, c, a_id).await;
    assert_eq!(b.handle().blob(id).await.unwrap(), b"members only");
}

/// A PNG of `w`×`h` pixels.
fn png(w: u32, h: u32) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 9])
    }))
    .write_to(&mut out, image::ImageOutputFormat::Png)
    .unwrap();
    out.into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_limited_typed_by_their_bytes_and_collected_when_unreferenced() {
    let n = ApiNode::start(77).await;
    let upload = |body: Vec<u8>| {
        n.http
            .post(format!("{}/api/v1/blobs", n.url))
            .bearer_auth(n.auth.token())
            .body(body)
            .send()
    };

    // Over the limit: 413 with the reason, before the body is read.
    let max = n.node.handle().blobs().limits().max_blob_bytes;
    let r = upload(vec![0u8; max as usize + 1]).await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::PAYLOAD_TOO_LARGE);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        v["error"],
        format!(
            "the file is {} bytes; this node takes files of at most {max} bytes",
            max + 1
        ),
        "{v}"
    );
    assert!(v["hint"].as_str().unwrap().contains("smaller"), "{v}");
    assert!(n.node.handle().blobs().list().unwrap().is_empty());

    // A PNG: served inline as an image, with a thumbnail.
    let picture = png(1000, 500);
    let v: serde_json::Value = upload(picture.clone()).await.unwrap().json().await.unwrap();
    let id: ContentId = v["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(id, ContentId::of(&picture));
    assert_eq!(v["type"], "image/png");
    assert_eq!(v["inline"], true);
    let get = |path: String| {
        n.http
            .get(format!("{}{path}", n.url))
            .bearer_auth(n.auth.token())
            .send()
    };
    let r = get(format!("/blob/{id}")).await.unwrap();
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.bytes().await.unwrap().as_ref(), picture.as_slice());
    let thumb = get(format!("/blob/{id}?thumb=1"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let t = image::load_from_memory(&thumb).unwrap();
    assert_eq!((t.width(), t.height()), (480, 240));

    // An SVG is never shown inline: a download, whatever it claims.
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec();
    let v: serde_json::Value = upload(svg.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(v["inline"], false);
    let r = get(v["url"].as_str().unwrap().to_string()).await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );

    // A post naming the picture has it as an attachment; garbage collection keeps it and
    // removes the SVG (no post names it) once the grace period is over.
    let c = n
        .node
        .handle()
        .create_community("Photos", "", AdmissionPolicy::Open)
        .await
        .unwrap();
    let done: serde_json::Value = n
        .http
        .post(format!("{}/api/v1/communities/{c}/posts", n.url))
        .bearer_auth(n.auth.token())
        .json(&serde_json::json!({ "text": format!("Look ![a cat](/blob/{id})") }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(done["hash"].is_string(), "{done}");
    let p = posts(n.node.handle(), c).await;
    assert_eq!(p[0].attachments, vec![id]);
    assert_eq!(
        n.node.handle().blob_refs().await.unwrap(),
        [id].into_iter().collect()
    );
    // An avatar: named by the profile, shown on the profile page, kept too.
    let face = png(64, 64);
    let v: serde_json::Value = upload(face.clone()).await.unwrap().json().await.unwrap();
    let face_id = v["id"].as_str().unwrap().to_string();
    let r = n
        .http
        .put(format!("{}/api/v1/communities/{c}/profile", n.url))
        .bearer_auth(n.auth.token())
        .json(&serde_json::json!({ "name": "Ada", "avatar": face_id }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let me = n.node.handle().member();
    let page = get(format!("/c/{c}/m/{me}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!(
            "id=\"profile-picture\" src=\"/blob/{face_id}?thumb=1\""
        )),
        "{page}"
    );
    assert_eq!(
        n.node.handle().blob_refs().await.unwrap(),
        [id, ContentId::of(&face)].into_iter().collect()
    );
    let gc = |n: &ApiNode| {
        n.http
            .post(format!("{}/api/v1/blobs/gc", n.url))
            .bearer_auth(n.auth.token())
            .json(&serde_json::json!({}))
            .send()
    };
    // Within the grace period (a day by default) nothing goes.
    let r: serde_json::Value = gc(&n).await.unwrap().json().await.unwrap();
    assert_eq!(r["removed"], 0, "{r}");
    let store = n.node.handle().blobs();
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(2 * 24 * 3600);
    let keep = n.node.handle().blob_refs().await.unwrap();
    let grace = std::time::Duration::from_secs(store.limits().gc_grace_secs);
    let r = store.gc(&keep, grace, later).unwrap();
    assert_eq!((r.removed, r.kept), (1, 2), "{r:?}");
    assert!(store.contains(&id));
    assert!(!store.contains(&ContentId::of(&svg)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetches_over_the_limit_wait_for_a_slot() {
    let mut a = spawn(78).await;
    let mut b = spawn_with(
        NodeConfig {
            blobs: BlobSettings {
                dir: None,
                limits: BlobLimits {
                    max_fetches: 1,
                    ..Default::default()
                },
            },
            ..NodeConfig::loopback(keys(79))
        },
        Box::new(MemoryStore::default()),
    )
    .await;
    let c = create(&mut a, AdmissionPolicy::Open).await;
    join(&a, &mut b, c).await;
    let a_id = a.handle().peer_id();
    shares(&mut b, c, a_id).await;
    // A page showing six images not here yet asks for all of them at once.
    let ids: Vec<ContentId> = (0..6u8)
        .map(|i| a.handle().blobs().put(&[i; 1000]).unwrap())
        .collect();
    let h = b.handle().clone();
    let got = futures::future::join_all(ids.iter().map(|id| h.blob(*id))).await;
    for (i, r) in got.into_iter().enumerate() {
        assert_eq!(r.unwrap(), vec![i as u8; 1000]);
    }
    assert_eq!(
        b.handle().blobs().counters.fetched.load(Ordering::Relaxed),
        6
    );
}
