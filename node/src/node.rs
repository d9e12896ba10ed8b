//! Starting a node: restore the store into the core, build the swarm, listen, dial, spawn the
//! driver (`crate::runtime`) and hand back its [`NodeHandle`].

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::handle::{COMMAND_QUEUE, EVENT_QUEUE, NodeHandle};
use crate::limits::{Load, LoadLimits};
use crate::net::autorelay::{AutoRelay, AutoRelayConfig, DEFAULT_MAX_RELAYS};
use crate::net::swarm::{self, NetConfig};
use crate::runtime::driver::{Driver, Parts};
use crate::runtime::restore::{CoreSpec, restore_core};
use crate::store::Store;
use libp2p::Multiaddr;
use qun_crdt::replicate::Config as ReplConfig;
use qun_crdt::{CommunityId, Limits};
use qun_identity::keyfile::KeyBundle;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tracing::warn;

/// Everything needed to start a node.
pub struct NodeConfig {
    /// Keys.
    pub keys: KeyBundle,
    /// Listen addresses.
    pub listen: Vec<Multiaddr>,
    /// Peers to dial at start.
    pub dial: Vec<Multiaddr>,
    /// Announced addresses.
    pub public_addrs: Vec<Multiaddr>,
    /// mDNS on/off.
    pub mdns: bool,
    /// Serve as relay.
    pub relay: bool,
    /// Most relays to reserve a slot at automatically while not publicly reachable (see
    /// [`crate::net::autorelay`]); 0 disables autorelay. Explicit `…/p2p-circuit` listen
    /// addresses are not counted.
    pub max_relays: usize,
    /// Idle connection timeout.
    pub idle_timeout: Duration,
    /// Replication limits.
    pub limits: Limits,
    /// Anti-entropy period, ms.
    pub sync_interval_ms: u64,
    /// Private swarm key (libp2p pnet; TCP only).
    pub swarm_key: Option<libp2p::pnet::PreSharedKey>,
    /// Where the node reads the time ([`SystemClock`] by default; tests inject one).
    pub clock: Arc<dyn Clock>,
    /// Restored from a backup: the marker file `qun restore` wrote. The node's own writes
    /// wait until it has caught up with a peer in each community it holds; then the marker is
    /// removed (see `crate::runtime::ops`). `None`: a normal start.
    pub restored: Option<std::path::PathBuf>,
    /// Load limits (see [`crate::limits`]).
    pub load: LoadLimits,
    /// Where images and attachments are kept, and their limits (see [`crate::blobs`]).
    pub blobs: crate::blobs::BlobSettings,
    /// Where direct messages are kept (`<data dir>/dm`: the DM device's pickle and the
    /// conversations); `None` keeps them in memory only.
    pub dm_dir: Option<std::path::PathBuf>,
}

impl NodeConfig {
    /// Defaults for `keys`, listening on loopback TCP and QUIC with random ports, no mDNS.
    pub fn loopback(keys: KeyBundle) -> Self {
        NodeConfig {
            keys,
            listen: vec![
                "/ip4/127.0.0.1/tcp/0"
                    .parse()
                    .unwrap_or_else(|_| Multiaddr::empty()),
                "/ip4/127.0.0.1/udp/0/quic-v1"
                    .parse()
                    .unwrap_or_else(|_| Multiaddr::empty()),
            ],
            dial: Vec::new(),
            public_addrs: Vec::new(),
            mdns: false,
            relay: false,
            max_relays: DEFAULT_MAX_RELAYS,
            idle_timeout: Duration::from_secs(120),
            limits: Limits::default(),
            sync_interval_ms: qun_crdt::replicate::SYNC_INTERVAL_MS,
            swarm_key: None,
            clock: Arc::new(SystemClock),
            restored: None,
            dm_dir: None,
            // The defaults, but no memory limit: in-process nodes (tests, benches) share one
            // process, whose memory is not this node's.
            load: LoadLimits {
                max_memory_mb: 0,
                ..LoadLimits::default()
            },
            blobs: Default::default(),
        }
    }
}

/// For `<relay addr>/p2p/<relay>/p2p-circuit`: the relay's peer id and address.
fn relay_of(a: &Multiaddr) -> Option<(libp2p::PeerId, Multiaddr)> {
    use libp2p::multiaddr::Protocol;
    let parts: Vec<Protocol> = a.iter().collect();
    let circuit = parts
        .iter()
        .position(|p| matches!(p, Protocol::P2pCircuit))?;
    let relay = match parts.get(circuit.checked_sub(1)?)? {
        Protocol::P2p(id) => *id,
        _ => return None,
    };
    Some((relay, parts[..circuit].iter().cloned().collect()))
}

/// A started node: its handle and the driver task.
pub struct Running {
    /// The handle.
    pub handle: NodeHandle,
    /// The driver task (ends on shutdown).
    pub task: tokio::task::JoinHandle<()>,
}

/// `a` with its TCP or UDP port set to 0, if it has a non-zero one.
fn with_port_zero(a: &Multiaddr) -> Option<Multiaddr> {
    use libp2p::multiaddr::Protocol;
    let mut changed = false;
    let out = a
        .iter()
        .map(|p| match p {
            Protocol::Tcp(n) if n != 0 => {
                changed = true;
                Protocol::Tcp(0)
            }
            Protocol::Udp(n) if n != 0 => {
                changed = true;
                Protocol::Udp(0)
            }
            p => p,
        })
        .collect();
    changed.then_some(out)
}

pub use crate::redial::MAX_REDIAL;
use crate::redial::redial_known_peers;

/// Start a node on the current tokio runtime.
pub async fn start(cfg: NodeConfig, store: Box<dyn Store>) -> Result<Running> {
    let t = cfg.clock.now();
    let member = cfg.keys.member_id(t)?;
    let core = CoreSpec {
        cfg: ReplConfig {
            limits: cfg.limits,
            sync_interval_ms: cfg.sync_interval_ms,
            sync_budget_bytes: qun_crdt::replicate::DEFAULT_SYNC_BUDGET_BYTES,
            seed: u64::from_le_bytes(
                cfg.keys.device.public().to_bytes()[..8]
                    .try_into()
                    .unwrap_or([0; 8]),
            ),
            // Change signatures of a sync batch are checked on every core.
            verify_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        },
        member,
    };
    let repl = restore_core(&core, &cfg.keys, store.as_ref(), t)?;
    let blobs = Arc::new(crate::blobs::BlobStore::open(
        cfg.blobs.dir.as_deref(),
        cfg.blobs.limits,
    )?);
    let dm = crate::runtime::dm::Dm::open(cfg.dm_dir.clone(), &cfg.keys, member)?;
    let held: Vec<CommunityId> = repl.communities().copied().collect();
    let keypair = cfg.keys.device.to_libp2p_keypair()?;
    let (mut swarm, metrics) = swarm::build(
        keypair,
        &NetConfig {
            mdns: cfg.mdns,
            relay: cfg.relay,
            idle_timeout: cfg.idle_timeout,
            limits: cfg.limits,
            swarm_key: cfg.swarm_key,
            load: cfg.load,
            max_blob_bytes: blobs.limits().max_blob_bytes,
        },
    )?;
    // Relayed addresses are opened once connected to the relay (dialled here).
    let mut circuits = Vec::new();
    for a in &cfg.listen {
        if let Some((relay, relay_addr)) = relay_of(a) {
            swarm
                .dial(relay_addr.clone())
                .map_err(|e| Error::Network(format!("dial relay {relay_addr}: {e}")))?;
            circuits.push((relay, a.clone()));
            continue;
        }
        if let Err(e) = swarm.listen_on(a.clone()) {
            // The configured port is taken (another node, another program): listen on any
            // free port rather than not at all; peers find the new address through identify,
            // the DHT and fresh invite codes.
            let any =
                with_port_zero(a).ok_or_else(|| Error::Network(format!("listen on {a}: {e}")))?;
            warn!("listen on {a}: {e}; listening on {any} instead");
            swarm
                .listen_on(any.clone())
                .map_err(|e| Error::Network(format!("listen on {any}: {e}")))?;
        }
    }
    for a in &cfg.public_addrs {
        swarm.add_external_address(a.clone());
    }
    for a in &cfg.dial {
        if let Err(e) = swarm.dial(a.clone()) {
            warn!("dial {a}: {e}");
        }
    }
    redial_known_peers(&mut swarm, store.as_ref());
    // Autorelay: off when reachable by configuration (public address, or serving as a relay
    // itself, which also keeps a relay from reserving on itself).
    let autorelay = AutoRelay::new(AutoRelayConfig {
        me: *swarm.local_peer_id(),
        max: cfg.max_relays,
        public_by_config: !cfg.public_addrs.is_empty() || cfg.relay,
        explicit: circuits.iter().map(|(relay, _)| *relay).collect(),
        quic: cfg.swarm_key.is_none(),
    });
    let (ctx, crx) = mpsc::channel(COMMAND_QUEUE);
    let (etx, _) = broadcast::channel(EVENT_QUEUE);
    let peer_id = *swarm.local_peer_id();
    let clock = cfg.clock.clone();
    let load = Arc::new(Load::new(cfg.load));
    let driver = Driver::new(
        Parts {
            swarm,
            repl,
            core,
            store,
            keys: cfg.keys,
            member,
            public_addrs: cfg.public_addrs,
            clock: cfg.clock,
            autorelay,
            circuit_listens: circuits,
            metrics: crate::metrics::Metrics::new(metrics),
            write_hold: cfg
                .restored
                .map(|marker| crate::runtime::ops::WriteHold::new(marker, &held)),
            load: load.clone(),
            blobs: blobs.clone(),
            dm,
        },
        crx,
        etx.clone(),
    );
    let task = driver.spawn();
    Ok(Running {
        handle: NodeHandle::new(ctx, etx, member, peer_id, clock, load, blobs),
        task,
    })
}
