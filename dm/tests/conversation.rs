//! Random conversations between two members with two devices each: sends and deliveries
//! interleave at random (devices start sessions with each other at the same time, so sessions
//! race), each pair's envelopes arrive in order, some are delivered twice.
//!
//! Every addressed device reads every message exactly once, with one exception that the
//! design accepts (docs/privacy.md, "One-time keys without a server"): a pre-key message whose
//! one-time key another sender's session already used up cannot be read (`UnknownOneTimeKey`),
//! and nor can the later pre-key messages of that session. The test checks that this is the
//! only way a message is lost, and that a duplicate is never read.

mod common;

use common::*;
use proptest::prelude::*;
use qun_dm::{Error, FanOut, Kind};
use std::collections::{BTreeMap, VecDeque};
use vodozemac::olm::PreKeyMessage;

#[derive(Clone, Debug)]
enum Step {
    /// Device `0..4` (Alice's two, then Bob's two) writes to the other member.
    Send(usize),
    /// Deliver the oldest pending envelope of the pair chosen by this index, maybe twice.
    Deliver(prop::sample::Index, bool),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..4usize).prop_map(Step::Send),
        (any::<prop::sample::Index>(), any::<bool>()).prop_map(|(i, d)| Step::Deliver(i, d)),
    ]
}

/// One run's bookkeeping.
struct Run<'a> {
    devs: Vec<&'a mut Dev>,
    ids: Vec<qun_identity::DeviceId>,
    members: [qun_identity::MemberId; 2],
    /// Per recipient: one-time key → the session that used it up.
    used: Vec<BTreeMap<[u8; 32], String>>,
    read: usize,
    lost: usize,
}

impl Run<'_> {
    fn deliver(
        &mut self,
        pair: usize,
        bytes: &[u8],
        body: &[u8],
        twice: bool,
    ) -> Result<(), TestCaseError> {
        let (from, to) = (pair / 4, pair % 4);
        let env = FanOut::decode(bytes).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let key = self.devs[to].dm.identity_key();
        let item = env.item_for(&key).cloned();
        prop_assert!(item.is_some(), "addressed to {}", to);
        let item = item.unwrap_or_else(|| unreachable!());
        let prekey = (item.kind() == Kind::PreKey)
            .then(|| PreKeyMessage::from_bytes(&item.ciphertext).ok())
            .flatten();
        match self.devs[to].dm.decrypt(bytes) {
            Ok(r) => {
                prop_assert_eq!(&r.body, &body.to_vec());
                prop_assert_eq!(r.from_device, self.ids[from]);
                let expect = if from / 2 == to / 2 {
                    self.members[1 - from / 2]
                } else {
                    self.members[from / 2]
                };
                prop_assert_eq!(r.conversation, expect);
                if let Some(m) = prekey {
                    self.used[to]
                        .entry(m.one_time_key().to_bytes())
                        .or_insert_with(|| m.session_id());
                }
                self.read += 1;
            }
            Err(Error::UnknownOneTimeKey) => {
                let m = prekey.ok_or_else(|| TestCaseError::fail("not a pre-key message"))?;
                let by = self.used[to].get(&m.one_time_key().to_bytes());
                prop_assert!(
                    by.is_some_and(|s| *s != m.session_id()),
                    "{} -> {}: a one-time key nobody else used was refused",
                    from,
                    to
                );
                self.lost += 1;
            }
            Err(e) => prop_assert!(false, "{} -> {}: {:?}", from, to, e),
        }
        if twice {
            prop_assert!(
                self.devs[to].dm.decrypt(bytes).is_err(),
                "a duplicate was read"
            );
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn every_device_reads_every_message_once_unless_its_key_was_taken(
        steps in proptest::collection::vec(step(), 1..40),
    ) {
        let mut alice = member(1, 2);
        let mut bob = member(2, 2);
        exchange(&mut [&mut alice, &mut bob], 8);
        let members = [alice.id(), bob.id()];
        let devs: Vec<&mut Dev> = alice.devices.iter_mut().chain(bob.devices.iter_mut()).collect();
        let ids = devs.iter().map(|d| d.id()).collect();
        let mut run = Run { devs, ids, members, used: vec![BTreeMap::new(); 4], read: 0, lost: 0 };
        // Pending envelopes per (sender, recipient) pair, oldest first: (bytes, body).
        let mut queues: Vec<VecDeque<(Vec<u8>, Vec<u8>)>> = vec![VecDeque::new(); 16];
        let mut sent = 0usize;
        for s in &steps {
            match s {
                Step::Send(from) => {
                    let body = format!("message {sent} from {from}").into_bytes();
                    let out = run.devs[*from].dm.encrypt(members[1 - from / 2], &body, NOW);
                    prop_assert!(out.is_ok(), "{:?}", out);
                    let out = out.unwrap_or_else(|_| unreachable!());
                    prop_assert_eq!(out.recipients.len(), 3);
                    let bytes = out.envelope.to_bytes();
                    for r in out.recipients {
                        let to = run.ids.iter().position(|d| *d == r).unwrap_or(usize::MAX);
                        prop_assert!(to < 4);
                        queues[from * 4 + to].push_back((bytes.clone(), body.clone()));
                    }
                    sent += 1;
                }
                Step::Deliver(ix, twice) => {
                    let pending: Vec<usize> = (0..16).filter(|p| !queues[*p].is_empty()).collect();
                    if pending.is_empty() {
                        continue;
                    }
                    let pair = pending[ix.index(pending.len())];
                    if let Some((bytes, body)) = queues[pair].pop_front() {
                        run.deliver(pair, &bytes, &body, *twice)?;
                    }
                }
            }
        }
        for (pair, queue) in queues.iter_mut().enumerate() {
            while let Some((bytes, body)) = queue.pop_front() {
                run.deliver(pair, &bytes, &body, false)?;
            }
        }
        prop_assert_eq!(run.read + run.lost, sent * 3);
        if std::env::var_os("DM_STATS").is_some() {
            eprintln!("sent {sent} read {} lost {}", run.read, run.lost);
        }
    }
}
