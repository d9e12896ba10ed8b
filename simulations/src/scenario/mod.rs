//! Scenario files: the TOML schema and its validation into a typed [`Scenario`].
//!
//! A scenario is data (STYLE §33): node count, topology, link model, churn, partitions,
//! workload, attack, gossip parameters, duration and seeds. Parsing is two steps: serde
//! reads the raw tables (unknown keys are errors), then `Scenario::validate` checks the
//! cross-field rules (`d_lo <= d <= d_hi`, fractions in `[0, 1]`, …), one validator per
//! section (`validate.rs`). Every error names the dotted key and the line it is on, found
//! through the span information of [`toml::de::DeTable`] (`locate.rs`).

mod locate;
mod validate;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use self::locate::{key_at, line_of, span_of};
use crate::dist::{Dist, DistSpec};
use crate::error::Error;
use crate::queue::Time;

/// Largest node count a scenario may ask for (memory grows with nodes × messages).
pub const MAX_NODES: u32 = 1_000_000;
/// Largest message size in bytes (gossipsub's default `max_transmit_size` is 64 KiB;
/// qun limits changes far below that).
pub const MAX_MESSAGE_BYTES: f64 = 1_048_576.0;

/// Which dissemination model the nodes run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// GossipSub v1.1 (mesh, gossip, scoring), optionally with v1.2 IDONTWANT.
    Gossipsub,
    /// Every node forwards every new message to every connected member of the topic.
    Flood,
}

/// Application fidelity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Messages only: payloads are sizes, validation is a verdict, catch-up is set reconciliation.
    Light,
    /// The real `qun_crdt::Replicator` per node: signed Automerge changes, gossip verdicts,
    /// request-response sync, persistence and restore (see `[full]`).
    Full,
}

/// How the connection graph is generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopologyKind {
    /// Each member dials `degree / 2` uniformly random other members of each community.
    Random,
    /// Barabási–Albert preferential attachment, `degree / 2` edges per new node.
    ScaleFree,
    /// Watts–Strogatz ring lattice of `degree` neighbours, each edge rewired with `rewire`.
    SmallWorld,
    /// Read from `edges_file` (whitespace-separated `a b` node indices per line).
    Edges,
}

/// `[topology]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TopologyConfig {
    /// Generator.
    pub kind: TopologyKind,
    /// Target mean number of connections per node (per community for generated graphs).
    pub degree: u32,
    /// Small-world rewiring probability.
    pub rewire: f64,
    /// Edge list for `kind = "edges"`, relative to the scenario file.
    pub edges_file: Option<PathBuf>,
}

impl Default for TopologyConfig {
    fn default() -> Self {
        TopologyConfig {
            kind: TopologyKind::Random,
            degree: 12,
            rewire: 0.1,
            edges_file: None,
        }
    }
}

/// `[links]`: per-link latency, per-node upload bandwidth, loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinkConfig {
    /// One-way propagation latency of a link in ms, drawn once per link.
    pub latency_ms: DistSpec,
    /// Extra per-frame delay in ms (frames on one link never overtake each other).
    pub jitter_ms: DistSpec,
    /// Upload bandwidth of a node in Mbit/s, drawn once per node; 0 = unlimited.
    pub upload_mbit_s: DistSpec,
    /// Probability that a frame is lost (a reset stream; gossip recovers through IHAVE/IWANT).
    pub loss: f64,
    /// Seconds before a peer notices a silent failure (crash, partition): the ping timeout.
    pub detect_s: f64,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            latency_ms: DistSpec::Dist(Dist::Lognormal {
                median: 40.0,
                sigma: 0.5,
            }),
            jitter_ms: DistSpec::Const(0.0),
            upload_mbit_s: DistSpec::Const(0.0),
            loss: 0.0,
            detect_s: 10.0,
        }
    }
}

/// `[gossip.score]`: GossipSub v1.1 peer-score parameters (one weight set for all topics).
///
/// Names follow the spec (P₁ time in mesh, P₂ first deliveries, P₃ mesh delivery deficit,
/// P₃b mesh failure penalty, P₄ invalid messages, P₇ behaviour penalty). P₅ (application)
/// and P₆ (IP colocation) are not modelled: every simulated node has its own address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoreConfig {
    /// Whether scoring is on (libp2p: `with_peer_score`).
    pub enabled: bool,
    /// Topic weight applied to P₁–P₄.
    pub topic_weight: f64,
    /// P₁ weight (≥ 0).
    pub time_in_mesh_weight: f64,
    /// P₁ quantum in seconds.
    pub time_in_mesh_quantum_s: f64,
    /// P₁ cap (in quanta).
    pub time_in_mesh_cap: f64,
    /// P₂ weight (≥ 0).
    pub first_message_deliveries_weight: f64,
    /// P₂ decay per decay interval.
    pub first_message_deliveries_decay: f64,
    /// P₂ cap.
    pub first_message_deliveries_cap: f64,
    /// P₃ weight (≤ 0; 0 disables, as most deployments without tuning do).
    pub mesh_message_deliveries_weight: f64,
    /// P₃ decay.
    pub mesh_message_deliveries_decay: f64,
    /// P₃ threshold below which the deficit is penalised.
    pub mesh_message_deliveries_threshold: f64,
    /// P₃ cap.
    pub mesh_message_deliveries_cap: f64,
    /// Seconds in the mesh before P₃ applies.
    pub mesh_message_deliveries_activation_s: f64,
    /// Window in ms after the first delivery in which a mesh peer's duplicate still counts.
    pub mesh_message_deliveries_window_ms: f64,
    /// P₃b weight (≤ 0).
    pub mesh_failure_penalty_weight: f64,
    /// P₃b decay.
    pub mesh_failure_penalty_decay: f64,
    /// P₄ weight (≤ 0).
    pub invalid_message_deliveries_weight: f64,
    /// P₄ decay.
    pub invalid_message_deliveries_decay: f64,
    /// P₇ weight (≤ 0).
    pub behaviour_penalty_weight: f64,
    /// P₇ threshold.
    pub behaviour_penalty_threshold: f64,
    /// P₇ decay.
    pub behaviour_penalty_decay: f64,
    /// Below this score no gossip is exchanged with the peer.
    pub gossip_threshold: f64,
    /// Below this score the peer gets no flood-published messages.
    pub publish_threshold: f64,
    /// Below this score all RPCs from the peer are ignored.
    pub graylist_threshold: f64,
    /// Median mesh score below which opportunistic grafting kicks in.
    pub opportunistic_graft_threshold: f64,
    /// Seconds between counter decays.
    pub decay_interval_s: f64,
    /// Counters below this are zeroed.
    pub decay_to_zero: f64,
}

impl Default for ScoreConfig {
    fn default() -> Self {
        ScoreConfig {
            enabled: true,
            topic_weight: 1.0,
            time_in_mesh_weight: 0.01,
            time_in_mesh_quantum_s: 1.0,
            time_in_mesh_cap: 600.0,
            first_message_deliveries_weight: 1.0,
            first_message_deliveries_decay: 0.99,
            first_message_deliveries_cap: 20.0,
            mesh_message_deliveries_weight: 0.0,
            mesh_message_deliveries_decay: 0.97,
            mesh_message_deliveries_threshold: 1.0,
            mesh_message_deliveries_cap: 10.0,
            mesh_message_deliveries_activation_s: 30.0,
            mesh_message_deliveries_window_ms: 10.0,
            mesh_failure_penalty_weight: 0.0,
            mesh_failure_penalty_decay: 0.97,
            invalid_message_deliveries_weight: -100.0,
            invalid_message_deliveries_decay: 0.99,
            behaviour_penalty_weight: -1.0,
            behaviour_penalty_threshold: 6.0,
            behaviour_penalty_decay: 0.99,
            gossip_threshold: -10.0,
            publish_threshold: -50.0,
            graylist_threshold: -80.0,
            opportunistic_graft_threshold: 5.0,
            decay_interval_s: 1.0,
            decay_to_zero: 0.01,
        }
    }
}

/// `[gossip]`: GossipSub v1.1 router parameters (defaults are rust-libp2p's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GossipConfig {
    /// Target mesh degree D (`mesh_n`).
    pub d: u32,
    /// Lower bound D_lo (`mesh_n_low`).
    pub d_lo: u32,
    /// Upper bound D_hi (`mesh_n_high`).
    pub d_hi: u32,
    /// Peers to gossip to per heartbeat, at least (`gossip_lazy`).
    pub d_lazy: u32,
    /// Mesh peers kept by score when pruning (`retain_scores`).
    pub d_score: u32,
    /// Outbound peers kept in the mesh (`mesh_outbound_min`).
    pub d_out: u32,
    /// Heartbeat interval in ms.
    pub heartbeat_ms: f64,
    /// Fanout entries expire after this many seconds without publishing.
    pub fanout_ttl_s: f64,
    /// Heartbeats of history in the message cache (`history_length`).
    pub mcache_len: u32,
    /// Heartbeats of history advertised in IHAVE (`history_gossip`).
    pub mcache_gossip: u32,
    /// Share of non-mesh peers to gossip to, if more than `d_lazy` (`gossip_factor`).
    pub gossip_factor: f64,
    /// Seconds a pruned peer may not be grafted again (`prune_backoff`).
    pub prune_backoff_s: f64,
    /// Publish to every topic peer above the publish threshold, not only the mesh.
    pub flood_publish: bool,
    /// Message ids per IHAVE, and per peer per heartbeat asked with IWANT.
    pub max_ihave_length: u32,
    /// IHAVE messages accepted from one peer per heartbeat.
    pub max_ihave_messages: u32,
    /// Ms after an IWANT within which the message must arrive (else P₇).
    pub iwant_followup_ms: f64,
    /// Times one message is sent to one peer in answer to IWANT (`gossip_retransimission`).
    pub gossip_retransmission: u32,
    /// GossipSub v1.2 IDONTWANT: announce received messages to mesh peers.
    pub idontwant: bool,
    /// Messages smaller than this many bytes get no IDONTWANT (libp2p: 1000).
    pub idontwant_min_bytes: u32,
    /// Heartbeats between opportunistic-graft checks.
    pub opportunistic_graft_ticks: u32,
    /// Peers grafted per opportunistic graft.
    pub opportunistic_graft_peers: u32,
    /// Peer scoring.
    pub score: ScoreConfig,
}

impl Default for GossipConfig {
    fn default() -> Self {
        GossipConfig {
            d: 6,
            d_lo: 5,
            d_hi: 12,
            d_lazy: 6,
            d_score: 4,
            d_out: 2,
            heartbeat_ms: 1000.0,
            fanout_ttl_s: 60.0,
            mcache_len: 5,
            mcache_gossip: 3,
            gossip_factor: 0.25,
            prune_backoff_s: 60.0,
            flood_publish: true,
            max_ihave_length: 5000,
            max_ihave_messages: 10,
            iwant_followup_ms: 3000.0,
            gossip_retransmission: 3,
            idontwant: false,
            idontwant_min_bytes: 1000,
            opportunistic_graft_ticks: 60,
            opportunistic_graft_peers: 2,
            score: ScoreConfig::default(),
        }
    }
}

/// How publishers are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Publishers {
    /// A random online member of the community (uses its mesh).
    Members,
    /// A random online node, member or not (non-members use fanout).
    Anyone,
}

/// Message arrival process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arrival {
    /// Exponential gaps (Poisson process).
    Poisson,
    /// Evenly spaced.
    Uniform,
}

/// `[workload]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkloadConfig {
    /// Number of communities (one gossip topic each).
    pub communities: u32,
    /// Members per community; 0 = every node.
    pub members: u32,
    /// Posts per second over the whole network.
    pub posts_per_second: f64,
    /// Stop publishing after this many messages.
    pub messages: u32,
    /// First publish not before this second (lets meshes form).
    pub start_s: f64,
    /// Payload size in bytes.
    pub message_bytes: DistSpec,
    /// Arrival process.
    pub arrival: Arrival,
    /// Who publishes.
    pub publishers: Publishers,
    /// Application validation time in ms before the verdict (gates forwarding).
    pub validation_ms: DistSpec,
    /// Light mode: on (re)connection, peers reconcile the messages of shared communities.
    pub catch_up: bool,
    /// Light mode: also reconcile with one random peer every this many seconds (0 = never).
    pub catch_up_interval_s: f64,
    /// Posts per second in each community; when > 0 it sets the network-wide rate
    /// (`posts_per_second` = this × `communities`).
    pub posts_per_second_per_community: f64,
    /// Full mode: share of workload items that are replies to a recent post the author holds.
    pub reply_fraction: f64,
    /// Full mode: share of workload items that are reactions to a recent post.
    pub react_fraction: f64,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        WorkloadConfig {
            communities: 1,
            members: 0,
            posts_per_second: 10.0,
            messages: 100,
            start_s: 5.0,
            message_bytes: DistSpec::Const(500.0),
            arrival: Arrival::Poisson,
            publishers: Publishers::Members,
            validation_ms: DistSpec::Const(0.0),
            catch_up: false,
            catch_up_interval_s: 0.0,
            posts_per_second_per_community: 0.0,
            reply_fraction: 0.0,
            react_fraction: 0.0,
        }
    }
}

/// `[churn]`: nodes alternate online sessions and downtimes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChurnConfig {
    /// Long-run share of nodes offline (0 disables churn).
    pub offline_fraction: f64,
    /// Mean online session in seconds (exponential).
    pub mean_session_s: f64,
    /// Share of departures that are crashes (silent, noticed after `links.detect_s`);
    /// the rest leave gracefully. Either way the node's store survives the restart.
    pub crash_fraction: f64,
    /// No departures before this second.
    pub start_s: f64,
    /// Share of nodes that start offline and join at a uniform time in `[0, join_window_s]`.
    pub join_fraction: f64,
    /// Window for late joins.
    pub join_window_s: f64,
}

impl Default for ChurnConfig {
    fn default() -> Self {
        ChurnConfig {
            offline_fraction: 0.0,
            mean_session_s: 60.0,
            crash_fraction: 0.5,
            start_s: 0.0,
            join_fraction: 0.0,
            join_window_s: 0.0,
        }
    }
}

/// `[[partitions]]`: the network splits in two, then heals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionConfig {
    /// Second the split starts.
    pub start_s: f64,
    /// Second it heals.
    pub end_s: f64,
    /// Share of nodes on the first side (chosen at random).
    #[serde(default = "half")]
    pub fraction: f64,
}

fn half() -> f64 {
    0.5
}

/// `[attack]` (light mode): forged messages that honest validation rejects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AttackConfig {
    /// Share of nodes that are attackers.
    pub attacker_fraction: f64,
    /// Forged messages each attacker publishes per second (to its mesh and fanout).
    pub forged_per_second: f64,
}

/// How members of a community become members in full mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Setup {
    /// The founder's `member.admit` changes are built once, before the run, and every
    /// member's replica starts from that same history through `Replicator::restore`
    /// (fast: 1,000 nodes start in a second or two).
    Preadmitted,
    /// Only the founder holds the community at the start; every other member joins through
    /// the protocol: `Replicator::join` (subscribe), fetch the genesis and history by sync
    /// from a peer that has it, then publish its own `member.join` (with an invitation from
    /// the founder under `policy = "invite"`).
    Join,
}

/// `[full]`: full-fidelity mode (`mode = "full"`), one real `qun_crdt::Replicator` per node.
///
/// Each community's founder is its lowest-index member. Keys are derived from the run's
/// seed (`SecretIdentity::from_seed(blake3(seed ‖ node))`), so a seed fixes every
/// signature and change hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FullConfig {
    /// How members get in.
    pub setup: Setup,
    /// Admission policy of every community: `open`, `invite`, `endorsements:K` or
    /// `trust-flow` (with `setup = "join"`: `open` or `invite`).
    pub policy: String,
    /// Length of a content window (the genesis `window_ms`) in seconds, at least 60: each
    /// channel gets one content document per window.
    pub window_s: f64,
    /// Anti-entropy period of the replicator (`Config::sync_interval_ms`), seconds.
    pub sync_interval_s: f64,
    /// A sync request without an answer fails after this many seconds (libp2p
    /// request-response's default timeout is 10 s).
    pub sync_timeout_s: f64,
}

impl Default for FullConfig {
    fn default() -> Self {
        FullConfig {
            setup: Setup::Preadmitted,
            policy: "open".into(),
            window_s: 7.0 * 24.0 * 3600.0,
            sync_interval_s: 30.0,
            sync_timeout_s: 10.0,
        }
    }
}

/// `[output]`: what a run writes besides `summary.json` and `metrics.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputConfig {
    /// Seconds per row of `metrics.csv`.
    pub sample_interval_s: f64,
    /// Draw the plots (SVG and PNG).
    pub plots: bool,
    /// Write `messages.csv` (one row per message).
    pub messages_csv: bool,
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            sample_interval_s: 1.0,
            plots: true,
            messages_csv: true,
        }
    }
}

/// The whole file, as serde reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// Short name, used in output.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Seeds `qun-sim run` uses when none is given.
    #[serde(default = "default_seeds")]
    pub seeds: Vec<u64>,
    /// Number of nodes.
    pub nodes: u32,
    /// Simulated seconds.
    pub duration_s: f64,
    /// Application fidelity.
    #[serde(default = "default_mode")]
    pub mode: Mode,
    /// Dissemination model.
    #[serde(default = "default_protocol")]
    pub protocol: Protocol,
    /// Connection graph.
    #[serde(default)]
    pub topology: TopologyConfig,
    /// Link model.
    #[serde(default)]
    pub links: LinkConfig,
    /// Gossip parameters.
    #[serde(default)]
    pub gossip: GossipConfig,
    /// Load.
    #[serde(default)]
    pub workload: WorkloadConfig,
    /// Churn.
    #[serde(default)]
    pub churn: ChurnConfig,
    /// Partitions, in time order, not overlapping.
    #[serde(default)]
    pub partitions: Vec<PartitionConfig>,
    /// Forged-message attack.
    #[serde(default)]
    pub attack: AttackConfig,
    /// Full-fidelity settings (used when `mode = "full"`).
    #[serde(default)]
    pub full: FullConfig,
    /// Output options.
    #[serde(default)]
    pub output: OutputConfig,
    /// Sybil attack on admission and ranking (the trust layer).
    #[serde(default)]
    pub trust: Option<crate::attack::TrustConfig>,
}

fn default_seeds() -> Vec<u64> {
    vec![1]
}
fn default_mode() -> Mode {
    Mode::Light
}
fn default_protocol() -> Protocol {
    Protocol::Gossipsub
}

/// A validated scenario. Only [`Scenario::from_toml_str`], [`Scenario::load`] and
/// `Scenario::validate` make one.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    raw: RawScenario,
    /// Directory relative paths (edge files) resolve against.
    base_dir: PathBuf,
    /// Parsed distributions and times.
    pub latency_ms: Dist,
    /// Per-frame jitter.
    pub jitter_ms: Dist,
    /// Per-node upload bandwidth.
    pub upload_mbit_s: Dist,
    /// Payload sizes.
    pub message_bytes: Dist,
    /// Validation time.
    pub validation_ms: Dist,
    /// Run length.
    pub duration: Time,
}

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, Error> {
        let src = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut s = Self::from_toml_str(&path.display().to_string(), &src)?;
        s.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(s)
    }

    /// Parses and validates scenario text; `file` names it in errors.
    pub fn from_toml_str(file: &str, src: &str) -> Result<Scenario, Error> {
        let raw: RawScenario = toml::from_str(src).map_err(|e| {
            let offset = e.span().map(|r| r.start).unwrap_or(0);
            let key = key_at(src, offset).unwrap_or_default();
            Error::Scenario {
                file: file.to_string(),
                line: e.span().map(|r| line_of(src, r.start)).unwrap_or(0),
                key: if key.is_empty() {
                    "(document)".into()
                } else {
                    key
                },
                message: e.message().trim().to_string(),
            }
        })?;
        Self::validate(raw, PathBuf::new()).map_err(|inv| Error::Scenario {
            file: file.to_string(),
            line: span_of(src, &inv.key)
                .map(|r| line_of(src, r.start))
                .unwrap_or(0),
            key: inv.key,
            message: inv.message,
        })
    }

    /// Parses a TOML table already in memory (used by `sweep` after editing one key).
    pub fn from_table(
        file: &str,
        table: toml::Table,
        base_dir: PathBuf,
    ) -> Result<Scenario, Error> {
        let raw: RawScenario = table
            .try_into()
            .map_err(|e: toml::de::Error| Error::Scenario {
                file: file.to_string(),
                line: 0,
                key: "(document)".into(),
                message: e.message().trim().to_string(),
            })?;
        Self::validate(raw, base_dir).map_err(|inv| Error::Scenario {
            file: file.to_string(),
            line: 0,
            key: inv.key,
            message: inv.message,
        })
    }

    /// The raw configuration (validated).
    pub fn raw(&self) -> &RawScenario {
        &self.raw
    }

    /// Resolves a path given in the scenario against the scenario's directory.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }

    /// Number of nodes.
    pub fn nodes(&self) -> u32 {
        self.raw.nodes
    }

    /// A copy cut down for CI: at most `max_nodes` nodes, `max_messages` messages and
    /// `max_duration_s` seconds; times of churn and partitions scale with the duration.
    pub fn shortened(&self, max_nodes: u32, max_messages: u32, max_duration_s: f64) -> Scenario {
        let mut raw = self.raw.clone();
        let node_scale = (max_nodes as f64 / raw.nodes as f64).min(1.0);
        let t = (max_duration_s / raw.duration_s).min(1.0);
        raw.nodes = raw.nodes.min(max_nodes);
        if raw.workload.members > 0 {
            raw.workload.members =
                ((raw.workload.members as f64 * node_scale).ceil() as u32).clamp(2, raw.nodes);
        }
        raw.topology.degree = raw.topology.degree.min(raw.nodes.saturating_sub(1).max(1));
        raw.duration_s *= t;
        raw.workload.start_s *= t;
        raw.workload.messages = raw.workload.messages.min(max_messages);
        raw.workload.posts_per_second /= t;
        raw.workload.posts_per_second_per_community /= t;
        raw.churn.start_s *= t;
        raw.churn.mean_session_s *= t;
        raw.churn.join_window_s *= t;
        for p in &mut raw.partitions {
            p.start_s *= t;
            p.end_s *= t;
        }
        raw.workload.catch_up_interval_s *= t;
        if let Some(tr) = &mut raw.trust {
            if tr.graph != crate::attack::TrustGraphKind::Edges {
                let m = if tr.members == 0 {
                    self.raw.nodes
                } else {
                    tr.members
                };
                tr.members = m.min(max_nodes * 5);
            }
            tr.sybils = tr.sybils.min(max_nodes);
            tr.attack_edges.truncate(3);
        }
        if matches!(raw.topology.kind, TopologyKind::Edges) {
            raw.topology.kind = TopologyKind::Random;
            raw.topology.edges_file = None;
        }
        let base = self.base_dir.clone();
        match Self::validate(raw, base) {
            Ok(s) => s,
            // Shortening keeps every rule that held; fall back to the original if not.
            Err(_) => self.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> (usize, String, String) {
        match Scenario::from_toml_str("t.toml", src) {
            Err(Error::Scenario {
                line, key, message, ..
            }) => (line, key, message),
            other => panic!("expected a scenario error, got {other:?}"),
        }
    }

    #[test]
    fn minimal_scenario_parses() {
        let s = Scenario::from_toml_str("t.toml", "name = \"x\"\nnodes = 10\nduration_s = 5\n")
            .expect("valid");
        assert_eq!(s.nodes(), 10);
        assert_eq!(s.duration, Time::from_secs(5));
    }

    #[test]
    fn cross_field_error_names_key_and_line() {
        let (line, key, msg) =
            err("name = \"x\"\nnodes = 10\nduration_s = 5\n\n[gossip]\nd = 6\nd_lo = 8\n");
        assert_eq!((line, key.as_str()), (7, "gossip.d_lo"), "{msg}");
    }

    #[test]
    fn type_error_names_key_and_line() {
        let (line, key, _) =
            err("name = \"x\"\nnodes = 10\nduration_s = 5\n[links]\nloss = \"lots\"\n");
        assert_eq!((line, key.as_str()), (5, "links.loss"));
    }

    #[test]
    fn unknown_key_is_named() {
        let (line, key, msg) = err("name = \"x\"\nnodes = 10\nduration_s = 5\n[gossip]\nDee = 3\n");
        assert_eq!(line, 5);
        assert_eq!(key, "gossip.Dee", "{msg}");
    }

    #[test]
    fn partition_errors_point_into_the_array() {
        let (line, key, _) = err(
            "name = \"x\"\nnodes = 10\nduration_s = 5\n[[partitions]]\nstart_s = 1\nend_s = 3\n[[partitions]]\nstart_s = 4\nend_s = 2\n",
        );
        assert_eq!(key, "partitions[1].end_s");
        assert_eq!(line, 9);
    }
}
