//! Every kind of tampering with a signed envelope is refused, with the error that names it.
//! (Tampering with delegation — certificates, revocations, attribution — is in delegation.rs.)
//!
//! Each test here fails if the check it is about is removed: the tampered envelopes are built
//! so that, without that one check, they would verify.

mod common;

use common::forge::{add_group_order, scalar, secret_scalar, small_order_r_signature};
use common::*;
use qun_identity::{
    DeviceCert, Endorsement, Envelope, Error, Invitation, Limits, PublicIdentity, Revocation,
    SecretIdentity, Signed, SignedBody, Timestamp, canonical::encode, verify_batch,
};
use serde::{Deserialize, Serialize};
use std::fmt::Debug;

fn signed<T: SignedBody>(k: &SecretIdentity, v: T) -> Signed<T> {
    Signed::sign(k, v).expect("sample bodies are valid")
}

fn decode_verify<T: SignedBody>(bytes: &[u8], now: Timestamp) -> Result<Signed<T>, Error> {
    Envelope::decode(bytes, &Limits::default())?.verify::<T>(now)
}

fn text(k: &SecretIdentity) -> String {
    k.public().to_string()
}
// ---------------------------------------------------------------------------------------------
// Flipped bits

/// Flip every bit of every byte of `good`'s encoding: each result is an error (never a panic,
/// never another valid value), of the kind the flipped field calls for; and `verify_batch` over
/// all the decodable ones says exactly what single verification says.
fn flip_every_bit<T: SignedBody + PartialEq + Debug>(good: &Signed<T>, now: Timestamp) {
    let bytes = good.to_bytes();
    let lay = layout(good.envelope());
    let signer = good.author().to_string();
    let mut decodable = Vec::new();
    let mut singles = Vec::new();
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut b = bytes.clone();
            b[i] ^= 1 << bit;
            let decoded = Envelope::decode(&b, &Limits::default());
            if let Ok(env) = &decoded {
                decodable.push(env.clone());
                singles.push(env.clone().verify::<T>(now));
            }
            let r = decoded.and_then(|e| e.verify::<T>(now));
            let at = format!("byte {i} bit {bit}: {r:?}");
            if lay.tag_len.contains(&i) || lay.body_len.contains(&i) {
                assert!(r.is_err(), "{at}");
            } else if lay.tag.contains(&i) {
                assert!(
                    matches!(
                        r,
                        Err(Error::WrongKind { .. }
                            | Error::Decode {
                                what: "envelope",
                                ..
                            })
                    ),
                    "{at}"
                );
            } else if lay.author.contains(&i) {
                let mut key = [0u8; 32];
                key.copy_from_slice(&b[lay.author.clone()]);
                match r {
                    Err(Error::BadSignature { author }) => {
                        let flipped = PublicIdentity::from_bytes(&key).expect("decoded");
                        assert_eq!(author, flipped.to_string(), "{at}");
                    }
                    Err(Error::Decode {
                        what: "envelope", ..
                    }) => assert!(PublicIdentity::from_bytes(&key).is_err(), "{at}"),
                    _ => panic!("{at}"),
                }
            } else if lay.body.contains(&i) || lay.sig.contains(&i) {
                assert_eq!(
                    r.map(|_| ()),
                    Err(Error::BadSignature {
                        author: signer.clone()
                    }),
                    "{at}"
                );
            } else {
                panic!("byte {i} outside the layout {lay:?}");
            }
        }
    }
    assert!(singles.iter().all(Result::is_err));
    // One batch: the good envelope in the middle of all the decodable tampered ones.
    let mid = decodable.len() / 2;
    decodable.insert(mid, good.envelope().clone());
    singles.insert(mid, Ok(good.clone()));
    assert_eq!(verify_batch::<T>(decodable, now), singles);
}

#[test]
fn flipped_bit_anywhere_in_an_endorsement_is_rejected() {
    flip_every_bit(&signed(&key(1), endorsement()), NOW);
}

#[test]
fn flipped_bit_anywhere_in_a_device_cert_is_rejected() {
    flip_every_bit(&signed(&key(1), device_cert()), NOW);
}

#[test]
fn flipped_bit_anywhere_in_an_invitation_is_rejected() {
    flip_every_bit(&signed(&key(1), invitation()), NOW);
}

#[test]
fn flipped_bit_anywhere_in_a_revocation_is_rejected() {
    flip_every_bit(&signed(&key(1), revocation()), NOW);
}

#[test]
fn truncated_or_extended_envelopes_are_decode_errors() {
    let bytes = signed(&key(1), endorsement()).to_bytes();
    for n in 0..bytes.len() {
        assert!(
            matches!(
                decode_verify::<Endorsement>(&bytes[..n], NOW),
                Err(Error::Decode {
                    what: "envelope",
                    ..
                })
            ),
            "prefix of {n} bytes"
        );
    }
    let mut long = bytes.clone();
    long.push(0);
    match decode_verify::<Endorsement>(&long, NOW) {
        Err(Error::Decode {
            what: "envelope",
            reason,
        }) => assert!(reason.contains("trailing"), "{reason}"),
        other => panic!("{other:?}"),
    }
}
// ---------------------------------------------------------------------------------------------
// Signatures
#[test]
fn malleated_signature_with_unreduced_s_is_rejected() {
    // (R, s + l) satisfies the verification equation; only the canonical-s rule refuses it.
    let good = signed(&key(1), endorsement());
    let env = good.envelope();
    let mut sig = [0u8; 64];
    sig.copy_from_slice(&good.to_bytes()[layout(env).sig]);
    let bad = raw_envelope(
        env.tag(),
        env.author().as_bytes(),
        env.body(),
        &add_group_order(&sig),
    );
    assert_ne!(bad, good.to_bytes());
    assert_eq!(
        verify_both(&bad, NOW, &good).map(|_| ()),
        Err(Error::BadSignature {
            author: text(&key(1))
        })
    );
}

#[test]
fn signature_made_by_a_small_order_key_is_rejected() {
    // The identity point as the author key with R = identity and s = 0 satisfies the plain
    // (non-strict) ed25519 equation for every message: only the weak-key rule refuses it.
    let identity = {
        let mut b = [0u8; 32];
        b[0] = 1;
        b
    };
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&identity);
    let weak = ed25519_dalek::VerifyingKey::from_bytes(&identity).expect("a curve point");
    assert!(weak.is_weak());
    let dalek_sig = ed25519_dalek::Signature::from_bytes(&sig);
    let good = signed(&key(1), endorsement());
    let body = good.envelope().body().to_vec();
    let msg = signing_message(&tag_of::<Endorsement>(), &body);
    assert!(weak.verify_strict(&msg, &dalek_sig).is_err());
    let bytes = raw_envelope(&tag_of::<Endorsement>(), &identity, &body, &sig);
    let author = PublicIdentity::from_bytes(&identity)
        .expect("a point")
        .to_string();
    assert_eq!(
        verify_both(&bytes, NOW, &good).map(|_| ()),
        Err(Error::BadSignature {
            author: author.clone()
        })
    );
    // The same key with an ordinary R: R = aB for a key with a known secret a, and s = a.
    // sB - k*identity = R for every message, and R is no small-order point, so nothing but the
    // weak-key rule keeps it out of the batch, whose equation it satisfies.
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(key(5).public().as_bytes());
    sig[32..].copy_from_slice(&scalar::to_bytes(&secret_scalar(&[5; 32])));
    let dalek_sig = ed25519_dalek::Signature::from_bytes(&sig);
    assert!(ed25519_dalek::verify_batch(&[msg.as_slice()], &[dalek_sig], &[weak]).is_ok());
    assert!(weak.verify_strict(&msg, &dalek_sig).is_err());
    let bytes = raw_envelope(&tag_of::<Endorsement>(), &identity, &body, &sig);
    assert_eq!(
        verify_both(&bytes, NOW, &good).map(|_| ()),
        Err(Error::BadSignature { author })
    );
}

#[test]
fn signature_with_a_small_order_r_is_rejected_single_and_batched() {
    // A key holder can sign with R = identity. Strict verification refuses it; ed25519-dalek's
    // batch equation accepts it, so `verify_batch` must keep it out of the batch.
    let alice = key(1);
    let good = signed(&alice, endorsement());
    let tag = tag_of::<Endorsement>();
    let body = good.envelope().body().to_vec();
    let msg = signing_message(&tag, &body);
    let sig = small_order_r_signature(&[1; 32], &msg);
    let vk = ed25519_dalek::VerifyingKey::from_bytes(alice.public().as_bytes()).expect("key");
    let dalek_sig = ed25519_dalek::Signature::from_bytes(&sig);
    assert!(
        ed25519_dalek::verify_batch(&[msg.as_slice()], &[dalek_sig], &[vk]).is_ok(),
        "the hand-made signature satisfies the batch equation"
    );
    assert!(vk.verify_strict(&msg, &dalek_sig).is_err());
    let bytes = raw_envelope(&tag, alice.public().as_bytes(), &body, &sig);
    assert_eq!(
        verify_both(&bytes, NOW, &good).map(|_| ()),
        Err(Error::BadSignature {
            author: text(&alice)
        })
    );
    // The same R encoded non-canonically (y = p + 1) is refused too.
    let mut sig2 = sig;
    sig2[0] = 0xee;
    sig2[1..31].fill(0xff);
    sig2[31] = 0x7f;
    let bytes = raw_envelope(&tag, alice.public().as_bytes(), &body, &sig2);
    assert_eq!(
        verify_both(&bytes, NOW, &good).map(|_| ()),
        Err(Error::BadSignature {
            author: text(&alice)
        })
    );
}
// ---------------------------------------------------------------------------------------------
// Authors and signers

#[test]
fn swapped_author_is_a_bad_signature() {
    fn swap<T: SignedBody + PartialEq + Debug>(good: Signed<T>) {
        let env = good.envelope();
        let mut sig = [0u8; 64];
        sig.copy_from_slice(&good.to_bytes()[layout(env).sig]);
        let mallory = key(4);
        let bytes = raw_envelope(env.tag(), mallory.public().as_bytes(), env.body(), &sig);
        assert_eq!(
            verify_both(&bytes, NOW, &good).map(|_| ()),
            Err(Error::BadSignature {
                author: text(&mallory)
            })
        );
    }
    swap(signed(&key(1), endorsement()));
    swap(signed(&key(1), device_cert()));
    swap(signed(&key(1), invitation()));
    swap(signed(&key(1), revocation()));
}

#[test]
fn device_cert_and_revocation_signed_by_someone_else_are_wrong_signer() {
    let (alice, mallory) = (key(1), key(4));
    let expected = text(&alice);
    let wrong = Err(Error::WrongSigner {
        expected: expected.clone(),
        signer: text(&mallory),
    });
    // Signed::sign refuses to make them...
    assert_eq!(
        Signed::sign(&mallory, device_cert()).map(|_| ()),
        wrong.clone()
    );
    assert_eq!(
        Signed::sign(&mallory, revocation()).map(|_| ()),
        wrong.clone()
    );
    // ...and a correctly signed envelope made by hand is refused on verification.
    let good_cert = signed(&alice, device_cert());
    let forged = forge(&mallory, &tag_of::<DeviceCert>(), &encode(&device_cert()));
    assert_eq!(
        verify_both(&forged, NOW, &good_cert).map(|_| ()),
        wrong.clone()
    );
    let good_rev = signed(&alice, revocation());
    let forged = forge(&mallory, &tag_of::<Revocation>(), &encode(&revocation()));
    assert_eq!(verify_both(&forged, NOW, &good_rev).map(|_| ()), wrong);
    // The device cannot revoke or certify itself in its member's name either.
    let laptop = key(11);
    let forged = forge(&laptop, &tag_of::<Revocation>(), &encode(&revocation()));
    assert_eq!(
        verify_both(&forged, NOW, &good_rev).map(|_| ()),
        Err(Error::WrongSigner {
            expected,
            signer: text(&laptop)
        })
    );
}
// ---------------------------------------------------------------------------------------------
// Kind and version replay

/// The endorsement body under a hypothetical version 2 of its kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
struct EndorsementV2(Endorsement);

impl SignedBody for EndorsementV2 {
    const KIND: &'static str = "endorsement";
    const VERSION: u16 = 2;
    const MAX_BODY_BYTES: usize = 1024;
}

/// The same kind name as [`Invitation`] but the endorsement body, so only the signature over
/// the tag tells them apart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
struct EndorsementAsInvitation(Endorsement);

impl SignedBody for EndorsementAsInvitation {
    const KIND: &'static str = "invitation";
    const VERSION: u16 = 2;
    const MAX_BODY_BYTES: usize = 1024;
}

fn retag(good: &Signed<Endorsement>, tag: &str) -> Vec<u8> {
    let env = good.envelope();
    let mut sig = [0u8; 64];
    sig.copy_from_slice(&good.to_bytes()[layout(env).sig]);
    raw_envelope(tag, env.author().as_bytes(), env.body(), &sig)
}

#[test]
fn endorsement_signature_replayed_as_another_kind_is_rejected() {
    let good = signed(&key(1), endorsement());
    // Presented, unchanged, as an invitation: the tag says what it is.
    assert_eq!(
        decode_verify::<Invitation>(&good.to_bytes(), NOW).map(|_| ()),
        Err(Error::WrongKind {
            expected: "qun/invitation/v2".into(),
            found: "qun/endorsement/v1".into(),
        })
    );
    // Relabelled as an invitation: the signature covers the tag, so it no longer verifies.
    let relabelled = retag(&good, "qun/invitation/v2");
    assert_eq!(
        decode_verify::<EndorsementAsInvitation>(&relabelled, NOW).map(|_| ()),
        Err(Error::BadSignature {
            author: text(&key(1))
        })
    );
    assert_eq!(
        decode_verify::<Invitation>(&relabelled, NOW).map(|_| ()),
        Err(Error::BadSignature {
            author: text(&key(1))
        })
    );
    assert_eq!(
        decode_verify::<Endorsement>(&relabelled, NOW).map(|_| ()),
        Err(Error::WrongKind {
            expected: "qun/endorsement/v1".into(),
            found: "qun/invitation/v2".into(),
        })
    );
    // Relabelled as a device certificate.
    assert_eq!(
        decode_verify::<DeviceCert>(&retag(&good, "qun/device-cert/v1"), NOW).map(|_| ()),
        Err(Error::BadSignature {
            author: text(&key(1))
        })
    );
}

#[test]
fn endorsement_signature_replayed_as_version_2_is_rejected() {
    let good = signed(&key(1), endorsement());
    let v2 = retag(&good, "qun/endorsement/v2");
    assert_eq!(
        decode_verify::<EndorsementV2>(&v2, NOW).map(|_| ()),
        Err(Error::BadSignature {
            author: text(&key(1))
        })
    );
    assert_eq!(
        decode_verify::<Endorsement>(&v2, NOW).map(|_| ()),
        Err(Error::WrongKind {
            expected: "qun/endorsement/v1".into(),
            found: "qun/endorsement/v2".into(),
        })
    );
    assert_eq!(
        decode_verify::<EndorsementV2>(&good.to_bytes(), NOW).map(|_| ()),
        Err(Error::WrongKind {
            expected: "qun/endorsement/v2".into(),
            found: "qun/endorsement/v1".into(),
        })
    );
    // A genuine version-2 signature verifies as version 2 only.
    let genuine = signed(&key(1), EndorsementV2(endorsement())).to_bytes();
    assert!(decode_verify::<EndorsementV2>(&genuine, NOW).is_ok());
    assert!(matches!(
        decode_verify::<Endorsement>(&genuine, NOW),
        Err(Error::WrongKind { .. })
    ));
}
// ---------------------------------------------------------------------------------------------
// Validity windows

#[test]
fn device_cert_outside_its_window_is_not_yet_valid_or_expired() {
    let cert = device_cert();
    let (nb, exp) = (cert.not_before, cert.expires.expect("expires"));
    let good = signed(&key(1), cert);
    let bytes = good.to_bytes();
    let before = Timestamp::from_millis(nb.as_millis() - 1);
    assert_eq!(
        verify_both::<DeviceCert>(&bytes, before, &good).map(|_| ()),
        Err(Error::NotYetValid {
            at: nb,
            now: before
        })
    );
    assert_eq!(verify_both(&bytes, nb, &good), Ok(good.clone()));
    let last = Timestamp::from_millis(exp.as_millis() - 1);
    assert_eq!(verify_both(&bytes, last, &good), Ok(good.clone()));
    for now in [exp, exp.plus_millis(DAY), Timestamp::MAX] {
        assert_eq!(
            verify_both::<DeviceCert>(&bytes, now, &good).map(|_| ()),
            Err(Error::Expired { at: exp, now })
        );
        assert!(!good.valid_at(now));
    }
    assert!(!good.valid_at(before));
    assert!(good.valid_at(nb) && good.valid_at(last));
}

#[test]
fn expired_endorsement_and_invitation_are_rejected() {
    let e = signed(&key(1), endorsement());
    let exp = e.value().expires.expect("expires");
    assert_eq!(
        verify_both::<Endorsement>(&e.to_bytes(), exp, &e).map(|_| ()),
        Err(Error::Expired { at: exp, now: exp })
    );
    let last = Timestamp::from_millis(exp.as_millis() - 1);
    assert!(verify_both::<Endorsement>(&e.to_bytes(), last, &e).is_ok());
    let i = signed(&key(1), invitation());
    let exp = i.value().expires.expect("expires");
    assert_eq!(
        verify_both::<Invitation>(&i.to_bytes(), exp, &i).map(|_| ()),
        Err(Error::Expired { at: exp, now: exp })
    );
}
// ---------------------------------------------------------------------------------------------
// Non-canonical encodings

/// The endorsement body with its topic length (one byte at offset 64, after two keys) written
/// as an overlong two-byte varint.
fn overlong_topic_length(body: &[u8]) -> Vec<u8> {
    assert_eq!(usize::from(body[64]), "rust".len());
    let mut b = body[..64].to_vec();
    b.extend_from_slice(&[body[64] | 0x80, 0x00]);
    b.extend_from_slice(&body[65..]);
    b
}

#[test]
fn non_canonical_body_is_rejected_even_when_validly_signed() {
    let alice = key(1);
    let good = signed(&alice, endorsement());
    let body = overlong_topic_length(good.envelope().body());
    let forged = forge(&alice, &tag_of::<Endorsement>(), &body);
    match verify_both::<Endorsement>(&forged, NOW, &good) {
        Err(Error::Decode {
            what: "endorsement",
            reason,
        }) => assert!(reason.contains("non-canonical"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // Trailing bytes after a valid body.
    let mut body = good.envelope().body().to_vec();
    body.push(0);
    let forged = forge(&alice, &tag_of::<Endorsement>(), &body);
    match verify_both::<Endorsement>(&forged, NOW, &good) {
        Err(Error::Decode {
            what: "endorsement",
            reason,
        }) => assert!(reason.contains("trailing"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // A device cert whose capabilities (a varint right after the two keys) are overlong.
    let cert = signed(&alice, device_cert());
    let body = cert.envelope().body();
    assert!(body[64] < 0x80);
    let mut b = body[..64].to_vec();
    b.extend_from_slice(&[body[64] | 0x80, 0x00]);
    b.extend_from_slice(&body[65..]);
    let forged = forge(&alice, &tag_of::<DeviceCert>(), &b);
    assert!(matches!(
        verify_both::<DeviceCert>(&forged, NOW, &cert),
        Err(Error::Decode { what: "device-cert", reason }) if reason.contains("non-canonical")
    ));
}

#[test]
fn non_canonical_envelope_framing_is_rejected() {
    // The signature covers the tag and body, not their length prefixes: an overlong length
    // prefix leaves the signature valid, and only the canonical check refuses it.
    let good = signed(&key(1), endorsement());
    let bytes = good.to_bytes();
    let lay = layout(good.envelope());
    assert_eq!(lay.tag_len.len(), 1);
    let overlong = |range: std::ops::Range<usize>| {
        // The same number with one more, empty, varint group: [.. x] -> [.. x|0x80, 0x00].
        let mut b = bytes[..range.end].to_vec();
        *b.last_mut().expect("non-empty") |= 0x80;
        b.push(0);
        b.extend_from_slice(&bytes[range.end..]);
        b
    };
    let overlong_tag = overlong(lay.tag_len.clone());
    let overlong_body = overlong(lay.body_len.clone());
    for b in [overlong_tag, overlong_body] {
        match decode_verify::<Endorsement>(&b, NOW) {
            Err(Error::Decode {
                what: "envelope",
                reason,
            }) => assert!(reason.contains("non-canonical"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn invalid_values_inside_a_signed_body_are_rejected() {
    // Validly signed bodies that break their type's rules.
    let alice = key(1);
    let good = signed(&alice, endorsement());
    let mut self_endorse = endorsement();
    self_endorse.to = self_endorse.from;
    let forged = forge(&alice, &tag_of::<Endorsement>(), &encode(&self_endorse));
    assert!(matches!(
        verify_both::<Endorsement>(&forged, NOW, &good),
        Err(Error::Invalid {
            what: "endorsement",
            ..
        })
    ));
    assert!(matches!(
        Signed::sign(&alice, self_endorse),
        Err(Error::Invalid { .. })
    ));
    // Weight 1001/1000: the body can carry it (zigzag varint 2002 = d2 0f), decoding refuses
    // it.
    let body = encode(&endorsement());
    let w = encode(&750i16);
    // from (32), to (32), topic (1 + 4), scope (1), then the weight.
    let pos = 70;
    assert_eq!(&body[pos..pos + w.len()], w.as_slice());
    let mut b = body[..pos].to_vec();
    b.extend_from_slice(&encode(&1001i16));
    b.extend_from_slice(&body[pos + w.len()..]);
    let forged = forge(&alice, &tag_of::<Endorsement>(), &b);
    assert!(matches!(
        verify_both::<Endorsement>(&forged, NOW, &good),
        Err(Error::Decode {
            what: "endorsement",
            ..
        })
    ));
    // An author that is not a curve point (y = 2).
    let mut not_a_point = [0u8; 32];
    not_a_point[0] = 2;
    let bytes = raw_envelope(
        &tag_of::<Endorsement>(),
        &not_a_point,
        good.envelope().body(),
        &[0; 64],
    );
    assert!(matches!(
        decode_verify::<Endorsement>(&bytes, NOW),
        Err(Error::Decode {
            what: "envelope",
            ..
        })
    ));
}

// ---------------------------------------------------------------------------------------------
// Sizes

#[test]
fn oversized_envelope_is_refused_before_parsing() {
    let junk = vec![0xff; Limits::default().max_envelope_bytes + 1];
    assert_eq!(
        Envelope::decode(&junk, &Limits::default()),
        Err(Error::TooLarge {
            limit: Limits::default().max_envelope_bytes,
            actual: junk.len(),
        })
    );
    let bytes = signed(&key(1), endorsement()).to_bytes();
    let tight = Limits {
        max_envelope_bytes: bytes.len() - 1,
    };
    assert_eq!(
        Envelope::decode(&bytes, &tight),
        Err(Error::TooLarge {
            limit: bytes.len() - 1,
            actual: bytes.len(),
        })
    );
    let exact = Limits {
        max_envelope_bytes: bytes.len(),
    };
    assert!(Envelope::decode(&bytes, &exact).is_ok());
    assert!(matches!(
        Signed::<Endorsement>::from_bytes(&bytes, &tight, NOW),
        Err(Error::TooLarge { .. })
    ));
}

#[test]
fn oversized_body_is_refused_even_when_validly_signed() {
    fn check<T: SignedBody + PartialEq + Debug>(good: Signed<T>) {
        let alice = key(1);
        let max = T::MAX_BODY_BYTES;
        let too_large = Err(Error::TooLarge {
            limit: max,
            actual: max + 1,
        });
        // One byte over the limit: refused as too large, validly signed or not (the size is
        // checked before the signature).
        let forged = forge(&alice, &tag_of::<T>(), &vec![0; max + 1]);
        assert_eq!(verify_both::<T>(&forged, NOW, &good).map(|_| ()), too_large);
        let unsigned = raw_envelope(
            &tag_of::<T>(),
            alice.public().as_bytes(),
            &vec![0; max + 1],
            &[0; 64],
        );
        assert_eq!(
            verify_both::<T>(&unsigned, NOW, &good).map(|_| ()),
            too_large
        );
        // At the limit the size is fine and the body is decoded (and refused as junk).
        let forged = forge(&alice, &tag_of::<T>(), &vec![0; max]);
        assert!(matches!(
            verify_both::<T>(&forged, NOW, &good),
            Err(Error::Decode { .. })
        ));
    }
    check(signed(&key(1), endorsement()));
    check(signed(&key(1), device_cert()));
    check(signed(&key(1), invitation()));
    check(signed(&key(1), revocation()));
}
