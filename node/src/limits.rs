//! Load limits: how much a node accepts from the swarm and from local clients, and the counters
//! of how often each limit was hit (shown as `limits` in `qun status --json`).
//!
//! | limit | config key (`[limits]` in config.toml) | default | counter in `limits` |
//! |---|---|---|---|
//! | established connections, in total | `max_connections` | 256 | `connections_total` |
//! | established connections per peer | `max_connections_per_peer` | 4 | `connections_per_peer` |
//! | incoming connections still handshaking | `max_pending_incoming` | 64 | `pending_incoming` |
//! | incoming connections per remote IP | `max_connections_per_ip` | 32 | `connections_per_ip` |
//! | process memory (RSS) above which new connections are refused, MiB | `max_memory_mb` | 768 | `memory` |
//! | catch-up (sync) requests in flight per peer | `sync_requests_per_peer` | 16 | `sync_requests_per_peer` |
//! | catch-up requests served per second, all peers (token bucket, burst of twice that) | `sync_serves_per_sec` | 20 | `sync_busy` |
//! | gossip messages per peer per second | `gossip_per_peer_per_sec` | 500 | `gossip_per_peer` |
//! | SSE clients at once | `max_sse_clients` | 64 | `sse_clients` |
//! | local API requests per second (token bucket, burst of twice that) | `api_requests_per_sec` | 200 | `api_rate` |
//!
//! A limit of 0 turns that limit off. Connection limits are enforced by libp2p's
//! `connection-limits` and `memory-connection-limits` behaviours and by
//! [`crate::net::ip_limit`]; the sync and gossip limits by the driver (a sync request over the
//! per-peer limit is dropped unanswered; over the node's serving rate it is answered `Busy`, so
//! the asker comes back at its next periodic sync: catch-up is delayed, not queued; a gossip message over the limit is rejected, which costs its
//! sender gossipsub's invalid-message penalty, so a flooding peer is soon graylisted and its
//! messages dropped by gossipsub before they reach the driver); the API limits by the HTTP
//! layer (429 and 503 with a JSON `{error, hint}`).

use crate::dto::LimitHits;
use libp2p::PeerId;
use libp2p::request_response::InboundRequestId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Default most established connections in total.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 256;
/// Default most established connections per peer (a direct and a relayed one, and the
/// simultaneous dials of two nodes that find each other at once).
pub const DEFAULT_MAX_CONNECTIONS_PER_PEER: u32 = 4;
/// Default most incoming connections still in their handshake.
pub const DEFAULT_MAX_PENDING_INCOMING: u32 = 64;
/// Default most incoming connections from one IP address (a household or an office behind
/// one NAT address runs a few nodes, not dozens).
pub const DEFAULT_MAX_CONNECTIONS_PER_IP: u32 = 32;
/// Default process memory above which new connections are refused, MiB.
pub const DEFAULT_MAX_MEMORY_MB: u64 = 768;
/// Default most catch-up requests from one peer waiting for an answer at once.
pub const DEFAULT_SYNC_REQUESTS_PER_PEER: u32 = 16;
/// Default most gossip messages one peer may hand us per second (a busy community's whole
/// traffic through one mesh peer is a few dozen per second).
pub const DEFAULT_GOSSIP_PER_PEER_PER_SEC: u32 = 500;
/// Default catch-up requests served per second, all peers together (each answer is at most
/// `max_sync_bytes`, 4 MiB by default).
pub const DEFAULT_SYNC_SERVES_PER_SEC: u32 = 20;
/// What a `Busy` answer tells the asker to wait, ms.
pub const SYNC_BUSY_RETRY_MS: u64 = 5_000;
/// Default most SSE clients at once.
pub const DEFAULT_MAX_SSE_CLIENTS: u32 = 64;
/// Default local API requests per second (the bucket holds twice that).
pub const DEFAULT_API_REQUESTS_PER_SEC: u32 = 200;
/// The window of the gossip rate limit.
pub const GOSSIP_WINDOW: Duration = Duration::from_secs(1);
/// Most peers whose gossip rate is tracked at once (older windows are dropped first).
pub const MAX_RATE_PEERS: usize = 4096;

/// Load limits (`[limits]` in config.toml). 0 turns a limit off.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct LoadLimits {
    /// Most established connections, in total.
    pub max_connections: u32,
    /// Most established connections per peer.
    pub max_connections_per_peer: u32,
    /// Most incoming connections still in their handshake.
    pub max_pending_incoming: u32,
    /// Most incoming connections (pending and established) from one IP address; relayed
    /// connections are not counted.
    pub max_connections_per_ip: u32,
    /// Process memory (resident) above which new connections are refused, MiB.
    pub max_memory_mb: u64,
    /// Most catch-up requests one peer may have waiting for our answer (also bounds the
    /// request-response streams per connection, at twice this for our own requests).
    pub sync_requests_per_peer: u32,
    /// Catch-up requests served per second, all peers together (token bucket holding twice
    /// that); more are answered `Busy` (the asker retries later).
    pub sync_serves_per_sec: u32,
    /// Most gossip messages one peer may hand us per second; more are rejected (the peer is
    /// penalised).
    pub gossip_per_peer_per_sec: u32,
    /// Most SSE (`/api/v1/events`) clients at once; more get 503.
    pub max_sse_clients: u32,
    /// Local API requests per second (token bucket holding twice that); more get 429.
    pub api_requests_per_sec: u32,
}

impl Default for LoadLimits {
    fn default() -> Self {
        LoadLimits {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_peer: DEFAULT_MAX_CONNECTIONS_PER_PEER,
            max_pending_incoming: DEFAULT_MAX_PENDING_INCOMING,
            max_connections_per_ip: DEFAULT_MAX_CONNECTIONS_PER_IP,
            max_memory_mb: DEFAULT_MAX_MEMORY_MB,
            sync_requests_per_peer: DEFAULT_SYNC_REQUESTS_PER_PEER,
            sync_serves_per_sec: DEFAULT_SYNC_SERVES_PER_SEC,
            gossip_per_peer_per_sec: DEFAULT_GOSSIP_PER_PEER_PER_SEC,
            max_sse_clients: DEFAULT_MAX_SSE_CLIENTS,
            api_requests_per_sec: DEFAULT_API_REQUESTS_PER_SEC,
        }
    }
}

/// `Some(limit)`, or `None` when the limit is 0 (off).
pub fn on(limit: u32) -> Option<u32> {
    (limit > 0).then_some(limit)
}

/// One counter per limit: how many times it was hit since start.
#[derive(Debug, Default)]
pub struct Hits {
    /// Connections refused: total established.
    pub connections_total: AtomicU64,
    /// Connections refused: per peer.
    pub connections_per_peer: AtomicU64,
    /// Connections refused: pending incoming.
    pub pending_incoming: AtomicU64,
    /// Connections refused: per IP.
    pub connections_per_ip: AtomicU64,
    /// Connections refused: process memory.
    pub memory: AtomicU64,
    /// Sync requests dropped: too many in flight from one peer.
    pub sync_requests_per_peer: AtomicU64,
    /// Sync requests answered `Busy`: over the node's serving rate.
    pub sync_busy: AtomicU64,
    /// Gossip messages rejected: over a peer's rate.
    pub gossip_per_peer: AtomicU64,
    /// SSE clients refused.
    pub sse_clients: AtomicU64,
    /// API requests refused (rate).
    pub api_rate: AtomicU64,
}

impl Hits {
    /// Count one hit of `c`.
    pub fn hit(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// A snapshot, for the status.
    pub fn snapshot(&self) -> LimitHits {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        LimitHits {
            connections_total: g(&self.connections_total),
            connections_per_peer: g(&self.connections_per_peer),
            pending_incoming: g(&self.pending_incoming),
            connections_per_ip: g(&self.connections_per_ip),
            memory: g(&self.memory),
            sync_requests_per_peer: g(&self.sync_requests_per_peer),
            sync_busy: g(&self.sync_busy),
            gossip_per_peer: g(&self.gossip_per_peer),
            sse_clients: g(&self.sse_clients),
            api_rate: g(&self.api_rate),
        }
    }
}

/// What the driver and the HTTP layer share about load: the limits, the counters, the API's
/// token bucket and the number of SSE clients.
#[derive(Debug)]
pub struct Load {
    /// The limits.
    pub limits: LoadLimits,
    /// How often each was hit.
    pub hits: Hits,
    bucket: Mutex<TokenBucket>,
    sse: AtomicUsize,
}

impl Load {
    /// Fresh counters for `limits`.
    pub fn new(limits: LoadLimits) -> Self {
        let rate = f64::from(limits.api_requests_per_sec);
        Load {
            limits,
            hits: Hits::default(),
            bucket: Mutex::new(TokenBucket::new(rate, rate * 2.0, Instant::now())),
            sse: AtomicUsize::new(0),
        }
    }

    /// Take a token for one API request; `false` (and counted) when the bucket is empty.
    pub fn api_request(&self) -> bool {
        if self.limits.api_requests_per_sec == 0 {
            return true;
        }
        let ok = match self.bucket.lock() {
            Ok(mut b) => b.take(Instant::now()),
            // A panic while holding the lock: do not refuse every request because of it.
            Err(poisoned) => poisoned.into_inner().take(Instant::now()),
        };
        if !ok {
            Hits::hit(&self.hits.api_rate);
        }
        ok
    }

    /// A slot for one SSE client, released when the guard drops; `None` (and counted) when
    /// all are taken.
    pub fn sse_client(self: &std::sync::Arc<Self>) -> Option<SseSlot> {
        let max = self.limits.max_sse_clients as usize;
        let taken = self
            .sse
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (max == 0 || n < max).then_some(n + 1)
            });
        match taken {
            Ok(_) => Some(SseSlot(self.clone())),
            Err(_) => {
                Hits::hit(&self.hits.sse_clients);
                None
            }
        }
    }

    /// SSE clients connected now.
    pub fn sse_clients(&self) -> usize {
        self.sse.load(Ordering::Acquire)
    }
}

/// One SSE client's slot (see [`Load::sse_client`]).
#[derive(Debug)]
pub struct SseSlot(std::sync::Arc<Load>);

impl Drop for SseSlot {
    fn drop(&mut self) {
        self.0.sse.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A token bucket: `rate` tokens a second, at most `burst` held.
#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    /// A full bucket of `per_sec` a second holding twice that; `None` when `per_sec` is 0 (no
    /// limit).
    pub fn per_sec(per_sec: u32, now: Instant) -> Option<Self> {
        let rate = f64::from(per_sec);
        (per_sec > 0).then(|| TokenBucket::new(rate, rate * 2.0, now))
    }

    /// A full bucket.
    pub fn new(rate: f64, burst: f64, now: Instant) -> Self {
        TokenBucket {
            rate,
            burst,
            tokens: burst,
            at: now,
        }
    }

    /// Take one token if there is one.
    pub fn take(&mut self, now: Instant) -> bool {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        self.at = now;
        self.tokens = (self.tokens + dt * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Gossip messages per peer in the current window of [`GOSSIP_WINDOW`] (the driver's).
#[derive(Debug, Default)]
pub struct GossipRate {
    peers: HashMap<PeerId, (Instant, u32)>,
}

impl GossipRate {
    /// Count one message from `peer` at `now`; `false` when it is over `limit` in its window
    /// (`limit` 0: no limit).
    pub fn allow(&mut self, peer: PeerId, now: Instant, limit: u32) -> bool {
        if limit == 0 {
            return true;
        }
        if self.peers.len() >= MAX_RATE_PEERS && !self.peers.contains_key(&peer) {
            self.peers
                .retain(|_, (start, _)| now.saturating_duration_since(*start) < GOSSIP_WINDOW);
        }
        let e = self.peers.entry(peer).or_insert((now, 0));
        if now.saturating_duration_since(e.0) >= GOSSIP_WINDOW {
            *e = (now, 0);
        }
        e.1 = e.1.saturating_add(1);
        e.1 <= limit
    }

    /// Forget `peer` (disconnected).
    pub fn forget(&mut self, peer: &PeerId) {
        self.peers.remove(peer);
    }
}

/// Catch-up requests per peer that the driver took and whose answer is not written yet (the
/// driver's): a peer that asks faster than it reads answers holds streams and answer buffers.
#[derive(Debug, Default)]
pub struct SyncInFlight {
    requests: HashMap<InboundRequestId, PeerId>,
    peers: HashMap<PeerId, u32>,
}

impl SyncInFlight {
    /// Take request `id` from `peer` unless the peer has `limit` in flight already (`limit` 0:
    /// no limit).
    pub fn admit(&mut self, peer: PeerId, id: InboundRequestId, limit: u32) -> bool {
        let n = self.peers.entry(peer).or_insert(0);
        if limit > 0 && *n >= limit {
            if *n == 0 {
                self.peers.remove(&peer);
            }
            return false;
        }
        *n += 1;
        self.requests.insert(id, peer);
        true
    }

    /// Request `id` is answered, or failed.
    pub fn done(&mut self, id: InboundRequestId) {
        if let Some(peer) = self.requests.remove(&id)
            && let Some(n) = self.peers.get_mut(&peer)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.peers.remove(&peer);
            }
        }
    }

    /// Requests in flight from `peer`.
    pub fn of(&self, peer: &PeerId) -> u32 {
        self.peers.get(peer).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_refills_at_its_rate_up_to_its_burst() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(10.0, 20.0, t0);
        assert_eq!((0..30).filter(|_| b.take(t0)).count(), 20);
        assert!(!b.take(t0));
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!((0..30).filter(|_| b.take(t1)).count(), 5);
        let t2 = t1 + Duration::from_secs(60);
        assert_eq!((0..30).filter(|_| b.take(t2)).count(), 20);
    }

    #[test]
    fn gossip_rate_counts_per_peer_per_window() {
        let (a, b) = (PeerId::random(), PeerId::random());
        let t0 = Instant::now();
        let mut r = GossipRate::default();
        assert_eq!((0..10).filter(|_| r.allow(a, t0, 4)).count(), 4);
        assert!(r.allow(b, t0, 4), "another peer has its own count");
        let t1 = t0 + GOSSIP_WINDOW;
        assert!(r.allow(a, t1, 4), "a new window");
        assert!(r.allow(a, t1, 0), "0 is no limit");
    }

    #[test]
    fn sse_slots_are_released_on_drop() {
        let load = std::sync::Arc::new(Load::new(LoadLimits {
            max_sse_clients: 2,
            ..LoadLimits::default()
        }));
        let a = load.sse_client();
        let b = load.sse_client();
        assert!(a.is_some() && b.is_some());
        assert!(load.sse_client().is_none());
        drop(a);
        assert!(load.sse_client().is_some());
        assert_eq!(load.hits.snapshot().sse_clients, 1);
    }

    #[test]
    fn limits_parse_from_toml_with_defaults() {
        let l: LoadLimits = toml::from_str("max_connections = 10").unwrap();
        assert_eq!(l.max_connections, 10);
        assert_eq!(l.max_sse_clients, DEFAULT_MAX_SSE_CLIENTS);
        assert!(toml::from_str::<LoadLimits>("max_conections = 1").is_err());
    }
}
