//! The driver's side of the test-only commands (feature `test-utils`): probes of the swarm's
//! state that no API exposes, and the raw gossip publish of a misbehaving member. See the
//! documented test-utils methods of `crate::handle::NodeHandle`.

use super::command::TestCommand;
use super::driver::Driver;
use crate::error::Error;
use crate::net::topic;
use libp2p::kad::store::RecordStore;
use qun_crdt::replicate::Input;

impl Driver {
    /// One test command, answered after its outputs ran.
    pub(super) fn on_test(&mut self, cmd: TestCommand) {
        match cmd {
            TestCommand::PublishRaw(c, bytes, r) => {
                let res = self
                    .swarm
                    .behaviour_mut()
                    .gossipsub
                    .publish(topic::topic(&c), bytes)
                    .map(|_| ())
                    .map_err(|e| Error::Network(format!("publish: {e}")));
                let _ = r.send(res);
            }
            TestCommand::BlobLie(lie, r) => {
                self.fetches.lie = lie;
                let _ = r.send(());
            }
            TestCommand::DmDevices(m, r) => {
                let _ = r.send(self.dm.devices_of(&m));
            }
            TestCommand::DmMailbox(r) => {
                let _ = r.send(self.dm.mailbox.held());
            }
            TestCommand::MeshPeers(c, r) => {
                let hash = topic::topic(&c).hash();
                let peers = self
                    .swarm
                    .behaviour()
                    .gossipsub
                    .mesh_peers(&hash)
                    .copied()
                    .collect();
                let _ = r.send(peers);
            }
            TestCommand::PeerTopics(peer, r) => {
                let topics = self
                    .swarm
                    .behaviour()
                    .gossipsub
                    .all_peers()
                    .filter(|(p, _)| **p == peer)
                    .flat_map(|(_, ts)| ts.iter().map(|t| t.to_string()).collect::<Vec<_>>())
                    .collect();
                let _ = r.send(topics);
            }
            TestCommand::ProviderRecords(key, r) => {
                let keys = self
                    .swarm
                    .behaviour_mut()
                    .kad
                    .store_mut()
                    .providers(&key)
                    .iter()
                    .map(|p| p.key.to_vec())
                    .collect();
                let _ = r.send(keys);
            }
            TestCommand::AddExternalAddress(a, r) => {
                self.swarm.add_external_address(a);
                let _ = r.send(());
            }
            TestCommand::SyncWith(peer, community, r) => {
                let t = self.now();
                self.repl.handle(t, Input::PeerJoined { peer, community });
                self.execute();
                let _ = r.send(());
            }
        }
    }
}
