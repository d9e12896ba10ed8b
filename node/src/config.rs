//! The data directory and `config.toml`.
//!
//! ```text
//! <data dir>/identity.key   sealed key bundle (root key, device key, device cert), mode 0600
//! <data dir>/store/         sled database: genesis, accepted changes, joins in progress, peers
//! <data dir>/blobs/         images and attachments, one file per blake3 hash (`crate::blobs`)
//! <data dir>/config.toml    listen/dial addresses, API address, switches (written on first run)
//! <data dir>/api.json       address and bearer token of the running node's API, mode 0600
//! <data dir>/restored.json  left by `qun restore` until the node caught up with its peers
//! ```
//!
//! The default data directory follows the platform's conventions (`directories`:
//! `~/.local/share/qun` on Linux); `--data-dir` or `QUN_DATA_DIR` override it.

use crate::error::{Error, Result};
use libp2p::Multiaddr;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Default API address: loopback only.
pub const DEFAULT_API_ADDR: &str = "127.0.0.1:7420";

/// Node settings (`config.toml`; command-line flags override them).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Addresses to listen on.
    pub listen: Vec<String>,
    /// Peers to dial at start (bootstrap nodes).
    pub dial: Vec<String>,
    /// Addresses this node is reachable at from outside (announced in invites, for relays).
    pub public_addrs: Vec<String>,
    /// API and web page address (keep it on loopback).
    pub api: String,
    /// Find peers on the local network with mDNS.
    pub mdns: bool,
    /// Serve as a relay for other nodes (bootstrap/relay nodes of a community).
    pub relay: bool,
    /// Most relays to reserve a slot at automatically while not publicly reachable; 0 turns
    /// autorelay off.
    pub max_relays: usize,
    /// Close connections idle for this long, seconds.
    pub idle_timeout_secs: u64,
    /// Serve /metrics and /health without a token on this address too (for Prometheus;
    /// keep it on loopback or a private network). Absent: only on the API address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_addr: Option<String>,
    /// Load limits (`[limits]`: connections, requests, gossip rate, API); see
    /// [`crate::limits`] for each key and its default.
    pub limits: crate::limits::LoadLimits,
    /// Images and attachments (`[blobs]`: `max_blob_bytes`, `budget_bytes`, `max_fetches`,
    /// `gc_grace_secs`); see [`crate::blobs::BlobLimits`].
    pub blobs: crate::blobs::BlobLimits,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: vec![
                "/ip4/0.0.0.0/tcp/0".into(),
                "/ip4/0.0.0.0/udp/0/quic-v1".into(),
            ],
            dial: Vec::new(),
            public_addrs: Vec::new(),
            api: DEFAULT_API_ADDR.into(),
            mdns: true,
            relay: false,
            max_relays: crate::net::autorelay::DEFAULT_MAX_RELAYS,
            idle_timeout_secs: 120,
            metrics_addr: None,
            limits: crate::limits::LoadLimits::default(),
            blobs: crate::blobs::BlobLimits::default(),
        }
    }
}

impl Config {
    /// The configuration written on first run: the defaults, listening on one port picked now
    /// for both TCP and QUIC and kept from then on, so the addresses peers and invite codes
    /// hold stay valid across restarts.
    pub fn first_run() -> Self {
        let mut cfg = Config::default();
        if let Some(port) = free_port() {
            cfg.listen = vec![
                format!("/ip4/0.0.0.0/tcp/{port}"),
                format!("/ip4/0.0.0.0/udp/{port}/quic-v1"),
            ];
        }
        cfg
    }

    /// Parsed listen addresses.
    pub fn listen_addrs(&self) -> Result<Vec<Multiaddr>> {
        parse_addrs(&self.listen)
    }

    /// Parsed dial addresses.
    pub fn dial_addrs(&self) -> Result<Vec<Multiaddr>> {
        parse_addrs(&self.dial)
    }

    /// Parsed public addresses.
    pub fn public_multiaddrs(&self) -> Result<Vec<Multiaddr>> {
        parse_addrs(&self.public_addrs)
    }

    /// Parsed API address.
    pub fn api_addr(&self) -> Result<SocketAddr> {
        self.api
            .parse()
            .map_err(|e| Error::Config(format!("api address {:?}: {e}", self.api)))
    }

    /// Parsed metrics address, if any.
    pub fn metrics_socket(&self) -> Result<Option<SocketAddr>> {
        self.metrics_addr
            .as_ref()
            .map(|a| {
                a.parse()
                    .map_err(|e| Error::Config(format!("metrics address {a:?}: {e}")))
            })
            .transpose()
    }

    /// Read `config.toml`, or the defaults when it does not exist.
    pub fn load(path: &Path) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(s) => {
                toml::from_str(&s).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
        }
    }

    /// Write `config.toml`.
    pub fn save(&self, path: &Path) -> Result<()> {
        let s = toml::to_string_pretty(self).map_err(|e| Error::Config(e.to_string()))?;
        std::fs::write(path, s).map_err(|e| Error::io(format!("writing {}", path.display()), e))
    }
}

/// A port free for both TCP and UDP on all interfaces right now (the kernel picks it).
fn free_port() -> Option<u16> {
    (0..16).find_map(|_| {
        let tcp = std::net::TcpListener::bind(("0.0.0.0", 0)).ok()?;
        let port = tcp.local_addr().ok()?.port();
        std::net::UdpSocket::bind(("0.0.0.0", port)).ok()?;
        Some(port)
    })
}

fn parse_addrs(v: &[String]) -> Result<Vec<Multiaddr>> {
    v.iter()
        .map(|s| {
            s.parse::<Multiaddr>()
                .map_err(|e| Error::Config(format!("address {s:?}: {e}")))
        })
        .collect()
}

/// Paths inside a data directory.
#[derive(Clone, Debug)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// A data directory at `root` (created if missing, mode 0700 on Unix).
    pub fn new(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(&root)
            .map_err(|e| Error::io(format!("creating {}", root.display()), e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700));
        }
        Ok(DataDir { root })
    }

    /// The platform default (`~/.local/share/qun` on Linux).
    pub fn default_root() -> Result<PathBuf> {
        directories::ProjectDirs::from("org", "qun", "qun")
            .map(|d| d.data_dir().to_path_buf())
            .ok_or_else(|| Error::Config("no home directory; pass --data-dir".into()))
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The keyfile.
    pub fn keyfile(&self) -> PathBuf {
        self.root.join("identity.key")
    }

    /// The full-text index (`search/`).
    pub fn search(&self) -> PathBuf {
        self.root.join("search")
    }

    /// Direct messages (`dm/`: the DM device's pickle and the conversations, see
    /// docs/privacy.md).
    pub fn dm(&self) -> PathBuf {
        self.root.join("dm")
    }

    /// What the pages remember (`prefs.json`).
    pub fn prefs(&self) -> PathBuf {
        self.root.join("prefs.json")
    }

    /// Browser sessions (`sessions.json`).
    pub fn sessions(&self) -> PathBuf {
        self.root.join("sessions.json")
    }

    /// The store directory.
    pub fn store(&self) -> PathBuf {
        self.root.join("store")
    }

    /// The blob store (images and attachments).
    pub fn blobs(&self) -> PathBuf {
        self.root.join("blobs")
    }

    /// `config.toml`.
    pub fn config(&self) -> PathBuf {
        self.root.join("config.toml")
    }

    /// `api.json` (written by the running node).
    pub fn api_info(&self) -> PathBuf {
        self.root.join("api.json")
    }
}

/// What a running node publishes for local clients in `api.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ApiInfo {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Bearer token.
    pub token: String,
    /// Process id of the node.
    pub pid: u32,
    /// The scrape address's `/metrics` (`--metrics-addr`), if the node serves one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_url: Option<String>,
}

impl ApiInfo {
    /// Write atomically with mode 0600.
    pub fn save(&self, path: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| Error::Config(e.to_string()))?;
        qun_identity::keyfile::write_atomic(path, &bytes)?;
        Ok(())
    }

    /// Read.
    pub fn load(path: &Path) -> Result<Self> {
        let b =
            std::fs::read(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        serde_json::from_slice(&b).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_run_keeps_one_port_for_tcp_and_quic() {
        let cfg = Config::first_run();
        let addrs = cfg.listen_addrs().unwrap();
        assert_eq!(addrs.len(), 2);
        let port = |a: &Multiaddr| {
            a.iter().find_map(|p| match p {
                libp2p::multiaddr::Protocol::Tcp(n) | libp2p::multiaddr::Protocol::Udp(n) => {
                    Some(n)
                }
                _ => None,
            })
        };
        let (tcp, udp) = (port(&addrs[0]).unwrap(), port(&addrs[1]).unwrap());
        assert_ne!(tcp, 0, "a fixed port, not a random one per start");
        assert_eq!(tcp, udp);
        // It survives the round trip through config.toml.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        cfg.save(&path).unwrap();
        assert_eq!(Config::load(&path).unwrap(), cfg);
    }
}
