//! Browser sessions that outlive a browser restart and a node restart: each session's blake3
//! hash (never the session id itself) and its expiry, kept in `sessions.json` in the data
//! directory (0600, replaced atomically). The member chooses how long a browser stays logged
//! in; logging out ends one session, or all of them.
//!
//! A damaged or unreadable file loses nothing but the sessions (each browser logs in again with
//! `qun login`): it is set aside as `sessions.json.damaged` and a warning is logged.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Most live sessions; beyond this, the one expiring first is dropped.
pub const MAX_SESSIONS: usize = 64;

/// How long a browser stays logged in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lifetime {
    /// Until the browser is closed (a cookie without an expiry; the node forgets the session
    /// after [`BROWSER_SESSION_DAYS`] days whatever the browser does).
    Browser,
    /// This many days.
    Days(u16),
}

/// How long the node keeps a session whose cookie ends with the browser.
pub const BROWSER_SESSION_DAYS: u16 = 1;
/// The lifetime of a new login.
pub const DEFAULT_LIFETIME: Lifetime = Lifetime::Days(30);
/// The lifetimes a member may choose (days), besides [`Lifetime::Browser`].
pub const CHOICES: [u16; 4] = [1, 7, 30, 90];

impl Lifetime {
    /// From a form value: `browser` or a number of days in [`CHOICES`].
    pub fn parse(s: &str) -> Option<Lifetime> {
        match s.trim() {
            "browser" => Some(Lifetime::Browser),
            d => d
                .parse::<u16>()
                .ok()
                .filter(|d| CHOICES.contains(d))
                .map(Lifetime::Days),
        }
    }

    /// The form value.
    pub fn value(self) -> String {
        match self {
            Lifetime::Browser => "browser".into(),
            Lifetime::Days(d) => d.to_string(),
        }
    }

    /// How long the node keeps the session, in ms.
    pub fn keep_ms(self) -> u64 {
        let days = match self {
            Lifetime::Browser => BROWSER_SESSION_DAYS,
            Lifetime::Days(d) => d,
        };
        u64::from(days) * 86_400_000
    }

    /// The cookie's `Max-Age` (seconds), or `None` for a cookie that ends with the browser.
    pub fn max_age(self) -> Option<u64> {
        match self {
            Lifetime::Browser => None,
            Lifetime::Days(_) => Some(self.keep_ms() / 1000),
        }
    }
}

/// One session as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// When it ends (Unix ms).
    pub expires_ms: u64,
    /// What the member chose.
    pub lifetime: Lifetime,
}

#[derive(Serialize, Deserialize, Default)]
struct File {
    version: u32,
    /// blake3(session id), hex → entry.
    sessions: BTreeMap<String, Entry>,
}

/// The live sessions.
#[derive(Default)]
pub struct Sessions {
    by_hash: BTreeMap<String, Entry>,
    file: Option<PathBuf>,
}

fn hash(id: &str) -> String {
    blake3::hash(id.as_bytes()).to_hex().to_string()
}

impl Sessions {
    /// Sessions kept only in memory (they end when the node stops).
    pub fn in_memory() -> Sessions {
        Sessions::default()
    }

    /// Sessions kept in `path`, loaded now (expired ones dropped).
    pub fn load(path: &Path, now_ms: u64) -> Sessions {
        let mut s = Sessions {
            by_hash: BTreeMap::new(),
            file: Some(path.to_path_buf()),
        };
        match std::fs::read(path) {
            Ok(bytes) => match serde_json::from_slice::<File>(&bytes) {
                Ok(f) if f.version == 1 => {
                    s.by_hash = f
                        .sessions
                        .into_iter()
                        .filter(|(h, e)| e.expires_ms > now_ms && h.len() == 64)
                        .collect();
                }
                Ok(f) => set_aside(path, &format!("unknown version {}", f.version)),
                Err(e) => set_aside(path, &e.to_string()),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(
                "cannot read {}: {e}; browsers log in again with `qun login`",
                path.display()
            ),
        }
        s
    }

    /// Start a session for `id`.
    pub fn insert(&mut self, id: &str, lifetime: Lifetime, now_ms: u64) {
        self.by_hash.retain(|_, e| e.expires_ms > now_ms);
        while self.by_hash.len() >= MAX_SESSIONS {
            let first = self
                .by_hash
                .iter()
                .min_by_key(|(_, e)| e.expires_ms)
                .map(|(h, _)| h.clone());
            match first {
                Some(h) => self.by_hash.remove(&h),
                None => break,
            };
        }
        self.by_hash.insert(
            hash(id),
            Entry {
                expires_ms: now_ms.saturating_add(lifetime.keep_ms()),
                lifetime,
            },
        );
        self.save();
    }

    /// The session's entry while it lasts.
    pub fn get(&self, id: &str, now_ms: u64) -> Option<&Entry> {
        self.by_hash
            .get(&hash(id))
            .filter(|e| e.expires_ms > now_ms)
    }

    /// Change how long a live session lasts (from now); false when it is not live.
    pub fn set_lifetime(&mut self, id: &str, lifetime: Lifetime, now_ms: u64) -> bool {
        let Some(e) = self
            .by_hash
            .get_mut(&hash(id))
            .filter(|e| e.expires_ms > now_ms)
        else {
            return false;
        };
        *e = Entry {
            expires_ms: now_ms.saturating_add(lifetime.keep_ms()),
            lifetime,
        };
        self.save();
        true
    }

    /// End one session.
    pub fn remove(&mut self, id: &str) {
        if self.by_hash.remove(&hash(id)).is_some() {
            self.save();
        }
    }

    /// End every session.
    pub fn clear(&mut self) {
        self.by_hash.clear();
        self.save();
    }

    /// How many are live.
    pub fn len(&self, now_ms: u64) -> usize {
        self.by_hash
            .values()
            .filter(|e| e.expires_ms > now_ms)
            .count()
    }

    fn save(&self) {
        let Some(path) = &self.file else { return };
        let f = File {
            version: 1,
            sessions: self.by_hash.clone(),
        };
        let write = || -> std::io::Result<()> {
            let bytes = serde_json::to_vec_pretty(&f).map_err(std::io::Error::other)?;
            super::files::write_private(path, &bytes)
        };
        if let Err(e) = write() {
            tracing::warn!(
                "cannot save browser sessions to {}: {e}; they last until the node stops",
                path.display()
            );
        }
    }
}

fn set_aside(path: &Path, why: &str) {
    super::files::set_aside(path, why, "browsers log in again with `qun login`");
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400_000;

    #[test]
    fn survive_a_restart_and_expire() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sessions.json");
        let mut s = Sessions::load(&path, 0);
        s.insert("alpha", Lifetime::Days(7), 1_000);
        s.insert("beta", Lifetime::Browser, 1_000);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("alpha"), "only hashes are stored: {text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let s = Sessions::load(&path, 2 * DAY);
        assert!(s.get("alpha", 2 * DAY).is_some());
        assert!(
            s.get("beta", 2 * DAY).is_none(),
            "a browser session lasts a day"
        );
        assert!(s.get("alpha", 7 * DAY + 1_000).is_none());
        assert!(s.get("gamma", 0).is_none());
    }

    #[test]
    fn lifetime_logout_and_bound() {
        let mut s = Sessions::in_memory();
        s.insert("a", DEFAULT_LIFETIME, 0);
        assert!(s.set_lifetime("a", Lifetime::Days(90), DAY));
        assert_eq!(s.get("a", DAY).unwrap().expires_ms, 91 * DAY);
        assert!(!s.set_lifetime("nope", Lifetime::Days(1), 0));
        s.remove("a");
        assert!(s.get("a", DAY).is_none());
        for i in 0..(MAX_SESSIONS + 5) {
            s.insert(&i.to_string(), Lifetime::Days(1), i as u64);
        }
        assert_eq!(s.len(0), MAX_SESSIONS);
        assert!(s.get("0", 10).is_none(), "the one ending first went");
        s.clear();
        assert_eq!(s.len(0), 0);
    }

    #[test]
    fn a_damaged_file_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sessions.json");
        std::fs::write(&path, b"{not json").unwrap();
        let s = Sessions::load(&path, 0);
        assert_eq!(s.len(0), 0);
        assert!(dir.path().join("sessions.json.damaged").exists());
    }

    #[test]
    fn lifetimes_from_forms() {
        assert_eq!(Lifetime::parse("browser"), Some(Lifetime::Browser));
        assert_eq!(Lifetime::parse("30"), Some(Lifetime::Days(30)));
        assert_eq!(Lifetime::parse("31"), None);
        assert_eq!(Lifetime::parse("99999999"), None);
        assert_eq!(Lifetime::Browser.max_age(), None);
        assert_eq!(Lifetime::Days(1).max_age(), Some(86_400));
    }
}
