//! `qun backup` (over the running node's API) and `qun restore` (on a data directory).

use super::client::Client;
use super::output::{CliError, ExitCode, json};
use super::{BackupArgs, RestoreArgs};
use crate::backup::{self, Manifest};
use crate::config::DataDir;

/// `qun backup OUT`: the running node writes the backup (so its driver can copy the store
/// consistently).
pub fn backup(c: &Client, args: &BackupArgs, js: bool) -> Result<(), CliError> {
    let out = std::path::absolute(&args.out).map_err(|e| {
        CliError::new(
            ExitCode::Error,
            format!("{}: {e}", args.out.display()),
            "give a directory path",
        )
    })?;
    let m: Manifest = c.post("/api/v1/backup", &serde_json::json!({ "out": out }))?;
    if js {
        json(&m);
    } else {
        let bytes: u64 = m.files.iter().map(|f| f.bytes).sum();
        crate::say!(
            "backup written to {} ({} files, {bytes} bytes)",
            out.display(),
            m.files.len()
        );
        crate::say!("  member   {}", m.member);
        crate::say!("  peer id  {}", m.peer_id);
        if !m.identity_sealed {
            crate::say!(
                "  warning: identity.key has no passphrase: whoever reads this backup can act as you"
            );
        }
        crate::say!(
            "restore it with: qun restore {} --data-dir <new dir>",
            out.display()
        );
    }
    Ok(())
}

/// `qun restore IN`.
pub fn restore(dir: &DataDir, args: &RestoreArgs, js: bool) -> Result<(), CliError> {
    if dir.api_info().exists() {
        return Err(CliError::new(
            ExitCode::Refused,
            "a node seems to be running in this data directory",
            "restore into a new, empty --data-dir",
        ));
    }
    let m = backup::restore(&args.backup, dir)?;
    if js {
        json(&m);
    } else {
        crate::say!("restored {} into {}", m.member, dir.root().display());
        crate::say!(
            "start it with `qun up`: it catches up with its peers before it writes again (so it never reuses a sequence number)"
        );
        crate::say!(
            "only if this backup is the only copy of this node anywhere: `qun up --i-know-this-is-the-only-copy`"
        );
    }
    Ok(())
}
