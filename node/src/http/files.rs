//! Small files the HTTP layer keeps in the data directory (`sessions.json`, `prefs.json`):
//! written privately (0600) and atomically (a temporary file, synced, then renamed), and a
//! damaged one set aside rather than deleted.

use std::path::Path;

/// Write `bytes` to `path`, readable by this user only, replacing it atomically.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("json.tmp");
    {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        let mut f = o.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// Move a damaged `path` aside (`….damaged`), saying why and what that costs.
pub fn set_aside(path: &Path, why: &str, cost: &str) {
    let aside = path.with_extension("json.damaged");
    tracing::warn!(
        "{} is damaged ({why}): set aside as {}; {cost}",
        path.display(),
        aside.display()
    );
    if let Err(e) = std::fs::rename(path, &aside) {
        tracing::warn!("cannot set {} aside: {e}", path.display());
    }
}
