//! Signed envelopes: `{tag, author, body, sig}`.
//!
//! The signature covers `tag || 0x00 || body`, where the tag is the domain-separation string
//! `qun/<kind>/v<version>` of the body's type. A signature made for one kind therefore never
//! verifies as another kind, or as another version of the same kind.
//!
//! Untrusted bytes become an [`Envelope`] with [`Envelope::decode`] (size-checked, strict), and an
//! envelope becomes a typed, verified [`Signed<T>`] only through [`Envelope::verify`], which
//! checks, in order: the tag, the signature, the canonical body, the body's own rules, the
//! required signer and the validity window. [`verify_batch`] does the same for many envelopes
//! with one ed25519 batch verification.
//!
//! Wire form of an envelope (postcard): `tag: string, author: [u8; 32], body: bytes,
//! sig: [u8; 64]`.

use crate::canonical::{self, Limits, bytes64};
use crate::error::{Error, Result};
use crate::{ContentId, PublicIdentity, SecretIdentity, Timestamp};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::collections::HashMap;
use std::fmt;

/// A type that travels signed. Implementors fix their kind name and version, and may add rules.
pub trait SignedBody: Serialize + DeserializeOwned + Clone {
    /// Kind name, lower-case, no slashes (`"endorsement"`).
    const KIND: &'static str;
    /// Format version of the body; bump it when the body's encoding changes.
    const VERSION: u16;
    /// Largest accepted encoded body in bytes.
    const MAX_BODY_BYTES: usize = 4096;

    /// Rules of the type beyond its encoding (ranges, lengths, orderings).
    fn check(&self) -> Result<()> {
        Ok(())
    }

    /// The key that must have signed this body, when the body names one (a member's root
    /// for its device certificates).
    fn required_signer(&self) -> Option<PublicIdentity> {
        None
    }

    /// `(not_before, expires)`: the window in which the signed object is valid.
    fn validity(&self) -> (Option<Timestamp>, Option<Timestamp>) {
        (None, None)
    }
}

/// The domain-separation tag of a kind: `qun/<kind>/v<version>`.
pub fn domain_tag(kind: &str, version: u16) -> String {
    format!("qun/{kind}/v{version}")
}

/// The exact bytes an envelope's signature covers.
fn signing_message(tag: &str, body: &[u8]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(tag.len() + 1 + body.len());
    msg.extend_from_slice(tag.as_bytes());
    msg.push(0);
    msg.extend_from_slice(body);
    msg
}

/// An envelope as it arrives: decoded and size-checked, signature not yet checked.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    tag: String,
    author: PublicIdentity,
    body: Vec<u8>,
    #[serde(with = "bytes64")]
    sig: [u8; 64],
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("tag", &self.tag)
            .field("author", &self.author)
            .field("body", &format_args!("<{}b>", self.body.len()))
            .finish()
    }
}

impl Envelope {
    /// Decode untrusted bytes; nothing is verified yet.
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Self> {
        canonical::decode("envelope", bytes, limits.max_envelope_bytes)
    }

    /// The wire bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        canonical::encode(self)
    }

    /// The content id of the wire bytes.
    pub fn id(&self) -> ContentId {
        ContentId::of(&self.to_bytes())
    }

    /// The domain tag the envelope claims.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// The key the envelope claims signed it (unverified).
    pub fn author(&self) -> &PublicIdentity {
        &self.author
    }

    /// The body bytes (unverified).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    fn check_tag<T: SignedBody>(&self) -> Result<()> {
        self.check_tag_as::<T>(&domain_tag(T::KIND, T::VERSION))
    }

    /// [`Envelope::check_tag`] with `T`'s domain tag already computed.
    fn check_tag_as<T: SignedBody>(&self, expected: &str) -> Result<()> {
        if self.tag != expected {
            return Err(Error::WrongKind {
                expected: expected.to_string(),
                found: self.tag.chars().take(80).collect(),
            });
        }
        if self.body.len() > T::MAX_BODY_BYTES {
            return Err(Error::TooLarge {
                limit: T::MAX_BODY_BYTES,
                actual: self.body.len(),
            });
        }
        Ok(())
    }

    /// Everything but the signature: canonical body, type rules, signer, validity at `now`
    /// (when given).
    fn finish<T: SignedBody>(self, now: Option<Timestamp>) -> Result<Signed<T>> {
        let value: T = canonical::decode(T::KIND, &self.body, T::MAX_BODY_BYTES)?;
        value.check()?;
        if let Some(expected) = value.required_signer()
            && expected != self.author
        {
            return Err(Error::WrongSigner {
                expected: expected.to_string(),
                signer: self.author.to_string(),
            });
        }
        if let Some(now) = now {
            let (not_before, expires) = value.validity();
            if let Some(at) = not_before
                && now < at
            {
                return Err(Error::NotYetValid { at, now });
            }
            if let Some(at) = expires
                && now >= at
            {
                return Err(Error::Expired { at, now });
            }
        }
        Ok(Signed {
            envelope: self,
            value,
        })
    }

    /// The strict ed25519 check of the signature over the domain tag and body.
    fn verify_signature(&self) -> Result<()> {
        self.author
            .verify(&signing_message(&self.tag, &self.body), &self.sig)
    }

    /// Verify as a `T` at time `now`.
    pub fn verify<T: SignedBody>(self, now: Timestamp) -> Result<Signed<T>> {
        self.check_tag::<T>()?;
        self.verify_signature()?;
        self.finish(Some(now))
    }

    /// Verify as a `T` without checking its validity window: for paths where time is decided
    /// causally rather than by a clock (a community's governance, where expiry is a signed
    /// action), so that no node's verdict depends on a time an author chose or a local clock.
    pub fn verify_untimed<T: SignedBody>(self) -> Result<Signed<T>> {
        self.check_tag::<T>()?;
        self.verify_signature()?;
        self.finish(None)
    }
}

/// Verify many envelopes of one kind with a single ed25519 batch verification.
///
/// The result has one entry per input, in order. When the batch holds a bad signature the batch
/// check fails as a whole and each envelope is checked on its own to say which.
///
/// Each entry is what [`Envelope::verify`] returns for that envelope, with one documented
/// exception. ed25519 batch verification (a random linear combination of the verification
/// equations) cannot see every signature that strict single verification refuses, so:
///
/// - envelopes by weak (small-order) keys, and signatures whose `R` is a small-order point or a
///   non-canonical encoding, never enter the batch: they are checked alone (and fail), because a
///   key holder can otherwise make, with no effort, a signature that only the batch accepts;
/// - what is left: a key holder who grinds a signature with a torsion component in `R` (or a
///   key with one) against the batch's coefficients, which are derived from the whole batch,
///   can get *its own* object accepted here and refused by [`Envelope::verify`]. Nobody else's
///   signature can be forged this way. Paths where every node must decide identically (CRDT
///   changes) use ZIP-215 rules instead ([`crate::consensus`]), under which batches and single
///   checks agree; this path is for local data such as the trust graph.
pub fn verify_batch<T: SignedBody>(
    envelopes: Vec<Envelope>,
    now: Timestamp,
) -> Vec<Result<Signed<T>>> {
    let mut results: Vec<Option<Result<Signed<T>>>> = Vec::with_capacity(envelopes.len());
    let mut batch: Vec<(usize, Envelope, ed25519_dalek::VerifyingKey)> = Vec::new();
    let tag = domain_tag(T::KIND, T::VERSION);
    // Authors repeat in a batch (a member's endorsements arrive together): decompress each
    // key once. Only looked up, so the map's order never shows.
    let mut keys: HashMap<PublicIdentity, ed25519_dalek::VerifyingKey> = HashMap::new();
    for env in envelopes {
        let ix = results.len();
        let checked = env.check_tag_as::<T>(&tag).and_then(|()| {
            if let Some(k) = keys.get(&env.author) {
                return Ok(*k);
            }
            let k = env.author.dalek()?;
            keys.insert(env.author, k);
            Ok(k)
        });
        match checked {
            Err(e) => results.push(Some(Err(e))),
            Ok(key) if key.is_weak() || !batchable_r(&env.sig) => {
                let r = env.verify_signature().and_then(|()| env.finish(Some(now)));
                results.push(Some(r));
            }
            Ok(key) => {
                results.push(None);
                batch.push((ix, env, key));
            }
        }
    }
    let messages: Vec<Vec<u8>> = batch
        .iter()
        .map(|(_, e, _)| signing_message(&e.tag, &e.body))
        .collect();
    let msg_refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    let sigs: Vec<ed25519_dalek::Signature> = batch
        .iter()
        .map(|(_, e, _)| ed25519_dalek::Signature::from_bytes(&e.sig))
        .collect();
    let keys: Vec<ed25519_dalek::VerifyingKey> = batch.iter().map(|(_, _, k)| *k).collect();
    let batch_ok =
        !batch.is_empty() && ed25519_dalek::verify_batch(&msg_refs, &sigs, &keys).is_ok();
    for ((ix, env, _), msg) in batch.into_iter().zip(messages) {
        let r = if batch_ok {
            env.finish(Some(now))
        } else {
            env.author
                .verify(&msg, &env.sig)
                .and_then(|()| env.finish(Some(now)))
        };
        results[ix] = Some(r);
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(Error::decode("envelope", "internal: unverified slot"))))
        .collect()
}

/// Encodings (sign bit cleared) of the Edwards points of small order: 0 (order 4), 1 (the
/// identity), the two order-8 `y` values, p-1 (order 2), and the non-canonical p and p+1.
/// Same list as libsodium's `ge25519_has_small_order`.
const SMALL_ORDER_Y: [[u8; 32]; 7] = {
    let mut t = [[0u8; 32]; 7];
    t[1][0] = 1;
    t[2] = [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ];
    t[3] = [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ];
    let mut i = 4;
    while i < 7 {
        let mut j = 1;
        while j < 31 {
            t[i][j] = 0xff;
            j += 1;
        }
        t[i][31] = 0x7f;
        i += 1;
    }
    t[4][0] = 0xec; // p - 1
    t[5][0] = 0xed; // p
    t[6][0] = 0xee; // p + 1
    t
};

/// Whether a signature's `R` may go into a batch: a canonical `y` (below p) that is not the
/// encoding of a small-order point. Byte comparisons only; no point is decompressed.
fn batchable_r(sig: &[u8; 64]) -> bool {
    let mut y = [0u8; 32];
    y.copy_from_slice(&sig[..32]);
    y[31] &= 0x7f;
    let non_canonical = y[31] == 0x7f && y[1..31].iter().all(|b| *b == 0xff) && y[0] >= 0xed;
    !non_canonical && !SMALL_ORDER_Y.contains(&y)
}

/// A verified envelope together with its decoded body.
///
/// Only [`Signed::sign`] and [`Envelope::verify`] make one, so holding a `Signed<T>` means its
/// signature, tag, body rules and signer were checked.
#[derive(Clone, PartialEq)]
pub struct Signed<T> {
    envelope: Envelope,
    value: T,
}

impl<T: SignedBody + fmt::Debug> fmt::Debug for Signed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signed")
            .field("author", &self.envelope.author)
            .field("value", &self.value)
            .finish()
    }
}

impl<T: SignedBody> Signed<T> {
    /// Sign `value` with `key`. Fails if `value` breaks its type's rules or names another signer.
    pub fn sign(key: &SecretIdentity, value: T) -> Result<Self> {
        value.check()?;
        let author = key.public();
        if let Some(expected) = value.required_signer()
            && expected != author
        {
            return Err(Error::WrongSigner {
                expected: expected.to_string(),
                signer: author.to_string(),
            });
        }
        let tag = domain_tag(T::KIND, T::VERSION);
        let body = canonical::encode(&value);
        if body.len() > T::MAX_BODY_BYTES {
            return Err(Error::TooLarge {
                limit: T::MAX_BODY_BYTES,
                actual: body.len(),
            });
        }
        let sig = key.sign_raw(&signing_message(&tag, &body));
        Ok(Signed {
            envelope: Envelope {
                tag,
                author,
                body,
                sig,
            },
            value,
        })
    }

    /// Decode and verify untrusted bytes in one step.
    pub fn from_bytes(bytes: &[u8], limits: &Limits, now: Timestamp) -> Result<Self> {
        Envelope::decode(bytes, limits)?.verify(now)
    }

    /// Decode and verify untrusted bytes, ignoring the validity window (see
    /// [`Envelope::verify_untimed`]).
    pub fn from_bytes_untimed(bytes: &[u8], limits: &Limits) -> Result<Self> {
        Envelope::decode(bytes, limits)?.verify_untimed()
    }

    /// The decoded body.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The key that signed it.
    pub fn author(&self) -> &PublicIdentity {
        &self.envelope.author
    }

    /// The envelope.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The wire bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.envelope.to_bytes()
    }

    /// Content id of the wire bytes.
    pub fn id(&self) -> ContentId {
        self.envelope.id()
    }

    /// Whether this object is valid at `now` (its validity window; the signature is already checked).
    pub fn valid_at(&self, now: Timestamp) -> bool {
        let (nb, ex) = self.value.validity();
        nb.is_none_or(|t| now >= t) && ex.is_none_or(|t| now < t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_order_table_matches_dalek() {
        // Every entry, with either sign bit, that decodes at all decodes to a small-order point;
        // the five canonical ones (0, 1, the two order-8 y values, p-1) always decode.
        for (i, y) in SMALL_ORDER_Y.iter().enumerate() {
            for sign in [0u8, 0x80] {
                let mut enc = *y;
                enc[31] |= sign;
                let mut sig = [0u8; 64];
                sig[..32].copy_from_slice(&enc);
                assert!(!batchable_r(&sig), "entry {i} sign {sign:#x}");
                match ed25519_dalek::VerifyingKey::from_bytes(&enc) {
                    Ok(k) => assert!(k.is_weak(), "entry {i} sign {sign:#x}"),
                    Err(_) => assert!(i >= 5, "canonical entry {i} must decode"),
                }
            }
        }
        // Honest R values (points of prime order) go into the batch.
        for seed in 0..32u8 {
            let k = SecretIdentity::from_seed(&[seed; 32]);
            assert!(batchable_r(&k.sign_raw(b"m")));
        }
        // Any y >= p is non-canonical.
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&SMALL_ORDER_Y[4]);
        for b0 in 0xed..=0xffu8 {
            sig[0] = b0;
            assert!(!batchable_r(&sig), "{b0:#x}");
        }
        sig[0] = 0xeb; // p - 2: canonical
        assert!(batchable_r(&sig));
    }
}
