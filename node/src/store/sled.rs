//! The sled store.
//!
//! Trees: `genesis` (community → envelope), `changes` (community ‖ seq big-endian → entry),
//! `joining` (community → invitation), `known_peers` (peer id → last seen and addresses, at
//! most [`MAX_KNOWN_PEERS`](super::MAX_KNOWN_PEERS), see [`PeerBook`]), `meta` (the node's
//! secret). Values carry a version byte and are postcard-encoded; anything that fails to decode
//! is reported as corruption with a way out (`qun repair`), never skipped silently. The
//! unbounded `peers` tree of earlier versions (peer id → addresses) is moved into
//! `known_peers` at open (as seen at time 0, bounded like any other) and dropped.
//!
//! Schema version. The `meta` tree holds the store's schema version under `schema-version`
//! (a big-endian `u32`, see [`SCHEMA_VERSION`]). A store without it was written before
//! versions existed (schema 1). At open, an older store is first copied next to itself
//! (`store.v<old>-backup-<unix time>`, see [`copy_db`]) and then migrated in place; a newer
//! store is refused with [`Error::StoreTooNew`], which names what to run instead. Migrations:
//!
//! | from | to | what changes |
//! |---|---|---|
//! | 1 (no version key) | 2 | the unbounded `peers` tree moves into `known_peers`; the version key is written |

use super::{KnownPeer, PeerBook, Store, StoredChange, trim_addrs};
use crate::error::{Error, Result};
use qun_crdt::replicate::wire::WireChange;
use qun_crdt::{CommunityId, DocId, Hash};
use qun_identity::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const VALUE_VERSION: u8 = 1;
/// The store schema this build writes (and the newest it reads).
pub const SCHEMA_VERSION: u32 = 2;
/// Key of the schema version in the `meta` tree.
const SCHEMA_KEY: &[u8] = b"schema-version";
/// Entries per batch when copying a database ([`copy_db`]).
const COPY_BATCH: usize = 1024;
/// Name of sled's default tree (present in every database, even a new one).
const DEFAULT_TREE: &[u8] = b"__sled__default";
const PEER_VERSION: u8 = 1;
/// Key of the node's secret in the `meta` tree.
const SECRET_KEY: &[u8] = b"node-secret";
/// The tree of known peers before it was bounded (migrated at open).
const OLD_PEERS_TREE: &[u8] = b"peers";

#[derive(Serialize, Deserialize)]
struct PeerEntry {
    last_seen: u64,
    addrs: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    doc: DocId,
    hash: [u8; 32],
    bytes: Vec<u8>,
    sig: Vec<u8>,
}

/// A sled database in a directory.
pub struct SledStore {
    path: PathBuf,
    /// The open database; `None` only while [`Store::recover`] reopens it (and after a reopen
    /// that failed, until the next one works).
    trees: Option<Trees>,
    book: PeerBook,
    next_seq: HashMap<CommunityId, u64>,
}

/// The handles of an open database.
struct Trees {
    db: sled::Db,
    genesis: sled::Tree,
    changes: sled::Tree,
    joining: sled::Tree,
    peers: sled::Tree,
}

/// Key of the probe [`Store::recover`] writes and flushes to prove the disk takes writes again.
const PROBE_KEY: &[u8] = b"write-probe";

fn corrupt(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::StoreCorrupt {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

fn write_err(e: impl std::fmt::Display) -> Error {
    Error::StoreWrite(e.to_string())
}

fn community_of(key: &[u8], path: &Path) -> Result<CommunityId> {
    let arr: [u8; 32] = key
        .get(..32)
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| corrupt(path, "short key"))?;
    Ok(CommunityId(qun_identity::ContentId(arr)))
}

/// Prove that the disk holding the store at `path` takes the writes opening it needs: sled
/// writes a snapshot and may start a log segment while it opens, and a write that fails there
/// can leave files it then refuses to read ("corrupted data"). So a file of the snapshot's size
/// twice plus a segment is written next to the store, synced and removed first; `Err` (typed,
/// with the free space needed) when the disk is full.
fn check_room(path: &Path) -> Result<()> {
    const SEGMENT: u64 = 1 << 20;
    let snapshots: u64 = std::fs::read_dir(path)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with("snap."))
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    let need = 2 * snapshots + SEGMENT;
    let probe = path.with_extension("room-probe");
    let written = (|| {
        use std::io::Write;
        let mut f = std::fs::File::create(&probe)?;
        let chunk = vec![0u8; 64 * 1024];
        let mut left = need;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            f.write_all(&chunk[..n])?;
            left -= n as u64;
        }
        f.sync_all()
    })();
    let _ = std::fs::remove_file(&probe);
    written.map_err(|e| {
        Error::StoreWrite(format!(
            "{e} (opening the store at {} needs {} KiB free)",
            path.display(),
            need / 1024
        ))
    })
}

/// How long opening waits for the directory's lock: a database dropped a moment ago in this
/// process (a store reopened after a failure, a test's reopen) releases it from sled's
/// background threads shortly after the drop returns.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Open the sled database at `path`, waiting up to [`LOCK_WAIT`] for its lock.
fn open_db(path: &Path) -> Result<sled::Db> {
    let start = std::time::Instant::now();
    loop {
        let r = sled::Config::new()
            .path(path)
            .mode(sled::Mode::HighThroughput)
            .open();
        match r {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(io))
                if io.kind() == std::io::ErrorKind::WouldBlock
                    || io.to_string().contains("lock") =>
            {
                if start.elapsed() >= LOCK_WAIT {
                    return Err(Error::Locked(path.display().to_string()));
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(other) => return Err(corrupt(path, other)),
        }
    }
}

impl SledStore {
    /// Open (or create) the store at `path`. An existing store is opened only if its disk has
    /// room for what opening writes (see [`check_room`]).
    pub fn open(path: &Path) -> Result<Self> {
        if path.is_dir() {
            check_room(path)?;
        }
        let db = open_db(path)?;
        let schema = check_schema(path, &db)?;
        let tree = |name: &str| db.open_tree(name).map_err(|e| corrupt(path, e));
        let meta = tree("meta")?;
        let secret: [u8; 32] = match meta.get(SECRET_KEY).map_err(|e| corrupt(path, e))? {
            Some(v) => v
                .as_ref()
                .try_into()
                .map_err(|_| corrupt(path, "bad node secret"))?,
            None => {
                let s: [u8; 32] = rand::random();
                meta.insert(SECRET_KEY, &s[..]).map_err(write_err)?;
                db.flush().map_err(write_err)?;
                s
            }
        };
        let mut s = SledStore {
            path: path.to_path_buf(),
            trees: Some(Trees {
                genesis: tree("genesis")?,
                changes: tree("changes")?,
                joining: tree("joining")?,
                peers: tree("known_peers")?,
                db,
            }),
            book: PeerBook::new(secret),
            next_seq: HashMap::new(),
        };
        s.load_peers()?;
        if schema.is_some_and(|v| v < SCHEMA_VERSION) || schema.is_none() {
            meta.insert(SCHEMA_KEY, &SCHEMA_VERSION.to_be_bytes())
                .map_err(write_err)?;
            s.flush_db()?;
        }
        for (c, _) in s.communities()? {
            let last = s
                .t()?
                .changes
                .scan_prefix(c.as_bytes())
                .keys()
                .next_back()
                .transpose()
                .map_err(|e| corrupt(path, e))?;
            let next = match last {
                Some(k) => {
                    let seq: [u8; 8] = k
                        .get(32..40)
                        .and_then(|b| b.try_into().ok())
                        .ok_or_else(|| corrupt(path, "bad change key"))?;
                    u64::from_be_bytes(seq) + 1
                }
                None => 0,
            };
            s.next_seq.insert(c, next);
        }
        Ok(s)
    }

    /// Index the known peers (forgetting any beyond the bound), and move the peers of the old
    /// unbounded tree in.
    fn load_peers(&mut self) -> Result<()> {
        let mut entries = Vec::new();
        for r in self.t()?.peers.iter() {
            let (k, v) = r.map_err(|e| corrupt(&self.path, e))?;
            let e = self.decode_peer(&v)?;
            entries.push((String::from_utf8_lossy(&k).into_owned(), e.last_seen));
        }
        for (peer, seen) in entries {
            for gone in self.book.touch(&peer, Timestamp::from_millis(seen)) {
                self.t()?.peers.remove(gone.as_bytes()).map_err(write_err)?;
            }
        }
        let old_exists = self
            .t()?
            .db
            .tree_names()
            .iter()
            .any(|n| n.as_ref() == OLD_PEERS_TREE);
        if old_exists {
            let old = self
                .t()?
                .db
                .open_tree(OLD_PEERS_TREE)
                .map_err(|e| corrupt(&self.path, e))?;
            let mut moved = 0usize;
            for (k, v) in old.iter().flatten() {
                // Unreadable entries of the old tree are only addresses: dropped with it.
                if let Ok(addrs) = postcard::from_bytes::<Vec<String>>(&v) {
                    let peer = String::from_utf8_lossy(&k).into_owned();
                    self.put_peer(&peer, &addrs, Timestamp::from_millis(0))?;
                    moved += 1;
                }
            }
            self.t()?.db.drop_tree(OLD_PEERS_TREE).map_err(write_err)?;
            self.flush_db()?;
            tracing::info!(
                moved,
                kept = self.book.len(),
                "known peers moved to the bounded tree"
            );
        }
        Ok(())
    }

    fn decode_peer(&self, v: &[u8]) -> Result<PeerEntry> {
        let (&ver, body) = v
            .split_first()
            .ok_or_else(|| corrupt(&self.path, "empty peer value"))?;
        if ver != PEER_VERSION {
            return Err(corrupt(&self.path, format!("unknown peer version {ver}")));
        }
        postcard::from_bytes(body).map_err(|e| corrupt(&self.path, e))
    }

    /// The open database, or why there is none.
    fn t(&self) -> Result<&Trees> {
        self.trees.as_ref().ok_or_else(|| {
            Error::StoreWrite(format!(
                "the store at {} could not be opened again after a failed write",
                self.path.display()
            ))
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn flush_db(&self) -> Result<()> {
        self.t()?.db.flush().map_err(write_err)?;
        Ok(())
    }

    fn decode_entry(&self, v: &[u8]) -> Result<StoredChange> {
        let (&ver, body) = v
            .split_first()
            .ok_or_else(|| corrupt(&self.path, "empty value"))?;
        if ver != VALUE_VERSION {
            return Err(corrupt(&self.path, format!("unknown value version {ver}")));
        }
        let e: Entry = postcard::from_bytes(body).map_err(|e| corrupt(&self.path, e))?;
        let sig: [u8; 64] = e
            .sig
            .as_slice()
            .try_into()
            .map_err(|_| corrupt(&self.path, "bad signature length"))?;
        Ok((
            e.doc,
            WireChange {
                bytes: e.bytes,
                sig,
            },
        ))
    }
}

impl Store for SledStore {
    fn put_genesis(&mut self, community: &CommunityId, genesis: &[u8]) -> Result<()> {
        self.t()?
            .genesis
            .insert(community.as_bytes(), genesis)
            .map_err(write_err)?;
        self.next_seq.entry(*community).or_insert(0);
        self.flush_db()
    }

    fn append_changes(
        &mut self,
        community: &CommunityId,
        changes: &[(DocId, Hash, WireChange)],
    ) -> Result<()> {
        let seq = self.next_seq.entry(*community).or_insert(0);
        let mut batch = sled::Batch::default();
        for (doc, hash, c) in changes {
            let mut key = Vec::with_capacity(40);
            key.extend_from_slice(community.as_bytes());
            key.extend_from_slice(&seq.to_be_bytes());
            *seq += 1;
            let entry = Entry {
                doc: doc.clone(),
                hash: hash.0,
                bytes: c.bytes.clone(),
                sig: c.sig.to_vec(),
            };
            let mut v = vec![VALUE_VERSION];
            v.extend(postcard::to_allocvec(&entry).map_err(write_err)?);
            batch.insert(key, v);
        }
        self.t()?.changes.apply_batch(batch).map_err(write_err)?;
        self.flush_db()
    }

    fn communities(&self) -> Result<Vec<(CommunityId, Vec<u8>)>> {
        self.t()?
            .genesis
            .iter()
            .map(|r| {
                let (k, v) = r.map_err(|e| corrupt(&self.path, e))?;
                Ok((community_of(&k, &self.path)?, v.to_vec()))
            })
            .collect()
    }

    fn changes(&self, community: &CommunityId) -> Result<Vec<StoredChange>> {
        self.t()?
            .changes
            .scan_prefix(community.as_bytes())
            .values()
            .map(|r| {
                let v = r.map_err(|e| corrupt(&self.path, e))?;
                self.decode_entry(&v)
            })
            .collect()
    }

    fn set_joining(
        &mut self,
        community: &CommunityId,
        invitation: Option<Option<&[u8]>>,
    ) -> Result<()> {
        match invitation {
            Some(inv) => {
                let v = postcard::to_allocvec(&inv.map(<[u8]>::to_vec)).map_err(write_err)?;
                self.t()?
                    .joining
                    .insert(community.as_bytes(), v)
                    .map_err(write_err)?;
            }
            None => {
                self.t()?
                    .joining
                    .remove(community.as_bytes())
                    .map_err(write_err)?;
            }
        }
        self.flush_db()
    }

    fn joining(&self) -> Result<Vec<(CommunityId, Option<Vec<u8>>)>> {
        self.t()?
            .joining
            .iter()
            .map(|r| {
                let (k, v) = r.map_err(|e| corrupt(&self.path, e))?;
                let inv: Option<Vec<u8>> =
                    postcard::from_bytes(&v).map_err(|e| corrupt(&self.path, e))?;
                Ok((community_of(&k, &self.path)?, inv))
            })
            .collect()
    }

    fn put_peer(&mut self, peer: &str, addrs: &[String], seen: Timestamp) -> Result<()> {
        for gone in self.book.touch(peer, seen) {
            self.t()?.peers.remove(gone.as_bytes()).map_err(write_err)?;
        }
        if !self.book.contains(peer) {
            return Ok(());
        }
        let last_seen = match self.t()?.peers.get(peer.as_bytes()).map_err(write_err)? {
            Some(v) => self
                .decode_peer(&v)
                .map_or(seen.as_millis(), |e| e.last_seen.max(seen.as_millis())),
            None => seen.as_millis(),
        };
        let entry = PeerEntry {
            last_seen,
            addrs: trim_addrs(addrs),
        };
        let mut v = vec![PEER_VERSION];
        v.extend(postcard::to_allocvec(&entry).map_err(write_err)?);
        self.t()?
            .peers
            .insert(peer.as_bytes(), v)
            .map_err(write_err)?;
        Ok(())
    }

    fn peers(&self) -> Result<Vec<KnownPeer>> {
        self.t()?
            .peers
            .iter()
            .map(|r| {
                let (k, v) = r.map_err(|e| corrupt(&self.path, e))?;
                let e = self.decode_peer(&v)?;
                Ok(KnownPeer {
                    peer: String::from_utf8_lossy(&k).into_owned(),
                    addrs: e.addrs,
                    last_seen: Timestamp::from_millis(e.last_seen),
                })
            })
            .collect()
    }

    fn node_secret(&self) -> [u8; 32] {
        self.book.secret()
    }

    fn recover(&mut self) -> Result<()> {
        // sled keeps the first I/O error of a flush and fails every later write with it: only
        // a fresh open clears it. Close first (the directory is locked while open); what was
        // flushed before is what the fresh open finds. Not while the disk is still full: a
        // failed open can damage the files (see `check_room`).
        check_room(&self.path)?;
        self.trees = None;
        *self = SledStore::open(&self.path)?;
        let t = self.t()?;
        let meta = t.db.open_tree("meta").map_err(write_err)?;
        meta.insert(PROBE_KEY, &rand::random::<[u8; 8]>()[..])
            .map_err(write_err)?;
        t.db.flush().map_err(write_err)?;
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.flush_db()
    }

    fn size_bytes(&self) -> Option<u64> {
        self.trees.as_ref()?.db.size_on_disk().ok()
    }

    fn snapshot(&mut self, dest: &Path) -> Result<()> {
        self.flush_db()?;
        copy_db(&self.t()?.db, dest)
    }
}

/// The schema version of an open database: `None` for a new, empty one; 1 for one written
/// before versions existed. An older one is copied aside first (the migration itself runs
/// in [`SledStore::open`]); a newer one is refused.
fn check_schema(path: &Path, db: &sled::Db) -> Result<Option<u32>> {
    let fresh = db.tree_names().iter().all(|n| n.as_ref() == DEFAULT_TREE);
    if fresh {
        return Ok(None);
    }
    let meta = db.open_tree("meta").map_err(|e| corrupt(path, e))?;
    let found = match meta.get(SCHEMA_KEY).map_err(|e| corrupt(path, e))? {
        None => 1,
        Some(v) => u32::from_be_bytes(
            v.as_ref()
                .try_into()
                .map_err(|_| corrupt(path, "bad schema version"))?,
        ),
    };
    if found > SCHEMA_VERSION {
        return Err(Error::StoreTooNew {
            path: path.display().to_string(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found < SCHEMA_VERSION {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let backup = sibling(path, &format!("v{found}-backup-{stamp}"));
        copy_db(db, &backup).map_err(|e| Error::MigrationFailed {
            path: path.display().to_string(),
            from: found,
            reason: e.to_string(),
        })?;
        tracing::info!(
            from = found,
            to = SCHEMA_VERSION,
            backup = %backup.display(),
            "migrating the store to a newer schema (a copy of the old one is kept)"
        );
    }
    Ok(Some(found))
}

/// `<path>.<suffix>` next to `path`.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "store".into());
    path.with_file_name(format!("{name}.{suffix}"))
}

/// Copy every tree of `db` into a new database at `dest` (which must not exist), flushed on
/// return. The copy is consistent when nothing writes `db` meanwhile.
pub fn copy_db(db: &sled::Db, dest: &Path) -> Result<()> {
    if dest.exists() {
        return Err(Error::io(
            format!("copying the store to {}", dest.display()),
            std::io::Error::new(std::io::ErrorKind::AlreadyExists, "it exists already"),
        ));
    }
    let out = sled::Config::new()
        .path(dest)
        .open()
        .map_err(|e| Error::StoreWrite(format!("{}: {e}", dest.display())))?;
    for name in db.tree_names() {
        let from = db.open_tree(&name).map_err(write_err)?;
        let to = out.open_tree(&name).map_err(write_err)?;
        let mut batch = sled::Batch::default();
        let mut n = 0usize;
        for r in from.iter() {
            let (k, v) = r.map_err(write_err)?;
            batch.insert(k, v);
            n += 1;
            if n.is_multiple_of(COPY_BATCH) {
                to.apply_batch(std::mem::take(&mut batch))
                    .map_err(write_err)?;
            }
        }
        to.apply_batch(batch).map_err(write_err)?;
    }
    out.flush().map_err(write_err)?;
    Ok(())
}

/// What `qun repair` did.
#[derive(Debug, Default, serde::Serialize)]
pub struct RepairReport {
    /// Where the damaged store was moved.
    pub moved_to: String,
    /// Communities salvaged.
    pub communities: usize,
    /// Changes salvaged.
    pub changes: usize,
    /// Entries that could not be read.
    pub lost_entries: usize,
    /// Whether the old store could not be opened at all.
    pub unreadable: bool,
}

/// Move a damaged store aside and copy everything readable into a fresh one. Nothing is
/// deleted: the old directory stays next to the new one. What cannot be read is counted and
/// will be fetched again from peers by sync.
pub fn repair(path: &Path) -> Result<RepairReport> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let aside = path.with_file_name(format!(
        "{}.damaged-{stamp}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    std::fs::rename(path, &aside)
        .map_err(|e| Error::io(format!("moving {} aside", path.display()), e))?;
    let mut report = RepairReport {
        moved_to: aside.display().to_string(),
        ..RepairReport::default()
    };
    let mut fresh = SledStore::open(path)?;
    let old = match sled::Config::new().path(&aside).open() {
        Ok(db) => db,
        Err(_) => {
            report.unreadable = true;
            return Ok(report);
        }
    };
    let (Ok(genesis), Ok(changes), Ok(joining)) = (
        old.open_tree("genesis"),
        old.open_tree("changes"),
        old.open_tree("joining"),
    ) else {
        report.unreadable = true;
        return Ok(report);
    };
    for r in genesis.iter() {
        let Ok((k, v)) = r else {
            report.lost_entries += 1;
            continue;
        };
        let Ok(c) = community_of(&k, path) else {
            report.lost_entries += 1;
            continue;
        };
        fresh.put_genesis(&c, &v)?;
        report.communities += 1;
        let mut good = Vec::new();
        for r in changes.scan_prefix(c.as_bytes()).values() {
            match r
                .map_err(|e| corrupt(path, e))
                .and_then(|v| fresh.decode_entry(&v))
            {
                Ok((doc, wc)) => match qun_crdt::change_hash(&wc.bytes) {
                    Some(hash) => good.push((doc, hash, wc)),
                    None => report.lost_entries += 1,
                },
                Err(_) => report.lost_entries += 1,
            }
        }
        report.changes += good.len();
        fresh.append_changes(&c, &good)?;
    }
    for r in joining.iter() {
        if let Ok((k, v)) = r
            && let (Ok(c), Ok(inv)) = (
                community_of(&k, path),
                postcard::from_bytes::<Option<Vec<u8>>>(&v),
            )
        {
            fresh.set_joining(&c, Some(inv.as_deref()))?;
            continue;
        }
        report.lost_entries += 1;
    }
    Ok(report)
}
