//! Change signatures follow ZIP-215 (`qun_identity::consensus`): checked against
//! `ed25519-consensus` (the rules the issue chose) on its edge cases and on random inputs, and
//! single and batch verification agree on every input.

use curve25519_dalek::constants::EIGHT_TORSION;
use curve25519_dalek::edwards::CompressedEdwardsY;
use proptest::prelude::*;
use qun_identity::SecretIdentity;
use qun_identity::consensus::{ConsensusKey, Item, verify_each};
use qun_identity::edge_sigs::{self, EdgeR};

/// ed25519-consensus's verdict: the reference for the rules.
fn reference(key: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
    ed25519_consensus::VerificationKey::try_from(*key)
        .and_then(|k| k.verify(&ed25519_consensus::Signature::from(*sig), msg))
        .is_ok()
}

fn strict(key: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
    ed25519_dalek::VerifyingKey::from_bytes(key)
        .and_then(|k| k.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(sig)))
        .is_ok()
}

fn ours(key: &ConsensusKey, msg: &[u8], sig: &[u8; 64]) -> bool {
    key.verify(msg, sig).is_ok()
}

fn batch(
    key: &ConsensusKey,
    msg: &[u8],
    sig: &[u8; 64],
    honest: &[(ConsensusKey, Vec<u8>, [u8; 64])],
) -> bool {
    let mut items: Vec<Item<'_>> = honest
        .iter()
        .map(|(k, m, s)| Item {
            key: k,
            msg: m,
            sig: s,
        })
        .collect();
    items.insert(items.len() / 2, Item { key, msg, sig });
    let v = verify_each(&items, 2);
    assert!(
        v.iter()
            .enumerate()
            .all(|(i, ok)| i == items.len() / 2 || *ok)
    );
    v[items.len() / 2]
}

fn honest(n: usize) -> Vec<(ConsensusKey, Vec<u8>, [u8; 64])> {
    (0..n)
        .map(|i| {
            let k = SecretIdentity::from_seed(&[(i % 7) as u8 + 40; 32]);
            let m = format!("honest {i}").into_bytes();
            let s = k.sign_raw(&m);
            (
                ConsensusKey::from_bytes(k.public().as_bytes()).expect("key"),
                m,
                s,
            )
        })
        .collect()
}

/// Honest keys, R on the edge: valid under ZIP-215 (and ed25519-consensus), refused by strict
/// verification, and the same verdict alone and in a batch.
#[test]
fn edge_r_valid_under_zip215_only() {
    let others = honest(300);
    for (i, edge) in edge_sigs::ALL.into_iter().enumerate() {
        let k = SecretIdentity::from_seed(&[i as u8 + 1; 32]);
        let pk = k.public().to_bytes();
        let msg = b"qun-change-v2 edge case".as_slice();
        let sig = edge_sigs::sign(&k, msg, edge);
        let ck = ConsensusKey::from_bytes(&pk).expect("honest key");
        assert!(reference(&pk, msg, &sig), "{edge:?}: ed25519-consensus");
        assert!(ours(&ck, msg, &sig), "{edge:?}: single");
        assert!(batch(&ck, msg, &sig, &others), "{edge:?}: batch");
        assert!(!strict(&pk, msg, &sig), "{edge:?}: strict must refuse it");
        // And over another message, invalid everywhere.
        assert!(!reference(&pk, b"other", &sig));
        assert!(!ours(&ck, b"other", &sig));
        assert!(!batch(&ck, b"other", &sig, &others), "{edge:?}");
    }
}

/// ed25519-consensus's small-order table (every 8-torsion point and the low-order
/// non-canonical encodings as A and R, s = 0): valid under ZIP-215 for every message. Our
/// verification (ed25519-zebra) agrees with it, and `ConsensusKey` refuses every such key, so
/// no change can carry one.
#[test]
fn small_order_table() {
    let mut encodings: Vec<[u8; 32]> = EIGHT_TORSION
        .iter()
        .map(|p| p.compress().to_bytes())
        .collect();
    // Non-canonical encodings of low-order points: y = p + {0, 1} and x = 0 with the sign bit.
    let mut y_p = [0xffu8; 32];
    y_p[0] = 0xed;
    y_p[31] = 0x7f;
    let mut y_p1 = y_p;
    y_p1[0] = 0xee;
    let mut neg_zero = [0u8; 32];
    neg_zero[0] = 1;
    neg_zero[31] = 0x80;
    encodings.extend([y_p, y_p1, neg_zero]);
    let mut y_p_neg = y_p;
    y_p_neg[31] |= 0x80;
    encodings.push(y_p_neg);
    let mut cases = 0;
    for a in &encodings {
        if CompressedEdwardsY(*a).decompress().is_none() {
            continue;
        }
        assert!(
            ConsensusKey::from_bytes(a).is_err(),
            "small-order key {a:02x?} refused"
        );
        let zebra = ed25519_zebra::VerificationKey::try_from(*a).expect("a point");
        for r in &encodings {
            if CompressedEdwardsY(*r).decompress().is_none() {
                continue;
            }
            let mut sig = [0u8; 64];
            sig[..32].copy_from_slice(r);
            for msg in [&b"Zcash"[..], b"qun"] {
                let z = zebra
                    .verify(&ed25519_zebra::Signature::from_bytes(&sig), msg)
                    .is_ok();
                assert_eq!(z, reference(a, msg, &sig), "A {a:02x?} R {r:02x?}");
                assert!(z, "valid under ZIP-215");
                cases += 1;
            }
        }
    }
    assert!(cases >= 8 * 8 * 2, "{cases}");
}

/// s must be canonical everywhere: s + l is refused.
#[test]
fn non_canonical_s_is_refused() {
    let k = SecretIdentity::from_seed(&[3; 32]);
    let msg = b"m";
    let sig = k.sign_raw(msg);
    // s + l (l = 2^252 + 27742317777372353535851937790883648493), little-endian.
    let l: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut bad = sig;
    let mut carry = 0u16;
    for i in 0..32 {
        let v = u16::from(sig[32 + i]) + u16::from(l[i]) + carry;
        bad[32 + i] = v as u8;
        carry = v >> 8;
    }
    let pk = k.public().to_bytes();
    let ck = ConsensusKey::from_bytes(&pk).expect("key");
    assert!(ours(&ck, msg, &sig));
    assert!(!ours(&ck, msg, &bad));
    assert!(!reference(&pk, msg, &bad));
    assert!(!batch(&ck, msg, &bad, &honest(100)));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random keys, messages and damaged signatures: ours = ed25519-consensus = batch.
    #[test]
    fn agrees_with_ed25519_consensus(seed in any::<[u8; 32]>(), msg in proptest::collection::vec(any::<u8>(), 0..200),
                                     flip in proptest::option::of((0usize..64, 0u8..8)),
                                     edge in proptest::option::of(0usize..edge_sigs::ALL.len())) {
        let k = SecretIdentity::from_seed(&seed);
        let pk = k.public().to_bytes();
        let mut sig = match edge {
            Some(e) => edge_sigs::sign(&k, &msg, edge_sigs::ALL[e]),
            None => k.sign_raw(&msg),
        };
        if let Some((i, b)) = flip {
            sig[i] ^= 1 << b;
        }
        let ck = ConsensusKey::from_bytes(&pk).expect("key");
        let want = reference(&pk, &msg, &sig);
        prop_assert_eq!(ours(&ck, &msg, &sig), want);
        prop_assert_eq!(batch(&ck, &msg, &sig, &honest(70)), want);
        if flip.is_none() {
            prop_assert!(want);
        }
    }
}

/// The edge cases are what they claim (sanity of the test data itself).
#[test]
fn edge_cases_have_the_r_they_name() {
    let k = SecretIdentity::from_seed(&[5; 32]);
    for edge in edge_sigs::ALL {
        let sig = edge_sigs::sign(&k, b"x", edge);
        let r: [u8; 32] = sig[..32].try_into().expect("32");
        let p = CompressedEdwardsY(r).decompress().expect("R decodes");
        match edge {
            EdgeR::MixedOrder(_) => assert!(!p.is_small_order() && !p.is_torsion_free()),
            _ => assert!(p.is_small_order()),
        }
        let canonical = p.compress().to_bytes() == r;
        assert_eq!(
            canonical,
            matches!(edge, EdgeR::MixedOrder(_) | EdgeR::Identity),
            "{edge:?}"
        );
    }
}
