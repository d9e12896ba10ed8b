//! Storage behind a small trait, so another engine can replace sled.
//!
//! What is stored: community geneses, every accepted change with its signature (in the order it
//! was accepted, which is an order it can be re-ingested in), joins in progress, known peer
//! addresses (bounded, see [`PeerBook`]). Every write of community data returns only after it
//! is flushed to disk: the driver runs
//! `Persist` outputs through [`Store::append_changes`] before it acknowledges or forwards the
//! changes (see `qun_crdt::replicate`). On start-up everything is re-verified through the same
//! path as network input, so a tampered store cannot inject anything.

pub mod memory;
pub mod sled;

use crate::error::Result;
use qun_crdt::replicate::wire::WireChange;
use qun_crdt::{CommunityId, DocId, Hash};
use qun_identity::Timestamp;

/// A change as stored.
pub type StoredChange = (DocId, WireChange);

/// Durable node state.
pub trait Store: Send {
    /// Record a community's genesis (durable on return).
    fn put_genesis(&mut self, community: &CommunityId, genesis: &[u8]) -> Result<()>;
    /// Append accepted changes, in order (durable on return).
    fn append_changes(
        &mut self,
        community: &CommunityId,
        changes: &[(DocId, Hash, WireChange)],
    ) -> Result<()>;
    /// Every community: id and genesis bytes.
    fn communities(&self) -> Result<Vec<(CommunityId, Vec<u8>)>>;
    /// Every stored change of a community, in the order appended.
    fn changes(&self, community: &CommunityId) -> Result<Vec<StoredChange>>;
    /// Remember a join in progress (with its invitation), or forget it (`None`).
    fn set_joining(
        &mut self,
        community: &CommunityId,
        invitation: Option<Option<&[u8]>>,
    ) -> Result<()>;
    /// Joins in progress.
    fn joining(&self) -> Result<Vec<(CommunityId, Option<Vec<u8>>)>>;
    /// Remember addresses of a peer (text multiaddrs) seen at `seen`. At most
    /// [`MAX_PEER_ADDRS`] addresses are kept (see [`trim_addrs`]) and at most
    /// [`MAX_KNOWN_PEERS`] peers: the least recently seen one goes first.
    fn put_peer(&mut self, peer: &str, addrs: &[String], seen: Timestamp) -> Result<()>;
    /// Known peers, their addresses and when they were last seen (in no particular order).
    fn peers(&self) -> Result<Vec<KnownPeer>>;
    /// A random secret of this node, made once and kept (orders redials and evictions among
    /// peers seen at the same time, so that no one can choose an order by grinding peer ids).
    fn node_secret(&self) -> [u8; 32];
    /// After a failed write: make the store take writes again if it can (a database whose
    /// write failed may refuse every later one: reopen it) and prove it with a flushed write.
    /// `Err` while it cannot. What was durable before the failure is still there; what failed
    /// may or may not be (the caller rebuilds its state from the store either way).
    fn recover(&mut self) -> Result<()>;
    /// Make everything written so far durable (at shutdown; writes of community data are
    /// flushed already).
    fn flush(&mut self) -> Result<()> {
        Ok(())
    }
    /// Bytes the store takes on disk (`None`: not on disk).
    fn size_bytes(&self) -> Option<u64> {
        None
    }
    /// Write a consistent copy of the whole store to a new store at `dest` (which must not
    /// exist yet). The caller makes sure nothing writes meanwhile (the driver runs it on its
    /// own task, between two events).
    fn snapshot(&mut self, dest: &std::path::Path) -> Result<()> {
        Err(crate::Error::Config(format!(
            "this store cannot be copied to {} (only the on-disk store can)",
            dest.display()
        )))
    }
}

/// A store shared with its other holder (a test or a tool reading what the node wrote): the
/// node writes through the lock, the other holder reads through it.
impl<S: Store> Store for std::sync::Arc<std::sync::Mutex<S>> {
    fn put_genesis(&mut self, community: &CommunityId, genesis: &[u8]) -> Result<()> {
        lock(self)?.put_genesis(community, genesis)
    }
    fn append_changes(
        &mut self,
        community: &CommunityId,
        changes: &[(DocId, Hash, WireChange)],
    ) -> Result<()> {
        lock(self)?.append_changes(community, changes)
    }
    fn communities(&self) -> Result<Vec<(CommunityId, Vec<u8>)>> {
        lock(self)?.communities()
    }
    fn changes(&self, community: &CommunityId) -> Result<Vec<StoredChange>> {
        lock(self)?.changes(community)
    }
    fn set_joining(
        &mut self,
        community: &CommunityId,
        invitation: Option<Option<&[u8]>>,
    ) -> Result<()> {
        lock(self)?.set_joining(community, invitation)
    }
    fn joining(&self) -> Result<Vec<(CommunityId, Option<Vec<u8>>)>> {
        lock(self)?.joining()
    }
    fn put_peer(&mut self, peer: &str, addrs: &[String], seen: Timestamp) -> Result<()> {
        lock(self)?.put_peer(peer, addrs, seen)
    }
    fn peers(&self) -> Result<Vec<KnownPeer>> {
        lock(self)?.peers()
    }
    fn flush(&mut self) -> Result<()> {
        lock(self)?.flush()
    }
    fn size_bytes(&self) -> Option<u64> {
        self.lock().ok()?.size_bytes()
    }
    fn snapshot(&mut self, dest: &std::path::Path) -> Result<()> {
        lock(self)?.snapshot(dest)
    }
    fn node_secret(&self) -> [u8; 32] {
        // A poisoned lock still holds the secret, which never changes.
        match self.lock() {
            Ok(s) => s.node_secret(),
            Err(p) => p.into_inner().node_secret(),
        }
    }
    fn recover(&mut self) -> Result<()> {
        lock(self)?.recover()
    }
}

/// The shared store, or a store error when another holder panicked while writing it.
fn lock<S>(s: &std::sync::Mutex<S>) -> Result<std::sync::MutexGuard<'_, S>> {
    s.lock()
        .map_err(|_| crate::Error::StoreWrite("the shared store's lock is poisoned".into()))
}

/// Most peers the store remembers.
pub const MAX_KNOWN_PEERS: usize = 1024;
/// Most addresses kept per peer.
pub const MAX_PEER_ADDRS: usize = 8;
/// Longest address kept (characters of its text form).
pub const MAX_ADDR_LEN: usize = 256;

/// A peer met before.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KnownPeer {
    /// Its peer id (text).
    pub peer: String,
    /// Addresses it announced (text multiaddrs).
    pub addrs: Vec<String>,
    /// When we last heard from it (identify).
    pub last_seen: Timestamp,
}

/// The addresses worth keeping of what a peer announced: no overlong ones, no duplicates, at
/// most [`MAX_PEER_ADDRS`] (the first ones, in its order).
pub fn trim_addrs(addrs: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for a in addrs {
        if out.len() == MAX_PEER_ADDRS {
            break;
        }
        if a.len() <= MAX_ADDR_LEN && !out.contains(a) {
            out.push(a.clone());
        }
    }
    out
}

/// A tie-breaker between peers seen at the same time that only this node can compute.
pub fn keyed_rank(secret: &[u8; 32], peer: &str) -> [u8; 32] {
    *blake3::keyed_hash(secret, peer.as_bytes()).as_bytes()
}

/// Which peers a bounded store keeps: an index by (last seen, keyed hash of the id), so the
/// least recently seen peer is evicted first, and among peers seen at the same time the order
/// is the node's secret (grinding ids that sort first or last gains nothing).
#[derive(Debug)]
pub struct PeerBook {
    secret: [u8; 32],
    seen: std::collections::HashMap<String, u64>,
    order: std::collections::BTreeSet<(u64, [u8; 32], String)>,
}

impl PeerBook {
    /// An empty book with this node's secret.
    pub fn new(secret: [u8; 32]) -> Self {
        PeerBook {
            secret,
            seen: Default::default(),
            order: Default::default(),
        }
    }

    /// The node's secret.
    pub fn secret(&self) -> [u8; 32] {
        self.secret
    }

    /// Peers in the book.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether `peer` is in the book.
    pub fn contains(&self, peer: &str) -> bool {
        self.seen.contains_key(peer)
    }

    /// Whether the book is empty.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Record that `peer` was seen at `seen` (a later time only moves it forward); returns the
    /// peers to forget so that at most [`MAX_KNOWN_PEERS`] remain (possibly `peer` itself,
    /// when it is older than everything kept).
    pub fn touch(&mut self, peer: &str, seen: Timestamp) -> Vec<String> {
        let rank = keyed_rank(&self.secret, peer);
        let mut at = seen.as_millis();
        if let Some(old) = self.seen.get(peer).copied() {
            self.order.remove(&(old, rank, peer.to_string()));
            at = at.max(old);
        }
        self.seen.insert(peer.to_string(), at);
        self.order.insert((at, rank, peer.to_string()));
        let mut evicted = Vec::new();
        while self.seen.len() > MAX_KNOWN_PEERS {
            let Some((_, _, p)) = self.order.pop_first() else {
                break;
            };
            self.seen.remove(&p);
            evicted.push(p);
        }
        evicted
    }
}

/// The order in which to redial known peers at start: most recently seen first; peers seen at
/// the same time in the order of [`keyed_rank`] under the node's secret. A peer's id decides
/// nothing an attacker could choose.
pub fn redial_order(mut known: Vec<KnownPeer>, secret: &[u8; 32]) -> Vec<KnownPeer> {
    known.sort_by_cached_key(|k| {
        (
            std::cmp::Reverse(k.last_seen.as_millis()),
            keyed_rank(secret, &k.peer),
        )
    });
    known
}
