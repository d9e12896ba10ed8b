//! Fuzzing that runs on every `cargo test` (STYLE §28-29): arbitrary bytes into every decoder
//! and every ingest path, and mutations of valid signed changes and gossip messages. Nothing
//! may panic, and a replica's state may change only when an actually valid change goes in.
//! (The cargo-fuzz targets in `crdt/fuzz` run the same harness for longer.)

mod fuzz_harness;

use fuzz_harness::{Mode, fixture, print};
use proptest::prelude::*;
use qun_crdt::replicate::wire::{self, GossipMsg, WireChange};
use qun_crdt::test_utils::T0;
use qun_crdt::*;

/// One byte edit: flip (xor), insert or delete at a position (taken modulo the length).
#[derive(Clone, Debug)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<usize>(), 1..=255u8).prop_map(|(p, x)| Edit::Flip(p, x)),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Edit::Insert(p, b)),
        1 => any::<usize>().prop_map(Edit::Delete),
    ]
}

fn mutate(bytes: &mut Vec<u8>, edits: &[Edit]) {
    for e in edits {
        match *e {
            Edit::Flip(p, x) if !bytes.is_empty() => {
                let i = p % bytes.len();
                bytes[i] ^= x;
            }
            Edit::Insert(p, b) => {
                let i = p % (bytes.len() + 1);
                bytes.insert(i, b);
            }
            Edit::Delete(p) if !bytes.is_empty() => {
                let i = p % bytes.len();
                bytes.remove(i);
            }
            _ => {}
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Arbitrary bytes, fed through every mode of the `ingest` target, are refused.
    #[test]
    fn arbitrary_bytes_are_refused(mode in 0..Mode::ALL.len() as u8, body in proptest::collection::vec(any::<u8>(), 0..700)) {
        let mut data = vec![mode];
        data.extend(body);
        prop_assert!(fuzz_harness::ingest(&data).is_err());
    }

    /// The wire decoders never panic and what they accept re-encodes to itself.
    #[test]
    fn decoders_never_panic(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = fuzz_harness::gossip_decode(&body);
        let _ = fuzz_harness::sync_decode(&body);
    }

    /// A valid change with some bytes flipped, inserted or deleted (in the change or in its
    /// signature), offered to a replica that holds everything before it: it goes in only if
    /// it still is a valid change of the fixture; otherwise nothing changes.
    #[test]
    fn mutated_changes_change_nothing(
        which in any::<prop::sample::Index>(),
        edits in proptest::collection::vec(edit(), 1..6),
        in_sig: bool,
    ) {
        let fx = fixture();
        let k = which.index(fx.changes.len());
        let (doc, bytes, sig) = &fx.changes[k];
        let (mut bytes, mut sig) = (bytes.clone(), sig.to_vec());
        if in_sig { mutate(&mut sig, &edits) } else { mutate(&mut bytes, &edits) }
        let sig: [u8; 64] = match sig.try_into() {
            Ok(s) => s,
            Err(_) => return Ok(()), // a signature of another length cannot even be framed
        };
        let mut c = fuzz_harness::community_prefix(k);
        let before = print(&mut c);
        match c.ingest(doc, &bytes, &sig) {
            Ok(Ingested::Accepted(a)) => {
                prop_assert!(fx.hashes.contains(&a.hash), "accepted a change nobody signed");
                prop_assert_eq!(&bytes, &fx.changes[k].1);
            }
            Ok(Ingested::Duplicate(h)) => prop_assert!(false, "duplicate {h} of a change not held"),
            Err(_) => {
                c.flush().unwrap();
                prop_assert_eq!(print(&mut c), before);
            }
        }
    }

    /// A valid gossip message with some bytes flipped, inserted or deleted, at a replicator
    /// that lacks only that change: one verdict; a change goes in only if valid; otherwise
    /// nothing changes.
    #[test]
    fn mutated_gossip_changes_nothing(
        which in any::<prop::sample::Index>(),
        edits in proptest::collection::vec(edit(), 0..6),
    ) {
        let fx = fixture();
        let k = which.index(fx.changes.len());
        let (doc, bytes, sig) = &fx.changes[k];
        let mut msg = wire::encode(&GossipMsg {
            community: fx.id,
            doc: doc.clone(),
            changes: vec![WireChange { bytes: bytes.clone(), sig: *sig }],
        });
        mutate(&mut msg, &edits);
        let mut r = fuzz_harness::replicator_prefix(k);
        let before = print(r.community(&fx.id).unwrap());
        let now = T0.plus_millis(60_000);
        r.handle(now, Input::Gossip { from: 3, id: MsgId(vec![k as u8]), bytes: msg });
        r.handle(now.plus_millis(1_000), Input::Tick);
        let outs: Vec<Output<u8>> = r.drain().collect();
        let verdicts: Vec<Verdict> = outs.iter().filter_map(|o| match o {
            Output::Verdict { verdict, .. } => Some(*verdict),
            _ => None,
        }).collect();
        prop_assert_eq!(verdicts.len(), 1);
        let accepted: Vec<Hash> = outs.iter().filter_map(|o| match o {
            Output::Event(Event::Accepted { change, .. }) => Some(change.hash),
            _ => None,
        }).collect();
        let after = print(r.community(&fx.id).unwrap());
        if accepted.is_empty() {
            prop_assert!(verdicts[0] != Verdict::Accept);
            prop_assert_eq!(after, before);
        } else {
            prop_assert_eq!(verdicts[0], Verdict::Accept);
            for h in &accepted {
                prop_assert!(fx.hashes.contains(h), "accepted a change nobody signed");
            }
            prop_assert_eq!(after.1, before.1 + accepted.len());
        }
    }
}

/// The unmutated message goes in: the mutation test is not vacuous.
#[test]
fn unmutated_gossip_goes_in() {
    let fx = fixture();
    let k = fx.changes.len() - 1;
    let (doc, bytes, sig) = &fx.changes[k];
    let msg = wire::encode(&GossipMsg {
        community: fx.id,
        doc: doc.clone(),
        changes: vec![WireChange {
            bytes: bytes.clone(),
            sig: *sig,
        }],
    });
    let mut r = fuzz_harness::replicator_prefix(k);
    r.handle(
        T0,
        Input::Gossip {
            from: 3,
            id: MsgId(vec![]),
            bytes: msg,
        },
    );
    assert!(r.drain().any(|o| matches!(
        o,
        Output::Verdict {
            verdict: Verdict::Accept,
            ..
        }
    )));
    assert_eq!(
        r.community(&fx.id).unwrap().total_changes(),
        fx.changes.len()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Mutated change messages of every ledger action (the cargo-fuzz seeds) never panic the
    /// action decoder, and whatever decodes re-encodes to itself.
    #[test]
    fn mutated_ledger_action_messages_never_panic(
        seed in 0usize..5,
        edits in proptest::collection::vec(edit(), 0..6),
    ) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/action_decode");
        let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        let mut bytes = std::fs::read(&files[seed % files.len()]).unwrap();
        let untouched = edits.is_empty();
        mutate(&mut bytes, &edits);
        let r = fuzz_harness::action_decode(&bytes);
        if untouched {
            prop_assert!(r.is_ok(), "a seed must decode: {:?}", r);
        }
    }
}
