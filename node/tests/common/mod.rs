//! Shared test support: in-process nodes on 127.0.0.1, waiting on events with timeouts.
#![allow(dead_code)]

use qun_identity::SecretIdentity;
use qun_node::handle::{NodeEvent, NodeHandle};
use qun_node::node::{NodeConfig, Running, start};
use qun_node::store::Store;
use qun_node::store::memory::MemoryStore;
use std::time::Duration;
use tokio::sync::broadcast;

/// Generous: a loaded 2-core CI machine can be slow, but events normally arrive in < 1 s.
pub const TIMEOUT: Duration = Duration::from_secs(60);

pub fn keys(seed: u8) -> qun_identity::keyfile::KeyBundle {
    let root = SecretIdentity::from_seed(&[seed; 32]);
    let device = SecretIdentity::from_seed(&[seed.wrapping_add(100); 32]);
    qun_node::keystore::bundle_for(root, device, qun_identity::Timestamp::now()).unwrap()
}

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

/// Poll `check` on the node (after every event) until it returns true.
pub async fn wait_until<F>(node: &mut TestNode, what: &str, check: F)
where
    F: Fn(&mut qun_node::driver::Driver) -> bool + Send + Sync + Clone + 'static,
{
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let c = check.clone();
        if node.handle().with(move |d| c(d)).await.unwrap() {
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

/// A post in `general`.
pub fn post(text: &str) -> qun_crdt::Edit {
    qun_crdt::Edit::Post {
        channel: qun_crdt::ChannelId::general(),
        text: text.into(),
        reply_to: None,
        attachments: vec![],
    }
}

/// Create a community on `f` and wait until `f` listens (so invites carry addresses).
pub async fn create(f: &mut TestNode, policy: qun_crdt::AdmissionPolicy) -> qun_crdt::CommunityId {
    let c = f
        .handle()
        .with(move |d| d.create_community("Test", "", policy))
        .await
        .unwrap()
        .unwrap();
    wait_until(f, "listening", |d| d.swarm.listeners().count() > 0).await;
    c
}

/// `n` joins `c` with an invite code from `f` and waits until admitted.
pub async fn join(f: &TestNode, n: &mut TestNode, c: qun_crdt::CommunityId) {
    let code = f
        .handle()
        .with(move |d| d.invite(&c, None, Some(3_600_000)))
        .await
        .unwrap()
        .unwrap();
    n.handle()
        .with(move |d| d.join(&code))
        .await
        .unwrap()
        .unwrap();
    wait_until(n, "admitted", move |d| {
        d.summary(&c)
            .is_some_and(|s| s.status.starts_with("member"))
    })
    .await;
}

/// Wait until `n` shows a post with `text` in `general`.
pub async fn sees(n: &mut TestNode, c: qun_crdt::CommunityId, text: &'static str) {
    wait_until(n, text, move |d| {
        d.posts(&c, &qun_crdt::ChannelId::general(), 1000, None)
            .map(|p| p.iter().any(|p| p.text == text))
            .unwrap_or(false)
    })
    .await;
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
    fn put_genesis(&mut self, c: &qun_crdt::CommunityId, g: &[u8]) -> qun_node::Result<()> {
        self.check()?;
        self.inner.put_genesis(c, g)
    }
    fn append_changes(
        &mut self,
        c: &qun_crdt::CommunityId,
        changes: &[(
            qun_crdt::DocId,
            qun_crdt::Hash,
            qun_crdt::replicate::wire::WireChange,
        )],
    ) -> qun_node::Result<()> {
        self.check()?;
        self.inner.append_changes(c, changes)
    }
    fn communities(&self) -> qun_node::Result<Vec<(qun_crdt::CommunityId, Vec<u8>)>> {
        self.inner.communities()
    }
    fn changes(
        &self,
        c: &qun_crdt::CommunityId,
    ) -> qun_node::Result<Vec<qun_node::store::StoredChange>> {
        self.inner.changes(c)
    }
    fn set_joining(
        &mut self,
        c: &qun_crdt::CommunityId,
        invitation: Option<Option<&[u8]>>,
    ) -> qun_node::Result<()> {
        self.check()?;
        self.inner.set_joining(c, invitation)
    }
    fn joining(&self) -> qun_node::Result<Vec<(qun_crdt::CommunityId, Option<Vec<u8>>)>> {
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
}
