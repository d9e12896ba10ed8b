//! The composed libp2p behaviour: one field per protocol, no logic.

use super::codec::{BlobCodec, SyncCodec};
use libp2p::swarm::NetworkBehaviour;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::{
    autonat, connection_limits, dcutr, gossipsub, identify, kad, mdns, memory_connection_limits,
    ping, relay, request_response,
};

/// Everything a qun node speaks.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Connection limits: in total, per peer, pending incoming (see `crate::limits`).
    pub limits: connection_limits::Behaviour,
    /// Incoming connections per remote IP address.
    pub ip_limit: super::ip_limit::Behaviour,
    /// No new connection while the process uses more memory than configured.
    pub memory_limit: Toggle<memory_connection_limits::Behaviour>,
    /// Dissemination of new changes (meshsub 1.1/1.2), one topic per community.
    pub gossipsub: gossipsub::Behaviour,
    /// Catch-up: `/qun/sync/1`.
    pub sync: request_response::Behaviour<SyncCodec>,
    /// Images and attachments: `/qun/blob/1`.
    pub blobs: request_response::Behaviour<BlobCodec>,
    /// Direct messages: `/qun/dm/1` (prekey bundles, delivery, the mailbox).
    pub dm: request_response::Behaviour<SyncCodec>,
    /// Addresses and protocols of peers.
    pub identify: identify::Behaviour,
    /// Liveness.
    pub ping: ping::Behaviour,
    /// Peer routing and community providers.
    pub kad: kad::Behaviour<kad::store::MemoryStore>,
    /// Local network discovery (off in tests).
    pub mdns: Toggle<mdns::tokio::Behaviour>,
    /// Reachability behind NAT through relays.
    pub relay_client: relay::client::Behaviour,
    /// Serving as a relay (bootstrap/relay nodes).
    pub relay: Toggle<relay::Behaviour>,
    /// Hole punching after a relayed connection.
    pub dcutr: dcutr::Behaviour,
    /// Are we reachable from outside?
    pub autonat: autonat::Behaviour,
}
