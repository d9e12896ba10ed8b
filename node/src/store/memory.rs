//! An in-memory store for tests and simulations of the driver.

use super::{KnownPeer, PeerBook, Store, StoredChange, trim_addrs};
use crate::error::Result;
use qun_crdt::replicate::wire::WireChange;
use qun_crdt::{CommunityId, DocId, Hash};
use qun_identity::Timestamp;
use std::collections::BTreeMap;

/// Keeps everything in maps; "durable" for the life of the process.
#[derive(Debug)]
pub struct MemoryStore {
    genesis: BTreeMap<CommunityId, Vec<u8>>,
    changes: BTreeMap<CommunityId, Vec<StoredChange>>,
    joining: BTreeMap<CommunityId, Option<Vec<u8>>>,
    peers: BTreeMap<String, KnownPeer>,
    book: PeerBook,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore {
            genesis: BTreeMap::new(),
            changes: BTreeMap::new(),
            joining: BTreeMap::new(),
            peers: BTreeMap::new(),
            book: PeerBook::new(rand::random()),
        }
    }
}

impl Store for MemoryStore {
    fn put_genesis(&mut self, community: &CommunityId, genesis: &[u8]) -> Result<()> {
        self.genesis.insert(*community, genesis.to_vec());
        Ok(())
    }

    fn append_changes(
        &mut self,
        community: &CommunityId,
        changes: &[(DocId, Hash, WireChange)],
    ) -> Result<()> {
        self.changes
            .entry(*community)
            .or_default()
            .extend(changes.iter().map(|(d, _, c)| (d.clone(), c.clone())));
        Ok(())
    }

    fn communities(&self) -> Result<Vec<(CommunityId, Vec<u8>)>> {
        Ok(self.genesis.iter().map(|(c, g)| (*c, g.clone())).collect())
    }

    fn changes(&self, community: &CommunityId) -> Result<Vec<StoredChange>> {
        Ok(self.changes.get(community).cloned().unwrap_or_default())
    }

    fn set_joining(
        &mut self,
        community: &CommunityId,
        invitation: Option<Option<&[u8]>>,
    ) -> Result<()> {
        match invitation {
            Some(i) => {
                self.joining.insert(*community, i.map(<[u8]>::to_vec));
            }
            None => {
                self.joining.remove(community);
            }
        }
        Ok(())
    }

    fn joining(&self) -> Result<Vec<(CommunityId, Option<Vec<u8>>)>> {
        Ok(self.joining.iter().map(|(c, i)| (*c, i.clone())).collect())
    }

    fn put_peer(&mut self, peer: &str, addrs: &[String], seen: Timestamp) -> Result<()> {
        for gone in self.book.touch(peer, seen) {
            self.peers.remove(&gone);
        }
        if self.book.contains(peer) {
            let last_seen = self.peers.get(peer).map_or(seen, |k| k.last_seen.max(seen));
            self.peers.insert(
                peer.to_string(),
                KnownPeer {
                    peer: peer.to_string(),
                    addrs: trim_addrs(addrs),
                    last_seen,
                },
            );
        }
        Ok(())
    }

    fn peers(&self) -> Result<Vec<KnownPeer>> {
        Ok(self.peers.values().cloned().collect())
    }

    fn node_secret(&self) -> [u8; 32] {
        self.book.secret()
    }

    fn recover(&mut self) -> Result<()> {
        Ok(())
    }
}
