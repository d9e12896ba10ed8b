//! Backups of a running node, and a restored node that catches up before it writes.
//!
//! ```text
//! founder -- alice     the founder is backed up, posts once more, and stops; restored on a
//!                      "new machine" it refuses its own writes until it has synced with alice
//!                      (who holds the post made after the backup), then writes with the next
//!                      sequence number, and alice accepts it
//! ```

use crate::common::*;
use qun_crdt::AdmissionPolicy;
use qun_node::backup;
use qun_node::config::DataDir;
use qun_node::keystore::{self, Passphrase};
use qun_node::node::NodeConfig;
use qun_node::store::sled::SledStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restored_node_catches_up_before_it_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let old = DataDir::new(tmp.path().join("old")).unwrap();
    keystore::save(&old.keyfile(), &keys(234), &Passphrase::None).unwrap();
    let mut f = spawn_with(
        NodeConfig::loopback(keystore::open(&old.keyfile(), None).unwrap()),
        Box::new(SledStore::open(&old.store()).unwrap()),
    )
    .await;
    let c = create(&mut f, AdmissionPolicy::Open).await;
    f.handle().edit(c, post("before the backup")).await.unwrap();
    let mut a = spawn(235).await;
    join(&f, &mut a, c).await;

    let out = tmp.path().join("backup");
    let m = backup::make(f.handle(), &old.keyfile(), &out)
        .await
        .unwrap();
    assert_eq!(m.format, backup::FORMAT);
    assert!(m.files.iter().any(|x| x.path == "identity.key"));
    assert!(m.files.iter().any(|x| x.path.starts_with("store/")));
    assert!(!m.identity_sealed);
    // The node kept running through the backup, and writes after it.
    f.handle().edit(c, post("after the backup")).await.unwrap();
    sees(&mut a, c, "after the backup").await;
    f.handle().shutdown().await.unwrap();
    f.running.task.await.unwrap();

    // A damaged copy is refused before anything is written.
    let damaged = tmp.path().join("damaged");
    std::fs::create_dir_all(damaged.join("store")).unwrap();
    for x in &m.files {
        std::fs::copy(out.join(&x.path), damaged.join(&x.path)).unwrap();
    }
    std::fs::copy(out.join(backup::MANIFEST), damaged.join(backup::MANIFEST)).unwrap();
    let mut key = std::fs::read(damaged.join("identity.key")).unwrap();
    key[10] ^= 1;
    std::fs::write(damaged.join("identity.key"), key).unwrap();
    let target = DataDir::new(tmp.path().join("never")).unwrap();
    let e = backup::restore(&damaged, &target).unwrap_err();
    assert!(matches!(e, qun_node::Error::BadBackup { .. }), "{e}");
    assert!(e.to_string().contains("identity.key"), "{e}");
    assert!(!target.keyfile().exists());

    // Restore on the "new machine"; a second restore there is refused.
    let new = DataDir::new(tmp.path().join("new")).unwrap();
    backup::restore(&out, &new).unwrap();
    let e = backup::restore(&out, &new).unwrap_err();
    assert!(matches!(e, qun_node::Error::RestoreTarget(_)), "{e}");
    let marker = new.root().join(backup::RESTORED_MARKER);
    assert!(marker.exists());

    // On a new machine the addresses of earlier peers may be stale: forget them here, so that
    // the node meets alice only when the test dials her.
    {
        let db = sled_open(&new.store());
        db.drop_tree("known_peers").unwrap();
        db.flush().unwrap();
    }
    let cfg = NodeConfig {
        restored: Some(marker.clone()),
        ..NodeConfig::loopback(keystore::open(&new.keyfile(), None).unwrap())
    };
    let mut g = spawn_with(cfg, Box::new(SledStore::open(&new.store()).unwrap())).await;
    assert_eq!(posts(g.handle(), c).await.len(), 1, "the backup's state");
    assert!(g.handle().health().await.unwrap().catching_up);
    assert!(g.handle().status().await.unwrap().catching_up);
    let e = g.handle().edit(c, post("too early")).await.unwrap_err();
    assert!(
        matches!(e, qun_node::Error::CatchingUp { communities: 1 }),
        "{e}"
    );
    assert!(e.hint().contains("--i-know-this-is-the-only-copy"));

    // Once connected to alice, it syncs, holds the post made after the backup, and writes.
    for addr in listen_addrs(a.handle()).await {
        let _ = g.handle().dial(addr).await;
    }
    wait_until(&mut g, "caught up with alice", |h| async move {
        h.health().await.is_ok_and(|x| !x.catching_up)
    })
    .await;
    let texts: Vec<String> = posts(g.handle(), c)
        .await
        .into_iter()
        .map(|p| p.text)
        .collect();
    assert!(texts.contains(&"after the backup".to_string()), "{texts:?}");
    assert!(!marker.exists(), "the marker goes once caught up");
    g.handle()
        .edit(c, post("from the restored node"))
        .await
        .unwrap();
    sees(&mut a, c, "from the restored node").await;
    // No sequence number was signed twice: an equivocation would void this device's writes
    // from the reused number on, "after the backup" among them.
    let texts: Vec<String> = posts(a.handle(), c)
        .await
        .into_iter()
        .map(|p| p.text)
        .collect();
    for t in [
        "before the backup",
        "after the backup",
        "from the restored node",
    ] {
        assert!(
            texts.contains(&t.to_string()),
            "alice lost {t:?}: {texts:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_node_without_communities_writes_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let marker = tmp.path().join(backup::RESTORED_MARKER);
    std::fs::write(&marker, b"{}").unwrap();
    let cfg = NodeConfig {
        restored: Some(marker.clone()),
        ..NodeConfig::loopback(keys(236))
    };
    let n = spawn_with(
        cfg,
        Box::new(SledStore::open(&tmp.path().join("store")).unwrap()),
    )
    .await;
    // Nothing to catch up on: no sequence number of this device exists anywhere yet.
    assert!(!n.handle().health().await.unwrap().catching_up);
    assert!(!marker.exists());
    n.handle()
        .create_community("Fresh", "", AdmissionPolicy::Invite)
        .await
        .unwrap();
}

/// Why the hold exists: the same restore, written to at once while a peer holds the device's
/// later changes, signs a sequence number twice, and the peer sees the equivocation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writing_at_once_after_a_restore_equivocates() {
    let tmp = tempfile::tempdir().unwrap();
    let mut f = spawn_with(
        NodeConfig::loopback(keys(238)),
        Box::new(SledStore::open(&tmp.path().join("f")).unwrap()),
    )
    .await;
    let c = create(&mut f, AdmissionPolicy::Open).await;
    let mut a = spawn(239).await;
    join(&f, &mut a, c).await;
    let snap = tmp.path().join("snapshot");
    f.handle().snapshot(snap.clone()).await.unwrap();
    f.handle()
        .edit(c, post("after the snapshot"))
        .await
        .unwrap();
    sees(&mut a, c, "after the snapshot").await;
    f.handle().shutdown().await.unwrap();
    f.running.task.await.unwrap();
    {
        let db = sled_open(&snap);
        db.drop_tree("known_peers").unwrap();
        db.flush().unwrap();
    }
    // What `--i-know-this-is-the-only-copy` does: no hold.
    let g = spawn_with(
        NodeConfig::loopback(keys(238)),
        Box::new(SledStore::open(&snap).unwrap()),
    )
    .await;
    g.handle().edit(c, post("written at once")).await.unwrap();
    for addr in listen_addrs(a.handle()).await {
        let _ = g.handle().dial(addr).await;
    }
    wait_for(&mut a.events, "alice sees the equivocation", |e| {
        matches!(e, qun_node::dto::NodeEvent::Rejected { error, .. } if error.contains("equivocated"))
    })
    .await;
}
