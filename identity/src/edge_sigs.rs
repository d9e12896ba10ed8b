//! Signatures on the edge between the rule sets (feature `test-utils`): valid under ZIP-215,
//! refused by strict ed25519 verification. Attack tests use them to show that every path
//! (single, batch, gossip, sync, restart) judges them the same way.
//!
//! Only the key's holder can make these (they need the secret scalar), so they are no forgery:
//! what they test is agreement between nodes, which strict and batch verification would break.

use crate::SecretIdentity;
use curve25519_dalek::constants::EIGHT_TORSION;
use curve25519_dalek::{EdwardsPoint, Scalar};
use sha2::{Digest, Sha512};

/// Which `R` an edge-case signature carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeR {
    /// `R = rB + T` with `T` the 8-torsion point of this index (1..8): the cofactored equation
    /// holds, the cofactorless one does not.
    MixedOrder(usize),
    /// `R` the identity point, canonically encoded (`01 00 … 00`): small order.
    Identity,
    /// `R` the identity point encoded as `y = p + 1` (`ee ff … ff 7f`): non-canonical.
    IdentityNonCanonicalY,
    /// `R` the identity point with the sign bit set (`01 00 … 00 80`): non-canonical.
    IdentityNegativeZero,
}

/// All the edge cases.
pub const ALL: [EdgeR; 6] = [
    EdgeR::MixedOrder(1),
    EdgeR::MixedOrder(4),
    EdgeR::MixedOrder(7),
    EdgeR::Identity,
    EdgeR::IdentityNonCanonicalY,
    EdgeR::IdentityNegativeZero,
];

fn secret_scalar(key: &SecretIdentity) -> Scalar {
    let seed = key.seed();
    let h = Sha512::digest(&seed[..]);
    let mut a = [0u8; 32];
    a.copy_from_slice(&h[..32]);
    Scalar::from_bytes_mod_order(curve25519_dalek::scalar::clamp_integer(a))
}

fn hash_scalar(parts: &[&[u8]]) -> Scalar {
    let mut h = Sha512::new();
    for p in parts {
        h.update(p);
    }
    let mut wide = [0u8; 64];
    wide.copy_from_slice(&h.finalize());
    Scalar::from_bytes_mod_order_wide(&wide)
}

/// A signature by `key` over `msg` whose `R` is `edge`: valid under ZIP-215 (the cofactored
/// equation), refused by `verify_strict`.
pub fn sign(key: &SecretIdentity, msg: &[u8], edge: EdgeR) -> [u8; 64] {
    let a = secret_scalar(key);
    let public = key.public().to_bytes();
    let (r, r_bytes) = match edge {
        EdgeR::MixedOrder(i) => {
            let r = hash_scalar(&[b"qun edge nonce", &public, msg]);
            let point: EdwardsPoint = EdwardsPoint::mul_base(&r) + EIGHT_TORSION[i % 8];
            (r, point.compress().to_bytes())
        }
        EdgeR::Identity => {
            let mut b = [0u8; 32];
            b[0] = 1;
            (Scalar::ZERO, b)
        }
        EdgeR::IdentityNonCanonicalY => {
            let mut b = [0xffu8; 32];
            b[0] = 0xee;
            b[31] = 0x7f;
            (Scalar::ZERO, b)
        }
        EdgeR::IdentityNegativeZero => {
            let mut b = [0u8; 32];
            b[0] = 1;
            b[31] = 0x80;
            (Scalar::ZERO, b)
        }
    };
    let k = hash_scalar(&[&r_bytes, &public, msg]);
    let s = r + k * a;
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&r_bytes);
    sig[32..].copy_from_slice(s.as_bytes());
    sig
}
