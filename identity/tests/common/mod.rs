//! Helpers shared by the integration tests: fixed keys and times, sample bodies, and a
//! hand-written envelope encoder so tests can build envelopes `Signed::sign` refuses to make.
#![allow(dead_code, unreachable_pub)]

pub mod forge;

use qun_identity::{
    Capabilities, ContentId, DeviceCert, Endorsement, Envelope, Error, Invitation, Limits,
    MemberId, Revocation, Scope, SecretIdentity, Signed, SignedBody, Timestamp, Topic, Weight,
    domain_tag, verify_batch,
};
use std::ops::Range;

/// The time every test runs at (2023-11-14T22:13:20Z).
pub const NOW: Timestamp = Timestamp::from_millis(1_700_000_000_000);
/// One day in milliseconds.
pub const DAY: u64 = 86_400_000;

/// The key with seed `[n; 32]`.
pub fn key(n: u8) -> SecretIdentity {
    SecretIdentity::from_seed(&[n; 32])
}

/// Alice (1) endorses Bob (2) on `rust`, globally, 0.75, expiring in a day, with a note.
pub fn endorsement() -> Endorsement {
    Endorsement {
        from: key(1).member_id(),
        to: key(2).member_id(),
        topic: Topic::new("rust").expect("valid topic"),
        scope: Scope::Global,
        weight: Weight::from_millis(750).expect("in range"),
        created: NOW,
        expires: Some(NOW.plus_millis(DAY)),
        note: "reviews carefully".into(),
    }
}

/// Alice's root (1) certifies her laptop (11) for content and endorsements, from an hour ago
/// until thirty days from now.
pub fn device_cert() -> DeviceCert {
    DeviceCert {
        member: key(1).member_id(),
        device: key(11).device_id(),
        capabilities: Capabilities::CONTENT | Capabilities::ENDORSE,
        label: "laptop".into(),
        not_before: Timestamp::from_millis(NOW.as_millis() - 3_600_000),
        expires: Some(NOW.plus_millis(30 * DAY)),
    }
}

/// Alice (1) withdraws her laptop (11) from an hour after `NOW`.
pub fn revocation() -> Revocation {
    Revocation {
        member: key(1).member_id(),
        device: key(11).device_id(),
        from: NOW.plus_millis(3_600_000),
        reason: "stolen".into(),
    }
}

/// The id of the sample community.
pub fn community() -> ContentId {
    ContentId::of(b"qun test community")
}

/// Alice (1) invites Carol (3) into the sample community for a week.
pub fn invitation() -> Invitation {
    Invitation {
        community: community(),
        inviter: key(1).member_id(),
        invitee: Some(key(3).member_id()),
        nonce: [7; 16],
        key: None,
        created: NOW,
        expires: Some(NOW.plus_millis(7 * DAY)),
        note: "welcome".into(),
    }
}

/// `id` as a member.
pub fn member(n: u8) -> MemberId {
    key(n).member_id()
}

/// Postcard unsigned varint.
pub fn varint(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// The bytes an envelope signature covers: `tag || 0x00 || body`.
pub fn signing_message(tag: &str, body: &[u8]) -> Vec<u8> {
    let mut m = tag.as_bytes().to_vec();
    m.push(0);
    m.extend_from_slice(body);
    m
}

/// Envelope wire bytes from parts, written out by hand (postcard: string, [u8; 32], bytes,
/// [u8; 64]).
pub fn raw_envelope(tag: &str, author: &[u8; 32], body: &[u8], sig: &[u8; 64]) -> Vec<u8> {
    let mut out = Vec::new();
    varint(tag.len() as u64, &mut out);
    out.extend_from_slice(tag.as_bytes());
    out.extend_from_slice(author);
    varint(body.len() as u64, &mut out);
    out.extend_from_slice(body);
    out.extend_from_slice(sig);
    out
}

/// A correctly signed envelope with any tag and body (bypassing `Signed::sign`'s checks).
pub fn forge(signer: &SecretIdentity, tag: &str, body: &[u8]) -> Vec<u8> {
    let sig = signer.sign_raw(&signing_message(tag, body));
    raw_envelope(tag, signer.public().as_bytes(), body, &sig)
}

/// The tag of a body type.
pub fn tag_of<T: SignedBody>() -> String {
    domain_tag(T::KIND, T::VERSION)
}

/// Where each field of an encoded envelope lies.
#[derive(Debug, Clone)]
pub struct Layout {
    pub tag_len: Range<usize>,
    pub tag: Range<usize>,
    pub author: Range<usize>,
    pub body_len: Range<usize>,
    pub body: Range<usize>,
    pub sig: Range<usize>,
}

fn varint_len(n: usize) -> usize {
    let mut v = Vec::new();
    varint(n as u64, &mut v);
    v.len()
}

/// The layout of `env`'s wire bytes.
pub fn layout(env: &Envelope) -> Layout {
    let tl = varint_len(env.tag().len());
    let tag = tl..tl + env.tag().len();
    let author = tag.end..tag.end + 32;
    let bl = varint_len(env.body().len());
    let body_len = author.end..author.end + bl;
    let body = body_len.end..body_len.end + env.body().len();
    let sig = body.end..body.end + 64;
    assert_eq!(sig.end, env.to_bytes().len(), "layout covers the envelope");
    Layout {
        tag_len: 0..tl,
        tag,
        author,
        body_len,
        body,
        sig,
    }
}

/// Decode and verify `bytes` as a `T` at `now`, and check that [`verify_batch`] says the same,
/// alone and in a batch with a good envelope of the same kind (`good`).
pub fn verify_both<T: SignedBody + PartialEq + std::fmt::Debug>(
    bytes: &[u8],
    now: Timestamp,
    good: &Signed<T>,
) -> Result<Signed<T>, Error> {
    let env = Envelope::decode(bytes, &Limits::default())?;
    let single = env.clone().verify::<T>(now);
    let alone = verify_batch::<T>(vec![env.clone()], now);
    assert_eq!(alone, vec![single.clone()], "verify_batch alone disagrees");
    let mixed = verify_batch::<T>(
        vec![good.envelope().clone(), env, good.envelope().clone()],
        now,
    );
    let good_now = good.envelope().clone().verify::<T>(now);
    assert_eq!(
        mixed,
        vec![good_now.clone(), single.clone(), good_now],
        "verify_batch in a batch disagrees"
    );
    single
}
