//! The node's keys: create or open `identity.key`.
//!
//! A fresh identity is a member root key and a separate device key certified by the root
//! (all capabilities, no expiry). The node signs with the device key; the root key signs
//! community geneses, invitations and endorsements, and can certify more devices. The backup
//! phrase (`qun init` prints it) restores the root; showing it again needs the keyfile's
//! passphrase typed again, or a confirmation for an unencrypted keyfile
//! ([`check_phrase_request`]).
//!
//! Passphrase: `QUN_PASSPHRASE`, else a prompt on a terminal; `--no-passphrase` stores the file
//! unencrypted (tests, headless nodes). `QUN_KEYGEN_SEED=<n>` makes key generation
//! deterministic for tests and transcripts — only in builds with debug assertions (what
//! `cargo test` and `cargo build` make, and what the integration tests run as the `qun`
//! binary); a release build ignores it and says so on stderr, so a stray variable can never
//! give a real node keys anyone could recompute.

use crate::error::{Error, Result};
use qun_identity::keyfile::{KdfParams, KeyBundle, Protection};
use qun_identity::{Capabilities, DeviceCert, SecretIdentity, Signed, Timestamp};
use std::path::Path;

/// Environment variable with the keyfile passphrase.
pub const PASSPHRASE_ENV: &str = "QUN_PASSPHRASE";
/// Name of the systemd credential holding the passphrase (`LoadCredential=qun-passphrase:…`),
/// read from `$CREDENTIALS_DIRECTORY`.
pub const PASSPHRASE_CREDENTIAL: &str = "qun-passphrase";

/// The passphrase from a file (`--passphrase-file`), else from systemd's credential
/// [`PASSPHRASE_CREDENTIAL`] when `$CREDENTIALS_DIRECTORY` holds one; `None` when neither is
/// there (then `QUN_PASSPHRASE` or a prompt). The first line of the file is the passphrase.
pub fn passphrase_from_files(file: Option<&Path>) -> Result<Option<String>> {
    let credential = std::env::var_os("CREDENTIALS_DIRECTORY")
        .map(|d| Path::new(&d).join(PASSPHRASE_CREDENTIAL))
        .filter(|p| p.exists());
    let Some(path) = file.map(Path::to_path_buf).or(credential) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::io(format!("reading the passphrase from {}", path.display()), e))?;
    let line = text.lines().next().unwrap_or("").to_string();
    if line.is_empty() {
        return Err(Error::Config(format!(
            "{}: the passphrase file is empty",
            path.display()
        )));
    }
    Ok(Some(line))
}
/// Environment variable making key generation deterministic (tests only; honoured only when
/// [`KEYGEN_SEED_HONOURED`]).
pub const KEYGEN_SEED_ENV: &str = "QUN_KEYGEN_SEED";
/// Whether this build honours [`KEYGEN_SEED_ENV`]: with debug assertions (test and dev
/// builds) only, never in a release build.
pub const KEYGEN_SEED_HONOURED: bool = cfg!(debug_assertions);

/// The seed to generate keys from, given the variable's value and whether this build honours
/// it, and a warning for stderr: a release build ignores the variable (and warns); a debug
/// build uses it (and warns that the keys are not secret).
pub fn keygen_seed(value: Option<&str>, honoured: bool) -> (Option<String>, Option<String>) {
    match value {
        Some(v) if !v.is_empty() && honoured => (
            Some(v.to_string()),
            Some(format!(
                "{KEYGEN_SEED_ENV} is set: deterministic keys anyone can recompute (for tests only)"
            )),
        ),
        Some(v) if !v.is_empty() => (
            None,
            Some(format!(
                "{KEYGEN_SEED_ENV} is ignored in release builds: generating random keys"
            )),
        ),
        _ => (None, None),
    }
}

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
    let value = std::env::var(KEYGEN_SEED_ENV).ok();
    let (seed, warning) = keygen_seed(value.as_deref(), KEYGEN_SEED_HONOURED);
    if let Some(w) = warning {
        eprintln!("warning: {w}");
    }
    let (root, device) = match seed {
        Some(seed) => (seeded(&seed, "root"), seeded(&seed, "device")),
        None => (SecretIdentity::generate()?, SecretIdentity::generate()?),
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

/// What the user gave to see the backup phrase: the keyfile's passphrase typed again, or —
/// for a keyfile with no passphrase — an explicit confirmation.
#[derive(Clone, Debug, Default)]
pub struct PhraseRequest {
    /// The passphrase, typed again (not taken from `QUN_PASSPHRASE`).
    pub passphrase: Option<String>,
    /// "Show it although the keyfile has no passphrase."
    pub confirm_unencrypted: bool,
}

pub use crate::error::PhraseRefusal;

/// Check a request to see the backup phrase against the keyfile at `path` (`None`: the keys
/// live in memory only, treated like an unencrypted keyfile). An encrypted keyfile needs its
/// passphrase (a wrong one is refused after the full key derivation, so guessing costs as much
/// as against the file); an unencrypted one needs the confirmation. Returns the bundle read
/// from the file, if any.
pub fn check_phrase_request(path: Option<&Path>, req: &PhraseRequest) -> Result<Option<KeyBundle>> {
    let refused = |r| Err(Error::PhraseRefused(r));
    let Some(path) = path else {
        return if req.confirm_unencrypted {
            Ok(None)
        } else {
            refused(PhraseRefusal::ConfirmationNeeded)
        };
    };
    let bytes = qun_identity::keyfile::read(path)?;
    if !qun_identity::keyfile::is_encrypted(&bytes)? {
        if !req.confirm_unencrypted {
            return refused(PhraseRefusal::ConfirmationNeeded);
        }
        return Ok(Some(KeyBundle::open(&bytes, None)?));
    }
    let pass = match req.passphrase.as_deref() {
        Some(p) if !p.is_empty() => p,
        _ => return refused(PhraseRefusal::PassphraseNeeded),
    };
    match KeyBundle::open(&bytes, Some(pass)) {
        Ok(b) => Ok(Some(b)),
        Err(qun_identity::Error::WrongPassphrase) => refused(PhraseRefusal::WrongPassphrase),
        Err(e) => Err(e.into()),
    }
}

/// Whether the keyfile at `path` is encrypted (`None` if it cannot be read).
pub fn is_encrypted(path: &Path) -> Option<bool> {
    let bytes = qun_identity::keyfile::read(path).ok()?;
    qun_identity::keyfile::is_encrypted(&bytes).ok()
}

/// The backup phrase of a root key (24 words).
pub fn phrase_of(root: &SecretIdentity) -> String {
    qun_identity::phrase::to_phrase(root).as_str().to_string()
}

#[cfg(test)]
mod keygen_tests {
    use super::*;

    #[test]
    fn a_release_build_ignores_the_seed() {
        let (seed, warning) = keygen_seed(Some("transcript"), false);
        assert_eq!(seed, None);
        assert!(warning.unwrap().contains("ignored in release builds"));
    }

    #[test]
    fn a_debug_build_uses_it_and_warns() {
        let (seed, warning) = keygen_seed(Some("transcript"), true);
        assert_eq!(seed.as_deref(), Some("transcript"));
        assert!(warning.unwrap().contains("deterministic"));
        // Same seed, same keys: what the transcripts rely on.
        assert_eq!(
            seeded("transcript", "root").member_id(),
            seeded("transcript", "root").member_id()
        );
        assert_ne!(
            seeded("transcript", "root").member_id(),
            seeded("transcript", "device").member_id()
        );
    }

    #[test]
    fn unset_or_empty_is_random_without_a_word() {
        for honoured in [true, false] {
            assert_eq!(keygen_seed(None, honoured), (None, None));
            assert_eq!(keygen_seed(Some(""), honoured), (None, None));
        }
    }
}

#[cfg(test)]
mod phrase_tests {
    use super::*;
    use qun_identity::keyfile::{KdfParams, Protection};

    fn keyfile(dir: &Path, pass: Option<&str>) -> std::path::PathBuf {
        let root = SecretIdentity::from_seed(&[1; 32]);
        let device = SecretIdentity::from_seed(&[2; 32]);
        let b = bundle_for(root, device, Timestamp::from_millis(1_700_000_000_000)).unwrap();
        let path = dir.join(if pass.is_some() {
            "sealed.key"
        } else {
            "open.key"
        });
        let protection = match pass {
            Some(p) => Protection::Passphrase(p, KdfParams::INSECURE_FAST),
            None => Protection::Unencrypted,
        };
        b.save(&path, protection).unwrap();
        path
    }

    fn ask(pass: Option<&str>, confirm: bool) -> PhraseRequest {
        PhraseRequest {
            passphrase: pass.map(str::to_string),
            confirm_unencrypted: confirm,
        }
    }

    #[test]
    fn an_encrypted_keyfile_needs_its_passphrase_again() {
        let dir = tempfile::tempdir().unwrap();
        let sealed = keyfile(dir.path(), Some("correct horse"));
        let ok = check_phrase_request(Some(&sealed), &ask(Some("correct horse"), false));
        let root = ok.unwrap().unwrap().root.unwrap();
        assert_eq!(
            phrase_of(&root),
            phrase_of(&SecretIdentity::from_seed(&[1; 32]))
        );
        assert!(matches!(
            check_phrase_request(Some(&sealed), &ask(Some("wrong"), false)),
            Err(Error::PhraseRefused(PhraseRefusal::WrongPassphrase))
        ));
        for missing in [ask(None, false), ask(Some(""), false), ask(None, true)] {
            assert!(matches!(
                check_phrase_request(Some(&sealed), &missing),
                Err(Error::PhraseRefused(PhraseRefusal::PassphraseNeeded))
            ));
        }
        assert_eq!(is_encrypted(&sealed), Some(true));
    }

    #[test]
    fn an_unencrypted_keyfile_needs_a_confirmation() {
        let dir = tempfile::tempdir().unwrap();
        let open = keyfile(dir.path(), None);
        for unconfirmed in [ask(None, false), ask(Some("anything"), false)] {
            assert!(matches!(
                check_phrase_request(Some(&open), &unconfirmed),
                Err(Error::PhraseRefused(PhraseRefusal::ConfirmationNeeded))
            ));
            assert!(matches!(
                check_phrase_request(None, &unconfirmed),
                Err(Error::PhraseRefused(PhraseRefusal::ConfirmationNeeded))
            ));
        }
        assert!(
            check_phrase_request(Some(&open), &ask(None, true))
                .unwrap()
                .is_some()
        );
        assert!(
            check_phrase_request(None, &ask(None, true))
                .unwrap()
                .is_none()
        );
        assert_eq!(is_encrypted(&open), Some(false));
    }
}
