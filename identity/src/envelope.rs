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
        let expected = domain_tag(T::KIND, T::VERSION);
        if self.tag != expected {
            return Err(Error::WrongKind {
                expected,
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

    /// Everything but the signature: canonical body, type rules, signer, validity at `now`.
    fn finish<T: SignedBody>(self, now: Timestamp) -> Result<Signed<T>> {
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
        Ok(Signed {
            envelope: self,
            value,
        })
    }

    /// Verify as a `T` at time `now`.
    pub fn verify<T: SignedBody>(self, now: Timestamp) -> Result<Signed<T>> {
        self.check_tag::<T>()?;
        self.author
            .verify(&signing_message(&self.tag, &self.body), &self.sig)?;
        self.finish(now)
    }
}

/// Verify many envelopes of one kind with a single ed25519 batch verification.
///
/// The result has one entry per input, in order, each exactly what [`Envelope::verify`] would
/// return. When the batch holds a bad signature the batch check fails as a whole and each
/// envelope is checked on its own to say which.
pub fn verify_batch<T: SignedBody>(
    envelopes: Vec<Envelope>,
    now: Timestamp,
) -> Vec<Result<Signed<T>>> {
    let mut results: Vec<Option<Result<Signed<T>>>> = Vec::with_capacity(envelopes.len());
    let mut pending = Vec::new();
    for env in envelopes {
        match env.check_tag::<T>() {
            Ok(()) => {
                pending.push((results.len(), env));
                results.push(None);
            }
            Err(e) => results.push(Some(Err(e))),
        }
    }
    let messages: Vec<Vec<u8>> = pending
        .iter()
        .map(|(_, e)| signing_message(&e.tag, &e.body))
        .collect();
    let msg_refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    let sigs: Vec<ed25519_dalek::Signature> = pending
        .iter()
        .map(|(_, e)| ed25519_dalek::Signature::from_bytes(&e.sig))
        .collect();
    let keys: Vec<ed25519_dalek::VerifyingKey> = pending
        .iter()
        .filter_map(|(_, e)| e.author.dalek().ok())
        .collect();
    // The batch equation (random linear combination, cofactorless) accepts exactly the honest
    // signatures `verify_strict` accepts; it can differ only on signatures a signer crafted
    // against its own key with small-order components. Weak (small-order) keys are refused
    // up front. Consensus-critical paths (CRDT changes) use single strict verification so all
    // nodes decide identically; this batch path is for local data such as the trust graph.
    let batch_ok = !pending.is_empty()
        && keys.len() == pending.len()
        && !keys.iter().any(|k| k.is_weak())
        && ed25519_dalek::verify_batch(&msg_refs, &sigs, &keys).is_ok();
    for ((ix, env), msg) in pending.into_iter().zip(messages) {
        let r = if batch_ok {
            env.finish(now)
        } else {
            env.author
                .verify(&msg, &env.sig)
                .and_then(|()| env.finish(now))
        };
        results[ix] = Some(r);
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(Error::decode("envelope", "internal: unverified slot"))))
        .collect()
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
