//! Building the swarm: TCP (noise + yamux) and QUIC, DNS, relay client, and the behaviour with
//! its configuration.
//!
//! Gossipsub runs in `Strict` validation mode (every message signed by its author's libp2p
//! key) with `validate_messages()`: nothing is forwarded before the replication core's verdict.
//! The message id is `blake3(data)` (32 bytes), set explicitly because implementations differ
//! in their defaults; a Go or JS peer must use the same function to interoperate. Peer scoring
//! is on, tuned for quiet topics (no mesh-delivery penalties) with invalid messages (P4)
//! weighing -10 each, squared: a few rejected messages push a peer below the graylist
//! threshold.
//! Each connection's gossipsub send queue holds at most [`GOSSIP_QUEUE_LEN`] messages (a slow
//! peer makes gossipsub drop forwards to it, not grow memory); connection, memory and stream
//! limits come from [`crate::limits`].
//! IDONTWANT (gossipsub v1.2) is sent for messages from [`IDONTWANT_MIN_BYTES`] up, so mesh
//! peers that already hold a post do not get another copy.

use super::behaviour::Behaviour;
use super::codec::{BLOB_PROTOCOL, BlobCodec, DM_PROTOCOL, SYNC_PROTOCOL, SyncCodec};
use crate::error::{Error, Result};
use crate::limits::{LoadLimits, on};
use libp2p::core::{Transport, upgrade};
use libp2p::gossipsub::{self, MessageAuthenticity, MessageId, ValidationMode};
use libp2p::pnet::{PnetConfig, PreSharedKey};
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::{
    StreamProtocol, Swarm, SwarmBuilder, autonat, connection_limits, dcutr, identify, identity,
    kad, mdns, memory_connection_limits, noise, ping, relay, request_response, tcp, yamux,
};
use prometheus_client::registry::Registry;
use std::time::Duration;

/// Kademlia protocol of qun's DHT (kept apart from the IPFS DHT).
pub const KAD_PROTOCOL: StreamProtocol = StreamProtocol::new("/qun/kad/1.0.0");
/// Identify protocol version string.
pub const IDENTIFY_VERSION: &str = "/qun/1.0.0";
/// Gossipsub heartbeat.
pub const HEARTBEAT: Duration = Duration::from_millis(700);
/// Sync request timeout.
pub const SYNC_TIMEOUT: Duration = Duration::from_secs(30);
/// Gossipsub v1.2 IDONTWANT is sent for messages at least this big (libp2p's default is
/// 1000 B, above most qun changes): a 40-byte IDONTWANT to each mesh peer costs less than one
/// duplicate of a ~450-byte post.
pub const IDONTWANT_MIN_BYTES: usize = 128;
/// Messages gossipsub queues for one peer's connection before it drops forwarded ones (its
/// default, 5,000, holds over a gigabyte per slow peer at the largest message size). Own
/// publications and control messages go first; forwards are what a full queue sheds.
pub const GOSSIP_QUEUE_LEN: usize = 512;
/// Weight of one invalid message (P4) in a community topic's score.
pub const INVALID_MESSAGE_WEIGHT: f64 = -10.0;

/// Network settings.
#[derive(Clone, Debug)]
pub struct NetConfig {
    /// Find peers on the LAN.
    pub mdns: bool,
    /// Serve as a relay.
    pub relay: bool,
    /// Idle connection timeout.
    pub idle_timeout: Duration,
    /// Replication limits (gossip and sync message sizes).
    pub limits: qun_crdt::Limits,
    /// Private swarm: only peers holding this pre-shared key can connect (TCP only).
    pub swarm_key: Option<PreSharedKey>,
    /// Connection and stream limits.
    pub load: LoadLimits,
    /// Largest blob (image or attachment) received or sent, bytes.
    pub max_blob_bytes: u64,
}

/// How long a peer may take to send a blob (8 MiB at 1 MiB/s, and some).
pub const BLOB_TIMEOUT: Duration = Duration::from_secs(30);
/// Blob streams open at once per connection, each way.
pub const BLOB_STREAMS: usize = 4;

/// `blake3(data)`: the gossipsub message id of qun messages.
pub fn message_id(m: &gossipsub::Message) -> MessageId {
    MessageId::from(blake3::hash(&m.data).as_bytes().to_vec())
}

/// Score parameters of a community topic.
pub fn topic_score_params() -> gossipsub::TopicScoreParams {
    gossipsub::TopicScoreParams {
        topic_weight: 1.0,
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        invalid_message_deliveries_weight: INVALID_MESSAGE_WEIGHT,
        invalid_message_deliveries_decay: 0.5,
        ..gossipsub::TopicScoreParams::default()
    }
}

/// Request-response streams per connection: the peer's requests in flight
/// (`sync_requests_per_peer`) and as many of ours; libp2p's default (100) when that limit is
/// off.
pub fn sync_streams(load: &LoadLimits) -> usize {
    match on(load.sync_requests_per_peer) {
        Some(n) => (n as usize).saturating_mul(2),
        None => 100,
    }
}

fn net_err(e: impl std::fmt::Display) -> Error {
    Error::Network(e.to_string())
}

/// Build the behaviour (shared by both transport stacks).
fn make_behaviour(
    key: &identity::Keypair,
    relay_client: relay::client::Behaviour,
    cfg: &NetConfig,
    registry: &mut Registry,
) -> std::result::Result<Behaviour, Box<dyn std::error::Error + Send + Sync>> {
    let limits = cfg.limits;
    let peer_id = key.public().to_peer_id();
    let gs_config = gossipsub::ConfigBuilder::default()
        .validation_mode(ValidationMode::Strict)
        .validate_messages()
        .message_id_fn(message_id)
        .max_transmit_size(limits.max_gossip_bytes + 4096)
        .heartbeat_interval(HEARTBEAT)
        .idontwant_message_size_threshold(IDONTWANT_MIN_BYTES)
        .idontwant_on_publish(true)
        .connection_handler_queue_len(GOSSIP_QUEUE_LEN)
        .build()?;
    let mut gossipsub =
        gossipsub::Behaviour::new(MessageAuthenticity::Signed(key.clone()), gs_config)?
            .with_metrics(registry, gossipsub::MetricsConfig::default());
    gossipsub.with_peer_score(
        gossipsub::PeerScoreParams::default(),
        gossipsub::PeerScoreThresholds::default(),
    )?;
    let sync = request_response::Behaviour::with_codec(
        SyncCodec {
            max_bytes: limits.max_sync_bytes,
        },
        [(SYNC_PROTOCOL, request_response::ProtocolSupport::Full)],
        request_response::Config::default()
            .with_request_timeout(SYNC_TIMEOUT)
            .with_max_concurrent_streams(sync_streams(&cfg.load)),
    );
    let blobs = request_response::Behaviour::with_codec(
        BlobCodec {
            max_response: usize::try_from(cfg.max_blob_bytes)
                .unwrap_or(usize::MAX)
                .saturating_add(crate::blobs::wire::RESPONSE_OVERHEAD),
        },
        [(BLOB_PROTOCOL, request_response::ProtocolSupport::Full)],
        request_response::Config::default()
            .with_request_timeout(BLOB_TIMEOUT)
            .with_max_concurrent_streams(BLOB_STREAMS),
    );
    // At most 4 DM streams each way per connection: a peer asks for bundles, delivers and
    // fetches one at a time.
    let dm = request_response::Behaviour::with_codec(
        SyncCodec {
            max_bytes: crate::runtime::dm::MAX_DM_WIRE_BYTES,
        },
        [(DM_PROTOCOL, request_response::ProtocolSupport::Full)],
        request_response::Config::default()
            .with_request_timeout(SYNC_TIMEOUT)
            .with_max_concurrent_streams(8),
    );
    let identify = identify::Behaviour::new(
        identify::Config::new(IDENTIFY_VERSION.into(), key.public())
            .with_agent_version(format!("qun/{}", env!("CARGO_PKG_VERSION"))),
    );
    let kad = kad::Behaviour::with_config(
        peer_id,
        kad::store::MemoryStore::new(peer_id),
        kad::Config::new(KAD_PROTOCOL),
    );
    let mdns = if cfg.mdns {
        Some(mdns::tokio::Behaviour::new(
            mdns::Config::default(),
            peer_id,
        )?)
    } else {
        None
    };
    let relay = cfg
        .relay
        .then(|| relay::Behaviour::new(peer_id, relay::Config::default()));
    let load = &cfg.load;
    let limits = connection_limits::Behaviour::new(
        connection_limits::ConnectionLimits::default()
            .with_max_established(on(load.max_connections))
            .with_max_established_per_peer(on(load.max_connections_per_peer))
            .with_max_pending_incoming(on(load.max_pending_incoming)),
    );
    let memory_limit = (load.max_memory_mb > 0).then(|| {
        memory_connection_limits::Behaviour::with_max_bytes(
            usize::try_from(load.max_memory_mb.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX),
        )
    });
    Ok(Behaviour {
        limits,
        ip_limit: super::ip_limit::Behaviour::new(on(load.max_connections_per_ip)),
        memory_limit: Toggle::from(memory_limit),
        gossipsub,
        sync,
        blobs,
        dm,
        identify,
        ping: ping::Behaviour::default(),
        kad,
        mdns: Toggle::from(mdns),
        relay_client,
        relay: Toggle::from(relay),
        dcutr: dcutr::Behaviour::new(peer_id),
        autonat: autonat::Behaviour::new(peer_id, autonat::Config::default()),
    })
}

/// Build the swarm for `keypair` (the device key): TCP and QUIC, or — with a swarm key — TCP
/// behind a libp2p pre-shared-key handshake only (pnet does not apply to QUIC).
///
/// Gossipsub records its metrics into the returned registry (see [`gossip_copies`]).
pub fn build(keypair: identity::Keypair, cfg: &NetConfig) -> Result<(Swarm<Behaviour>, Registry)> {
    let idle = cfg.idle_timeout;
    let cfg2 = cfg.clone();
    let mut registry = Registry::default();
    let reg = &mut registry;
    let swarm = match cfg.swarm_key {
        None => SwarmBuilder::with_existing_identity(keypair)
            .with_tokio()
            .with_tcp(
                tcp::Config::default().nodelay(true),
                noise::Config::new,
                yamux::Config::default,
            )
            .map_err(net_err)?
            .with_quic()
            .with_dns()
            .map_err(net_err)?
            .with_relay_client(noise::Config::new, yamux::Config::default)
            .map_err(net_err)?
            .with_behaviour(|key, relay_client| make_behaviour(key, relay_client, &cfg2, reg))
            .map_err(net_err)?
            .with_swarm_config(|c| c.with_idle_connection_timeout(idle))
            .build(),
        Some(psk) => SwarmBuilder::with_existing_identity(keypair)
            .with_tokio()
            .with_other_transport(|key| {
                let noise = noise::Config::new(key)?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(
                    tcp::tokio::Transport::new(tcp::Config::default().nodelay(true))
                        .and_then(move |socket, _| PnetConfig::new(psk).handshake(socket))
                        .upgrade(upgrade::Version::V1Lazy)
                        .authenticate(noise)
                        .multiplex(yamux::Config::default()),
                )
            })
            .map_err(net_err)?
            .with_dns()
            .map_err(net_err)?
            .with_relay_client(noise::Config::new, yamux::Config::default)
            .map_err(net_err)?
            .with_behaviour(|key, relay_client| make_behaviour(key, relay_client, &cfg2, reg))
            .map_err(net_err)?
            .with_swarm_config(|c| c.with_idle_connection_timeout(idle))
            .build(),
    };
    Ok((swarm, registry))
}

/// Gossip messages received on all topics, `(with duplicates, without)`, from gossipsub's own
/// metrics: their ratio is the number of copies of each message this node was sent.
pub fn gossip_copies(registry: &Registry) -> (u64, u64) {
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, registry).is_err() {
        return (0, 0);
    }
    let sum = |name: &str| -> u64 {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter(|l| {
                l.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with("_total") || rest.starts_with('{'))
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    };
    (
        sum("topic_msg_recv_counts_unfiltered"),
        sum("topic_msg_recv_counts"),
    )
}
