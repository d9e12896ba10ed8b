//! An in-memory store for tests and simulations of the driver.

use super::{Store, StoredChange};
use crate::error::Result;
use qun_crdt::replicate::wire::WireChange;
use qun_crdt::{CommunityId, DocId, Hash};
use std::collections::BTreeMap;

/// Keeps everything in maps; "durable" for the life of the process.
#[derive(Default, Debug)]
pub struct MemoryStore {
    genesis: BTreeMap<CommunityId, Vec<u8>>,
    changes: BTreeMap<CommunityId, Vec<StoredChange>>,
    joining: BTreeMap<CommunityId, Option<Vec<u8>>>,
    peers: BTreeMap<String, Vec<String>>,
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

    fn put_peer(&mut self, peer: &str, addrs: &[String]) -> Result<()> {
        self.peers.insert(peer.to_string(), addrs.to_vec());
        Ok(())
    }

    fn peers(&self) -> Result<Vec<(String, Vec<String>)>> {
        Ok(self
            .peers
            .iter()
            .map(|(p, a)| (p.clone(), a.clone()))
            .collect())
    }
}
