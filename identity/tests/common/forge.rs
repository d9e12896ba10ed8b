//! Signatures made by hand for edge cases: unreduced `s`, small-order `R`.
#![allow(dead_code, unreachable_pub)]

use qun_identity::SecretIdentity;

/// `s + l` for a little-endian scalar `s < l`: the same signature with a non-reduced `s`.
pub fn add_group_order(sig: &[u8; 64]) -> [u8; 64] {
    let l = scalar::L;
    let mut out = *sig;
    let mut carry = 0u128;
    for (i, limb) in l.iter().enumerate() {
        let mut cur = [0u8; 8];
        cur.copy_from_slice(&sig[32 + 8 * i..40 + 8 * i]);
        let sum = u128::from(u64::from_le_bytes(cur)) + u128::from(*limb) + carry;
        out[32 + 8 * i..40 + 8 * i].copy_from_slice(&(sum as u64).to_le_bytes());
        carry = sum >> 64;
    }
    assert_eq!(carry, 0);
    out
}

/// Arithmetic modulo the ed25519 group order l, just enough to make signatures by hand.
pub mod scalar {
    /// l = 2^252 + 27742317777372353535851937790883648493, little-endian 64-bit limbs.
    pub(crate) const L: [u64; 4] = [0x5812631a5cf5d3ed, 0x14def9dea2f79cd6, 0, 1 << 60];

    fn geq(a: &[u64; 4], b: &[u64; 4]) -> bool {
        for i in (0..4).rev() {
            if a[i] != b[i] {
                return a[i] > b[i];
            }
        }
        true
    }

    fn sub(a: &mut [u64; 4], b: &[u64; 4]) {
        let mut borrow = false;
        for i in 0..4 {
            let (d, b1) = a[i].overflowing_sub(b[i]);
            let (d, b2) = d.overflowing_sub(u64::from(borrow));
            a[i] = d;
            borrow = b1 || b2;
        }
    }

    /// `2a + bit mod l`, for `a < l` (so the result fits: 2l < 2^254).
    fn double_add(a: &mut [u64; 4], bit: bool) {
        let mut carry = u64::from(bit);
        for limb in a.iter_mut() {
            let next = *limb >> 63;
            *limb = (*limb << 1) | carry;
            carry = next;
        }
        if geq(a, &L) {
            sub(a, &L);
        }
    }

    fn add(a: &mut [u64; 4], b: &[u64; 4]) {
        let mut carry = 0u128;
        for i in 0..4 {
            let s = u128::from(a[i]) + u128::from(b[i]) + carry;
            a[i] = s as u64;
            carry = s >> 64;
        }
        if geq(a, &L) {
            sub(a, &L);
        }
    }

    /// A little-endian byte string reduced modulo l.
    pub(crate) fn reduce(bytes: &[u8]) -> [u64; 4] {
        let mut r = [0u64; 4];
        for byte in bytes.iter().rev() {
            for bit in (0..8).rev() {
                double_add(&mut r, byte >> bit & 1 == 1);
            }
        }
        r
    }

    /// `a * b mod l`.
    pub(crate) fn mul(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
        let mut r = [0u64; 4];
        for i in (0..4).rev() {
            for bit in (0..64).rev() {
                double_add(&mut r, false);
                if b[i] >> bit & 1 == 1 {
                    add(&mut r, a);
                }
            }
        }
        r
    }

    pub(crate) fn to_bytes(a: &[u64; 4]) -> [u8; 32] {
        let mut out = [0u8; 32];
        for i in 0..4 {
            out[8 * i..8 * i + 8].copy_from_slice(&a[i].to_le_bytes());
        }
        out
    }
}

/// The secret scalar `a` of the key with `seed` (A = aB), reduced modulo l.
pub fn secret_scalar(seed: &[u8; 32]) -> [u64; 4] {
    use ed25519_dalek::{Digest, Sha512};
    let h = Sha512::digest(seed);
    let mut a = [0u8; 32];
    a.copy_from_slice(&h[..32]);
    a[0] &= 248;
    a[31] &= 127;
    a[31] |= 64;
    scalar::reduce(&a)
}

/// A signature by `k` over `msg` whose R is the identity point: s = H(R || A || msg) * a.
pub fn small_order_r_signature(seed: &[u8; 32], msg: &[u8]) -> [u8; 64] {
    use ed25519_dalek::{Digest, Sha512};
    let a = secret_scalar(seed);
    let mut r = [0u8; 32];
    r[0] = 1;
    let public = SecretIdentity::from_seed(seed).public();
    let k = Sha512::new()
        .chain_update(r)
        .chain_update(public.as_bytes())
        .chain_update(msg)
        .finalize();
    let s = scalar::mul(&scalar::reduce(&k), &a);
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&r);
    sig[32..].copy_from_slice(&scalar::to_bytes(&s));
    sig
}
