//! Upgrades: a store written by main before schema versions is migrated in place (a copy of
//! it kept first), a store from a newer qun is refused with the command to run, and a peer
//! speaking another qun protocol version is refused politely instead of misread.
//!
//! ```text
//! node -- old peer      identify says /qun/0.9.0: the node reports it and closes the
//!                       connection; a sync request on /qun/sync/0 is refused by negotiation
//! ```

use crate::common::*;
use futures::StreamExt;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{StreamProtocol, Swarm, SwarmBuilder, identify, noise, tcp, yamux};
use qun_crdt::CommunityId;
use qun_node::config::DataDir;
use qun_node::dto::NodeEvent;
use qun_node::keystore;
use qun_node::net::codec::SyncCodec;
use qun_node::node::NodeConfig;
use qun_node::store::sled::{SCHEMA_VERSION, SledStore};
use std::path::Path;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/store-main-5bb9433"
);
const FIXTURE_COMMUNITY: &str = "b2vojgjllclocdoqhdmxce5swzfgnz75dn545ckikhq5snadx6deq";

fn copy_fixture(to: &Path) {
    std::fs::create_dir_all(to.join("store")).unwrap();
    for f in ["identity.key", "store/conf", "store/db"] {
        std::fs::copy(Path::new(FIXTURE).join(f), to.join(f)).unwrap();
    }
}

fn schema_of(store: &Path) -> Option<u32> {
    let db = sled_open(store);
    let v = db
        .open_tree("meta")
        .unwrap()
        .get("schema-version")
        .unwrap()?;
    Some(u32::from_be_bytes(v.as_ref().try_into().unwrap()))
}

fn backups_of(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("store.v1-backup-"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_written_by_main_is_migrated_after_a_copy() {
    let tmp = tempfile::tempdir().unwrap();
    copy_fixture(tmp.path());
    let dir = DataDir::new(tmp.path()).unwrap();
    assert_eq!(
        schema_of(&dir.store()),
        None,
        "main wrote no schema version"
    );

    let store = SledStore::open(&dir.store()).unwrap();
    let copies = backups_of(tmp.path());
    assert_eq!(copies.len(), 1, "one copy of the old store, made first");
    assert_eq!(
        schema_of(&tmp.path().join(&copies[0])),
        None,
        "the copy is the old store"
    );

    let c: CommunityId = FIXTURE_COMMUNITY.parse().unwrap();
    let keys = keystore::open(&dir.keyfile(), None).unwrap();
    let n = spawn_with(NodeConfig::loopback(keys), Box::new(store)).await;
    let texts: Vec<String> = posts(n.handle(), c)
        .await
        .into_iter()
        .map(|p| p.text)
        .collect();
    assert!(texts.contains(&"written by main".to_string()), "{texts:?}");
    assert!(
        texts.contains(&"second post by main".to_string()),
        "{texts:?}"
    );
    // The founder (keys from the fixture) still writes.
    n.handle()
        .edit(c, post("written after the upgrade"))
        .await
        .unwrap();
    n.handle().shutdown().await.unwrap();
    n.running.task.await.unwrap();

    assert_eq!(schema_of(&dir.store()), Some(SCHEMA_VERSION));
    // Opening a current store again neither migrates nor copies.
    drop(SledStore::open(&dir.store()).unwrap());
    assert_eq!(backups_of(tmp.path()).len(), 1);
}

#[test]
fn a_store_from_a_newer_qun_is_refused_with_the_command_to_run() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("store");
    drop(SledStore::open(&path).unwrap());
    {
        let db = sled_open(&path);
        db.open_tree("meta")
            .unwrap()
            .insert("schema-version", &(SCHEMA_VERSION + 1).to_be_bytes())
            .unwrap();
        db.flush().unwrap();
    }
    let e = SledStore::open(&path).err().expect("refused");
    match &e {
        qun_node::Error::StoreTooNew {
            found, supported, ..
        } => {
            assert_eq!(*found, SCHEMA_VERSION + 1);
            assert_eq!(*supported, SCHEMA_VERSION);
        }
        other => panic!("{other}"),
    }
    assert!(e.to_string().contains("qun restore"), "{e}");
    assert!(!e.hint().is_empty());
    // Nothing was changed or copied.
    assert_eq!(schema_of(&path), Some(SCHEMA_VERSION + 1));
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[derive(NetworkBehaviour)]
struct OldPeer {
    identify: identify::Behaviour,
    sync: request_response::Behaviour<SyncCodec>,
}

/// A libp2p peer announcing `version` in identify and speaking sync as `sync`.
fn old_peer(version: &str, sync: &'static str) -> Swarm<OldPeer> {
    let version = version.to_string();
    SwarmBuilder::with_existing_identity(libp2p::identity::Keypair::generate_ed25519())
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|key| OldPeer {
            identify: identify::Behaviour::new(identify::Config::new(version, key.public())),
            sync: request_response::Behaviour::with_codec(
                SyncCodec { max_bytes: 1 << 16 },
                [(StreamProtocol::new(sync), ProtocolSupport::Full)],
                request_response::Config::default(),
            ),
        })
        .unwrap()
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_of_another_protocol_version_is_refused_politely() {
    let mut n = spawn(237).await;
    let addr = listening(&mut n).await.remove(0);

    // Another major version in identify: reported, and the connection is closed.
    let mut old = old_peer("/qun/0.9.0", "/qun/sync/0");
    let old_id = *old.local_peer_id();
    old.dial(addr.clone()).unwrap();
    let driving = tokio::spawn(async move {
        loop {
            if let SwarmEvent::ConnectionClosed { .. } = old.select_next_some().await {
                return;
            }
        }
    });
    let e = wait_for(
        &mut n.events,
        "the old peer refused",
        |e| matches!(e, NodeEvent::Rejected { peer, .. } if *peer == old_id.to_string()),
    )
    .await;
    let NodeEvent::Rejected { error, .. } = e else {
        unreachable!()
    };
    assert!(error.contains("incompatible qun protocol"), "{error}");
    assert!(error.contains("/qun/0.9.0"), "{error}");
    tokio::time::timeout(TIMEOUT, driving)
        .await
        .expect("the node closes the connection")
        .unwrap();

    // Same major version, unknown sync protocol: refused by negotiation, nothing read.
    let mut other = old_peer("/qun/1.0.0", "/qun/sync/0");
    other.dial(addr).unwrap();
    let failure = tokio::time::timeout(TIMEOUT, async {
        loop {
            match other.select_next_some().await {
                SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                    other
                        .behaviour_mut()
                        .sync
                        .send_request(&peer_id, vec![1, 2, 3]);
                }
                SwarmEvent::Behaviour(OldPeerEvent::Sync(
                    request_response::Event::OutboundFailure { error, .. },
                )) => return error,
                SwarmEvent::Behaviour(OldPeerEvent::Sync(request_response::Event::Message {
                    ..
                })) => panic!("the node answered a protocol it does not speak"),
                _ => {}
            }
        }
    })
    .await
    .expect("the request fails");
    assert!(
        matches!(
            failure,
            request_response::OutboundFailure::UnsupportedProtocols
        ),
        "{failure}"
    );
    assert!(n.handle().status().await.is_ok(), "the node runs on");
}
