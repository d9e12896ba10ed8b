//! Keyfiles: a node's secret keys at rest, sealed with a passphrase.
//!
//! Key derivation is Argon2id (RFC 9106) with parameters stored in the file; encryption is
//! XChaCha20-Poly1305 with a random 24-byte nonce and the file header as associated data. A
//! blake3 checksum of the whole file, outside the encryption, tells a damaged file
//! ([`Error::CorruptKeyfile`]) apart from a wrong passphrase ([`Error::WrongPassphrase`]).
//! An explicitly chosen unencrypted mode exists for tests and headless nodes.
//!
//! Layout (integers little-endian):
//!
//! ```text
//! magic "QUNKEY" 0x00 0x01 | mode u8 | mode 1: m_cost u32, t_cost u32, p_cost u32,
//!   salt [16], nonce [24], len u32, ciphertext | mode 0: len u32, plaintext | blake3 [32]
//! ```
//!
//! Files are written atomically (temporary file, fsync, rename, fsync of the directory) with
//! mode 0600 on Unix.

use crate::envelope::Signed;
use crate::error::{Error, Result};
use crate::{DeviceCert, SecretIdentity, Timestamp, canonical};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use std::path::Path;
use zeroize::{Zeroize, Zeroizing};

const MAGIC: &[u8; 8] = b"QUNKEY\x00\x01";
const MODE_PLAIN: u8 = 0;
const MODE_ARGON2_XCHACHA: u8 = 1;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const CHECKSUM_LEN: usize = 32;
/// Largest plaintext a keyfile holds (a bundle is ~200 bytes).
const MAX_PAYLOAD: usize = 64 * 1024;
/// Upper bounds on stored Argon2 parameters, so a crafted file cannot make opening it take
/// more than 1 GiB of memory or more than a few seconds: memory in KiB, passes, lanes, and
/// memory times passes (4 GiB-passes; [`KdfParams::RECOMMENDED`] is 192 MiB-passes).
const MAX_M_COST_KIB: u32 = 1 << 20; // 1 GiB
const MAX_T_COST: u32 = 64;
const MAX_P_COST: u32 = 16;
const MAX_WORK_KIB_PASSES: u64 = 4 << 20; // 4 GiB-passes

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl KdfParams {
    /// RFC 9106 "second recommended option" memory (64 MiB), 3 passes, one lane: about a
    /// quarter of a second on a laptop core.
    pub const RECOMMENDED: KdfParams = KdfParams {
        m_cost_kib: 64 * 1024,
        t_cost: 3,
        p_cost: 1,
    };
    /// Cheap parameters for tests only: offers little protection against guessing.
    pub const INSECURE_FAST: KdfParams = KdfParams {
        m_cost_kib: 64,
        t_cost: 1,
        p_cost: 1,
    };

    fn check(&self) -> Result<()> {
        let work = u64::from(self.m_cost_kib) * u64::from(self.t_cost);
        if self.m_cost_kib > MAX_M_COST_KIB
            || self.t_cost > MAX_T_COST
            || self.p_cost > MAX_P_COST
            || work > MAX_WORK_KIB_PASSES
        {
            return Err(Error::KdfParams {
                reason: format!(
                    "m={} KiB t={} p={} exceeds m<={MAX_M_COST_KIB} t<={MAX_T_COST} \
                     p<={MAX_P_COST} m*t<={MAX_WORK_KIB_PASSES}",
                    self.m_cost_kib, self.t_cost, self.p_cost
                ),
            });
        }
        Ok(())
    }

    fn derive(&self, passphrase: &str, salt: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
        self.check()?;
        let params = argon2::Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(32))
            .map_err(|e| Error::KdfParams {
                reason: e.to_string(),
            })?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut key = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
            .map_err(|e| Error::KdfParams {
                reason: e.to_string(),
            })?;
        Ok(key)
    }
}

/// How to protect a sealed keyfile.
#[derive(Debug, Clone, Copy)]
pub enum Protection<'a> {
    /// Encrypt under a passphrase.
    Passphrase(&'a str, KdfParams),
    /// Store in the clear (the caller chose this explicitly).
    Unencrypted,
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| Error::Random(e.to_string()))?;
    Ok(b)
}

/// Seal `plaintext` into keyfile bytes.
pub fn seal(plaintext: &[u8], protection: Protection<'_>) -> Result<Vec<u8>> {
    if plaintext.len() > MAX_PAYLOAD {
        return Err(Error::TooLarge {
            limit: MAX_PAYLOAD,
            actual: plaintext.len(),
        });
    }
    let mut out = Vec::with_capacity(plaintext.len() + 128);
    out.extend_from_slice(MAGIC);
    match protection {
        Protection::Unencrypted => {
            out.push(MODE_PLAIN);
            out.extend_from_slice(&(plaintext.len() as u32).to_le_bytes());
            out.extend_from_slice(plaintext);
        }
        Protection::Passphrase(pass, params) => {
            let salt = random::<SALT_LEN>()?;
            let nonce = random::<NONCE_LEN>()?;
            out.push(MODE_ARGON2_XCHACHA);
            for v in [params.m_cost_kib, params.t_cost, params.p_cost] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(&salt);
            out.extend_from_slice(&nonce);
            let key = params.derive(pass, &salt)?;
            let cipher = XChaCha20Poly1305::new(key.as_ref().into());
            let ct = cipher
                .encrypt(
                    XNonce::from_slice(&nonce),
                    Payload {
                        msg: plaintext,
                        aad: &out,
                    },
                )
                .map_err(|_| Error::CorruptKeyfile {
                    reason: "encryption failed",
                })?;
            out.extend_from_slice(&(ct.len() as u32).to_le_bytes());
            out.extend_from_slice(&ct);
        }
    }
    let sum = blake3::hash(&out);
    out.extend_from_slice(sum.as_bytes());
    Ok(out)
}

/// A small cursor that fails with [`Error::CorruptKeyfile`] instead of panicking.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or(Error::CorruptKeyfile {
                reason: "truncated",
            })?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Whether keyfile bytes are passphrase-protected (checks the magic and checksum first).
pub fn is_encrypted(bytes: &[u8]) -> Result<bool> {
    let body = checked_body(bytes)?;
    Ok(body[MAGIC.len()] == MODE_ARGON2_XCHACHA)
}

fn checked_body(bytes: &[u8]) -> Result<&[u8]> {
    if bytes.len() < MAGIC.len() + 1 + CHECKSUM_LEN || &bytes[..MAGIC.len()] != MAGIC {
        return Err(Error::CorruptKeyfile {
            reason: "not a qun keyfile (bad magic or too short)",
        });
    }
    if bytes.len() > MAX_PAYLOAD + 1024 {
        return Err(Error::CorruptKeyfile {
            reason: "too large",
        });
    }
    let (body, sum) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
    if blake3::hash(body).as_bytes() != sum {
        return Err(Error::CorruptKeyfile {
            reason: "checksum mismatch (the file was damaged)",
        });
    }
    Ok(body)
}

/// Open keyfile bytes. `passphrase` is required for encrypted files and must be `None` for
/// unencrypted ones (so a caller never believes a clear file was protected).
pub fn open(bytes: &[u8], passphrase: Option<&str>) -> Result<Zeroizing<Vec<u8>>> {
    let body = checked_body(bytes)?;
    let mut r = Reader { buf: body, pos: 0 };
    r.take(MAGIC.len())?;
    let mode = r.take(1)?[0];
    let plain = match mode {
        MODE_PLAIN => {
            if passphrase.is_some() {
                return Err(Error::CorruptKeyfile {
                    reason: "keyfile is unencrypted but a passphrase was given",
                });
            }
            let len = r.u32()? as usize;
            Zeroizing::new(r.take(len)?.to_vec())
        }
        MODE_ARGON2_XCHACHA => {
            let pass = passphrase.ok_or(Error::PassphraseRequired)?;
            let params = KdfParams {
                m_cost_kib: r.u32()?,
                t_cost: r.u32()?,
                p_cost: r.u32()?,
            };
            let salt = r.take(SALT_LEN)?;
            let nonce = r.take(NONCE_LEN)?;
            let header_end = r.pos;
            let len = r.u32()? as usize;
            let ct = r.take(len)?;
            let key = params.derive(pass, salt)?;
            let cipher = XChaCha20Poly1305::new(key.as_ref().into());
            let pt = cipher
                .decrypt(
                    XNonce::from_slice(nonce),
                    Payload {
                        msg: ct,
                        aad: &body[..header_end],
                    },
                )
                .map_err(|_| Error::WrongPassphrase)?;
            Zeroizing::new(pt)
        }
        _ => {
            return Err(Error::CorruptKeyfile {
                reason: "unknown protection mode",
            });
        }
    };
    if r.pos != body.len() {
        return Err(Error::CorruptKeyfile {
            reason: "trailing bytes",
        });
    }
    Ok(plain)
}

/// Write `bytes` to `path` atomically with owner-only permissions.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .ok_or_else(|| Error::io(path, std::io::Error::other("path has no file name")))?;
    let tmp = dir.join(format!(
        ".{}.tmp.{}",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> std::io::Result<()> {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        #[cfg(unix)]
        std::fs::File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| Error::io(path, e))
}

/// Read keyfile bytes from `path` (bounded in size).
pub fn read(path: &Path) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.len() > (MAX_PAYLOAD + 1024) as u64 {
        return Err(Error::CorruptKeyfile {
            reason: "too large",
        });
    }
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// The secrets a node keeps: its device key, the member root key when this device holds it,
/// and the root-signed certificate of the device.
#[derive(Clone, Debug)]
pub struct KeyBundle {
    /// The member's root key (absent on secondary devices).
    pub root: Option<SecretIdentity>,
    /// This node's device key.
    pub device: SecretIdentity,
    /// The device certificate envelope bytes (absent when the device is the root itself or
    /// not yet linked).
    pub device_cert: Option<Vec<u8>>,
}

#[derive(Serialize, Deserialize)]
struct BundleWire {
    root: Option<[u8; 32]>,
    device: [u8; 32],
    device_cert: Option<Vec<u8>>,
}

impl Drop for BundleWire {
    fn drop(&mut self) {
        if let Some(r) = self.root.as_mut() {
            r.zeroize();
        }
        self.device.zeroize();
    }
}

impl KeyBundle {
    /// Seal into keyfile bytes.
    pub fn seal(&self, protection: Protection<'_>) -> Result<Vec<u8>> {
        let wire = BundleWire {
            root: self.root.as_ref().map(|r| *r.seed()),
            device: *self.device.seed(),
            device_cert: self.device_cert.clone(),
        };
        let plain = Zeroizing::new(canonical::encode(&wire));
        seal(&plain, protection)
    }

    /// Open keyfile bytes.
    pub fn open(bytes: &[u8], passphrase: Option<&str>) -> Result<Self> {
        let plain = open(bytes, passphrase)?;
        let wire: BundleWire =
            canonical::decode("key bundle", &plain, MAX_PAYLOAD).map_err(|_| {
                Error::CorruptKeyfile {
                    reason: "payload is not a key bundle",
                }
            })?;
        Ok(KeyBundle {
            root: wire.root.as_ref().map(SecretIdentity::from_seed),
            device: SecretIdentity::from_seed(&wire.device),
            device_cert: wire.device_cert.clone(),
        })
    }

    /// The member this bundle acts for: the root's id, or else the issuer of the device
    /// certificate (which must be valid at `now` and certify this bundle's device), or else the
    /// device key itself.
    pub fn member_id(&self, now: Timestamp) -> Result<crate::MemberId> {
        if let Some(root) = &self.root {
            return Ok(root.member_id());
        }
        match self.cert(now)? {
            Some(cert) if cert.value().device != self.device.device_id() => Err(Error::invalid(
                "key bundle",
                format!(
                    "the device certificate is for {}, not this bundle's device {}",
                    cert.value().device,
                    self.device.device_id()
                ),
            )),
            Some(cert) => Ok(cert.value().member),
            None => Ok(self.device.member_id()),
        }
    }

    /// The verified device certificate, if any.
    pub fn cert(&self, now: Timestamp) -> Result<Option<Signed<DeviceCert>>> {
        self.device_cert
            .as_deref()
            .map(|b| Signed::from_bytes(b, &canonical::Limits::default(), now))
            .transpose()
    }

    /// Save to `path` atomically (mode 0600).
    pub fn save(&self, path: &Path, protection: Protection<'_>) -> Result<()> {
        write_atomic(path, &self.seal(protection)?)
    }

    /// Load from `path`.
    pub fn load(path: &Path, passphrase: Option<&str>) -> Result<Self> {
        Self::open(&read(path)?, passphrase)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: KdfParams = KdfParams::INSECURE_FAST;

    #[test]
    fn seal_open_round_trip_both_modes() {
        let sealed = seal(b"secret", Protection::Passphrase("pw", FAST)).unwrap();
        assert!(is_encrypted(&sealed).unwrap());
        assert_eq!(&open(&sealed, Some("pw")).unwrap()[..], b"secret");
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        let clear = seal(b"secret", Protection::Unencrypted).unwrap();
        assert!(!is_encrypted(&clear).unwrap());
        assert_eq!(&open(&clear, None).unwrap()[..], b"secret");
    }

    #[test]
    fn wrong_passphrase_and_corruption_are_distinct() {
        let sealed = seal(b"secret", Protection::Passphrase("pw", FAST)).unwrap();
        assert_eq!(open(&sealed, Some("nope")), Err(Error::WrongPassphrase));
        assert_eq!(open(&sealed, None), Err(Error::PassphraseRequired));
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x40;
            assert!(
                matches!(open(&bad, Some("pw")), Err(Error::CorruptKeyfile { .. })),
                "flip at byte {i}"
            );
        }
        for n in 0..sealed.len() {
            assert!(matches!(
                open(&sealed[..n], Some("pw")),
                Err(Error::CorruptKeyfile { .. })
            ));
        }
    }

    #[test]
    fn crafted_huge_kdf_params_are_refused_before_work() {
        let mut sealed = seal(b"s", Protection::Passphrase("pw", FAST)).unwrap();
        // m_cost lives right after magic and mode.
        sealed[9..13].copy_from_slice(&u32::MAX.to_le_bytes());
        let n = sealed.len() - CHECKSUM_LEN;
        let sum = *blake3::hash(&sealed[..n]).as_bytes();
        sealed[n..].copy_from_slice(&sum);
        assert!(matches!(
            open(&sealed, Some("pw")),
            Err(Error::KdfParams { .. })
        ));
    }

    /// Keyfile bytes with the KDF parameters replaced and the checksum recomputed.
    fn with_params(sealed: &[u8], m: u32, t: u32, p: u32) -> Vec<u8> {
        let mut b = sealed.to_vec();
        b[9..13].copy_from_slice(&m.to_le_bytes());
        b[13..17].copy_from_slice(&t.to_le_bytes());
        b[17..21].copy_from_slice(&p.to_le_bytes());
        let n = b.len() - CHECKSUM_LEN;
        let sum = *blake3::hash(&b[..n]).as_bytes();
        b[n..].copy_from_slice(&sum);
        b
    }

    #[test]
    fn kdf_work_is_bounded() {
        let sealed = seal(b"s", Protection::Passphrase("pw", FAST)).unwrap();
        // Each within its own bound, but 1 GiB x 5 passes is too much work in total.
        for (m, t, p) in [(1 << 20, 5, 1), (1 << 17, 33, 1), (64, 65, 1), (64, 1, 17)] {
            assert!(
                matches!(
                    open(&with_params(&sealed, m, t, p), Some("pw")),
                    Err(Error::KdfParams { .. })
                ),
                "m={m} t={t} p={p}"
            );
            let params = KdfParams {
                m_cost_kib: m,
                t_cost: t,
                p_cost: p,
            };
            assert!(matches!(
                seal(b"s", Protection::Passphrase("pw", params)),
                Err(Error::KdfParams { .. })
            ));
        }
        // Parameters inside the bounds are used (here: not the ones the file was sealed with).
        assert_eq!(
            open(&with_params(&sealed, 128, 1, 1), Some("pw")),
            Err(Error::WrongPassphrase)
        );
        assert!(KdfParams::RECOMMENDED.check().is_ok());
    }

    #[test]
    fn bundle_member_id() {
        let (root, device, other) = (
            SecretIdentity::from_seed(&[1; 32]),
            SecretIdentity::from_seed(&[2; 32]),
            SecretIdentity::from_seed(&[3; 32]),
        );
        let now = Timestamp::from_millis(1_000);
        let cert = |device: &SecretIdentity| {
            let c = DeviceCert {
                member: root.member_id(),
                device: device.device_id(),
                capabilities: crate::Capabilities::ALL,
                label: String::new(),
                not_before: Timestamp::ZERO,
                expires: Some(Timestamp::from_millis(2_000)),
            };
            Some(Signed::sign(&root, c).unwrap().to_bytes())
        };
        let bundle = |root: Option<&SecretIdentity>, device_cert| KeyBundle {
            root: root.cloned(),
            device: device.clone(),
            device_cert,
        };
        assert_eq!(
            bundle(None, cert(&device)).member_id(now),
            Ok(root.member_id())
        );
        assert_eq!(bundle(None, None).member_id(now), Ok(device.member_id()));
        // A certificate for another device does not make this device act for its member.
        assert!(matches!(
            bundle(None, cert(&other)).member_id(now),
            Err(Error::Invalid {
                what: "key bundle",
                ..
            })
        ));
        // An expired certificate: an error without the root, irrelevant with it.
        let later = Timestamp::from_millis(5_000);
        assert!(matches!(
            bundle(None, cert(&device)).member_id(later),
            Err(Error::Expired { .. })
        ));
        assert_eq!(
            bundle(Some(&root), cert(&device)).member_id(later),
            Ok(root.member_id())
        );
    }

    #[test]
    fn bundle_save_load_atomic_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("identity.key");
        let b = KeyBundle {
            root: Some(SecretIdentity::from_seed(&[1; 32])),
            device: SecretIdentity::from_seed(&[2; 32]),
            device_cert: None,
        };
        b.save(&path, Protection::Passphrase("pw", FAST)).unwrap();
        let back = KeyBundle::load(&path, Some("pw")).unwrap();
        assert_eq!(back.root, b.root);
        assert_eq!(back.device, b.device);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Overwrite leaves no temp files behind.
        b.save(&path, Protection::Unencrypted).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
        assert!(matches!(
            KeyBundle::load(&dir.path().join("missing"), None),
            Err(Error::Io {
                kind: std::io::ErrorKind::NotFound,
                ..
            })
        ));
    }
}
