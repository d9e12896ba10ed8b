//! The decoders of peer and disk bytes: round trips, and typed errors — never a panic — for
//! garbage, truncated, mutated and oversized input. Property tests run on every `cargo test`.

mod common;

use common::*;
use proptest::prelude::*;
use qun_dm::envelope::{MAX_ENVELOPE_BYTES, MAX_ITEM_BYTES, MAX_RECIPIENTS};
use qun_dm::{DmDevice, Error, FanOut, Item, Kind, PickleKey, bundle, verify_bundle};
use qun_identity::SecretIdentity;
use std::collections::BTreeSet;

fn decode_errors_are_typed(e: &Error) -> bool {
    matches!(e, Error::Decode { .. } | Error::TooLarge { .. })
}

fn arb_item() -> impl Strategy<Value = Item> {
    (
        any::<[u8; 32]>(),
        any::<bool>(),
        proptest::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(k, pre, c)| Item::new(k, if pre { Kind::PreKey } else { Kind::Normal }, c))
}

fn arb_fanout() -> impl Strategy<Value = FanOut> {
    (
        any::<u8>(),
        any::<[u8; 32]>(),
        proptest::collection::vec(arb_item(), 1..8),
    )
        .prop_map(|(seed, key, mut items)| {
            items.sort_by_key(|i| i.recipient_key);
            items.dedup_by_key(|i| i.recipient_key);
            let dev = SecretIdentity::from_seed(&[seed; 32]).device_id();
            FanOut::new(dev, key, items)
        })
}

/// A real envelope and bundle to mutate.
fn samples() -> (
    Vec<u8>,
    Vec<u8>,
    qun_identity::Signed<qun_identity::DeviceCert>,
) {
    let mut alice = member(1, 1);
    let mut bob = member(2, 2);
    exchange(&mut [&mut alice, &mut bob], 3);
    let env = alice.devices[0]
        .dm
        .encrypt(bob.id(), b"sample", NOW)
        .unwrap()
        .envelope
        .to_bytes();
    let bundle = bob.devices[0].bundle(5);
    (env, bundle, bob.devices[0].cert.clone())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn fanout_round_trips(f in arb_fanout()) {
        let bytes = f.to_bytes();
        prop_assert_eq!(FanOut::decode(&bytes).unwrap(), f);
    }

    #[test]
    fn fanout_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        match FanOut::decode(&bytes) {
            Ok(f) => prop_assert_eq!(f.to_bytes(), bytes),
            Err(e) => prop_assert!(decode_errors_are_typed(&e), "{e:?}"),
        }
    }

    #[test]
    fn mutated_envelopes_are_refused_or_canonical(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let (env, _, _) = samples_cached();
        let mut bytes = env.clone();
        for (ix, x) in &flips {
            let i = ix.index(bytes.len());
            bytes[i] ^= x | 1;
        }
        if let Ok(f) = FanOut::decode(&bytes) {
            prop_assert_eq!(f.to_bytes(), bytes.clone());
        }
        let truncated = &env[..cut.index(env.len())];
        let e = FanOut::decode(truncated).unwrap_err();
        prop_assert!(decode_errors_are_typed(&e), "{e:?}");
    }

    #[test]
    fn bundle_verification_never_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..1024),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let (_, bundle, cert) = samples_cached();
        let none = BTreeSet::new();
        prop_assert!(verify_bundle(&bytes, cert, &none, NOW).is_err());
        let mut mutated = bundle.clone();
        for (ix, x) in &flips {
            let i = ix.index(mutated.len());
            mutated[i] ^= x | 1;
        }
        prop_assert!(verify_bundle(&mutated, cert, &none, NOW).is_err());
        let truncated = &bundle[..cut.index(bundle.len())];
        prop_assert!(verify_bundle(truncated, cert, &none, NOW).is_err());
    }

    /// A well-framed envelope addressed to us from a known sender, with arbitrary Olm bytes:
    /// vodozemac's decoders and the ratchet see garbage and answer with an error.
    #[test]
    fn garbage_ciphertext_for_us_is_a_typed_error(
        pre in any::<bool>(),
        ciphertext in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let mut alice = member(1, 1);
        let mut bob = member(2, 1);
        exchange(&mut [&mut alice, &mut bob], 1);
        let item = Item::new(
            bob.devices[0].dm.identity_key(),
            if pre { Kind::PreKey } else { Kind::Normal },
            ciphertext,
        );
        let env = FanOut::new(alice.devices[0].id(), alice.devices[0].dm.identity_key(), vec![item]);
        let e = bob.devices[0].dm.decrypt(&env.to_bytes()).unwrap_err();
        prop_assert!(
            matches!(
                e,
                Error::Decode { .. }
                    | Error::Decrypt { .. }
                    | Error::UnknownOneTimeKey
                    | Error::SenderKeyMismatch { .. }
                    | Error::Session { .. }
                    | Error::Replayed { .. }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn pickle_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let key = PickleKey::from_bytes([5; 32]);
        prop_assert!(DmDevice::from_pickle(&bytes, &key).is_err());
    }
}

fn samples_cached() -> &'static (
    Vec<u8>,
    Vec<u8>,
    qun_identity::Signed<qun_identity::DeviceCert>,
) {
    static S: std::sync::OnceLock<(
        Vec<u8>,
        Vec<u8>,
        qun_identity::Signed<qun_identity::DeviceCert>,
    )> = std::sync::OnceLock::new();
    S.get_or_init(samples)
}

#[test]
fn oversized_inputs_are_refused_before_parsing() {
    let big = vec![0u8; MAX_ENVELOPE_BYTES + 1];
    assert_eq!(
        FanOut::decode(&big),
        Err(Error::TooLarge {
            what: "envelope",
            limit: MAX_ENVELOPE_BYTES,
            actual: MAX_ENVELOPE_BYTES + 1
        })
    );
    let (_, _, cert) = samples_cached();
    let big = vec![0u8; bundle::MAX_BUNDLE_BYTES + 1];
    assert!(matches!(
        verify_bundle(&big, cert, &BTreeSet::new(), NOW),
        Err(Error::TooLarge {
            what: "prekey bundle",
            ..
        })
    ));
    let key = PickleKey::from_bytes([5; 32]);
    let big = vec![0u8; qun_dm::MAX_PICKLE_BYTES + 1];
    assert!(matches!(
        DmDevice::from_pickle(&big, &key),
        Err(Error::TooLarge { .. })
    ));
}

#[test]
fn envelope_rules_are_enforced() {
    let dev = SecretIdentity::from_seed(&[1; 32]).device_id();
    let item = |k: u8, n: usize| Item::new([k; 32], Kind::Normal, vec![0; n]);
    // Too many recipients.
    let many: Vec<Item> = (0..=MAX_RECIPIENTS as u8).map(|k| item(k, 1)).collect();
    assert!(matches!(
        FanOut::decode(&FanOut::new(dev, [0; 32], many).to_bytes()),
        Err(Error::TooLarge {
            what: "envelope recipients",
            ..
        })
    ));
    // An oversized item.
    assert!(matches!(
        FanOut::decode(&FanOut::new(dev, [0; 32], vec![item(1, MAX_ITEM_BYTES + 1)]).to_bytes()),
        Err(Error::TooLarge {
            what: "envelope item",
            ..
        })
    ));
    // No recipients; a duplicate recipient (encoded by hand: `new` sorts but keeps both).
    assert!(matches!(
        FanOut::decode(&FanOut::new(dev, [0; 32], vec![]).to_bytes()),
        Err(Error::Decode { .. })
    ));
    assert!(matches!(
        FanOut::decode(&FanOut::new(dev, [0; 32], vec![item(1, 1), item(1, 2)]).to_bytes()),
        Err(Error::Decode { .. })
    ));
    // Unknown version, unknown kind, trailing bytes, overlong varint.
    let good = FanOut::new(dev, [0; 32], vec![item(1, 1)]).to_bytes();
    assert!(FanOut::decode(&good).is_ok());
    let mut v = good.clone();
    v[0] = 2;
    assert!(matches!(FanOut::decode(&v), Err(Error::Decode { .. })));
    let mut k = good.clone();
    let kind_at = 1 + 32 + 32 + 1 + 32; // version, device, key, item count, recipient key
    assert_eq!(k[kind_at], 1);
    k[kind_at] = 2;
    assert!(matches!(FanOut::decode(&k), Err(Error::Decode { .. })));
    let mut t = good.clone();
    t.push(0);
    assert!(matches!(FanOut::decode(&t), Err(Error::Decode { .. })));
    let mut o = good.clone();
    o[kind_at + 1] = 0x81; // ciphertext length 1 as the overlong varint 0x81 0x00
    o.insert(kind_at + 2, 0x00);
    assert!(matches!(FanOut::decode(&o), Err(Error::Decode { .. })));
}
