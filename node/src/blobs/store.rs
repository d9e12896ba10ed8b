//! The blob store: one file per blob under `<data dir>/blobs`, named by the hex of its blake3
//! hash, written atomically (a temporary file in `tmp/`, fsync, rename, fsync of the
//! directory), so a crash leaves either the whole verified blob or nothing. Storing bytes that
//! are there already only refreshes the file's time (deduplication; the time is what the
//! garbage collector's grace period reads). Reading verifies the bytes against the name again:
//! a file damaged on disk is removed and reported missing, so it is fetched again rather than
//! served wrong.
//!
//! Without a directory (in-process test nodes) the same store keeps blobs in memory.

use super::BlobLimits;
use crate::error::{Error, Result};
use qun_identity::ContentId;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};
use tracing::warn;

/// How often blobs moved (since start).
#[derive(Debug, Default)]
pub struct BlobCounters {
    /// Blobs served to peers.
    pub served: AtomicU64,
    /// Blobs fetched from peers and verified.
    pub fetched: AtomicU64,
    /// Answers from peers refused: bytes that do not hash to the id, or a size over the limit.
    pub corrupt: AtomicU64,
}

/// One stored blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobInfo {
    /// Its id.
    pub id: ContentId,
    /// Its size, bytes.
    pub size: u64,
    /// When it was last stored (or stored again).
    pub touched: SystemTime,
}

/// What a garbage collection did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GcReport {
    /// Blobs removed.
    pub removed: u64,
    /// Bytes freed.
    pub freed: u64,
    /// Blobs kept (referenced, or within the grace period).
    pub kept: u64,
}

/// Blobs kept in memory: bytes and when they were stored.
type MemoryBlobs = BTreeMap<ContentId, (std::sync::Arc<Vec<u8>>, SystemTime)>;

enum Backend {
    Dir(PathBuf),
    Memory(Mutex<MemoryBlobs>),
}

/// A deduplicating, content-addressed store of blobs (shared by the driver and the HTTP
/// layer; every method is a short blocking file operation).
pub struct BlobStore {
    backend: Backend,
    limits: BlobLimits,
    /// Bytes held (counted at open, then kept up to date).
    used: AtomicU64,
    /// Serializes writes and removals, so the budget check and the count agree.
    write: Mutex<()>,
    /// Transfers with peers.
    pub counters: BlobCounters,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStore")
            .field("dir", &self.dir())
            .field("used", &self.used())
            .finish()
    }
}

fn hex(id: &ContentId) -> String {
    data_encoding::HEXLOWER.encode(id.as_bytes())
}

fn from_hex(name: &str) -> Option<ContentId> {
    let raw = data_encoding::HEXLOWER.decode(name.as_bytes()).ok()?;
    let arr: [u8; 32] = raw.try_into().ok()?;
    Some(ContentId(arr))
}

impl BlobStore {
    /// Open (or create) the store in `dir`, or in memory when `dir` is `None`. Leftovers of
    /// writes interrupted by a crash are removed; the bytes held are counted.
    pub fn open(dir: Option<&Path>, limits: BlobLimits) -> Result<Self> {
        let limits = limits.validated()?;
        let backend = match dir {
            None => Backend::Memory(Mutex::new(BTreeMap::new())),
            Some(d) => {
                let tmp = d.join("tmp");
                if tmp.exists() {
                    std::fs::remove_dir_all(&tmp)
                        .map_err(|e| Error::io(format!("clear {}", tmp.display()), e))?;
                }
                std::fs::create_dir_all(&tmp)
                    .map_err(|e| Error::io(format!("create {}", tmp.display()), e))?;
                Backend::Dir(d.to_path_buf())
            }
        };
        let store = BlobStore {
            backend,
            limits,
            used: AtomicU64::new(0),
            write: Mutex::new(()),
            counters: BlobCounters::default(),
        };
        let used = store.list()?.iter().map(|b| b.size).sum();
        store.used.store(used, Ordering::Relaxed);
        Ok(store)
    }

    /// The directory, if blobs are kept on disk.
    pub fn dir(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Dir(d) => Some(d),
            Backend::Memory(_) => None,
        }
    }

    /// The limits.
    pub fn limits(&self) -> &BlobLimits {
        &self.limits
    }

    /// Bytes held.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    fn path(dir: &Path, id: &ContentId) -> PathBuf {
        let h = hex(id);
        dir.join(&h[..2]).join(h)
    }

    /// Refuse a blob over the size limit (before anything is read or allocated for it).
    pub fn check_size(&self, size: u64) -> Result<()> {
        if size > self.limits.max_blob_bytes {
            return Err(Error::BlobTooLarge {
                limit: self.limits.max_blob_bytes,
                actual: size,
            });
        }
        Ok(())
    }

    /// Store `bytes`; their id. Bytes stored already are not written again (their time is
    /// refreshed).
    pub fn put(&self, bytes: &[u8]) -> Result<ContentId> {
        let id = ContentId::of(bytes);
        self.put_as(id, bytes)?;
        Ok(id)
    }

    /// Store `bytes` fetched as `expected`: refused, and nothing stored, unless they hash to it.
    pub fn put_verified(&self, expected: &ContentId, bytes: &[u8]) -> Result<()> {
        let actual = ContentId::of(bytes);
        if actual != *expected {
            return Err(Error::BlobMismatch {
                expected: expected.to_string(),
                actual: actual.to_string(),
            });
        }
        self.put_as(actual, bytes)
    }

    fn put_as(&self, id: ContentId, bytes: &[u8]) -> Result<()> {
        let size = bytes.len() as u64;
        self.check_size(size)?;
        let _w = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let now = SystemTime::now();
        match &self.backend {
            Backend::Memory(m) => {
                let mut m = m.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(e) = m.get_mut(&id) {
                    e.1 = now;
                    return Ok(());
                }
                self.check_budget(size)?;
                m.insert(id, (std::sync::Arc::new(bytes.to_vec()), now));
            }
            Backend::Dir(dir) => {
                let path = Self::path(dir, &id);
                if path.exists() {
                    // Deduplicated: only the time moves (for the grace period).
                    let f = std::fs::File::options()
                        .append(true)
                        .open(&path)
                        .map_err(|e| Error::io(format!("open {}", path.display()), e))?;
                    let _ = f.set_modified(now);
                    return Ok(());
                }
                self.check_budget(size)?;
                write_atomically(dir, &path, bytes)?;
            }
        }
        self.used.fetch_add(size, Ordering::Relaxed);
        Ok(())
    }

    fn check_budget(&self, size: u64) -> Result<()> {
        let used = self.used();
        if used.saturating_add(size) > self.limits.budget_bytes {
            return Err(Error::BlobBudget {
                budget: self.limits.budget_bytes,
                used,
                size,
            });
        }
        Ok(())
    }

    /// Whether the blob is here (not verified; [`BlobStore::get`] verifies).
    pub fn contains(&self, id: &ContentId) -> bool {
        match &self.backend {
            Backend::Memory(m) => m.lock().unwrap_or_else(|p| p.into_inner()).contains_key(id),
            Backend::Dir(dir) => Self::path(dir, id).is_file(),
        }
    }

    /// The blob's bytes, verified against its id; `None` when it is not here (or was damaged
    /// on disk: then it is removed, so it is fetched again).
    pub fn get(&self, id: &ContentId) -> Result<Option<Vec<u8>>> {
        match &self.backend {
            Backend::Memory(m) => Ok(m
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(id)
                .map(|(b, _)| b.to_vec())),
            Backend::Dir(dir) => {
                let path = Self::path(dir, id);
                let meta = match std::fs::metadata(&path) {
                    Ok(m) => m,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(Error::io(format!("read {}", path.display()), e)),
                };
                // A file larger than any blob is not one of ours: never read it whole.
                let bytes = if meta.len() > self.limits.max_blob_bytes {
                    None
                } else {
                    Some(
                        std::fs::read(&path)
                            .map_err(|e| Error::io(format!("read {}", path.display()), e))?,
                    )
                };
                match bytes {
                    Some(b) if ContentId::of(&b) == *id => Ok(Some(b)),
                    _ => {
                        warn!(blob = %id, "blob damaged on disk; removed (it is fetched again)");
                        self.remove(id)?;
                        Ok(None)
                    }
                }
            }
        }
    }

    /// Remove a blob (nothing happens if it is not here).
    pub fn remove(&self, id: &ContentId) -> Result<()> {
        let _w = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let freed = match &self.backend {
            Backend::Memory(m) => m
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(id)
                .map_or(0, |(b, _)| b.len() as u64),
            Backend::Dir(dir) => {
                let path = Self::path(dir, id);
                match std::fs::metadata(&path) {
                    Ok(meta) => {
                        std::fs::remove_file(&path)
                            .map_err(|e| Error::io(format!("remove {}", path.display()), e))?;
                        meta.len()
                    }
                    Err(_) => 0,
                }
            }
        };
        let _ = self
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
                Some(u.saturating_sub(freed))
            });
        Ok(())
    }

    /// Every blob held, in id order.
    pub fn list(&self) -> Result<Vec<BlobInfo>> {
        match &self.backend {
            Backend::Memory(m) => Ok(m
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .map(|(id, (b, t))| BlobInfo {
                    id: *id,
                    size: b.len() as u64,
                    touched: *t,
                })
                .collect()),
            Backend::Dir(dir) => {
                let mut out = Vec::new();
                let shards = std::fs::read_dir(dir)
                    .map_err(|e| Error::io(format!("list {}", dir.display()), e))?;
                for shard in shards.flatten() {
                    let name = shard.file_name();
                    let name = name.to_string_lossy();
                    if name.len() != 2 || !shard.path().is_dir() {
                        continue;
                    }
                    let Ok(files) = std::fs::read_dir(shard.path()) else {
                        continue;
                    };
                    for f in files.flatten() {
                        let Some(id) = from_hex(&f.file_name().to_string_lossy()) else {
                            continue;
                        };
                        let Ok(meta) = f.metadata() else { continue };
                        out.push(BlobInfo {
                            id,
                            size: meta.len(),
                            touched: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                        });
                    }
                }
                out.sort_by_key(|b| b.id);
                Ok(out)
            }
        }
    }

    /// Remove every blob that `keep` does not name and that was last stored `grace` or more
    /// before `now`.
    pub fn gc(
        &self,
        keep: &BTreeSet<ContentId>,
        grace: Duration,
        now: SystemTime,
    ) -> Result<GcReport> {
        let mut r = GcReport::default();
        for b in self.list()? {
            let old = now.duration_since(b.touched).is_ok_and(|age| age >= grace);
            if keep.contains(&b.id) || !old {
                r.kept += 1;
                continue;
            }
            self.remove(&b.id)?;
            r.removed += 1;
            r.freed += b.size;
        }
        Ok(r)
    }
}

/// Write `bytes` to `path` so that it appears whole or not at all.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |what: &str, p: &Path| {
        let ctx = format!("{what} {}", p.display());
        move |e| Error::io(ctx, e)
    };
    let tmp = dir
        .join("tmp")
        .join(format!("{:016x}", rand::random::<u64>()));
    let parent = path.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent).map_err(io("create", parent))?;
    let mut f = std::fs::File::create(&tmp).map_err(io("create", &tmp))?;
    let written = f
        .write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(io("write", &tmp));
    drop(f);
    if let Err(e) = written.and_then(|_| std::fs::rename(&tmp, path).map_err(io("rename", &tmp))) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    if let Ok(d) = std::fs::File::open(parent) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> BlobLimits {
        BlobLimits {
            max_blob_bytes: 1024,
            budget_bytes: 3000,
            ..Default::default()
        }
    }

    fn stores(dir: &Path) -> Vec<BlobStore> {
        vec![
            BlobStore::open(Some(&dir.join("blobs")), limits()).unwrap(),
            BlobStore::open(None, limits()).unwrap(),
        ]
    }

    #[test]
    fn stores_deduplicates_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        for s in stores(dir.path()) {
            let id = s.put(b"hello").unwrap();
            assert_eq!(id, ContentId::of(b"hello"));
            assert_eq!(s.put(b"hello").unwrap(), id);
            assert_eq!(s.used(), 5);
            assert_eq!(s.list().unwrap().len(), 1);
            assert_eq!(s.get(&id).unwrap().unwrap(), b"hello");
            assert!(s.get(&ContentId::of(b"other")).unwrap().is_none());
        }
        // The count survives a reopen; a half-written file from a crash is gone.
        let blobs = dir.path().join("blobs");
        std::fs::write(blobs.join("tmp").join("partial"), b"hel").unwrap();
        let s = BlobStore::open(Some(&blobs), limits()).unwrap();
        assert_eq!(s.used(), 5);
        assert!(!blobs.join("tmp").join("partial").exists());
    }

    #[test]
    fn over_the_limit_or_budget_or_the_wrong_bytes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for s in stores(dir.path()) {
            assert!(matches!(
                s.put(&[0; 1025]),
                Err(Error::BlobTooLarge {
                    limit: 1024,
                    actual: 1025
                })
            ));
            for i in 0..2u8 {
                s.put(&[i; 1000]).unwrap();
            }
            assert!(matches!(s.put(&[9; 1001]), Err(Error::BlobBudget { .. })));
            let id = ContentId::of(b"right");
            assert!(matches!(
                s.put_verified(&id, b"wrong"),
                Err(Error::BlobMismatch { .. })
            ));
            assert!(!s.contains(&id));
            s.put_verified(&id, b"right").unwrap();
            assert!(s.contains(&id));
        }
    }

    #[test]
    fn a_blob_damaged_on_disk_is_not_served() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = dir.path().join("blobs");
        let s = BlobStore::open(Some(&blobs), limits()).unwrap();
        let id = s.put(b"precious").unwrap();
        let h = hex(&id);
        std::fs::write(blobs.join(&h[..2]).join(&h), b"precioux").unwrap();
        assert!(s.get(&id).unwrap().is_none());
        assert!(!s.contains(&id));
        assert_eq!(s.used(), 0);
    }

    #[test]
    fn gc_removes_only_old_unreferenced_blobs() {
        let dir = tempfile::tempdir().unwrap();
        for s in stores(dir.path()) {
            let kept = s.put(b"referenced").unwrap();
            let old = s.put(b"orphan").unwrap();
            let grace = Duration::from_secs(3600);
            // Young orphans stay.
            let r = s.gc(&[kept].into(), grace, SystemTime::now()).unwrap();
            assert_eq!(r.removed, 0);
            let later = SystemTime::now() + Duration::from_secs(7200);
            let r = s.gc(&[kept].into(), grace, later).unwrap();
            assert_eq!(
                r,
                GcReport {
                    removed: 1,
                    freed: 6,
                    kept: 1
                }
            );
            assert!(s.contains(&kept) && !s.contains(&old));
            assert_eq!(s.used(), 10);
        }
    }
}
