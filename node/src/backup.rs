//! Backups of a running node (`qun backup OUT`) and restoring them (`qun restore IN`).
//!
//! A backup is a directory:
//!
//! ```text
//! OUT/manifest.json   format, versions, member and peer id, every file with its size and blake3
//! OUT/identity.key    the keyfile as it is on disk (sealed with its passphrase, if it has one)
//! OUT/config.toml     the node's settings (when there is one)
//! OUT/store/          a copy of the sled store, made by the node's driver between two events
//! ```
//!
//! The store copy is consistent: the driver owns the store and makes the copy on its own task
//! (`Command::Snapshot`), so no write lands half-way. [`restore`] checks every checksum before
//! it copies anything, refuses to overwrite an identity or a store, and leaves the marker
//! [`RESTORED_MARKER`] in the data directory: the restored node holds back its own writes until
//! it caught up with its peers (see `crate::runtime::ops`), so it never signs a change with a
//! sequence number its device used after the backup was made.

use crate::config::DataDir;
use crate::error::{Error, Result};
use crate::handle::NodeHandle;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// `format` of a backup manifest.
pub const FORMAT: &str = "qun-backup";
/// The manifest version this build writes and reads.
pub const MANIFEST_VERSION: u32 = 1;
/// Name of the manifest in a backup directory.
pub const MANIFEST: &str = "manifest.json";
/// The marker `qun restore` leaves in the data directory (removed once the node caught up).
pub const RESTORED_MARKER: &str = "restored.json";

/// One file of a backup.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileEntry {
    /// Path inside the backup, `/`-separated.
    pub path: String,
    /// Size, bytes.
    pub bytes: u64,
    /// blake3 of the content, hex.
    pub blake3: String,
}

/// `manifest.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`MANIFEST_VERSION`].
    pub version: u32,
    /// The qun that wrote it.
    pub qun_version: String,
    /// The store's schema version.
    pub store_schema: u32,
    /// When it was made, ms since the Unix epoch.
    pub created_ms: u64,
    /// The member.
    pub member: String,
    /// The node's peer id.
    pub peer_id: String,
    /// Whether identity.key is sealed with a passphrase.
    pub identity_sealed: bool,
    /// Every file but the manifest.
    pub files: Vec<FileEntry>,
}

/// What [`restore`] leaves in the data directory.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RestoredMarker {
    /// The backup it came from.
    pub from: String,
    /// When that backup was made, ms since the Unix epoch.
    pub backup_created_ms: u64,
}

fn io(context: String, e: std::io::Error) -> Error {
    Error::io(context, e)
}

fn bad(path: &Path, reason: impl Into<String>) -> Error {
    Error::BadBackup {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

fn hash_file(path: &Path) -> Result<(u64, String)> {
    let mut h = blake3::Hasher::new();
    let mut f =
        std::fs::File::open(path).map_err(|e| io(format!("reading {}", path.display()), e))?;
    let n =
        std::io::copy(&mut f, &mut h).map_err(|e| io(format!("reading {}", path.display()), e))?;
    Ok((n, h.finalize().to_hex().to_string()))
}

/// Every file under `root` (relative, `/`-separated), sorted.
fn files_under(root: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut dirs = vec![PathBuf::new()];
    while let Some(rel) = dirs.pop() {
        let dir = root.join(&rel);
        let rd =
            std::fs::read_dir(&dir).map_err(|e| io(format!("listing {}", dir.display()), e))?;
        for entry in rd {
            let entry = entry.map_err(|e| io(format!("listing {}", dir.display()), e))?;
            let name = rel.join(entry.file_name());
            let ty = entry
                .file_type()
                .map_err(|e| io(format!("reading {}", name.display()), e))?;
            if ty.is_dir() {
                dirs.push(name);
            } else if ty.is_file() {
                let parts: Vec<String> = name
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Back up a running node to `out` (a directory that must not exist; absolute): the store
/// through the node's driver, the keyfile and config.toml next to `keyfile`, a manifest last.
pub async fn make(node: &NodeHandle, keyfile: &Path, out: &Path) -> Result<Manifest> {
    if !out.is_absolute() {
        return Err(Error::Invalid {
            reason: format!("backup directory {} is not absolute", out.display()),
            hint: "give the node an absolute path (`qun backup` makes it absolute)",
        });
    }
    if out.exists() {
        return Err(Error::io(
            format!("creating the backup directory {}", out.display()),
            std::io::Error::new(std::io::ErrorKind::AlreadyExists, "it exists already"),
        ));
    }
    std::fs::create_dir_all(out).map_err(|e| io(format!("creating {}", out.display()), e))?;
    node.snapshot(out.join("store")).await?;
    std::fs::copy(keyfile, out.join("identity.key"))
        .map_err(|e| io(format!("copying {}", keyfile.display()), e))?;
    if let Some(cfg) = keyfile.parent().map(|d| d.join("config.toml"))
        && cfg.exists()
    {
        std::fs::copy(&cfg, out.join("config.toml"))
            .map_err(|e| io(format!("copying {}", cfg.display()), e))?;
    }
    let status = node.status().await?;
    let mut files = Vec::new();
    for rel in files_under(out)? {
        let (bytes, blake3) = hash_file(&out.join(&rel))?;
        files.push(FileEntry {
            path: rel,
            bytes,
            blake3,
        });
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        version: MANIFEST_VERSION,
        qun_version: env!("CARGO_PKG_VERSION").into(),
        store_schema: crate::store::sled::SCHEMA_VERSION,
        created_ms: now_ms(),
        member: status.member,
        peer_id: status.peer_id,
        identity_sealed: crate::keystore::is_encrypted(keyfile).unwrap_or(false),
        files,
    };
    let text = serde_json::to_vec_pretty(&manifest).map_err(|e| bad(out, e.to_string()))?;
    qun_identity::keyfile::write_atomic(&out.join(MANIFEST), &text)?;
    Ok(manifest)
}

/// Read a backup's manifest and check every file against it.
pub fn verify(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST);
    let bytes = std::fs::read(&path).map_err(|e| bad(dir, format!("{MANIFEST}: {e}")))?;
    let m: Manifest =
        serde_json::from_slice(&bytes).map_err(|e| bad(dir, format!("{MANIFEST}: {e}")))?;
    if m.format != FORMAT {
        return Err(bad(
            dir,
            format!("not a qun backup (format {:?})", m.format),
        ));
    }
    if m.version > MANIFEST_VERSION {
        return Err(bad(
            dir,
            format!(
                "manifest version {} is newer than this qun reads ({MANIFEST_VERSION}): restore it with the qun that made it ({})",
                m.version, m.qun_version
            ),
        ));
    }
    if !m.files.iter().any(|f| f.path == "identity.key") {
        return Err(bad(dir, "it holds no identity.key"));
    }
    for f in &m.files {
        if f.path.split('/').any(|p| p == ".." || p.is_empty()) {
            return Err(bad(
                dir,
                format!("file path {:?} leaves the backup", f.path),
            ));
        }
        let (bytes, hash) =
            hash_file(&dir.join(&f.path)).map_err(|e| bad(dir, format!("{}: {e}", f.path)))?;
        if bytes != f.bytes || hash != f.blake3 {
            return Err(bad(
                dir,
                format!(
                    "{} does not match its checksum: the copy is damaged",
                    f.path
                ),
            ));
        }
    }
    Ok(m)
}

/// Restore the backup at `from` into the data directory `to` (which must hold no identity and
/// no store), and leave the restore marker there.
pub fn restore(from: &Path, to: &DataDir) -> Result<Manifest> {
    let m = verify(from)?;
    for existing in [to.keyfile(), to.store()] {
        if existing.exists() {
            return Err(Error::RestoreTarget(existing.display().to_string()));
        }
    }
    for f in &m.files {
        let dest = to.root().join(&f.path);
        if f.path == "config.toml" && dest.exists() {
            continue;
        }
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| io(format!("creating {}", parent.display()), e))?;
        }
        std::fs::copy(from.join(&f.path), &dest)
            .map_err(|e| io(format!("writing {}", dest.display()), e))?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(to.keyfile(), std::fs::Permissions::from_mode(0o600));
    }
    let marker = RestoredMarker {
        from: from.display().to_string(),
        backup_created_ms: m.created_ms,
    };
    let text = serde_json::to_vec_pretty(&marker).map_err(|e| bad(from, e.to_string()))?;
    qun_identity::keyfile::write_atomic(&to.root().join(RESTORED_MARKER), &text)?;
    Ok(m)
}
