//! Ed25519 keys and their text form.
//!
//! A public key is shown as a multibase base58btc string of the multicodec-tagged key
//! (`z6Mk…`), the same string a `did:key` identifier carries, so other tools can read it.
//! Base58 leaves out the look-alike characters `0 O I l`; parsing checks the prefix, the
//! multicodec tag, the length and that the bytes are a valid curve point, each a typed error.

use crate::error::{Error, Result};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Multicodec tag of an ed25519 public key (0xed, varint-encoded).
const ED25519_PUB_MULTICODEC: [u8; 2] = [0xed, 0x01];
/// Multibase prefix of base58btc.
const BASE58BTC_PREFIX: char = 'z';
/// Optional prefix accepted when parsing (`did:key:z6Mk…`).
const DID_KEY_PREFIX: &str = "did:key:";
/// Length of a text key: 1 prefix char + base58 of 34 bytes (always 47 chars for ed25519).
const MAX_TEXT_LEN: usize = 64;

/// An ed25519 public key that has been checked to be a valid curve point.
///
/// Holds the 32 compressed bytes only (ids are copied and used as map keys everywhere); the
/// point is decompressed again when a signature is checked.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicIdentity([u8; 32]);

impl PublicIdentity {
    /// Parse 32 raw bytes; fails if they are not a valid compressed Edwards point.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self> {
        VerifyingKey::from_bytes(bytes)
            .map(|_| PublicIdentity(*bytes))
            .map_err(|_| Error::decode("public key", "not a valid ed25519 point"))
    }

    /// The 32 raw bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// The raw bytes, borrowed.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The dalek key (decompressed), for verification.
    pub(crate) fn dalek(&self) -> Result<VerifyingKey> {
        VerifyingKey::from_bytes(&self.0)
            .map_err(|_| Error::decode("public key", "not a valid ed25519 point"))
    }

    /// Verify `sig` over `msg` with the strict rules (no small-order keys, canonical `s`).
    pub(crate) fn verify(&self, msg: &[u8], sig: &[u8; 64]) -> Result<()> {
        let sig = Signature::from_bytes(sig);
        self.dalek()?
            .verify_strict(msg, &sig)
            .map_err(|_| Error::BadSignature {
                author: self.to_string(),
            })
    }

    /// A short form for logs: the first 12 characters of the text form.
    pub fn short(&self) -> String {
        self.to_string().chars().take(12).collect()
    }
}

impl fmt::Display for PublicIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 34];
        buf[..2].copy_from_slice(&ED25519_PUB_MULTICODEC);
        buf[2..].copy_from_slice(&self.0);
        write!(f, "{BASE58BTC_PREFIX}{}", bs58::encode(buf).into_string())
    }
}

impl fmt::Debug for PublicIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicIdentity({})", self.short())
    }
}

impl FromStr for PublicIdentity {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = |reason: &'static str| Error::BadText {
            what: "public key",
            input: s.chars().take(80).collect(),
            reason,
        };
        let t = s.trim();
        let t = t.strip_prefix(DID_KEY_PREFIX).unwrap_or(t);
        if t.len() > MAX_TEXT_LEN {
            return Err(bad("too long"));
        }
        let body = t
            .strip_prefix(BASE58BTC_PREFIX)
            .ok_or_else(|| bad("must start with 'z' (multibase base58btc)"))?;
        let raw = bs58::decode(body)
            .into_vec()
            .map_err(|_| bad("not base58btc (allowed: 1-9, A-Z, a-z without 0, O, I, l)"))?;
        if raw.len() != 34 {
            return Err(bad("wrong length"));
        }
        if raw[..2] != ED25519_PUB_MULTICODEC {
            return Err(bad("not an ed25519 public key (multicodec tag)"));
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(&raw[2..]);
        PublicIdentity::from_bytes(&key).map_err(|_| bad("not a valid ed25519 point"))
    }
}

impl Serialize for PublicIdentity {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            self.0.serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for PublicIdentity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            s.parse().map_err(serde::de::Error::custom)
        } else {
            let bytes = <[u8; 32]>::deserialize(d)?;
            PublicIdentity::from_bytes(&bytes).map_err(serde::de::Error::custom)
        }
    }
}

impl PartialOrd for PublicIdentity {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PublicIdentity {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

macro_rules! key_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub PublicIdentity);

        impl $name {
            /// The underlying public key.
            pub fn key(&self) -> &PublicIdentity {
                &self.0
            }
            /// The 32 raw bytes of the key.
            pub fn to_bytes(&self) -> [u8; 32] {
                self.0.to_bytes()
            }
            /// From 32 raw bytes; fails on an invalid point.
            pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self> {
                PublicIdentity::from_bytes(bytes).map(Self)
            }
            /// A short form for logs.
            pub fn short(&self) -> String {
                self.0.short()
            }
        }

        impl From<PublicIdentity> for $name {
            fn from(k: PublicIdentity) -> Self {
                $name(k)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0.short())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                PublicIdentity::from_str(s).map($name)
            }
        }
    };
}

key_newtype!(
    /// A member: the public half of the member's root key. Stable for life; devices come and go.
    MemberId
);
key_newtype!(
    /// A device: the key a node signs day-to-day changes with, certified by its member's root.
    DeviceId
);

/// An ed25519 signing key. Zeroed on drop; `Debug` shows only the public half.
#[derive(Clone)]
pub struct SecretIdentity(SigningKey);

impl SecretIdentity {
    /// A fresh key from the operating system's random number generator.
    pub fn generate() -> Result<Self> {
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).map_err(|e| Error::Random(e.to_string()))?;
        Ok(Self::from_seed(&seed))
    }

    /// The key whose 32-byte seed is `seed` (RFC 8032 secret key).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        SecretIdentity(SigningKey::from_bytes(seed))
    }

    /// The 32-byte seed. Handle with care: it is the whole secret.
    pub fn seed(&self) -> zeroize::Zeroizing<[u8; 32]> {
        zeroize::Zeroizing::new(self.0.to_bytes())
    }

    /// The public half.
    pub fn public(&self) -> PublicIdentity {
        PublicIdentity(self.0.verifying_key().to_bytes())
    }

    /// This key seen as a member root key.
    pub fn member_id(&self) -> MemberId {
        MemberId(self.public())
    }

    /// This key seen as a device key.
    pub fn device_id(&self) -> DeviceId {
        DeviceId(self.public())
    }

    /// Sign raw bytes. Callers outside this crate go through [`crate::Signed`] or a documented
    /// domain-separated message so signatures of one purpose are never valid for another.
    pub fn sign_raw(&self, msg: &[u8]) -> [u8; 64] {
        self.0.sign(msg).to_bytes()
    }
}

impl fmt::Debug for SecretIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretIdentity(public: {})", self.public().short())
    }
}

impl PartialEq for SecretIdentity {
    fn eq(&self, other: &Self) -> bool {
        self.public() == other.public()
    }
}

impl Eq for SecretIdentity {}

/// Verify a raw signature made by [`SecretIdentity::sign_raw`] (strict ed25519 rules).
pub fn verify_raw(key: &PublicIdentity, msg: &[u8], sig: &[u8; 64]) -> Result<()> {
    key.verify(msg, sig)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips_and_matches_did_key() {
        let k = SecretIdentity::from_seed(&[7; 32]).public();
        let s = k.to_string();
        assert!(s.starts_with("z6Mk"), "{s}");
        assert_eq!(s.parse::<PublicIdentity>().unwrap(), k);
        assert_eq!(format!("did:key:{s}").parse::<PublicIdentity>().unwrap(), k);
    }

    #[test]
    fn rfc8032_test_vector_1() {
        // RFC 8032 §7.1 TEST 1: secret key, public key and the signature of the empty message.
        let seed: [u8; 32] =
            hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
        let public: [u8; 32] =
            hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        let sig: [u8; 64] = hex(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        );
        let k = SecretIdentity::from_seed(&seed);
        assert_eq!(k.public().to_bytes(), public);
        assert_eq!(k.sign_raw(b""), sig);
        verify_raw(&k.public(), b"", &sig).unwrap();
    }

    fn hex<const N: usize>(s: &str) -> [u8; N] {
        let v = data_encoding::HEXLOWER.decode(s.as_bytes()).unwrap();
        v.try_into().unwrap()
    }

    #[test]
    fn malformed_text_is_a_typed_error() {
        let good = SecretIdentity::from_seed(&[1; 32]).public().to_string();
        let cases = [
            String::new(),
            "z".into(),
            good[1..].to_string(),                   // no multibase prefix
            format!("{}0", &good[..good.len() - 1]), // '0' is not base58
            format!("{good}1"),                      // wrong length
            format!("z{}", bs58::encode([0x12, 0x00, 1, 2]).into_string()), // wrong codec
            "z".repeat(200),
        ];
        for c in cases {
            match c.parse::<PublicIdentity>() {
                Err(Error::BadText {
                    what: "public key", ..
                }) => {}
                other => panic!("{c:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn invalid_curve_point_is_rejected() {
        // y = 2 is not on the curve.
        let mut bytes = [0u8; 32];
        bytes[0] = 2;
        assert!(PublicIdentity::from_bytes(&bytes).is_err());
        let mut raw = vec![0xed, 0x01];
        raw.extend_from_slice(&bytes);
        let s = format!("z{}", bs58::encode(raw).into_string());
        assert!(matches!(
            s.parse::<PublicIdentity>(),
            Err(Error::BadText {
                reason: "not a valid ed25519 point",
                ..
            })
        ));
    }

    #[test]
    fn secret_debug_does_not_leak() {
        let k = SecretIdentity::from_seed(&[9; 32]);
        let d = format!("{k:?}");
        assert!(!d.contains("9, 9"));
        assert!(d.contains("public"));
    }
}
