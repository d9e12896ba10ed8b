//! The store model: what each node has persisted, kept across restarts. Every change of
//! the run is interned once in a [`ChangeTable`]; a node's store is, per community, a
//! flag for the genesis and a list of indices into that table, so a thousand stores of
//! the same history cost little. `bootstrap.rs` restores replicas from it.

use qun_crdt::replicate::wire::WireChange;
use qun_crdt::{DocId, Hash, Persist};

use super::{ChangeTable, ReplicatorApp, StoredChange, SyncFrame};
use crate::ctx::Core;
use crate::{MsgIx, NodeIx};

impl ChangeTable {
    /// The index of a change, added on first sight.
    pub(super) fn intern(&mut self, hash: Hash, doc: DocId, change: WireChange) -> u32 {
        if let Some(&i) = self.index.get(&hash) {
            return i;
        }
        let i = self.entries.len() as u32;
        self.entries.push(StoredChange {
            doc,
            change,
            msg: None,
        });
        self.index.insert(hash, i);
        i
    }

    /// The gossip message that published a change, if it was published during the run.
    pub(super) fn msg_of(&self, hash: &Hash) -> Option<MsgIx> {
        self.index
            .get(hash)
            .and_then(|&i| self.entries[i as usize].msg)
    }

    /// Records that the change `hash` (made locally) went out as gossip message `msg`.
    pub(super) fn published(&mut self, hash: &Hash, msg: Option<MsgIx>) {
        if let (Some(&i), Some(msg)) = (self.index.get(hash), msg) {
            self.entries[i as usize].msg = Some(msg);
        }
    }

    /// The changes a store holds, in the order they were persisted (what `restore` takes).
    pub(super) fn stored(&self, changes: &[u32]) -> Vec<(DocId, WireChange)> {
        changes
            .iter()
            .map(|&i| {
                let e = &self.entries[i as usize];
                (e.doc.clone(), e.change.clone())
            })
            .collect()
    }
}

impl ReplicatorApp {
    /// `Output::Persist`: the genesis or the changes go into `node`'s store; bytes counted.
    pub(super) fn persist<C>(&mut self, core: &Core<C, SyncFrame>, node: NodeIx, p: Persist) {
        let (community, genesis) = match &p {
            Persist::Genesis { community, bytes } => {
                self.stats.persist_bytes += bytes.len() as u64;
                (*community, true)
            }
            Persist::Changes { community, .. } => (*community, false),
        };
        let Some(t) = self.topic(&community) else {
            return;
        };
        let Some(s) = Self::slot_ix(core, node, t) else {
            return;
        };
        if genesis {
            self.nodes[node as usize].slots[s].genesis = true;
            return;
        }
        if let Persist::Changes { changes, .. } = p {
            for (doc, hash, wc) in changes {
                self.stats.persist_bytes += (wc.bytes.len() + wc.sig.len()) as u64;
                let i = self.table.intern(hash, doc, wc);
                self.nodes[node as usize].slots[s].changes.push(i);
            }
        }
    }
}
