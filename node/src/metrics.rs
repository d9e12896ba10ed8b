//! The node's Prometheus metrics (`GET /metrics`, see [`crate::http::ops`]).
//!
//! One `prometheus_client` registry holds three groups, encoded together in the OpenMetrics
//! text format:
//!
//! * gossipsub's own metrics (mesh sizes, messages and bytes per topic, duplicates: names
//!   without a prefix, e.g. `topic_msg_recv_counts_unfiltered`), registered when the swarm is
//!   built (`crate::net::swarm::build`);
//! * libp2p's swarm and protocol metrics under `libp2p_` (connections opened and closed,
//!   identify, Kademlia, ping, relay events — `libp2p_relay_events_total{event=
//!   "ReservationReqAccepted"}` counts the reservations this node served as a relay — and
//!   DCUtR), recorded from every swarm event;
//! * qun's own under `qun_`: [`QunMetrics`]. Counters the driver already keeps in
//!   [`Stats`] are carried over at scrape time ([`Metrics::sync_stats`]); gauges (peers,
//!   queues, store size) are read at scrape time. Communities are labelled by their gossip
//!   topic hash (`topic`), never by their id: the id is a read capability, and metrics end up
//!   in monitoring systems.

use crate::dto::Stats;
use crate::net::behaviour::BehaviourEvent;
use libp2p::metrics::Recorder;
use libp2p::swarm::SwarmEvent;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Content type of the metrics text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A label with one value.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    /// The value (a verdict, a direction, an origin, a limit).
    pub kind: String,
}

/// A community, by its gossip topic hash.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TopicLabel {
    /// The topic hash (`crate::net::topic`), not the community id.
    pub topic: String,
}

/// qun's own metrics.
#[derive(Default)]
pub struct QunMetrics {
    /// Connected peers.
    pub connected_peers: Gauge,
    /// Communities held.
    pub communities: Gauge,
    /// Joins in progress.
    pub joins: Gauge,
    /// Peers on each community's topic.
    pub community_peers: Family<TopicLabel, Gauge>,
    /// Changes waiting for their dependencies, per community.
    pub pending_changes: Family<TopicLabel, Gauge>,
    /// Inbound sync requests waiting for our answer.
    pub pending_sync_in: Gauge,
    /// Our sync requests waiting for an answer.
    pub pending_sync_out: Gauge,
    /// Bytes the store takes on disk.
    pub store_bytes: Gauge,
    /// 1 once a store write failed (the node acknowledges nothing until restarted).
    pub store_failed: Gauge,
    /// 1 while a restored node holds back its own writes until it caught up.
    pub write_hold: Gauge,
    /// Gossip messages handed to the core (`kind`: `in`) and published (`out`).
    pub gossip_messages: Family<KindLabel, Counter>,
    /// Bytes of those.
    pub gossip_bytes: Family<KindLabel, Counter>,
    /// Gossip messages gossipsub received, duplicates included (`kind`: `copies`), and
    /// distinct (`unique`).
    pub gossip_received: Family<KindLabel, Counter>,
    /// Verdicts on gossip messages (`accept`, `ignore`, `reject`).
    pub gossip_verdicts: Family<KindLabel, Counter>,
    /// Sync bytes (`in`, `out`).
    pub sync_bytes: Family<KindLabel, Counter>,
    /// Sync requests sent.
    pub sync_requests: Counter,
    /// Changes accepted into the documents, by origin (`local`, `gossip`, `sync`).
    pub changes_accepted: Family<KindLabel, Counter>,
    /// Input refused by the core (any reason).
    pub changes_rejected: Counter,
    /// Limits hit (`pending_sync_in`: a sync request dropped because too many were waiting;
    /// `too_large`: input over a size limit; and every load limit of `crate::limits` under
    /// its `qun status --json` name, e.g. `api_rate`, `connections_per_ip`).
    pub limits_hit: Family<KindLabel, Counter>,
}

impl QunMetrics {
    fn register(&self, r: &mut Registry) {
        let r = r.sub_registry_with_prefix("qun");
        r.register(
            "connected_peers",
            "Connected peers",
            self.connected_peers.clone(),
        );
        r.register("communities", "Communities held", self.communities.clone());
        r.register("joins", "Joins in progress", self.joins.clone());
        r.register(
            "community_peers",
            "Peers on a community's gossip topic",
            self.community_peers.clone(),
        );
        r.register(
            "pending_changes",
            "Changes waiting for their dependencies",
            self.pending_changes.clone(),
        );
        r.register(
            "pending_sync_in",
            "Inbound sync requests waiting for an answer",
            self.pending_sync_in.clone(),
        );
        r.register(
            "pending_sync_out",
            "Sync requests sent, waiting for an answer",
            self.pending_sync_out.clone(),
        );
        r.register(
            "store_bytes",
            "Bytes the store takes on disk",
            self.store_bytes.clone(),
        );
        r.register(
            "store_failed",
            "1 once a store write failed (nothing is acknowledged until restart)",
            self.store_failed.clone(),
        );
        r.register(
            "write_hold",
            "1 while a restored node holds back its own writes until it caught up",
            self.write_hold.clone(),
        );
        r.register(
            "gossip_messages",
            "Gossip messages handed to the core (in) and published (out)",
            self.gossip_messages.clone(),
        );
        r.register(
            "gossip_bytes",
            "Bytes of gossip messages (in, out)",
            self.gossip_bytes.clone(),
        );
        r.register(
            "gossip_received",
            "Gossip messages gossipsub received: copies (duplicates included) and unique",
            self.gossip_received.clone(),
        );
        r.register(
            "gossip_verdicts",
            "Verdicts on gossip messages (accept, ignore, reject)",
            self.gossip_verdicts.clone(),
        );
        r.register(
            "sync_bytes",
            "Sync protocol bytes (in, out)",
            self.sync_bytes.clone(),
        );
        r.register(
            "sync_requests",
            "Sync requests sent",
            self.sync_requests.clone(),
        );
        r.register(
            "changes_accepted",
            "Changes accepted into the documents, by origin",
            self.changes_accepted.clone(),
        );
        r.register(
            "changes_rejected",
            "Input refused by the replication core",
            self.changes_rejected.clone(),
        );
        r.register(
            "limits_hit",
            "Limits hit (pending_sync_in, too_large)",
            self.limits_hit.clone(),
        );
    }
}

/// Every metric of the node, owned by the driver.
pub struct Metrics {
    registry: Registry,
    libp2p: libp2p::metrics::Metrics,
    /// qun's own.
    pub qun: QunMetrics,
}

/// A label value.
pub fn kind(k: &str) -> KindLabel {
    KindLabel { kind: k.into() }
}

/// Bring a counter up to `total` (counters the driver keeps elsewhere; never goes down).
fn carry(c: &Counter, total: u64) {
    let now = c.get();
    if total > now {
        c.inc_by(total - now);
    }
}

impl Metrics {
    /// Around the registry gossipsub records into: adds libp2p's and qun's metrics.
    pub fn new(mut registry: Registry) -> Self {
        let libp2p = libp2p::metrics::Metrics::new(&mut registry);
        let qun = QunMetrics::default();
        qun.register(&mut registry);
        let build = Family::<KindLabel, Gauge>::default();
        build.get_or_create(&kind(env!("CARGO_PKG_VERSION"))).set(1);
        registry.register(
            "qun_build_info",
            "The qun version (label kind), always 1",
            build,
        );
        Metrics {
            registry,
            libp2p,
            qun,
        }
    }

    /// The registry (gossipsub's metrics are read from it, see
    /// `crate::net::swarm::gossip_copies`).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Record a swarm event in libp2p's metrics.
    pub fn record(&self, ev: &SwarmEvent<BehaviourEvent>) {
        self.libp2p.record(ev);
        if let SwarmEvent::Behaviour(b) = ev {
            match b {
                BehaviourEvent::Identify(e) => self.libp2p.record(e),
                BehaviourEvent::Kad(e) => self.libp2p.record(e),
                BehaviourEvent::Ping(e) => self.libp2p.record(e),
                BehaviourEvent::Relay(e) => self.libp2p.record(e),
                BehaviourEvent::Dcutr(e) => self.libp2p.record(e),
                _ => {}
            }
        }
    }

    /// Carry the driver's traffic counters over.
    pub fn sync_stats(&self, s: &Stats) {
        let q = &self.qun;
        carry(&q.gossip_messages.get_or_create(&kind("in")), s.gossip_in);
        carry(&q.gossip_messages.get_or_create(&kind("out")), s.gossip_out);
        carry(
            &q.gossip_bytes.get_or_create(&kind("in")),
            s.gossip_bytes_in,
        );
        carry(
            &q.gossip_bytes.get_or_create(&kind("out")),
            s.gossip_bytes_out,
        );
        carry(
            &q.gossip_received.get_or_create(&kind("copies")),
            s.gossip_copies_in,
        );
        carry(
            &q.gossip_received.get_or_create(&kind("unique")),
            s.gossip_unique_in,
        );
        carry(
            &q.gossip_verdicts.get_or_create(&kind("accept")),
            s.gossip_accepted,
        );
        carry(
            &q.gossip_verdicts.get_or_create(&kind("ignore")),
            s.gossip_ignored,
        );
        carry(
            &q.gossip_verdicts.get_or_create(&kind("reject")),
            s.gossip_rejected,
        );
        carry(&q.sync_bytes.get_or_create(&kind("in")), s.sync_bytes_in);
        carry(&q.sync_bytes.get_or_create(&kind("out")), s.sync_bytes_out);
        carry(&q.sync_requests, s.sync_requests_out);
    }

    /// The whole registry as OpenMetrics text.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::warn!("encoding metrics: {e}");
        }
        out
    }
}

/// `v` as a gauge value (saturating).
pub fn gauge_value(v: impl TryInto<i64>) -> i64 {
    v.try_into().unwrap_or(i64::MAX)
}
