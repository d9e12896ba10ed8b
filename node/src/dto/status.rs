//! The node as a whole: status and traffic, connected peers, joins in progress, identity.

use super::community::CommunitySummary;
use serde::{Deserialize, Serialize};

/// Node status (`GET /api/v1/status`, `qun status`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Status {
    /// libp2p peer id (from the device key).
    pub peer_id: String,
    /// Member id (root key).
    pub member: String,
    /// Device id.
    pub device: String,
    /// Full listen multiaddrs with `/p2p/<peer id>`.
    pub listen_addrs: Vec<String>,
    /// Connected peers.
    pub connected_peers: usize,
    /// Communities held.
    pub communities: Vec<CommunitySummary>,
    /// Communities being joined (genesis not fetched yet).
    pub joining: Vec<String>,
    /// Every join in progress and where it stands.
    #[serde(default)]
    pub joins: Vec<JoinInfo>,
    /// A store write failed: the node no longer acknowledges changes.
    pub store_error: Option<String>,
    /// Relayed addresses of the automatic relay reservations
    /// (`<relay addr>/p2p/<relay>/p2p-circuit`; explicit ones are among `listen_addrs`).
    #[serde(default)]
    pub relays: Vec<String>,
    /// Connected peers serving the DHT (bootstrap nodes).
    #[serde(default)]
    pub dht_servers: usize,
    /// Traffic counters since start.
    #[serde(default)]
    pub traffic: Stats,
    /// Restored from a backup and not caught up with its peers yet: its own writes wait.
    #[serde(default)]
    pub catching_up: bool,
    /// How many times each load limit was hit since start (see `crate::limits`).
    #[serde(default)]
    pub limits: LimitHits,
}

/// How many times each load limit was hit since start: connections refused, requests and
/// messages dropped (the limits and their config keys are in `crate::limits`).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct LimitHits {
    /// Connections refused: `max_connections` established in total.
    pub connections_total: u64,
    /// Connections refused: `max_connections_per_peer`.
    pub connections_per_peer: u64,
    /// Incoming connections refused: `max_pending_incoming` still handshaking.
    pub pending_incoming: u64,
    /// Incoming connections refused: `max_connections_per_ip`.
    pub connections_per_ip: u64,
    /// Connections refused: the process used more than `max_memory_mb`.
    pub memory: u64,
    /// Catch-up requests dropped unanswered: `sync_requests_per_peer` in flight.
    pub sync_requests_per_peer: u64,
    /// Catch-up requests answered `Busy` (asked to come back later): over
    /// `sync_serves_per_sec`.
    pub sync_busy: u64,
    /// Gossip messages rejected: over `gossip_per_peer_per_sec` from their sender.
    pub gossip_per_peer: u64,
    /// SSE clients refused (503): `max_sse_clients`.
    pub sse_clients: u64,
    /// API requests refused (429): over `api_requests_per_sec`.
    pub api_rate: u64,
}

/// A join in progress.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JoinInfo {
    /// The community.
    pub id: String,
    /// Where it stands.
    pub progress: qun_crdt::JoinProgress,
    /// Seconds since it started.
    pub seconds: u64,
}

/// A connected peer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PeerInfo {
    /// Peer id.
    pub peer_id: String,
    /// Communities we share with it.
    pub communities: Vec<String>,
    /// Gossipsub score.
    pub score: Option<f64>,
}

/// Application-level traffic counters.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct Stats {
    /// Gossip messages handed to the core (gossipsub has already dropped duplicates).
    pub gossip_in: u64,
    /// Bytes of those messages.
    pub gossip_bytes_in: u64,
    /// Messages published.
    pub gossip_out: u64,
    /// Bytes published.
    pub gossip_bytes_out: u64,
    /// Sync requests and responses received, bytes.
    pub sync_bytes_in: u64,
    /// Sync requests and responses sent, bytes.
    pub sync_bytes_out: u64,
    /// Sync requests sent.
    pub sync_requests_out: u64,
    /// Gossip messages gossipsub received, duplicates included.
    pub gossip_copies_in: u64,
    /// Distinct gossip messages gossipsub received (`gossip_copies_in / gossip_unique_in`
    /// copies per message).
    pub gossip_unique_in: u64,
    /// Gossip messages this node accepted (so gossipsub forwards them).
    #[serde(default)]
    pub gossip_accepted: u64,
    /// Gossip messages this node ignored (duplicates, waiting for dependencies, not stored).
    #[serde(default)]
    pub gossip_ignored: u64,
    /// Gossip messages this node rejected (invalid: the sender is penalised).
    #[serde(default)]
    pub gossip_rejected: u64,
}

/// This node's identity (`GET /api/v1/identity`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IdentityInfo {
    /// Member id (root key).
    pub member: String,
    /// This device's id.
    pub device: String,
    /// libp2p peer id (from the device key).
    pub peer_id: String,
    /// Whether this device holds the member's root key (needed to create communities, invite
    /// and endorse).
    pub holds_root: bool,
    /// The root's certificate for this device (absent when the device key is the root).
    pub device_cert: Option<DeviceCertInfo>,
    /// This member's devices as the communities' governance states know them.
    pub community_devices: Vec<CommunityDevice>,
}

/// A device certificate, for display.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeviceCertInfo {
    /// The device.
    pub device: String,
    /// Its label ("laptop").
    pub label: String,
    /// Capabilities (`content+endorse+govern`).
    pub capabilities: String,
    /// Valid from, ms.
    pub not_before: u64,
    /// Valid until, ms.
    pub expires: Option<u64>,
}

/// A device linked to this member in one community.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CommunityDevice {
    /// Community id.
    pub community: String,
    /// Device id.
    pub device: String,
    /// Capabilities.
    pub capabilities: String,
    /// Valid from, ms.
    pub not_before: u64,
    /// Valid until, ms.
    pub expires: Option<u64>,
    /// Revoked from this time on, ms.
    pub revoked: bool,
}

/// Liveness and readiness (`GET /health`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Health {
    /// The node's event loop answered.
    pub live: bool,
    /// Live, listening and the store writable: the node does its job.
    pub ready: bool,
    /// At least one listener is open.
    pub listening: bool,
    /// No store write has failed.
    pub store_ok: bool,
    /// The store failure, if any.
    pub store_error: Option<String>,
    /// Connected peers.
    pub connected_peers: usize,
    /// Restored from a backup and not caught up yet (own writes wait).
    pub catching_up: bool,
    /// The qun version.
    pub version: String,
}
