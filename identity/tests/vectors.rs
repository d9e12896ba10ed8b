//! Fixed vectors that pin the wire formats. If one of these fails, an encoding changed: that
//! breaks every signature and content id already out there. Bump the kind's version instead.

mod common;

use common::*;
use qun_identity::{
    ContentId, DeviceCert, Endorsement, Envelope, Invitation, KdfParams, KeyBundle, Limits,
    PublicIdentity, Revocation, SecretIdentity, Signed, SignedBody, canonical, domain_tag,
    keyfile::{self, Protection},
};

fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

fn unhex(s: &str) -> Vec<u8> {
    data_encoding::HEXLOWER.decode(s.as_bytes()).expect("hex")
}

fn seed(s: &str) -> [u8; 32] {
    unhex(s).try_into().expect("32 bytes")
}

#[test]
fn did_key_text_of_rfc8032_keys() {
    // RFC 8032 §7.1 TEST 1 and TEST 2 secret keys; their did:key identifiers as published by
    // other did:key implementations (multicodec 0xed01 || key, base58btc, multibase 'z').
    let cases = [
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw",
        ),
        (
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "z6MkiaMbhXHNA4eJVCCj8dbzKzTgYDKf6crKgHVHid1F1WCT",
        ),
    ];
    for (s, text) in cases {
        let k = SecretIdentity::from_seed(&seed(s)).public();
        assert_eq!(k.to_string(), text);
        assert_eq!(text.parse::<PublicIdentity>(), Ok(k));
        assert_eq!(format!("did:key:{text}").parse::<PublicIdentity>(), Ok(k));
        // The same text, spelled out: 'z' + base58btc(0xed 0x01 || key).
        let mut raw = vec![0xed, 0x01];
        raw.extend_from_slice(k.as_bytes());
        assert_eq!(format!("z{}", bs58::encode(raw).into_string()), text);
    }
}

#[test]
fn did_key_text_of_the_test_keys() {
    let cases = [
        (1, "z6Mkon3Necd6NkkyfoGoHxid2znGc59LU3K7mubaRcFbLfLX"),
        (2, "z6Mko9hTggMwjSTEaJaPUfE6tqcy2xvU6BnNq3e3o8qVBiyH"),
        (3, "z6MkvRXNYcE7MMduynWTgeKbDaT1iijDSC8pZqXZc8rHPrf2"),
        (11, "z6MkmNL6xksdEJENGk9Z1qqGsY5njKQdjU1UhnUEUvWyQUVX"),
    ];
    for (n, text) in cases {
        assert_eq!(key(n).public().to_string(), text);
        assert_eq!(key(n).member_id().to_string(), text);
        assert_eq!(key(n).device_id().to_string(), text);
    }
}

#[test]
fn domain_tags() {
    assert_eq!(domain_tag("endorsement", 1), "qun/endorsement/v1");
    assert_eq!(tag_of::<Endorsement>(), "qun/endorsement/v1");
    assert_eq!(tag_of::<Invitation>(), "qun/invitation/v2");
    assert_eq!(tag_of::<DeviceCert>(), "qun/device-cert/v1");
    assert_eq!(tag_of::<Revocation>(), "qun/device-revocation/v1");
    assert_eq!(
        (
            Endorsement::MAX_BODY_BYTES,
            Invitation::MAX_BODY_BYTES,
            DeviceCert::MAX_BODY_BYTES,
            Revocation::MAX_BODY_BYTES
        ),
        (1024, 1024, 512, 512)
    );
    assert_eq!(Limits::default().max_envelope_bytes, 16 * 1024);
}

const ENDORSEMENT_BODY: &str = concat!(
    "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c", // from: key 1
    "8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394", // to: key 2
    "0472757374",                                                       // topic "rust"
    "00",                                                               // scope: Global
    "dc0b",                               // weight 750 (zigzag varint 1500)
    "80d095ffbc31",                       // created 1_700_000_000_000 (varint)
    "01",                                 // expires: Some
    "8088afa8bd31",                       // 1_700_086_400_000
    "11",                                 // note: 17 bytes
    "72657669657773206361726566756c6c79", // "reviews carefully"
);

const ENDORSEMENT_SIG: &str = concat!(
    "b66032b1b8cf8a0d1458c527b5a5688ab33e6c1e6a80fea6977f9e12613bbc20",
    "316c87b6637e4bff8e5fbd0c4528d92c775a1b97dcf1efbaa01f1c3cbc5d5f00",
);

#[test]
fn endorsement_envelope_bytes() {
    let signed = Signed::sign(&key(1), endorsement()).expect("valid");
    assert_eq!(hex(signed.envelope().body()), ENDORSEMENT_BODY);
    let expected = [
        "12",                             // tag: 18 bytes
        &hex(b"qun/endorsement/v1"),      // tag
        &hex(key(1).public().as_bytes()), // author
        "67",                             // body: 103 bytes
        ENDORSEMENT_BODY,                 // body
        ENDORSEMENT_SIG,                  // signature
    ]
    .concat();
    assert_eq!(hex(&signed.to_bytes()), expected);
    // The signature is plain ed25519 over "qun/endorsement/v1" || 0x00 || body.
    let msg = [b"qun/endorsement/v1\0".as_slice(), &unhex(ENDORSEMENT_BODY)].concat();
    use ed25519_dalek::Signer;
    let dalek = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
    assert_eq!(hex(&dalek.sign(&msg).to_bytes()), ENDORSEMENT_SIG);
    // And the pinned bytes verify and decode back to the same value.
    let back: Signed<Endorsement> =
        Signed::from_bytes(&unhex(&expected), &Limits::default(), NOW).expect("verifies");
    assert_eq!(back, signed);
    assert_eq!(canonical::encode(&endorsement()), unhex(ENDORSEMENT_BODY));
}

#[test]
fn content_ids() {
    let e = Signed::sign(&key(1), endorsement()).expect("valid");
    assert_eq!(
        e.id().to_string(),
        "bq7ttoroui2wtqthf2z3hp43nvgvtsulozu3xdfhw4yn5d6rydnka"
    );
    assert_eq!(e.id(), ContentId::of(&e.to_bytes()));
    assert_eq!(e.id(), e.envelope().id());
    let others = [
        (
            Signed::sign(&key(1), device_cert()).expect("valid").id(),
            "bankgxsrikorjqfjthbdk6ytjze6kkimw5wkhnd64pd6n4byec3nq",
        ),
        (
            Signed::sign(&key(1), invitation()).expect("valid").id(),
            "bsiwpaqpstmhdi6vypjr33w3kzapztrbdicfj7afu6cyjtqcq7zoq",
        ),
        (
            Signed::sign(&key(1), revocation()).expect("valid").id(),
            "bzjb6qvazhnqmbcgxuniysp7kd2obanoqqdd3ynsgmcl57ag4ar3a",
        ),
        (
            community(),
            "bxf2m6xg3d7xflxnq75wrf7qdx3hvlbzqkxwlk6ireqbjzy7lh67q",
        ),
    ];
    for (id, text) in others {
        assert_eq!(id.to_string(), text);
        assert_eq!(text.parse::<ContentId>(), Ok(id));
    }
    // Multibase 'b' + RFC 4648 base32, lower case, no padding, of the blake3 hash (checked
    // against Python's base64.b32encode).
    let empty = ContentId::of(b"");
    assert_eq!(
        hex(empty.as_bytes()),
        "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
    );
    assert_eq!(
        empty.to_string(),
        "bv4jutopv7gq2nicajxvdnxgjjgn4wjojvxarfn6mtkj4vza7gjra"
    );
    assert_eq!(
        ContentId::of_parts(&[b"qun ", b"test community"]),
        community()
    );
}

#[test]
fn envelope_accessors_match_the_pinned_layout() {
    let bytes = Signed::sign(&key(1), endorsement())
        .expect("valid")
        .to_bytes();
    let env = Envelope::decode(&bytes, &Limits::default()).expect("decodes");
    assert_eq!(env.tag(), "qun/endorsement/v1");
    assert_eq!(env.author(), &key(1).public());
    assert_eq!(hex(env.body()), ENDORSEMENT_BODY);
    assert_eq!(env.to_bytes(), bytes);
    assert_eq!(format!("{env:?}").matches("<103b>").count(), 1);
}

/// An unencrypted keyfile holding device key 11 only.
const PLAIN_KEYFILE: &str = concat!(
    "51554e4b45590001", // magic "QUNKEY" 0x00 0x01
    "00",               // mode 0: unencrypted
    "22000000",         // payload length 34 (u32 LE)
    "00",               // payload (postcard): root: None
    "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", // device seed
    "00",               // device_cert: None
    "05d88abafa3d6bc73596fce6b72180f7b479a7177b49fd716d433310e1d7082c", // blake3 of the above
);

/// The same bundle sealed with passphrase "correct horse battery staple" and
/// `KdfParams::INSECURE_FAST` (made once; salt and nonce are random at sealing time).
const ENCRYPTED_KEYFILE: &str = concat!(
    "51554e4b45590001",                                 // magic
    "01",                                               // mode 1: argon2id + XChaCha20-Poly1305
    "40000000",                                         // m_cost 64 KiB
    "01000000",                                         // t_cost 1
    "01000000",                                         // p_cost 1
    "dd9f0542ae1e2dde5cdb7f3a1abc49ac",                 // salt
    "a0622d80827afb27ec4af9a0b1ad3099dec72dd8ce0f46d5", // nonce
    "32000000",                                         // ciphertext length 50
    "a46fff5c475989be8db0a07a89763757a44501451c6d5b1b7992ac7e3487f04d2dd5",
    "e6923ce8863b3a0142f4dc0baf3fb89d74ec",
    "71636359b63377ec3af7bd9bb9d2b5a9f0963e02e7b22634f0103ecbf970", // blake3
);

#[test]
fn keyfile_layout() {
    let bundle = KeyBundle {
        root: None,
        device: key(11),
        device_cert: None,
    };
    let plain = bundle.seal(Protection::Unencrypted).expect("seals");
    assert_eq!(hex(&plain), PLAIN_KEYFILE);
    let (body, sum) = plain.split_at(plain.len() - 32);
    assert_eq!(blake3::hash(body).as_bytes(), sum);

    // Encrypted files are random; their header has a fixed layout.
    let sealed = bundle
        .seal(Protection::Passphrase("pw", KdfParams::INSECURE_FAST))
        .expect("seals");
    assert_eq!(&sealed[..9], b"QUNKEY\x00\x01\x01");
    assert_eq!(&sealed[9..21], &unhex("400000000100000001000000")[..]);
    assert_eq!(&sealed[61..65], &50u32.to_le_bytes());
    assert_eq!(sealed.len(), 65 + 50 + 32);
    let (body, sum) = sealed.split_at(sealed.len() - 32);
    assert_eq!(blake3::hash(body).as_bytes(), sum);
    assert!(keyfile::is_encrypted(&sealed).expect("valid file"));
    assert!(!keyfile::is_encrypted(&plain).expect("valid file"));
}

#[test]
fn pinned_keyfiles_still_open() {
    let plain = KeyBundle::open(&unhex(PLAIN_KEYFILE), None).expect("opens");
    assert_eq!(plain.device, key(11));
    assert!(plain.root.is_none() && plain.device_cert.is_none());
    let enc = unhex(ENCRYPTED_KEYFILE);
    let opened = KeyBundle::open(&enc, Some("correct horse battery staple")).expect("opens");
    assert_eq!(opened.device, key(11));
    assert!(opened.root.is_none() && opened.device_cert.is_none());
    assert_eq!(
        KeyBundle::open(&enc, Some("Correct horse battery staple")).map(|_| ()),
        Err(qun_identity::Error::WrongPassphrase)
    );
}

#[test]
fn backup_phrase_of_a_test_key() {
    // BIP39 English, entropy = the seed [1; 32].
    let phrase = qun_identity::phrase::to_phrase(&key(1));
    assert_eq!(
        phrase.as_str(),
        "absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic \
         avoid letter advice cage absurd amount doctor acoustic avoid letter advice comic"
    );
    assert_eq!(qun_identity::phrase::from_phrase(&phrase), Ok(key(1)));
}

#[cfg(feature = "libp2p")]
#[test]
fn libp2p_peer_id_of_a_device_key() {
    let device = key(11);
    let peer = device.device_id().to_peer_id().expect("ed25519");
    assert_eq!(peer.to_string(), PEER_ID_OF_KEY_11);
    assert_eq!(
        device
            .to_libp2p_keypair()
            .expect("keypair")
            .public()
            .to_peer_id(),
        peer
    );
    assert_eq!(
        qun_identity::DeviceId::from_peer_id(&peer),
        Ok(device.device_id())
    );
}

#[cfg(feature = "libp2p")]
const PEER_ID_OF_KEY_11: &str = "12D3KooWGjSE7eCu5f1Pa8pGxscmoEcdQ5BRMGqbyMvL2dhrPCS5";
