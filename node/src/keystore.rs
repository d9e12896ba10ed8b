//! The node's keys: create or open `identity.key`.
//!
//! A fresh identity is a member root key and a separate device key certified by the root
//! (all capabilities, no expiry). The node signs with the device key; the root key signs
//! community geneses, invitations and endorsements, and can certify more devices. The backup
//! phrase (`qun init` prints it) restores the root.
//!
//! Passphrase: `QUN_PASSPHRASE`, else a prompt on a terminal; `--no-passphrase` stores the file
//! unencrypted (tests, headless nodes). `QUN_KEYGEN_SEED=<n>` makes key generation
//! deterministic for tests and transcripts.

use crate::error::{Error, Result};
use qun_identity::keyfile::{KdfParams, KeyBundle, Protection};
use qun_identity::{Capabilities, DeviceCert, SecretIdentity, Signed, Timestamp};
use std::path::Path;

/// Environment variable with the keyfile passphrase.
pub const PASSPHRASE_ENV: &str = "QUN_PASSPHRASE";
/// Environment variable making key generation deterministic (tests only).
pub const KEYGEN_SEED_ENV: &str = "QUN_KEYGEN_SEED";

/// How the keyfile is protected.
#[derive(Clone, Debug)]
pub enum Passphrase {
    /// Encrypt with this passphrase.
    Given(String),
    /// Store unencrypted.
    None,
}

fn seeded(seed: &str, role: &str) -> SecretIdentity {
    let h = blake3::hash(format!("qun-keygen-{seed}-{role}").as_bytes());
    SecretIdentity::from_seed(h.as_bytes())
}

/// A fresh key bundle: root, device, and the root's certificate for the device.
pub fn generate(now: Timestamp) -> Result<KeyBundle> {
    let (root, device) = match std::env::var(KEYGEN_SEED_ENV) {
        Ok(seed) if !seed.is_empty() => (seeded(&seed, "root"), seeded(&seed, "device")),
        _ => (SecretIdentity::generate()?, SecretIdentity::generate()?),
    };
    bundle_for(root, device, now)
}

/// A bundle for a root key (e.g. restored from a backup phrase) with a new device.
pub fn bundle_for(
    root: SecretIdentity,
    device: SecretIdentity,
    now: Timestamp,
) -> Result<KeyBundle> {
    let cert = DeviceCert {
        member: root.member_id(),
        device: device.device_id(),
        capabilities: Capabilities::ALL,
        label: hostname(),
        not_before: Timestamp::from_millis(now.as_millis().saturating_sub(60_000)),
        expires: None,
    };
    let cert = Signed::sign(&root, cert)?.to_bytes();
    Ok(KeyBundle {
        root: Some(root),
        device,
        device_cert: Some(cert),
    })
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().chars().take(60).collect())
        .unwrap_or_else(|_| "device".into())
}

/// Save a bundle.
pub fn save(path: &Path, bundle: &KeyBundle, pass: &Passphrase) -> Result<()> {
    let protection = match pass {
        Passphrase::Given(p) => Protection::Passphrase(p, KdfParams::RECOMMENDED),
        Passphrase::None => Protection::Unencrypted,
    };
    bundle.save(path, protection)?;
    Ok(())
}

/// Open the keyfile, asking for the passphrase if it is encrypted and none was given.
pub fn open(path: &Path, pass: Option<&str>) -> Result<KeyBundle> {
    let bytes = qun_identity::keyfile::read(path)?;
    if !qun_identity::keyfile::is_encrypted(&bytes)? {
        return Ok(KeyBundle::open(&bytes, None)?);
    }
    let pass = match pass {
        Some(p) => p.to_string(),
        None => match std::env::var(PASSPHRASE_ENV) {
            Ok(p) => p,
            Err(_) => rpassword::prompt_password("passphrase for identity.key: ").map_err(|e| {
                Error::io(
                    "reading the passphrase (set QUN_PASSPHRASE when there is no terminal)",
                    e,
                )
            })?,
        },
    };
    Ok(KeyBundle::open(&bytes, Some(&pass))?)
}
