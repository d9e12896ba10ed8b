//! Change signatures checked in batches (ZIP-215, `qun_identity::consensus`), as an attacker
//! meets them: a forged or damaged signature hidden among hundreds of valid ones, a signature
//! copied from another change, signatures on the edge between rule sets, keys of small order.
//! Every test compares the batch path (`Community::ingest_many`, a sync response, a restore)
//! with changes offered one at a time (`Community::ingest`): the verdicts must be identical.

use qun_crdt::replicate::wire::{self, SyncResponse, WireChange};
use qun_crdt::test_utils::*;
use qun_crdt::*;
use qun_identity::edge_sigs::{self, EdgeR};
use qun_identity::{SecretIdentity, Timestamp};

/// Posts made: more than two batch chunks, so both threads get work and a bad chunk falls back.
const POSTS: usize = 600;

fn t(s: u64) -> Timestamp {
    T0.plus_millis(s * 1000)
}

/// One signed change as it travels.
#[derive(Clone)]
struct Item {
    doc: DocId,
    bytes: Vec<u8>,
    sig: [u8; 64],
}

/// A community where the founder posts `n` times; the changes in the order they were made.
fn history(n: usize) -> (SecretIdentity, CommunityGenesis, Vec<Item>) {
    let f = key(1);
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut a = replica(&g, &f);
    let items = (0..n)
        .map(|i| {
            let c = a
                .edit(&f, t(i as u64), post("general", &format!("post {i}")))
                .unwrap();
            Item {
                doc: c.accepted.doc,
                bytes: c.bytes,
                sig: c.sig,
            }
        })
        .collect();
    (f, g, items)
}

/// Each change offered alone, in order.
fn one_by_one(g: &CommunityGenesis, items: &[Item]) -> Vec<String> {
    let mut c = replica(g, &key(50));
    items
        .iter()
        .map(|i| verdict(&c.ingest(&i.doc, &i.bytes, &i.sig)))
        .collect()
}

/// The whole list offered as one batch, signatures checked on `threads` threads.
fn batched(g: &CommunityGenesis, items: &[Item], threads: usize) -> Vec<String> {
    let mut c = replica(g, &key(50));
    c.set_verify_threads(threads);
    let batch: Vec<(&DocId, &[u8], &[u8; 64])> = items
        .iter()
        .map(|i| (&i.doc, i.bytes.as_slice(), &i.sig))
        .collect();
    c.ingest_many(&batch).iter().map(verdict).collect()
}

/// A comparable verdict: accepted, duplicate, or the error's kind and text.
fn verdict(r: &Result<Ingested>) -> String {
    match r {
        Ok(Ingested::Accepted(a)) => format!("accepted {}", a.hash),
        Ok(Ingested::Duplicate(h)) => format!("duplicate {h}"),
        Err(e) => format!("error {e}"),
    }
}

fn is_bad_signature(v: &str, hash: &Hash) -> bool {
    v.contains("error") && v.contains(&hash.to_string()) && v.contains("signature")
}

/// The honest history with forgeries slipped in: `(position, forged item)`.
fn with_forgeries(items: &[Item]) -> (Vec<Item>, Vec<(usize, Hash)>) {
    // A damaged signature on the newest post (a leaf), and the signature of post 10 copied onto
    // post 598 (whose real copy comes later, so it is also checked alone).
    let mut damaged = items[POSTS - 1].clone();
    damaged.sig[40] ^= 0x10;
    let mut copied = items[POSTS - 2].clone();
    copied.sig = items[10].sig;
    let mut out = items.to_vec();
    out.insert(400, damaged.clone());
    out.insert(200, copied.clone());
    let forged = vec![
        (200, change_hash(&copied.bytes).unwrap()),
        (401, change_hash(&damaged.bytes).unwrap()),
    ];
    (out, forged)
}

/// One damaged and one copied signature among 600 valid ones: exactly those two are refused
/// as bad signatures, every honest change goes in, and the batch (1 or 2 threads) says what
/// one-at-a-time ingest says.
#[test]
fn forged_signatures_in_a_batch_refuse_exactly_those_changes() {
    let (_, g, items) = history(POSTS);
    let (offered, forged) = with_forgeries(&items);
    let single = one_by_one(&g, &offered);
    for threads in [1, 2] {
        assert_eq!(batched(&g, &offered, threads), single, "threads {threads}");
    }
    for (i, v) in single.iter().enumerate() {
        match forged.iter().find(|(at, _)| *at == i) {
            Some((_, hash)) => assert!(is_bad_signature(v, hash), "{i}: {v}"),
            None => assert!(v.starts_with("accepted"), "{i}: {v}"),
        }
    }
}

/// A signature copied from another change, with nothing else around it: refused alone and
/// in a batch of one.
#[test]
fn copied_signature_fails_alone_too() {
    let (_, g, items) = history(3);
    let forged = vec![
        items[0].clone(),
        Item {
            sig: items[0].sig,
            ..items[1].clone()
        },
    ];
    let single = one_by_one(&g, &forged);
    assert_eq!(batched(&g, &forged, 2), single);
    assert!(single[0].starts_with("accepted"));
    assert!(is_bad_signature(
        &single[1],
        &change_hash(&items[1].bytes).unwrap()
    ));
}

/// Signatures valid under ZIP-215 but not under strict ed25519 (mixed-order `R`, small-order
/// and non-canonically encoded `R`), made by the device's holder: accepted the same way alone
/// and in batches; the same `R` over another change is refused the same way too.
#[test]
fn edge_case_signatures_are_judged_alike_alone_and_in_batches() {
    let (f, g, items) = history(POSTS);
    let community = g.id();
    let mut offered = items.clone();
    for (n, i) in (0..POSTS).step_by(37).enumerate() {
        let edge = edge_sigs::ALL[n % edge_sigs::ALL.len()];
        let it = &mut offered[i];
        let hash = change_hash(&it.bytes).unwrap();
        it.sig = edge_sigs::sign(&f, &signing_message(&community, &it.doc, &hash), edge);
    }
    let single = one_by_one(&g, &offered);
    assert!(
        single.iter().all(|v| v.starts_with("accepted")),
        "{single:?}"
    );
    for threads in [1, 2] {
        assert_eq!(batched(&g, &offered, threads), single, "threads {threads}");
    }
    // The same edge-case signatures over the wrong change: refused everywhere.
    let mut wrong = items.clone();
    let edge_sig = |i: usize, edge: EdgeR| {
        let h = change_hash(&items[i].bytes).unwrap();
        edge_sigs::sign(&f, &signing_message(&community, &items[i].doc, &h), edge)
    };
    let last = POSTS - 1;
    wrong[last].sig = edge_sig(last - 1, EdgeR::MixedOrder(3));
    wrong.insert(300, {
        let mut x = items[last].clone();
        x.sig = edge_sig(5, EdgeR::IdentityNonCanonicalY);
        x
    });
    let single = one_by_one(&g, &wrong);
    assert_eq!(batched(&g, &wrong, 2), single);
    let h_last = change_hash(&items[last].bytes).unwrap();
    assert!(is_bad_signature(&single[300], &h_last), "{}", single[300]);
    assert!(is_bad_signature(&single[POSTS], &h_last));
    assert_eq!(
        single.iter().filter(|v| v.starts_with("accepted")).count(),
        POSTS - 1
    );
}

/// A change whose actor is a point of small order (anyone can "sign" for it under ZIP-215:
/// `R` = identity, `s` = 0 verifies for every message) or the same point encoded
/// non-canonically: refused by its key, before any signature, alone and in a batch.
#[test]
fn small_order_actors_are_refused_on_every_path() {
    let (_, g, items) = history(POSTS);
    let community = g.id();
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut identity_y_p1 = [0xffu8; 32];
    identity_y_p1[0] = 0xee;
    identity_y_p1[31] = 0x7f;
    let torsion = curve25519_dalek::constants::EIGHT_TORSION[3]
        .compress()
        .to_bytes();
    let mut offered = items.clone();
    let mut bad = Vec::new();
    for (n, actor) in [identity, identity_y_p1, torsion].into_iter().enumerate() {
        let bytes = change_by(&actor);
        let doc = DocId::Governance;
        let hash = change_hash(&bytes).unwrap();
        // Trivially "valid" under plain ZIP-215 for a small-order key.
        let mut sig = [0u8; 64];
        sig[0] = 1;
        assert!(
            ed25519_consensus::VerificationKey::try_from(actor)
                .and_then(|k| k.verify(
                    &ed25519_consensus::Signature::from(sig),
                    &signing_message(&community, &doc, &hash)
                ))
                .is_ok()
        );
        let at = 100 + 150 * n;
        offered.insert(at, Item { doc, bytes, sig });
        bad.push(at);
    }
    let single = one_by_one(&g, &offered);
    assert_eq!(batched(&g, &offered, 2), single);
    for (i, v) in single.iter().enumerate() {
        if bad.contains(&i) {
            assert!(v.contains("small-order"), "{i}: {v}");
        } else {
            assert!(v.starts_with("accepted"), "{i}: {v}");
        }
    }
}

/// An Automerge change with dependencies whose actor is `actor`.
fn change_by(actor: &[u8; 32]) -> Vec<u8> {
    use automerge::transaction::Transactable;
    let mut d = automerge::AutoCommit::new();
    d.set_actor(automerge::ActorId::from(&actor[..]));
    d.put(automerge::ROOT, "a", 1).unwrap();
    d.commit();
    d.put(automerge::ROOT, "b", 2).unwrap();
    d.commit();
    d.get_last_local_change().unwrap().raw_bytes().to_vec()
}

/// Group consecutive changes of one document, as a sync response carries them.
fn by_doc(items: &[Item]) -> Vec<(DocId, Vec<WireChange>)> {
    let mut out: Vec<(DocId, Vec<WireChange>)> = Vec::new();
    for i in items {
        let w = WireChange {
            bytes: i.bytes.clone(),
            sig: i.sig,
        };
        match out.last_mut() {
            Some((d, v)) if *d == i.doc => v.push(w),
            _ => out.push((i.doc.clone(), vec![w])),
        }
    }
    out
}

fn replicator(threads: usize) -> Replicator<usize> {
    let k = key(60);
    Replicator::new(
        k.clone(),
        k.member_id(),
        None,
        Config {
            verify_threads: threads,
            ..Config::default()
        },
    )
    .unwrap()
}

/// The replicator's paths: a sync response carrying the forgeries among 600 honest changes
/// accepts the 600 and reports exactly the two bad signatures; a restore from a store holding
/// the same list restores the 600 and reports the two as invalid.
#[test]
fn sync_response_and_restore_refuse_only_the_forgeries() {
    let (_, g, items) = history(POSTS);
    let (offered, forged) = with_forgeries(&items);
    let c = g.id();
    for threads in [1, 2] {
        let mut r = replicator(threads);
        r.restore(T0, &c, &g.to_bytes(), Vec::new()).unwrap();
        r.drain().for_each(drop);
        let resp = SyncResponse::Changes {
            community: c,
            genesis: None,
            docs: by_doc(&offered),
            heads: Vec::new(),
            samples: Vec::new(),
            more: false,
        };
        r.handle(
            t(POSTS as u64),
            Input::SyncResponse {
                from: 7,
                bytes: wire::encode(&resp),
            },
        );
        let (mut accepted, mut rejected) = (0, Vec::new());
        for o in r.drain() {
            match o {
                Output::Event(Event::Accepted { .. }) => accepted += 1,
                Output::Event(Event::Rejected { error, .. }) => rejected.push(error),
                _ => {}
            }
        }
        assert_eq!(accepted, POSTS, "threads {threads}");
        let mut bad: Vec<Hash> = rejected
            .iter()
            .map(|e| match e {
                Error::BadSignature { hash } => *hash,
                other => panic!("unexpected rejection {other}"),
            })
            .collect();
        bad.sort();
        let mut want: Vec<Hash> = forged.iter().map(|(_, h)| *h).collect();
        want.sort();
        assert_eq!(bad, want);
        assert_eq!(r.community(&c).unwrap().total_changes(), {
            let mut honest = replica(&g, &key(61));
            sync_all_items(&mut honest, &items);
            honest.total_changes()
        });

        let mut fresh = replicator(threads);
        let stored: Vec<(DocId, WireChange)> = offered
            .iter()
            .map(|i| {
                (
                    i.doc.clone(),
                    WireChange {
                        bytes: i.bytes.clone(),
                        sig: i.sig,
                    },
                )
            })
            .collect();
        let report = fresh.restore(T0, &c, &g.to_bytes(), stored).unwrap();
        assert_eq!(report.restored, POSTS);
        assert_eq!(report.unresolved, 0);
        assert_eq!(report.invalid.len(), 2);
        assert!(
            report
                .invalid
                .iter()
                .all(|e| matches!(e, Error::BadSignature { .. }))
        );
    }
}

fn sync_all_items(c: &mut Community, items: &[Item]) {
    for i in items {
        c.ingest(&i.doc, &i.bytes, &i.sig).unwrap();
    }
}

/// A restore larger than one authentication chunk, stored with the chunks in the wrong order
/// (the newer chunk first, so all of it waits for the older one) and one damaged signature in
/// each: every honest change comes back, exactly the two forgeries are reported.
#[test]
fn restore_across_chunks_in_any_order() {
    let n = qun_crdt::replicate::RESTORE_CHUNK + 300;
    let (_, g, items) = history(n);
    let mut stored: Vec<Item> = items[qun_crdt::replicate::RESTORE_CHUNK..].to_vec();
    stored.extend_from_slice(&items[..qun_crdt::replicate::RESTORE_CHUNK]);
    let mut forged = Vec::new();
    for i in [5, n - 5] {
        let mut bad = stored[i].clone();
        bad.sig[10] ^= 4;
        forged.push(change_hash(&bad.bytes).unwrap());
        stored.insert(i, bad);
    }
    let mut r = replicator(2);
    let report = r
        .restore(
            t(n as u64),
            &g.id(),
            &g.to_bytes(),
            stored
                .into_iter()
                .map(|i| {
                    (
                        i.doc,
                        WireChange {
                            bytes: i.bytes,
                            sig: i.sig,
                        },
                    )
                })
                .collect(),
        )
        .unwrap();
    assert_eq!(report.restored, n);
    assert_eq!(report.unresolved, 0);
    let mut bad: Vec<Hash> = report
        .invalid
        .iter()
        .map(|e| match e {
            Error::BadSignature { hash } => *hash,
            other => panic!("unexpected {other}"),
        })
        .collect();
    bad.sort();
    forged.sort();
    assert_eq!(bad, forged);
}
