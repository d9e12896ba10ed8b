//! What this member's browser pages remember on this node, outside any community: which
//! notifications were read, and petnames (the names this member gives others, seen only
//! here). Kept in `prefs.json` in the data directory (0600, replaced
//! atomically); a damaged file is set aside and starts empty (nothing but read marks is lost).

use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Most notification ids remembered as read (the oldest are forgotten first; notifications
/// are bounded too, so an old one forgotten is one no longer shown).
pub const MAX_READ: usize = 4096;

#[derive(Serialize, Deserialize, Default)]
struct Data {
    version: u32,
    /// Read notification ids, oldest first.
    read: VecDeque<String>,
    /// Member id → the name this member gives them.
    #[serde(default)]
    petnames: std::collections::BTreeMap<String, String>,
}

/// Most petnames kept.
pub const MAX_PETNAMES: usize = 10_000;
/// Longest petname (characters).
pub const MAX_PETNAME_CHARS: usize = 64;

/// The node's page preferences.
pub struct Prefs {
    data: Mutex<(Data, BTreeSet<String>)>,
    file: Option<PathBuf>,
}

impl Prefs {
    /// Kept in memory only.
    pub fn in_memory() -> Prefs {
        Prefs {
            data: Mutex::new((Data::default(), BTreeSet::new())),
            file: None,
        }
    }

    /// Kept in `path` (loaded now).
    pub fn load(path: &Path) -> Prefs {
        let data = match std::fs::read(path) {
            Ok(b) => match serde_json::from_slice::<Data>(&b) {
                Ok(d) if d.version == 1 => d,
                Ok(d) => {
                    set_aside(path, &format!("unknown version {}", d.version));
                    Data::default()
                }
                Err(e) => {
                    set_aside(path, &e.to_string());
                    Data::default()
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Data::default(),
            Err(e) => {
                tracing::warn!("cannot read {}: {e}", path.display());
                Data::default()
            }
        };
        let set = data.read.iter().cloned().collect();
        Prefs {
            data: Mutex::new((data, set)),
            file: Some(path.to_path_buf()),
        }
    }

    /// Whether notification `id` was marked read.
    pub fn is_read(&self, id: &str) -> bool {
        self.data.lock().is_ok_and(|d| d.1.contains(id))
    }

    /// Mark notifications read.
    pub fn mark_read<'a>(&self, ids: impl IntoIterator<Item = &'a str>) {
        let Ok(mut g) = self.data.lock() else { return };
        let (data, set) = &mut *g;
        let mut changed = false;
        for id in ids {
            if id.len() > 64 || !set.insert(id.to_string()) {
                continue;
            }
            data.read.push_back(id.to_string());
            changed = true;
        }
        while data.read.len() > MAX_READ {
            if let Some(old) = data.read.pop_front() {
                set.remove(&old);
            }
        }
        if changed {
            data.version = 1;
            self.save(data);
        }
    }

    /// The petnames this member gave (member id → name).
    pub fn petnames(&self) -> std::collections::BTreeMap<String, String> {
        self.data
            .lock()
            .map(|d| d.0.petnames.clone())
            .unwrap_or_default()
    }

    /// Give `member` a petname (trimmed, at most [`MAX_PETNAME_CHARS`]); an empty one removes
    /// it. False when the list is full.
    pub fn set_petname(&self, member: &str, name: &str) -> bool {
        let Ok(mut g) = self.data.lock() else {
            return false;
        };
        let (data, _) = &mut *g;
        let name: String = name.trim().chars().take(MAX_PETNAME_CHARS).collect();
        if name.is_empty() {
            data.petnames.remove(member);
        } else if data.petnames.len() >= MAX_PETNAMES && !data.petnames.contains_key(member) {
            return false;
        } else {
            data.petnames.insert(member.to_string(), name);
        }
        data.version = 1;
        self.save(data);
        true
    }

    fn save(&self, data: &Data) {
        let Some(path) = &self.file else { return };
        let write = || -> std::io::Result<()> {
            let bytes = serde_json::to_vec(data).map_err(std::io::Error::other)?;
            super::files::write_private(path, &bytes)
        };
        if let Err(e) = write() {
            tracing::warn!("cannot save {}: {e}", path.display());
        }
    }
}

fn set_aside(path: &Path, why: &str) {
    super::files::set_aside(path, why, "notifications show as unread again");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_marks_survive_a_restart_and_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prefs.json");
        let p = Prefs::load(&path);
        p.mark_read(["a", "b"]);
        assert!(p.is_read("a") && !p.is_read("c"));
        let p = Prefs::load(&path);
        assert!(p.is_read("b"), "kept across a restart");
        let many: Vec<String> = (0..MAX_READ + 10).map(|i| i.to_string()).collect();
        p.mark_read(many.iter().map(String::as_str));
        assert!(!p.is_read("a"), "the oldest forgotten first");
        assert!(p.is_read(&(MAX_READ + 9).to_string()));
        p.mark_read([&*"x".repeat(65)]);
        assert!(!p.is_read(&"x".repeat(65)), "not an id");
        assert!(p.set_petname("z6Mkabc", "  Aunt Bea  "));
        assert_eq!(Prefs::load(&path).petnames()["z6Mkabc"], "Aunt Bea");
        p.set_petname("z6Mkabc", "");
        assert!(p.petnames().is_empty());
        std::fs::write(&path, b"garbage").unwrap();
        let p = Prefs::load(&path);
        assert!(!p.is_read("b"));
        assert!(dir.path().join("prefs.json.damaged").exists());
    }
}
