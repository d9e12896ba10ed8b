//! Storage behind a small trait, so another engine can replace sled.
//!
//! What is stored: community geneses, every accepted change with its signature (in the order it
//! was accepted, which is an order it can be re-ingested in), joins in progress, known peer
//! addresses. Every write returns only after the data is flushed to disk: the driver runs
//! `Persist` outputs through [`Store::append_changes`] before it acknowledges or forwards the
//! changes (see `qun_crdt::replicate`). On start-up everything is re-verified through the same
//! path as network input, so a tampered store cannot inject anything.

pub mod memory;
pub mod sled;

use crate::error::Result;
use qun_crdt::replicate::wire::WireChange;
use qun_crdt::{CommunityId, DocId, Hash};

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
    /// Remember addresses of a peer (text multiaddrs).
    fn put_peer(&mut self, peer: &str, addrs: &[String]) -> Result<()>;
    /// Known peers and their addresses.
    fn peers(&self) -> Result<Vec<(String, Vec<String>)>>;
}
