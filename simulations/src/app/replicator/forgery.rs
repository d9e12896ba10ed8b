//! Forgery: what an attacker publishes (`[attack]` in full mode). A forged change is a
//! real post in the community founder's name, built on a scratch replica of the genesis,
//! whose signature is made with a key no node holds; honest replicas reject it (`Reject`
//! verdict, P₄ for the sender).

use std::sync::Arc;

use qun_crdt::replicate::wire::{self, GossipMsg, WireChange};
use qun_crdt::test_utils::replica;
use qun_crdt::{ChannelId, Edit};
use qun_identity::Timestamp;

use super::workload::text;
use super::{ReplicatorApp, SyncFrame, now_ts};
use crate::ctx::Core;
use crate::{NodeIx, TopicIx};

impl ReplicatorApp {
    /// An attacker at `node` publishes a forged change in `topic`.
    pub(super) fn publish_forgery<C>(
        &mut self,
        core: &mut Core<C, SyncFrame>,
        node: NodeIx,
        topic: TopicIx,
    ) {
        let len = self
            .workload
            .message_bytes
            .sample(&mut core.rng)
            .round()
            .clamp(1.0, 4096.0) as usize;
        let text = text(&mut core.rng, len);
        match self.forged_bytes(now_ts(core.now), topic, text) {
            Ok(bytes) => {
                let len = bytes.len() as u32;
                core.publish(node, topic, len, true, Some(Arc::from(bytes)));
            }
            Err(e) => self.stats.reject(&e),
        }
    }

    /// A post in the founder's name, signed by a key that is not the founder's.
    fn forged_bytes(&self, now: Timestamp, t: TopicIx, text: String) -> qun_crdt::Result<Vec<u8>> {
        let info = &self.communities[t as usize];
        let fkey = &self.keys[info.founder as usize];
        let mut scratch = replica(&info.genesis, fkey);
        let lc = scratch.edit(
            fkey,
            now,
            Edit::Post {
                channel: ChannelId::general(),
                text,
                reply_to: None,
                attachments: Vec::new(),
            },
        )?;
        let sig = self.forger.sign_raw(&qun_crdt::signing_message(
            &info.id,
            &lc.accepted.doc,
            &lc.accepted.hash,
        ));
        Ok(wire::encode(&GossipMsg {
            community: info.id,
            doc: lc.accepted.doc,
            changes: vec![WireChange {
                bytes: lc.bytes,
                sig,
            }],
        }))
    }
}
