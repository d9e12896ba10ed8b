//! Signatures every node must judge identically: ZIP-215 ed25519 verification, one at a time
//! or in batches (which agree), on every core.
//!
//! Community changes are consensus data: if one node accepted a change signature that another
//! refused, their documents would diverge for good. RFC 8032 leaves edge cases open (small-order
//! and non-canonical `R`, cofactored or not), and implementations differ on them; worse, batch
//! verification (cofactored by nature) accepts some signatures that strict single verification
//! refuses, so strict rules rule out batching. [ZIP-215] fixes every edge case so that single
//! and batch verification agree on every input:
//!
//! * `A` and `R` must decode to curve points; non-canonical encodings are accepted, small order
//!   is accepted;
//! * `s` must be canonical (`s < l`);
//! * the cofactored equation `[8][s]B = [8]R + [8][k]A` decides, with
//!   `k = SHA-512(R_bytes || A_bytes || M)` over the bytes as sent.
//!
//! This is the rule set `ed25519-consensus` implements; the implementation here is the Zcash
//! Foundation's `ed25519-zebra` (which `ed25519-consensus` was forked from; maintained, and on
//! the same curve25519-dalek as the rest of qun), and the tests check it against
//! `ed25519-consensus` on edge cases and random inputs.
//!
//! On top of ZIP-215, [`ConsensusKey`] refuses keys no one can hold a secret for or that have
//! two names: small-order points (under ZIP-215 anyone can sign for them) and non-canonical
//! encodings (the same point under another id). That is a rule on keys, decided from the key
//! bytes alone before any signature is looked at, so it is the same on every path too.
//!
//! [`verify_each`] checks many signatures: in chunks of [`BATCH_CHUNK`] with one batch equation
//! each, chunks spread over threads; a chunk whose batch fails is checked one signature at a
//! time, so the verdict for every item is exactly [`ConsensusKey::verify`]'s. An attacker who
//! slips bad signatures in costs at most one batch plus one single verification per signature
//! (linear, never quadratic). The batch's random coefficients come from a hash of the chunk
//! itself (Fiat-Shamir, as ed25519-dalek's deterministic batch verification does), so no OS
//! randomness is read and the outcome does not depend on the thread count.
//!
//! [ZIP-215]: https://zips.z.cash/zip-0215

use crate::error::{Error, Result};
use ed25519_zebra::{Signature, VerificationKey, VerificationKeyBytes, batch};
use rand_chacha::ChaCha12Rng;
use rand_chacha::rand_core::SeedableRng;

/// Signatures per batch equation. Larger batches cost less per signature (~60 % of a single
/// verification at 64, ~25 % at 1,024 with few distinct keys) but a bad signature makes its
/// whole chunk fall back to single verification.
pub const BATCH_CHUNK: usize = 256;
/// Fewest signatures worth a thread of their own (a thread costs ~20 µs to start; a
/// signature ~10-40 µs to check).
pub const MIN_PER_THREAD: usize = 64;
/// Domain tag of the hash that seeds a batch's coefficients.
const BATCH_SEED_TAG: &str = "qun-zip215-batch-v1";

/// A public key that checks signatures by the ZIP-215 rules (decompressed once).
///
/// Refuses small-order keys and non-canonical encodings (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsensusKey {
    bytes: [u8; 32],
    key: VerificationKey,
}

impl ConsensusKey {
    /// A key from its 32 bytes: a canonically encoded curve point that is not of small order.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self> {
        let bad = |reason: &str| Error::Decode {
            what: "consensus key",
            reason: reason.into(),
        };
        let point = curve_point(bytes).ok_or_else(|| bad("not a curve point"))?;
        if point.is_small_order() {
            return Err(bad("a small-order point (anyone can sign for it)"));
        }
        if point.compress().to_bytes() != *bytes {
            return Err(bad("a non-canonical encoding"));
        }
        let key = VerificationKey::try_from(*bytes).map_err(|_| bad("not a curve point"))?;
        Ok(ConsensusKey { bytes: *bytes, key })
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// Check `sig` over `msg` by the ZIP-215 rules.
    pub fn verify(&self, msg: &[u8], sig: &[u8; 64]) -> Result<()> {
        self.key
            .verify(&Signature::from_bytes(sig), msg)
            .map_err(|_| Error::BadSignature {
                author: crate::PublicIdentity::from_bytes(&self.bytes)
                    .map(|k| k.to_string())
                    .unwrap_or_default(),
            })
    }
}

/// The point 32 bytes encode, decoded the way ZIP-215 does (non-canonical accepted).
fn curve_point(bytes: &[u8; 32]) -> Option<curve25519_dalek::EdwardsPoint> {
    curve25519_dalek::edwards::CompressedEdwardsY(*bytes).decompress()
}

/// One signature to check: key, message, signature.
#[derive(Clone, Copy, Debug)]
pub struct Item<'a> {
    /// The signer's key.
    pub key: &'a ConsensusKey,
    /// The signed message.
    pub msg: &'a [u8],
    /// The signature.
    pub sig: &'a [u8; 64],
}

/// Check every item; `true` where its signature is valid. The verdict for each item is exactly
/// [`ConsensusKey::verify`]'s; batches ([`BATCH_CHUNK`]) run on up to `threads` threads.
pub fn verify_each(items: &[Item<'_>], threads: usize) -> Vec<bool> {
    let threads = threads.clamp(1, items.len().div_ceil(MIN_PER_THREAD).max(1));
    if threads == 1 {
        return verify_run(items);
    }
    // Contiguous runs, one per thread, cut at chunk boundaries where possible.
    let per = items.len().div_ceil(threads);
    let per = per.div_ceil(BATCH_CHUNK).max(1) * BATCH_CHUNK;
    let per = if per >= items.len() {
        items.len().div_ceil(threads)
    } else {
        per
    };
    let runs: Vec<&[Item<'_>]> = items.chunks(per.max(1)).collect();
    let mut out = Vec::with_capacity(items.len());
    std::thread::scope(|s| {
        let (first, rest) = runs
            .split_first()
            .map_or((&[][..], &[][..]), |(f, r)| (*f, r));
        let handles: Vec<_> = rest
            .iter()
            .map(|run| s.spawn(move || verify_run(run)))
            .collect();
        out.extend(verify_run(first));
        for (h, run) in handles.into_iter().zip(rest) {
            match h.join() {
                Ok(v) => out.extend(v),
                // A panicking thread (none is expected) costs that run a second, serial pass.
                Err(_) => out.extend(verify_run(run)),
            }
        }
    });
    out
}

/// One thread's share: batch per chunk, single verification of a chunk whose batch fails.
fn verify_run(items: &[Item<'_>]) -> Vec<bool> {
    let mut out = Vec::with_capacity(items.len());
    for chunk in items.chunks(BATCH_CHUNK) {
        if chunk.len() > 1 && verify_batch(chunk) {
            out.extend(std::iter::repeat_n(true, chunk.len()));
        } else {
            out.extend(chunk.iter().map(|i| i.key.verify(i.msg, i.sig).is_ok()));
        }
    }
    out
}

/// One batch equation over `chunk`: true only if every signature in it is valid (up to a
/// 2^-128 chance, over coefficients the signers cannot predict, that an invalid one passes).
fn verify_batch(chunk: &[Item<'_>]) -> bool {
    let mut seed = blake3::Hasher::new_derive_key(BATCH_SEED_TAG);
    for i in chunk {
        seed.update(i.key.as_bytes());
        seed.update(i.sig);
        seed.update(&(i.msg.len() as u64).to_le_bytes());
        seed.update(i.msg);
    }
    let rng = ChaCha12Rng::from_seed(*seed.finalize().as_bytes());
    let mut v = batch::Verifier::new();
    for i in chunk {
        v.queue((
            VerificationKeyBytes::from(i.key.bytes),
            Signature::from_bytes(i.sig),
            i.msg,
        ));
    }
    v.verify(rng).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretIdentity;

    fn signed(n: usize) -> (Vec<ConsensusKey>, Vec<Vec<u8>>, Vec<[u8; 64]>) {
        let keys: Vec<SecretIdentity> = (0..5u8)
            .map(|i| SecretIdentity::from_seed(&[i + 1; 32]))
            .collect();
        let msgs: Vec<Vec<u8>> = (0..n)
            .map(|i| format!("message {i}").into_bytes())
            .collect();
        let sigs = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| keys[i % 5].sign_raw(m))
            .collect();
        let ck = (0..n)
            .map(|i| ConsensusKey::from_bytes(keys[i % 5].public().as_bytes()).unwrap())
            .collect();
        (ck, msgs, sigs)
    }

    #[test]
    fn batches_agree_with_single_and_find_the_forgery() {
        let (keys, msgs, mut sigs) = signed(1_000);
        sigs[617][40] ^= 1;
        sigs[3][0] ^= 1;
        let items: Vec<Item<'_>> = (0..1_000)
            .map(|i| Item {
                key: &keys[i],
                msg: &msgs[i],
                sig: &sigs[i],
            })
            .collect();
        for threads in [1, 2, 3, 8] {
            let got = verify_each(&items, threads);
            let want: Vec<bool> = items
                .iter()
                .map(|i| i.key.verify(i.msg, i.sig).is_ok())
                .collect();
            assert_eq!(got, want, "threads {threads}");
            assert_eq!(got.iter().filter(|ok| !**ok).count(), 2);
            assert!(!got[617] && !got[3]);
        }
        assert!(verify_each(&[], 2).is_empty());
    }

    #[test]
    fn weak_keys_are_refused() {
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(ConsensusKey::from_bytes(&identity).is_err());
        // y = p + 1: the identity point, non-canonically encoded.
        let mut y = [0xffu8; 32];
        y[0] = 0xee;
        y[31] = 0x7f;
        assert!(ConsensusKey::from_bytes(&y).is_err());
        let k = SecretIdentity::from_seed(&[9; 32]).public();
        assert!(ConsensusKey::from_bytes(k.as_bytes()).is_ok());
    }
}
