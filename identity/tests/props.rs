//! Property tests: encodings round-trip, decoders never panic on arbitrary input, endorsement
//! books are order-independent, and batch verification agrees with single verification.
//!
//! Case counts are modest so `cargo test` stays fast; raise them with `PROPTEST_CASES=N`.

mod common;

use common::*;
use proptest::prelude::*;
use qun_identity::{
    Capabilities, ContentId, DeviceCert, Endorsement, EndorsementBook, Envelope, Error, Invitation,
    KdfParams, KeyBundle, Limits, MemberId, PublicIdentity, Revocation, Scope, SecretIdentity,
    Signed, SignedBody, Timestamp, Topic, Weight, canonical, keyfile, keyfile::Protection,
    verify_batch,
};
use std::collections::BTreeMap;
use std::fmt::Debug;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(cases),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Strategies

/// Two different keys.
fn key_pair() -> impl Strategy<Value = (SecretIdentity, SecretIdentity)> {
    (any::<[u8; 32]>(), any::<[u8; 32]>())
        .prop_filter("distinct keys", |(a, b)| a != b)
        .prop_map(|(a, b)| (SecretIdentity::from_seed(&a), SecretIdentity::from_seed(&b)))
}

fn topic() -> impl Strategy<Value = Topic> {
    prop_oneof![
        Just(Topic::general()),
        "[a-z0-9][a-z0-9._-]{0,63}".prop_map(|s| Topic::new(&s).expect("matches the rule")),
    ]
}

fn scope() -> impl Strategy<Value = Scope> {
    prop_oneof![
        Just(Scope::Global),
        any::<[u8; 32]>().prop_map(|b| Scope::Community(ContentId(b))),
    ]
}

/// Up to 100 characters of any script: at most 400 bytes, under the 512-byte note limit.
fn note() -> impl Strategy<Value = String> {
    "\\PC{0,100}"
}

/// A creation time and an optional later expiry.
fn window() -> impl Strategy<Value = (Timestamp, Option<Timestamp>)> {
    (0..u64::MAX - 1).prop_flat_map(|created| {
        (
            Just(Timestamp(created)),
            proptest::option::of(created + 1..=u64::MAX).prop_map(|e| e.map(Timestamp)),
        )
    })
}

fn weight() -> impl Strategy<Value = Weight> {
    (-1000i16..=1000).prop_map(|m| Weight::from_millis(m).expect("in range"))
}

/// An endorsement and the key of its author.
fn endorsement_s() -> impl Strategy<Value = (SecretIdentity, Endorsement)> {
    (key_pair(), topic(), scope(), weight(), window(), note()).prop_map(
        |((from, to), topic, scope, weight, (created, expires), note)| {
            let e = Endorsement {
                from: from.member_id(),
                to: to.member_id(),
                topic,
                scope,
                weight,
                created,
                expires,
                note,
            };
            (from, e)
        },
    )
}

fn device_cert_s() -> impl Strategy<Value = (SecretIdentity, DeviceCert)> {
    (key_pair(), any::<u32>(), "[a-z0-9 ]{0,64}", window()).prop_map(
        |((member, device), caps, label, (not_before, expires))| {
            let caps = [
                Capabilities::CONTENT,
                Capabilities::ENDORSE,
                Capabilities::GOVERN,
            ]
            .into_iter()
            .enumerate()
            .filter(|(i, _)| caps >> i & 1 == 1)
            .fold(Capabilities::NONE, |a, (_, c)| a | c);
            let c = DeviceCert {
                member: member.member_id(),
                device: device.device_id(),
                capabilities: caps,
                label,
                not_before,
                expires,
            };
            (member, c)
        },
    )
}

fn invitation_s() -> impl Strategy<Value = (SecretIdentity, Invitation)> {
    (
        key_pair(),
        any::<bool>(),
        any::<[u8; 32]>(),
        any::<[u8; 16]>(),
        window(),
        note(),
    )
        .prop_map(
            |((inviter, invitee), named, community, nonce, (created, expires), note)| {
                let i = Invitation {
                    community: ContentId(community),
                    inviter: inviter.member_id(),
                    invitee: named.then(|| invitee.member_id()),
                    nonce,
                    key: (!named).then(|| invitee.public()),
                    created,
                    expires,
                    note,
                };
                (inviter, i)
            },
        )
}

fn revocation_s() -> impl Strategy<Value = (SecretIdentity, Revocation)> {
    (key_pair(), any::<u64>(), "\\PC{0,60}").prop_map(|((member, device), from, reason)| {
        let r = Revocation {
            member: member.member_id(),
            device: device.device_id(),
            from: Timestamp(from),
            reason,
        };
        (member, r)
    })
}

/// Sign, encode, decode, verify at `now`: the same value and the same bytes come back.
fn round_trip<T: SignedBody + PartialEq + Debug>(
    key: &SecretIdentity,
    value: T,
    now: Timestamp,
) -> Result<(), TestCaseError> {
    let signed =
        Signed::sign(key, value.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let bytes = signed.to_bytes();
    let back = Signed::<T>::from_bytes(&bytes, &Limits::default(), now)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(back.value(), &value);
    prop_assert_eq!(back.author(), &key.public());
    prop_assert_eq!(back.to_bytes(), bytes);
    prop_assert_eq!(back.id(), signed.id());
    prop_assert_eq!(&back, &signed);
    let body: T = canonical::decode("body", signed.envelope().body(), T::MAX_BODY_BYTES)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(body, value);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Round trips

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn endorsement_round_trips((key, e) in endorsement_s()) {
        let now = e.created;
        round_trip(&key, e, now)?;
    }

    #[test]
    fn device_cert_round_trips((key, c) in device_cert_s()) {
        let now = c.not_before;
        round_trip(&key, c, now)?;
    }

    #[test]
    fn invitation_round_trips((key, i) in invitation_s()) {
        let now = i.created;
        round_trip(&key, i, now)?;
    }

    #[test]
    fn revocation_round_trips((key, r) in revocation_s()) {
        round_trip(&key, r, Timestamp(0))?;
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn public_key_text_round_trips(seed in any::<[u8; 32]>(), pad in "[ \t\n]{0,2}") {
        let k = SecretIdentity::from_seed(&seed).public();
        let s = k.to_string();
        prop_assert!(s.starts_with("z6Mk"));
        prop_assert_eq!(s.parse::<PublicIdentity>(), Ok(k));
        prop_assert_eq!(format!("{pad}did:key:{s}{pad}").parse::<PublicIdentity>(), Ok(k));
        prop_assert_eq!(s.parse::<MemberId>(), Ok(MemberId(k)));
        prop_assert_eq!(PublicIdentity::from_bytes(k.as_bytes()), Ok(k));
    }

    #[test]
    fn public_key_text_parses_only_its_own_spelling(
        s in prop_oneof!["z[1-9A-HJ-NP-Za-km-z]{40,50}", "z6Mk[1-9A-HJ-NP-Za-km-z]{43}", "\\PC{0,80}"]
    ) {
        // Parsing never panics, and a string that parses is the key's one text form.
        if let Ok(k) = s.parse::<PublicIdentity>() {
            prop_assert_eq!(k.to_string(), s.trim());
        }
    }

    #[test]
    fn content_id_text_round_trips(bytes in any::<[u8; 32]>()) {
        let id = ContentId(bytes);
        let s = id.to_string();
        prop_assert_eq!(s.len(), 53);
        prop_assert_eq!(s.parse::<ContentId>(), Ok(id));
        prop_assert_eq!(s.to_uppercase().parse::<ContentId>(), Ok(id));
    }

    #[test]
    fn content_id_text_parses_only_its_own_spelling(
        s in prop_oneof!["b[a-z2-7]{52}", "[bB][a-zA-Z2-7]{52}", "\\PC{0,60}"]
    ) {
        // 52 base32 digits carry 260 bits for 256: the 4 spare bits must be zero, so each id
        // has exactly one text (up to case).
        if let Ok(id) = s.parse::<ContentId>() {
            prop_assert_eq!(id.to_string(), s.trim().to_lowercase());
        }
    }

    #[test]
    fn weight_millis_survive_f64(m in -1000i16..=1000) {
        let w = Weight::from_millis(m).expect("in range");
        prop_assert_eq!(Weight::from_f64(w.as_f64()), Ok(w));
        prop_assert_eq!(w.millis(), m);
        prop_assert_eq!(i16::from(w), m);
    }

    #[test]
    fn weight_from_f64_rounds_to_thousandths(f in -1.0f64..=1.0) {
        let w = Weight::from_f64(f).expect("in range");
        prop_assert!((w.as_f64() - f).abs() <= 0.0005 + 1e-12, "{} -> {:?}", f, w);
    }

    #[test]
    fn weight_outside_the_range_is_invalid(
        f in prop_oneof![1.0001f64..1e300, -1e300..-1.0001f64],
        m in prop_oneof![1001i16..=i16::MAX, i16::MIN..=-1001],
    ) {
        let invalid = |r: Result<Weight, Error>| matches!(r, Err(Error::Invalid { what: "weight", .. }));
        prop_assert!(invalid(Weight::from_f64(f)), "{}", f);
        prop_assert!(invalid(Weight::from_millis(m)), "{}", m);
        // Nor does it decode from bytes.
        prop_assert!(canonical::decode::<Weight>("weight", &canonical::encode(&m), 8).is_err());
    }

    #[test]
    fn topic_validity_follows_the_rule(s in prop_oneof!["[a-z0-9._*A-Z -]{0,70}", "\\PC{0,8}"]) {
        let ok_first = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
        let ok_rest = |c: char| ok_first(c) || matches!(c, '.' | '_' | '-');
        let valid = s == "*"
            || (!s.is_empty()
                && s.len() <= 64
                && s.chars().next().is_some_and(ok_first)
                && s.chars().all(ok_rest));
        let t = Topic::new(&s);
        prop_assert_eq!(t.is_ok(), valid, "{:?}", s);
        let decoded = canonical::decode::<Topic>("topic", &canonical::encode(&s), 1024);
        prop_assert_eq!(decoded.is_ok(), valid);
        if let Ok(t) = t {
            prop_assert_eq!(t.as_str(), s.as_str());
            prop_assert_eq!(t.to_string(), s.clone());
            prop_assert_eq!(s.parse::<Topic>(), Ok(t.clone()));
            prop_assert_eq!(decoded, Ok(t));
        } else {
            let invalid = matches!(t, Err(Error::Invalid { what: "topic", .. }));
            prop_assert!(invalid, "{:?}", t);
        }
    }
}

#[test]
fn weight_of_nan_and_infinity_is_invalid() {
    for f in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert!(matches!(
            Weight::from_f64(f),
            Err(Error::Invalid { what: "weight", .. })
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// Decoding arbitrary bytes

/// Decode and verify `bytes` as every kind. Never panics; a decoded envelope is the canonical
/// form of its bytes; returns which kinds verified.
fn try_all_kinds(bytes: &[u8], now: Timestamp) -> Result<Vec<&'static str>, TestCaseError> {
    let env = match Envelope::decode(bytes, &Limits::default()) {
        Ok(env) => env,
        Err(_) => return Ok(Vec::new()),
    };
    prop_assert_eq!(env.to_bytes(), bytes);
    let mut ok = Vec::new();
    fn one<T: SignedBody>(
        env: &Envelope,
        now: Timestamp,
        ok: &mut Vec<&'static str>,
    ) -> Result<(), TestCaseError> {
        if let Ok(v) = env.clone().verify::<T>(now) {
            // Whatever verifies re-encodes to the bytes it came from.
            prop_assert_eq!(canonical::encode(v.value()), env.body());
            ok.push(T::KIND);
        }
        Ok(())
    }
    one::<Endorsement>(&env, now, &mut ok)?;
    one::<DeviceCert>(&env, now, &mut ok)?;
    one::<Invitation>(&env, now, &mut ok)?;
    one::<Revocation>(&env, now, &mut ok)?;
    Ok(ok)
}

/// Valid envelopes of every kind, to mutate.
fn samples() -> Vec<Vec<u8>> {
    vec![
        Signed::sign(&key(1), endorsement())
            .expect("valid")
            .to_bytes(),
        Signed::sign(&key(1), device_cert())
            .expect("valid")
            .to_bytes(),
        Signed::sign(&key(1), invitation())
            .expect("valid")
            .to_bytes(),
        Signed::sign(&key(1), revocation())
            .expect("valid")
            .to_bytes(),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Xor(usize, u8),
    Set(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), 1..=255u8).prop_map(|(i, b)| Mutation::Xor(i, b)),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        1 => any::<usize>().prop_map(Mutation::Remove),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(bytes: &mut Vec<u8>, m: &Mutation) {
    let n = bytes.len().max(1);
    match *m {
        Mutation::Xor(i, b) if !bytes.is_empty() => bytes[i % n] ^= b,
        Mutation::Set(i, b) if !bytes.is_empty() => bytes[i % n] = b,
        Mutation::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
        Mutation::Remove(i) if !bytes.is_empty() => {
            bytes.remove(i % n);
        }
        Mutation::Truncate(i) => bytes.truncate(i % (bytes.len() + 1)),
        _ => {}
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn arbitrary_bytes_never_verify(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
        prop_assert!(try_all_kinds(&bytes, NOW)?.is_empty());
    }

    #[test]
    fn mutated_envelopes_never_verify_as_something_else(
        which in 0..4usize,
        muts in proptest::collection::vec(mutation(), 1..6),
    ) {
        let original = samples().swap_remove(which);
        let mut bytes = original.clone();
        for m in &muts {
            mutate(&mut bytes, m);
        }
        let ok = try_all_kinds(&bytes, NOW)?;
        if bytes == original {
            prop_assert_eq!(ok.len(), 1);
        } else {
            prop_assert!(ok.is_empty(), "{:?} verified after {:?}", ok, muts);
        }
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// Well-formed envelopes around arbitrary bodies, correctly signed: the body decoder is
    /// reached with arbitrary input, and whatever it accepts is canonical.
    #[test]
    fn signed_arbitrary_bodies_never_panic(
        kind in 0..4usize,
        body in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let tag = [
            tag_of::<Endorsement>(),
            tag_of::<DeviceCert>(),
            tag_of::<Invitation>(),
            tag_of::<Revocation>(),
        ][kind].clone();
        let bytes = forge(&key(1), &tag, &body);
        try_all_kinds(&bytes, NOW)?;
    }

    /// Valid sample bodies with a few bytes changed, then correctly signed.
    #[test]
    fn signed_mutated_bodies_never_panic(
        which in 0..4usize,
        muts in proptest::collection::vec(mutation(), 1..4),
    ) {
        let env = Envelope::decode(&samples()[which], &Limits::default()).expect("valid");
        let mut body = env.body().to_vec();
        for m in &muts {
            mutate(&mut body, m);
        }
        try_all_kinds(&forge(&key(1), env.tag(), &body), NOW)?;
    }

    #[test]
    fn arbitrary_keyfiles_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
        fix_checksum in any::<bool>(),
    ) {
        let mut bytes = bytes;
        if fix_checksum {
            // Reach the parser behind the checksum: prefix the magic, append the checksum.
            let mut b = b"QUNKEY\x00\x01".to_vec();
            b.extend_from_slice(&bytes);
            let sum = *blake3::hash(&b).as_bytes();
            b.extend_from_slice(&sum);
            bytes = b;
        }
        // No passphrase: never runs the KDF, so arbitrary (bounded) parameters cost nothing.
        let r = keyfile::open(&bytes, None);
        prop_assert!(r.is_err() || !keyfile::is_encrypted(&bytes).unwrap_or(true));
        let _ = KeyBundle::open(&bytes, None);
    }

    #[test]
    fn mutated_keyfiles_are_refused(
        encrypted in any::<bool>(),
        muts in proptest::collection::vec(mutation(), 1..4),
        fix_checksum in any::<bool>(),
    ) {
        let bundle = KeyBundle { root: Some(key(1)), device: key(11), device_cert: None };
        let protection = if encrypted {
            Protection::Passphrase("pw", KdfParams::INSECURE_FAST)
        } else {
            Protection::Unencrypted
        };
        let original = bundle.seal(protection).expect("seals");
        let mut bytes = original.clone();
        for m in &muts {
            mutate(&mut bytes, m);
        }
        if fix_checksum && bytes.len() > 32 {
            let n = bytes.len() - 32;
            let sum = *blake3::hash(&bytes[..n]).as_bytes();
            bytes[n..].copy_from_slice(&sum);
        }
        // Leave the KDF parameters (bytes 9..21) alone so opening stays cheap.
        prop_assume!(bytes.len() < 21 || bytes[9..21] == original[9..21] || !encrypted);
        let pass = encrypted.then_some("pw");
        match KeyBundle::open(&bytes, pass) {
            // An unencrypted file with a recomputed checksum is simply another keyfile; an
            // encrypted one is authenticated, header included.
            Ok(_) if !encrypted && fix_checksum => {}
            Ok(b) => {
                prop_assert_eq!(b.device, key(11));
                prop_assert_eq!(b.root, Some(key(1)));
            }
            Err(e) => {
                let expected = matches!(
                    e,
                    Error::CorruptKeyfile { .. }
                        | Error::WrongPassphrase
                        | Error::PassphraseRequired
                        | Error::KdfParams { .. }
                );
                prop_assert!(expected, "{:?}", e);
                prop_assert_ne!(&bytes, &original);
            }
        }
        if !fix_checksum && bytes != original {
            let r = keyfile::open(&bytes, pass);
            let corrupt = matches!(r, Err(Error::CorruptKeyfile { .. }));
            prop_assert!(corrupt, "{:?}", r);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Endorsement books

/// A small world so that slots collide: 4 members, 2 topics, 2 scopes, creation times 0..4,
/// and notes that make same-time endorsements differ.
fn book_items() -> impl Strategy<Value = Vec<Signed<Endorsement>>> {
    let item = (
        0..4u8,
        0..4u8,
        0..2usize,
        any::<bool>(),
        0..4u64,
        prop_oneof![Just(0i16), Just(-1000), Just(300), Just(1000)],
        0..3u8,
    );
    proptest::collection::vec(item, 0..24).prop_map(|items| {
        items
            .into_iter()
            .filter(|(f, t, ..)| f != t)
            .map(|(f, t, topic, scoped, created, w, note)| {
                let e = Endorsement {
                    from: member(f + 1),
                    to: member(t + 1),
                    topic: Topic::new(["*", "rust"][topic]).expect("valid"),
                    scope: if scoped {
                        Scope::Community(community())
                    } else {
                        Scope::Global
                    },
                    weight: Weight::from_millis(w).expect("in range"),
                    created: Timestamp(created),
                    expires: (created == 2).then_some(Timestamp(3)),
                    note: "n".repeat(usize::from(note)),
                };
                Signed::sign(&key(f + 1), e).expect("valid")
            })
            .collect()
    })
}

fn book_of<'a>(items: impl IntoIterator<Item = &'a Signed<Endorsement>>) -> EndorsementBook {
    let mut b = EndorsementBook::new();
    for e in items {
        b.insert(e.clone());
    }
    b
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn endorsement_book_is_order_independent(
        (items, p1, p2) in book_items().prop_flat_map(|items| {
            let idx: Vec<usize> = (0..items.len()).chain(0..items.len()).collect();
            (Just(items), Just(idx.clone()).prop_shuffle(), Just(idx).prop_shuffle())
        })
    ) {
        // Each endorsement arrives twice, in two different random orders.
        let a = book_of(p1.iter().map(|&i| &items[i]));
        let b = book_of(p2.iter().map(|&i| &items[i]));
        let ids = |b: &EndorsementBook| b.latest().map(Signed::id).collect::<Vec<_>>();
        prop_assert_eq!(ids(&a), ids(&b));
        for now in [Timestamp(0), Timestamp(3), Timestamp(10)] {
            let active = |b: &EndorsementBook| b.active(now).map(Signed::id).collect::<Vec<_>>();
            prop_assert_eq!(active(&a), active(&b));
        }
        // And it is the model: per slot, the greatest (created, id).
        let mut model: BTreeMap<_, &Signed<Endorsement>> = BTreeMap::new();
        for e in &items {
            let slot = model.entry(e.value().key()).or_insert(e);
            if (e.value().created, e.id()) > (slot.value().created, slot.id()) {
                *slot = e;
            }
        }
        let expected: Vec<_> = model.values().map(|e| e.id()).collect();
        prop_assert_eq!(ids(&a), expected);
        prop_assert_eq!(a.len(), model.len());
        // Revocations and expired ones are latest but not active.
        for e in a.active(Timestamp(3)) {
            prop_assert!(!e.value().is_revocation());
            prop_assert!(e.value().expires.is_none_or(|x| x > Timestamp(3)));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Batch verification

#[derive(Debug, Clone, Copy)]
enum Corruption {
    None,
    FlipSignature(usize),
    FlipBody(usize),
    OtherKind,
    Expired,
    NotCanonical,
}

fn corruption() -> impl Strategy<Value = Corruption> {
    prop_oneof![
        4 => Just(Corruption::None),
        2 => (0..512usize).prop_map(Corruption::FlipSignature),
        1 => any::<usize>().prop_map(Corruption::FlipBody),
        1 => Just(Corruption::OtherKind),
        1 => Just(Corruption::Expired),
        1 => Just(Corruption::NotCanonical),
    ]
}

/// An endorsement envelope from one of 5 members, damaged as told.
fn batch_envelope(author: u8, created: u64, c: Corruption) -> Envelope {
    let k = key(author + 1);
    let mut e = endorsement();
    e.from = k.member_id();
    e.to = member(author + 2);
    e.created = NOW.plus_millis(created);
    e.expires = Some(NOW.plus_millis(created + 1000));
    let bytes = match c {
        Corruption::None => Signed::sign(&k, e).expect("valid").to_bytes(),
        Corruption::FlipSignature(bit) => {
            let mut b = Signed::sign(&k, e).expect("valid").to_bytes();
            let n = b.len();
            b[n - 64 + bit / 8] ^= 1 << (bit % 8);
            b
        }
        Corruption::FlipBody(i) => {
            let s = Signed::sign(&k, e).expect("valid");
            let mut body = s.envelope().body().to_vec();
            let n = body.len();
            body[i % n] ^= 0x10;
            let mut sig = [0u8; 64];
            sig.copy_from_slice(&s.to_bytes()[s.to_bytes().len() - 64..]);
            raw_envelope(s.envelope().tag(), k.public().as_bytes(), &body, &sig)
        }
        Corruption::OtherKind => {
            let mut i = invitation();
            i.inviter = k.member_id();
            i.invitee = None;
            i.key = Some(key(40).public());
            Signed::sign(&k, i).expect("valid").to_bytes()
        }
        Corruption::Expired => {
            e.created = Timestamp(0);
            e.expires = Some(Timestamp(1));
            Signed::sign(&k, e).expect("valid").to_bytes()
        }
        Corruption::NotCanonical => {
            // Correctly signed, trailing byte in the body.
            let mut body = canonical::encode(&e);
            body.push(0);
            forge(&k, &tag_of::<Endorsement>(), &body)
        }
    };
    Envelope::decode(&bytes, &Limits::default()).expect("well-formed envelope")
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn verify_batch_agrees_with_verify(
        items in proptest::collection::vec((0..5u8, 0..100u64, corruption()), 0..20)
    ) {
        let envs: Vec<Envelope> =
            items.iter().map(|&(a, t, c)| batch_envelope(a, t, c)).collect();
        let singles: Vec<_> = envs.iter().map(|e| e.clone().verify::<Endorsement>(NOW)).collect();
        let batch = verify_batch::<Endorsement>(envs, NOW);
        prop_assert_eq!(&batch, &singles);
        for ((_, _, c), r) in items.iter().zip(&singles) {
            let expect_ok = matches!(c, Corruption::None);
            prop_assert_eq!(r.is_ok(), expect_ok, "{:?}: {:?}", c, r);
        }
    }
}
