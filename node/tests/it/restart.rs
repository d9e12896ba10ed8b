//! Durability and catch-up with the real sled store.
//!
//! ```text
//! founder -- alice          alice stops; the founder posts; alice restarts from her store,
//!                           has everything she had, and catches up on what she missed
//! ```

use crate::common::*;
use qun_crdt::{AdmissionPolicy, ChannelId, CommunityId, Edit};
use qun_node::node::NodeConfig;
use qun_node::store::sled::SledStore;

fn note(text: String) -> Edit {
    Edit::Post {
        channel: ChannelId::general(),
        text,
        reply_to: None,
        attachments: vec![],
    }
}

async fn count(n: &TestNode, c: CommunityId) -> usize {
    posts(n.handle(), c).await.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_node_catches_up_on_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("alice-store");
    let mut f = spawn(131).await;
    let c = f
        .handle()
        .create_community("R", "", AdmissionPolicy::Invite)
        .await
        .unwrap();
    listening(&mut f).await;
    let code = f.handle().invite(c, None, None).await.unwrap();

    let mut a = spawn_with(
        NodeConfig::loopback(keys(132)),
        Box::new(SledStore::open(&store_path).unwrap()),
    )
    .await;
    a.handle().join(&code).await.unwrap();
    wait_until(&mut a, "admitted", move |h| async move {
        is_member(&h, c).await
    })
    .await;
    for i in 0..5 {
        a.handle()
            .edit(c, note(format!("alice {i}")))
            .await
            .unwrap();
    }
    wait_until(&mut f, "founder has alice's posts", move |h| async move {
        h.posts(c, general(100)).await.is_ok_and(|p| p.len() == 5)
    })
    .await;
    let founder_addrs = listen_addrs(f.handle()).await;
    a.handle().shutdown().await.unwrap();
    a.running.task.await.unwrap();

    for i in 0..20 {
        f.handle()
            .edit(c, note(format!("while alice was away {i}")))
            .await
            .unwrap();
    }

    // Alice comes back with the same store and dials the founder.
    let cfg = NodeConfig {
        dial: founder_addrs,
        ..NodeConfig::loopback(keys(132))
    };
    let mut a = spawn_with(cfg, Box::new(SledStore::open(&store_path).unwrap())).await;
    assert!(count(&a, c).await >= 5, "alice lost her own posts");
    wait_until(&mut a, "alice caught up", move |h| async move {
        h.posts(c, general(100)).await.is_ok_and(|p| p.len() == 25)
    })
    .await;
    assert!(is_member(a.handle(), c).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sled_store_survives_restart_without_peers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let c;
    {
        let f = spawn_with(
            NodeConfig::loopback(keys(141)),
            Box::new(SledStore::open(&path).unwrap()),
        )
        .await;
        c = f
            .handle()
            .create_community("Solo", "", AdmissionPolicy::Invite)
            .await
            .unwrap();
        for i in 0..30 {
            f.handle().edit(c, note(format!("note {i}"))).await.unwrap();
        }
        f.handle().shutdown().await.unwrap();
        f.running.task.await.unwrap();
    }
    let f = spawn_with(
        NodeConfig::loopback(keys(141)),
        Box::new(SledStore::open(&path).unwrap()),
    )
    .await;
    assert_eq!(count(&f, c).await, 30);
}

#[test]
fn corrupt_store_is_a_clear_error_and_repair_salvages() {
    use qun_node::store::Store;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    {
        let mut s = SledStore::open(&path).unwrap();
        let c = qun_crdt::CommunityId(qun_identity::ContentId::of(b"c"));
        s.put_genesis(&c, b"genesis bytes").unwrap();
    }
    // Damage every file of the database.
    for e in walk(&path) {
        let mut b = std::fs::read(&e).unwrap();
        for x in b.iter_mut() {
            *x ^= 0xA5;
        }
        std::fs::write(&e, b).unwrap();
    }
    match SledStore::open(&path) {
        Err(e @ qun_node::Error::StoreCorrupt { .. }) => assert!(e.hint().contains("qun repair")),
        Ok(s) => {
            // sled may open a damaged log and drop what it cannot read: then reading must
            // not silently pretend the data is fine.
            let n = s.communities().map(|v| v.len()).unwrap_or(0);
            assert_eq!(n, 0, "damaged data read back as valid");
        }
        Err(other) => panic!("unexpected error {other}"),
    }
    let report = qun_node::store::sled::repair(&path).unwrap();
    assert!(
        std::path::Path::new(&report.moved_to).exists(),
        "the damaged store is kept aside"
    );
    SledStore::open(&path).unwrap();
}

/// `recover` (what the driver calls after a failed write) closes and reopens the database in
/// place: it keeps what was written, releases the directory's lock before reopening it (or it
/// would report the store locked by itself), and writes again.
#[test]
fn a_sled_store_reopens_in_place() {
    use qun_node::store::Store;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let (a, b) = (
        qun_crdt::CommunityId(qun_identity::ContentId::of(b"a")),
        qun_crdt::CommunityId(qun_identity::ContentId::of(b"b")),
    );
    {
        let mut s = SledStore::open(&path).unwrap();
        s.put_genesis(&a, b"genesis a").unwrap();
        let secret = s.node_secret();
        for _ in 0..3 {
            s.recover().unwrap();
        }
        assert_eq!(s.node_secret(), secret);
        assert_eq!(s.communities().unwrap(), vec![(a, b"genesis a".to_vec())]);
        s.put_genesis(&b, b"genesis b").unwrap();
        // Still the only holder of the directory.
        assert!(matches!(
            SledStore::open(&path),
            Err(qun_node::Error::Locked(_))
        ));
    }
    let s = SledStore::open(&path).unwrap();
    assert_eq!(s.communities().unwrap().len(), 2);
}

fn walk(p: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(p).unwrap() {
        let e = e.unwrap().path();
        if e.is_dir() {
            out.extend(walk(&e));
        } else {
            out.push(e);
        }
    }
    out
}

/// A node whose configured port is taken listens on a free one instead of failing to start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_port_falls_back_to_a_free_one() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let cfg = NodeConfig {
        listen: vec![format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap()],
        ..NodeConfig::loopback(keys(136))
    };
    let mut n = spawn_with(
        cfg,
        Box::new(qun_node::store::memory::MemoryStore::default()),
    )
    .await;
    let addrs: Vec<String> = listening(&mut n)
        .await
        .iter()
        .map(|a| a.to_string())
        .collect();
    assert!(
        addrs.iter().all(|a| !a.contains(&format!("/tcp/{port}"))),
        "{addrs:?}"
    );
    drop(taken);
}
