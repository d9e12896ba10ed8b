//! Shared test support: in-process nodes on 127.0.0.1, driven through their handles, waiting on
//! events with timeouts.
#![allow(dead_code)]

use qun_crdt::{ChannelId, CommunityId, Edit, PostView};
use qun_identity::SecretIdentity;
use qun_node::dto::{MemberStatus, NodeEvent, PostQuery};
use qun_node::handle::NodeHandle;
use qun_node::node::{NodeConfig, Running, start};
use qun_node::store::Store;
use qun_node::store::memory::MemoryStore;
use std::future::Future;
use std::time::Duration;
use tokio::sync::broadcast;

/// Generous: a loaded 2-core CI machine can be slow, but events normally arrive in < 1 s.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Keys of a test member: root and device from the seed. Seeds are unique across this test
/// binary (its tests run side by side in one process).
pub fn keys(seed: u8) -> qun_identity::keyfile::KeyBundle {
    let root = SecretIdentity::from_seed(&[seed; 32]);
    let device = device_key(seed);
    qun_node::keystore::bundle_for(root, device, qun_identity::Timestamp::now()).unwrap()
}

/// The device key of [`keys`]`(seed)` (the key a test forges changes with).
pub fn device_key(seed: u8) -> SecretIdentity {
    SecretIdentity::from_seed(&[seed.wrapping_add(100); 32])
}

/// A node under test and its event subscription (made at start, so no event is missed).
pub struct TestNode {
    pub running: Running,
    pub events: broadcast::Receiver<NodeEvent>,
}

impl TestNode {
    pub fn handle(&self) -> &NodeHandle {
        &self.running.handle
    }
}

pub async fn spawn(seed: u8) -> TestNode {
    spawn_with(
        NodeConfig::loopback(keys(seed)),
        Box::new(MemoryStore::default()),
    )
    .await
}

pub async fn spawn_with(cfg: NodeConfig, store: Box<dyn Store>) -> TestNode {
    // RUST_LOG=qun_node=debug shows what the nodes do.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let running = start(cfg, store).await.unwrap();
    let events = running.handle.events();
    TestNode { running, events }
}

/// Wait until an event matching `pred` arrives (events before the call may be missed; tests
/// subscribe first, then act, then wait).
pub async fn wait_for(
    rx: &mut broadcast::Receiver<NodeEvent>,
    what: &str,
    pred: impl Fn(&NodeEvent) -> bool,
) -> NodeEvent {
    let r = tokio::time::timeout(TIMEOUT, async {
        loop {
            match rx.recv().await {
                Ok(e) if pred(&e) => return e,
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("event stream closed while waiting for {what}: {e}"),
            }
        }
    })
    .await;
    match r {
        Ok(e) => e,
        Err(_) => panic!("timed out after {TIMEOUT:?} waiting for {what}"),
    }
}

/// Ask `check` of the node's handle (after every event) until it answers true.
pub async fn wait_until<F, Fut>(node: &mut TestNode, what: &str, check: F)
where
    F: Fn(NodeHandle) -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        if check(node.handle().clone()).await {
            return;
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            panic!("timed out after {TIMEOUT:?} waiting for {what}");
        }
        // Wake on the next event, or re-check at least every 2 s (state can change without an
        // event we subscribe to, e.g. a peer's subscription).
        let _ = tokio::time::timeout(left.min(Duration::from_secs(2)), node.events.recv()).await;
    }
}

/// The node's full listen addresses (with `/p2p/<peer id>`), once it listens.
pub async fn listening(node: &mut TestNode) -> Vec<libp2p::Multiaddr> {
    wait_until(node, "a listen address", |h| async move {
        h.status().await.is_ok_and(|s| !s.listen_addrs.is_empty())
    })
    .await;
    listen_addrs(node.handle()).await
}

/// The node's full addresses (listen, external, relayed) as its status shows them.
pub async fn listen_addrs(h: &NodeHandle) -> Vec<libp2p::Multiaddr> {
    h.status()
        .await
        .unwrap()
        .listen_addrs
        .iter()
        .map(|a| a.parse().unwrap())
        .collect()
}

/// A post in `general`.
pub fn post(text: &str) -> Edit {
    Edit::Post {
        channel: ChannelId::general(),
        text: text.into(),
        reply_to: None,
        attachments: vec![],
    }
}

/// The newest `limit` posts of `general`.
pub fn general(limit: usize) -> PostQuery {
    PostQuery {
        channel: ChannelId::general(),
        limit,
        before: None,
        following: false,
    }
}

/// The posts of `general` (empty when the community is not here).
pub async fn posts(h: &NodeHandle, c: CommunityId) -> Vec<PostView> {
    h.posts(c, general(1000)).await.unwrap_or_default()
}

/// Where this node's member stands in `c` (`None`: the community is not here).
pub async fn status_in(h: &NodeHandle, c: CommunityId) -> Option<MemberStatus> {
    let id = c.to_string();
    h.status()
        .await
        .ok()?
        .communities
        .into_iter()
        .find(|s| s.id == id)
        .map(|s| s.status)
}

/// Whether this node's member is a member of `c`.
pub async fn is_member(h: &NodeHandle, c: CommunityId) -> bool {
    status_in(h, c).await.is_some_and(|s| s.is_member())
}

/// Create a community on `f` and wait until `f` listens (so invites carry addresses).
pub async fn create(f: &mut TestNode, policy: qun_crdt::AdmissionPolicy) -> CommunityId {
    let c = f
        .handle()
        .create_community("Test", "", policy)
        .await
        .unwrap();
    listening(f).await;
    c
}

/// `n` joins `c` with an invite code from `f` and waits until admitted.
pub async fn join(f: &TestNode, n: &mut TestNode, c: CommunityId) {
    let code = f.handle().invite(c, None, Some(3_600_000)).await.unwrap();
    n.handle().join(&code).await.unwrap();
    wait_until(
        n,
        "admitted",
        move |h| async move { is_member(&h, c).await },
    )
    .await;
}

/// Wait until `n` shows a post with `text` in `general`.
pub async fn sees(n: &mut TestNode, c: CommunityId, text: &'static str) {
    wait_until(n, text, move |h| async move {
        posts(&h, c).await.iter().any(|p| p.text == text)
    })
    .await;
}

/// Whether `peer` is connected to the node.
pub async fn connected_to(h: &NodeHandle, peer: libp2p::PeerId) -> bool {
    let p = peer.to_string();
    h.peers()
        .await
        .is_ok_and(|ps| ps.iter().any(|x| x.peer_id == p))
}

/// A [`MemoryStore`] whose writes of community data (geneses, changes, joins) fail while its
/// switch is on, as a full or failing disk would.
pub struct FailingStore {
    inner: MemoryStore,
    pub fail: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl FailingStore {
    /// A working store and its switch.
    pub fn new() -> (Self, std::sync::Arc<std::sync::atomic::AtomicBool>) {
        let fail = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        (
            FailingStore {
                inner: MemoryStore::default(),
                fail: fail.clone(),
            },
            fail,
        )
    }

    fn check(&self) -> qun_node::Result<()> {
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(qun_node::Error::StoreWrite(
                "No space left on device".into(),
            ));
        }
        Ok(())
    }
}

impl Store for FailingStore {
    fn put_genesis(&mut self, c: &CommunityId, g: &[u8]) -> qun_node::Result<()> {
        self.check()?;
        self.inner.put_genesis(c, g)
    }
    fn append_changes(
        &mut self,
        c: &CommunityId,
        changes: &[(
            qun_crdt::DocId,
            qun_crdt::Hash,
            qun_crdt::replicate::wire::WireChange,
        )],
    ) -> qun_node::Result<()> {
        self.check()?;
        self.inner.append_changes(c, changes)
    }
    fn communities(&self) -> qun_node::Result<Vec<(CommunityId, Vec<u8>)>> {
        self.inner.communities()
    }
    fn changes(&self, c: &CommunityId) -> qun_node::Result<Vec<qun_node::store::StoredChange>> {
        self.inner.changes(c)
    }
    fn set_joining(
        &mut self,
        c: &CommunityId,
        invitation: Option<Option<&[u8]>>,
    ) -> qun_node::Result<()> {
        self.check()?;
        self.inner.set_joining(c, invitation)
    }
    fn joining(&self) -> qun_node::Result<Vec<(CommunityId, Option<Vec<u8>>)>> {
        self.inner.joining()
    }
    fn put_peer(
        &mut self,
        peer: &str,
        addrs: &[String],
        seen: qun_identity::Timestamp,
    ) -> qun_node::Result<()> {
        self.inner.put_peer(peer, addrs, seen)
    }
    fn peers(&self) -> qun_node::Result<Vec<qun_node::store::KnownPeer>> {
        self.inner.peers()
    }
    fn node_secret(&self) -> [u8; 32] {
        self.inner.node_secret()
    }
    fn recover(&mut self) -> qun_node::Result<()> {
        self.check()
    }
}

/// `sled::open`, waiting (up to 5 s) for the lock of a database dropped a moment ago: sled's
/// background threads release it shortly after the drop returns.
pub fn sled_open(path: &std::path::Path) -> sled::Db {
    let start = std::time::Instant::now();
    loop {
        match sled::open(path) {
            Ok(db) => return db,
            Err(e) if start.elapsed() < std::time::Duration::from_secs(5) => {
                let _ = e;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => panic!("{e}"),
        }
    }
}
