//! How fuzz input is fed to the decoders and to the ingest path, shared by the cargo-fuzz
//! targets (`crdt/fuzz`, which include this file by path), the crasher fixtures
//! (`tests/fuzz_crashers.rs`) and the property tests (`tests/fuzz_props.rs`).
//!
//! Every entry point returns `Ok(n)` when `n > 0` changes went in and `Err(reason)` otherwise,
//! and panics (the finding) when an invariant breaks: a decoded message that does not
//! re-encode to itself, a gossip message without exactly one verdict, a sync request without
//! exactly one response, or a state that changed although nothing valid went in.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

#[path = "../prescan_harness/mod.rs"]
mod prescan_harness;

use qun_crdt::replicate::wire::{self, GossipMsg, SyncRequest, SyncResponse, WireChange};
use qun_crdt::test_utils::{T0, all_heads, genesis, key, post, replica};
use qun_crdt::*;
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// Largest message the harness feeds (the fuzzers' `-max_len` is lower anyway).
pub const MAX_SYNC: usize = qun_crdt::limits::DEFAULT_MAX_SYNC_BYTES;

/// A small community history every ingest input is offered to.
pub struct Fixture {
    pub genesis: CommunityGenesis,
    pub id: CommunityId,
    /// Every change, in causal order.
    pub changes: Vec<(DocId, Vec<u8>, [u8; 64])>,
    /// Their hashes.
    pub hashes: BTreeSet<Hash>,
    /// The documents.
    pub docs: Vec<DocId>,
}

/// The fixture: founder and one member, posts in two channels, a reply, a reaction, an edit,
/// a profile.
pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let (f, a) = (key(1), key(2));
        let g = genesis(&f, AdmissionPolicy::Open);
        let mut cf = replica(&g, &f);
        let mut ca = replica(&g, &a);
        let t = |s: u64| T0.plus_millis(s * 1000);
        let dev = ChannelId::new("dev").unwrap();
        cf.edit(
            &f,
            t(1),
            Edit::Govern(Action::SetChannel {
                channel: dev.clone(),
                settings: ChannelSettings {
                    title: "Dev".into(),
                    description: String::new(),
                    announce: false,
                    archived: false,
                },
            }),
        )
        .unwrap();
        let p0 = cf.edit(&f, t(2), post("general", "hello")).unwrap().post;
        qun_crdt::test_utils::sync_all(&cf, &mut ca);
        ca.edit(
            &a,
            t(3),
            Edit::Govern(Action::Join {
                cert: None,
                invitation: None,
                proof: None,
            }),
        )
        .unwrap();
        let p1 = ca.edit(&a, t(4), post("dev", "first")).unwrap().post;
        ca.edit(
            &a,
            t(5),
            Edit::Post {
                channel: ChannelId::general(),
                text: "a reply".into(),
                reply_to: p0.clone(),
                attachments: vec![],
            },
        )
        .unwrap();
        ca.edit(
            &a,
            t(6),
            Edit::React {
                post: p0.clone().unwrap(),
                emoji: "+1".into(),
                on: true,
            },
        )
        .unwrap();
        ca.edit(
            &a,
            t(7),
            Edit::EditPost {
                post: p1.unwrap(),
                text: "first, edited".into(),
            },
        )
        .unwrap();
        qun_crdt::test_utils::sync_all(&ca, &mut cf);
        cf.edit(
            &f,
            t(8),
            Edit::Profile(Profile {
                name: "founder".into(),
                ..Profile::default()
            }),
        )
        .unwrap();
        cf.edit(&f, t(9), post("dev", "second")).unwrap();
        let changes: Vec<(DocId, Vec<u8>, [u8; 64])> = cf
            .all_changes()
            .into_iter()
            .map(|(d, h)| {
                let (b, s) = cf.signed_change(&d, &h).unwrap();
                (d, b, s)
            })
            .collect();
        let hashes = cf.all_changes().into_iter().map(|(_, h)| h).collect();
        let _ = dev;
        Fixture {
            id: g.id(),
            docs: cf.docs(),
            genesis: g,
            changes,
            hashes,
        }
    })
}

/// A replica holding the whole fixture history.
pub fn community() -> Community {
    community_prefix(fixture().changes.len())
}

/// A replica holding the first `n` changes of the fixture.
pub fn community_prefix(n: usize) -> Community {
    let fx = fixture();
    let mut c = replica(&fx.genesis, &key(50));
    for (d, b, s) in &fx.changes[..n] {
        c.ingest(d, b, s).unwrap();
    }
    c.flush().unwrap();
    c
}

/// A replicator holding the whole fixture history, with its start-up outputs drained.
pub fn replicator() -> Replicator<u8> {
    replicator_prefix(fixture().changes.len())
}

/// A replicator holding the first `n` changes of the fixture, start-up outputs drained.
pub fn replicator_prefix(n: usize) -> Replicator<u8> {
    let fx = fixture();
    let k = key(51);
    let m = k.member_id();
    let mut r = Replicator::new(k, m, None, Config::default()).unwrap();
    let changes = fx.changes[..n]
        .iter()
        .map(|(d, b, s)| {
            (
                d.clone(),
                WireChange {
                    bytes: b.clone(),
                    sig: *s,
                },
            )
        })
        .collect();
    let rep = r
        .restore(T0, &fx.id, &fx.genesis.to_bytes(), changes)
        .unwrap();
    assert_eq!(rep.restored, n);
    r.drain().for_each(drop);
    r
}

/// What a replica's state looks like from outside: heads of every document and change count.
pub type Print = (Vec<(DocId, Vec<Hash>)>, usize);

pub fn print<'a>(c: impl Into<qun_crdt::CommunityReader<'a>>) -> Print {
    let mut c = c.into();
    (all_heads(&mut c), c.total_changes())
}

fn roundtrip<T>(what: &'static str, data: &[u8]) -> Result<T, String>
where
    T: serde::Serialize + for<'de> serde::Deserialize<'de> + PartialEq + std::fmt::Debug,
{
    let m: T = wire::decode(what, data, MAX_SYNC).map_err(|e| e.to_string())?;
    let again: T = wire::decode(what, &wire::encode(&m), MAX_SYNC)
        .unwrap_or_else(|e| panic!("{what}: decoded message does not re-encode: {e}"));
    assert_eq!(again, m, "{what}: decode(encode(m)) != m");
    Ok(m)
}

/// Target `gossip_decode`.
pub fn gossip_decode(data: &[u8]) -> Result<usize, String> {
    roundtrip::<GossipMsg>("gossip", data).map(|m| m.changes.len())
}

/// Target `sync_decode`: the first byte picks request (even) or response (odd).
pub fn sync_decode(data: &[u8]) -> Result<usize, String> {
    let (&sel, rest) = data.split_first().ok_or("empty")?;
    if sel % 2 == 0 {
        roundtrip::<SyncRequest>("sync request", rest).map(|_| 0)
    } else {
        roundtrip::<SyncResponse>("sync response", rest).map(|_| 0)
    }
}

/// The ways `ingest` feeds its input, chosen by the first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `Community::ingest(doc[b1], rest[64..], rest[..64])`.
    Direct,
    /// `Input::Gossip` with the raw bytes.
    GossipRaw,
    /// `Input::Gossip` with a well-formed message for the fixture community wrapping the bytes
    /// as one change.
    GossipWrapped,
    /// `Input::SyncRequest` with the raw bytes.
    SyncRequestRaw,
    /// `Input::SyncRequest`: a `Push` wrapping the bytes as one change.
    SyncPushWrapped,
    /// `Input::SyncResponse` with the raw bytes.
    SyncResponseRaw,
    /// `Input::SyncResponse`: `Changes` wrapping the bytes as one change.
    SyncResponseWrapped,
    /// A valid change of the fixture (`b1`), mutated by `(position, xor)` byte pairs, then
    /// `Community::ingest`.
    MutateValid,
    /// `b1 | b2 | body`: the harness seals `body` into a change chunk and signs it with a
    /// fixture key (`b2` picks founder or member) for document `b1`: a member signing
    /// whatever it likes. This is how fuzzing gets past the signature check into the
    /// authorization rules and Automerge's apply; such a change may go in.
    SignedBody,
}

impl Mode {
    pub const ALL: [Mode; 9] = [
        Mode::Direct,
        Mode::GossipRaw,
        Mode::GossipWrapped,
        Mode::SyncRequestRaw,
        Mode::SyncPushWrapped,
        Mode::SyncResponseRaw,
        Mode::SyncResponseWrapped,
        Mode::MutateValid,
        Mode::SignedBody,
    ];

    pub fn byte(self) -> u8 {
        Mode::ALL.iter().position(|m| *m == self).unwrap_or(0) as u8
    }
}

/// `(doc, sig, change bytes)` from `b1 | sig[64] | bytes`.
fn split_change(data: &[u8]) -> (DocId, [u8; 64], Vec<u8>) {
    let fx = fixture();
    let doc = fx.docs[usize::from(data.first().copied().unwrap_or(0)) % fx.docs.len()].clone();
    let rest = data.get(1..).unwrap_or(&[]);
    let mut sig = [0u8; 64];
    let n = rest.len().min(64);
    sig[..n].copy_from_slice(&rest[..n]);
    (doc, sig, rest[n..].to_vec())
}

/// Target `ingest`.
pub fn ingest(data: &[u8]) -> Result<usize, String> {
    let (&sel, rest) = data.split_first().ok_or("empty")?;
    let mode = Mode::ALL[usize::from(sel) % Mode::ALL.len()];
    let fx = fixture();
    match mode {
        Mode::Direct => {
            let (doc, sig, bytes) = split_change(rest);
            direct(&doc, &bytes, &sig)
        }
        Mode::MutateValid => {
            let (&which, edits) = rest.split_first().ok_or("empty")?;
            let (doc, bytes, sig) = &fx.changes[usize::from(which) % fx.changes.len()];
            let mut bytes = bytes.clone();
            let mut sig = *sig;
            for e in edits.chunks_exact(3) {
                let pos = usize::from(u16::from_le_bytes([e[0], e[1]]));
                if pos < 64 {
                    sig[pos] ^= e[2];
                } else if !bytes.is_empty() {
                    let i = (pos - 64) % bytes.len();
                    bytes[i] ^= e[2];
                }
            }
            direct(doc, &bytes, &sig)
        }
        Mode::SignedBody => {
            let (doc, bytes, sig) = signed_body(rest)?;
            direct_signed(&doc, &bytes, &sig)
        }
        _ => through_replicator(mode, rest),
    }
}

thread_local! {
    /// A replica (and a replicator) kept between inputs while they stay as the fixture left
    /// them: building one costs a dozen signature checks, which would make the fuzzer slow.
    static COMMUNITY: std::cell::RefCell<Option<Community>> = const { std::cell::RefCell::new(None) };
    static REPLICATOR: std::cell::RefCell<Option<Replicator<u8>>> = const { std::cell::RefCell::new(None) };
}

/// Offer one change to a replica holding the fixture; nothing may change unless it went in.
pub fn direct(doc: &DocId, bytes: &[u8], sig: &[u8; 64]) -> Result<usize, String> {
    let mut c = COMMUNITY
        .with(|c| c.borrow_mut().take())
        .unwrap_or_else(community);
    let r = direct_check(&mut c, doc, bytes, sig);
    // A refused change leaves the replica as it was (checked): keep it for the next input.
    COMMUNITY.with(|slot| *slot.borrow_mut() = Some(c));
    r
}

/// The fixture keys that sign `SignedBody` inputs: the founder and the member.
pub fn signers() -> [qun_identity::SecretIdentity; 2] {
    [key(1), key(2)]
}

/// `(doc, sealed change, signature)` of a `SignedBody` input (`b1 | b2 | body`).
pub fn signed_body(rest: &[u8]) -> Result<(DocId, Vec<u8>, [u8; 64]), String> {
    let fx = fixture();
    let [d, k] = [rest.first(), rest.get(1)].map(|b| b.copied().unwrap_or(0));
    let doc = fx.docs[usize::from(d) % fx.docs.len()].clone();
    let bytes = prescan_harness::seal(rest.get(2..).unwrap_or(&[]));
    // The change hash is what is signed; a body the pre-scan refuses is refused before the
    // signature matters, so any signature does.
    let hash = qun_crdt::prescan::prescan(&bytes, u64::MAX, u64::MAX)
        .map_err(|e| format!("prescan: {e}"))?
        .hash;
    let signer = &signers()[usize::from(k) % 2];
    let sig = signer.sign_raw(&signing_message(&fx.id, &doc, &hash));
    Ok((doc, bytes, sig))
}

/// Changes the fixture lacks, made on top of it by the founder (`1`) and the member (`0`),
/// as `(doc, change body without its chunk header, signer selector)`: seeds for `SignedBody`.
pub fn fresh_bodies() -> Vec<(DocId, Vec<u8>, u8)> {
    let fx = fixture();
    let [f, a] = signers();
    let t = |s: u64| T0.plus_millis(s * 1000);
    let mut out = Vec::new();
    for (k, who, edits) in [
        (
            0u8,
            &f,
            vec![
                post("general", "founder again"),
                Edit::Govern(Action::SetChannel {
                    channel: ChannelId::new("news").unwrap(),
                    settings: ChannelSettings {
                        title: "News".into(),
                        description: "what is new".into(),
                        announce: true,
                        archived: false,
                    },
                }),
            ],
        ),
        (
            1u8,
            &a,
            vec![
                post("dev", "member again"),
                Edit::Profile(Profile {
                    name: "member".into(),
                    ..Profile::default()
                }),
            ],
        ),
    ] {
        for (i, e) in edits.into_iter().enumerate() {
            let mut c = replica(&fx.genesis, who);
            for (d, b, s) in &fx.changes {
                c.ingest(d, b, s).unwrap();
            }
            let lc = c.edit(who, t(20 + i as u64), e).unwrap();
            out.push((lc.accepted.doc.clone(), unseal(&lc.bytes).to_vec(), k));
        }
    }
    out
}

/// The body of a change chunk (after magic, checksum, type and length).
fn unseal(bytes: &[u8]) -> &[u8] {
    assert_eq!(bytes[8], 1, "an uncompressed change chunk");
    let mut i = 9;
    while bytes[i] & 0x80 != 0 {
        i += 1;
    }
    &bytes[i + 1..]
}

/// Offer a change a fixture key signed: it may go in (a member may write); if it does, the
/// replica is rebuilt for the next input, and applying it must not fail.
pub fn direct_signed(doc: &DocId, bytes: &[u8], sig: &[u8; 64]) -> Result<usize, String> {
    let mut c = COMMUNITY
        .with(|c| c.borrow_mut().take())
        .unwrap_or_else(community);
    let before = print(&mut c);
    let r = c.ingest(doc, bytes, sig);
    c.flush().map_err(|e| format!("flush after ingest: {e}"))?;
    // Reading every view of what went in must not fail either.
    let _ = c.members();
    for ch in c.channels() {
        let _ = c.posts(&ch.id, 50, None);
    }
    let after = print(&mut c);
    match r {
        Ok(Ingested::Accepted(a)) => {
            assert_eq!(after.1, before.1 + 1, "one change went in: {a:?}");
            // Not kept: the next input starts from the fixture again.
            Ok(1)
        }
        Ok(Ingested::Duplicate(_)) => {
            assert_eq!(before, after, "a duplicate changed the state");
            COMMUNITY.with(|slot| *slot.borrow_mut() = Some(c));
            Err("duplicate".into())
        }
        Err(e) => {
            assert_eq!(before, after, "a refused change ({e}) changed the state");
            COMMUNITY.with(|slot| *slot.borrow_mut() = Some(c));
            Err(e.to_string())
        }
    }
}

fn direct_check(
    c: &mut Community,
    doc: &DocId,
    bytes: &[u8],
    sig: &[u8; 64],
) -> Result<usize, String> {
    let before = print(&mut *c);
    let r = c.ingest(doc, bytes, sig);
    // Applying what was staged must not fail either.
    c.flush().map_err(|e| format!("flush after ingest: {e}"))?;
    let after = print(c);
    match r {
        Ok(Ingested::Accepted(a)) => {
            panic!("a change not made by the fixture's keys went in: {a:?}")
        }
        Ok(Ingested::Duplicate(h)) => {
            assert!(fixture().hashes.contains(&h));
            assert_eq!(before, after, "a duplicate changed the state");
            Err("duplicate".into())
        }
        Err(e) => {
            assert_eq!(before, after, "a refused change ({e}) changed the state");
            Err(e.to_string())
        }
    }
}

fn wrapped(rest: &[u8]) -> (DocId, WireChange) {
    let (doc, sig, bytes) = split_change(rest);
    (doc, WireChange { bytes, sig })
}

/// Feed a replicator holding the fixture; check the output contract and that nothing changed.
fn through_replicator(mode: Mode, rest: &[u8]) -> Result<usize, String> {
    let fx = fixture();
    let id = fx.id;
    let mut r = REPLICATOR
        .with(|r| r.borrow_mut().take())
        .unwrap_or_else(replicator);
    let before = print(r.community(&id).unwrap());
    let now = T0.plus_millis(60_000);
    let bytes = match mode {
        Mode::GossipWrapped => {
            let (doc, c) = wrapped(rest);
            wire::encode(&GossipMsg {
                community: id,
                doc,
                changes: vec![c],
            })
        }
        Mode::SyncPushWrapped => {
            let (doc, c) = wrapped(rest);
            wire::encode(&SyncRequest::Push {
                community: id,
                docs: vec![(doc, vec![c])],
            })
        }
        Mode::SyncResponseWrapped => {
            let (doc, c) = wrapped(rest);
            wire::encode(&SyncResponse::Changes {
                community: id,
                genesis: None,
                docs: vec![(doc, vec![c])],
                heads: vec![],
                samples: Vec::new(),
                more: false,
            })
        }
        _ => rest.to_vec(),
    };
    let input = match mode {
        Mode::GossipRaw | Mode::GossipWrapped => Input::Gossip {
            from: 7,
            id: MsgId(vec![1]),
            bytes,
        },
        Mode::SyncRequestRaw | Mode::SyncPushWrapped => Input::SyncRequest {
            from: 7,
            device: None,
            reply: ReplyId(1),
            bytes,
        },
        _ => Input::SyncResponse { from: 7, bytes },
    };
    let gossip = matches!(input, Input::Gossip { .. });
    let request = matches!(input, Input::SyncRequest { .. });
    r.handle(now, input);
    let outs: Vec<Output<u8>> = r.drain().collect();
    // Whatever arrived, a tick later the replicator is still consistent.
    r.handle(now.plus_millis(3_600_000), Input::Tick);
    r.drain().for_each(drop);
    let after = print(r.community(&id).unwrap());
    let verdicts: Vec<Verdict> = outs
        .iter()
        .filter_map(|o| match o {
            Output::Verdict { verdict, .. } => Some(*verdict),
            _ => None,
        })
        .collect();
    let responses = outs
        .iter()
        .filter(|o| matches!(o, Output::SyncRespond { .. }))
        .count();
    let accepted = outs
        .iter()
        .filter(|o| matches!(o, Output::Event(Event::Accepted { .. })))
        .count();
    if gossip {
        assert_eq!(
            verdicts.len(),
            1,
            "one verdict per gossip message: {outs:?}"
        );
    } else {
        assert!(verdicts.is_empty());
    }
    assert_eq!(responses, usize::from(request), "one response per request");
    assert_eq!(
        accepted, 0,
        "a change not made by the fixture's keys went in"
    );
    assert_eq!(before, after, "refused input changed the state");
    if verdicts.first() == Some(&Verdict::Accept) {
        panic!("gossip accepted without a change going in");
    }
    // Nothing went in (checked above); reuse the replicator unless something now waits.
    if r.pending(&id) == 0 {
        REPLICATOR.with(|slot| *slot.borrow_mut() = Some(r));
    }
    let rejected: Vec<String> = outs
        .iter()
        .filter_map(|o| match o {
            Output::Event(Event::Rejected { error, .. }) => Some(error.to_string()),
            _ => None,
        })
        .collect();
    Err(if rejected.is_empty() {
        format!("{mode:?}: nothing went in")
    } else {
        rejected.join("; ")
    })
}

/// A change message (the JSON every change carries: version, action, cited heads), as a peer
/// sends it: whatever decodes must pass the action's field rules, and encode back to a message
/// that decodes to the same action and heads.
pub fn action_decode(data: &[u8]) -> Result<usize, String> {
    use qun_crdt::community::action::ChangeMeta;
    let s = std::str::from_utf8(data).map_err(|e| e.to_string())?;
    let (a, heads) = ChangeMeta::decode(Some(s)).map_err(|e| e.to_string())?;
    a.check().expect("a decoded action passed its field rules");
    let again = ChangeMeta::encode(&a, &heads);
    let (b, h2) = ChangeMeta::decode(Some(&again)).expect("an encoded action decodes");
    assert_eq!((&a, &heads), (&b, &h2), "re-encoding changed the action");
    Ok(1)
}
