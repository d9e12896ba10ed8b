//! Direct messages between certified devices: who reads what, forward secrecy and recovery as
//! the ratchet gives them, revocation, one-time keys, re-wrapping, persistence.

mod common;

use common::*;
use qun_dm::{DmDevice, Error, FanOut, Kind, PickleKey, verify_bundle};
use qun_identity::{DeviceCert, SecretIdentity, Signed};
use std::collections::BTreeSet;

fn no_revocations() -> BTreeSet<qun_identity::DeviceId> {
    BTreeSet::new()
}

#[test]
fn two_members_with_two_devices_each_all_read_it() {
    let mut alice = member(1, 2);
    let mut bob = member(2, 2);
    let mut carol = member(3, 1);
    exchange(&mut [&mut alice, &mut bob, &mut carol], 10);

    let text = b"the bike is still for sale";
    let sent = alice.devices[0].dm.encrypt(bob.id(), text, NOW).unwrap();
    // Bob's two devices and Alice's other device; never Carol, never the sender itself.
    let mut expect = vec![
        alice.devices[1].id(),
        bob.devices[0].id(),
        bob.devices[1].id(),
    ];
    expect.sort();
    let mut got = sent.recipients.clone();
    got.sort();
    assert_eq!(got, expect);
    assert!(sent.unreachable.is_empty());
    let bytes = sent.envelope.to_bytes();
    // Whoever stores or relays it sees no plaintext.
    assert!(!bytes.windows(text.len()).any(|w| w == text));
    assert!(sent.envelope.items.iter().all(|i| i.kind() == Kind::PreKey));

    for b in &mut bob.devices {
        let r = b.dm.decrypt(&bytes).unwrap();
        assert_eq!(r.body, text);
        assert_eq!(r.from_member, alice.id());
        assert_eq!(r.from_device, alice.devices[0].id());
        assert_eq!(r.conversation, alice.id());
        assert_eq!(r.id, sent.id);
        assert_eq!(r.sent_at, NOW);
    }
    // Alice's other device files it under the conversation with Bob.
    let r = alice.devices[1].dm.decrypt(&bytes).unwrap();
    assert_eq!((r.body.as_slice(), r.conversation), (&text[..], bob.id()));
    assert_eq!(r.id, sent.id);
    assert_eq!(alice.devices[0].dm.decrypt(&bytes), Err(Error::NotForUs));
    assert_eq!(carol.devices[0].dm.decrypt(&bytes), Err(Error::NotForUs));

    // Bob answers from his second device: all four devices read the answer too.
    let reply = bob.devices[1]
        .dm
        .encrypt(alice.id(), b"I'll take it", NOW)
        .unwrap();
    let bytes = reply.envelope.to_bytes();
    let bob_id = bob.id();
    for d in alice.devices.iter_mut().chain(&mut bob.devices[..1]) {
        let r = d.dm.decrypt(&bytes).unwrap();
        assert_eq!(r.body, b"I'll take it");
        assert_eq!(r.from_member, bob_id);
    }
    assert_eq!(
        alice.devices[0].dm.decrypt(&bytes).map(|r| r.conversation),
        Err(Error::Replayed { index: 0 }),
        "read once"
    );
    assert_eq!(
        bob.devices[0].dm.decrypt(&bytes).unwrap_err(),
        Error::Replayed { index: 0 }
    );
    // The session Bob's device answered on is established: Alice's next message to it is a
    // normal message, the others still pre-key messages until their devices answer.
    let next = alice.devices[0]
        .dm
        .encrypt(bob.id(), b"great", NOW)
        .unwrap();
    let b1_key = bob.devices[1].dm.identity_key();
    assert_eq!(
        next.envelope.item_for(&b1_key).unwrap().kind(),
        Kind::Normal
    );
    assert_eq!(next.id.seq, sent.id.seq + 1);
    let bytes = next.envelope.to_bytes();
    for d in alice.devices[1..].iter_mut().chain(&mut bob.devices) {
        assert_eq!(d.dm.decrypt(&bytes).unwrap().body, b"great");
    }
}

#[test]
fn an_offline_recipient_reads_stored_messages_in_any_order() {
    let mut alice = member(1, 1);
    let mut bob = member(2, 1);
    exchange(&mut [&mut alice, &mut bob], 5);
    let a = &mut alice.devices[0].dm;
    let stored: Vec<Vec<u8>> = (0..4)
        .map(|i| {
            a.encrypt(bob.id(), format!("m{i}").as_bytes(), NOW)
                .unwrap()
        })
        .map(|s| s.envelope.to_bytes())
        .collect();
    let b = &mut bob.devices[0].dm;
    for i in [2, 0, 3, 1] {
        assert_eq!(
            b.decrypt(&stored[i]).unwrap().body,
            format!("m{i}").as_bytes()
        );
    }
}

/// Forward secrecy: a message key is deleted once used, so a device (or its saved state)
/// compromised after reading a message cannot read it again.
#[test]
fn a_used_message_key_is_gone() {
    let mut alice = member(1, 1);
    let mut bob = member(2, 1);
    exchange(&mut [&mut alice, &mut bob], 5);
    let key = PickleKey::from_bytes([7; 32]);
    let m1 = alice.devices[0]
        .dm
        .encrypt(bob.id(), b"one", NOW)
        .unwrap()
        .envelope
        .to_bytes();
    let m2 = alice.devices[0]
        .dm
        .encrypt(bob.id(), b"one", NOW)
        .unwrap()
        .envelope
        .to_bytes();
    // The same text twice: each message has its own key.
    assert_ne!(m1, m2);
    let b = &mut bob.devices[0].dm;
    assert_eq!(b.decrypt(&m1).unwrap().body, b"one");
    assert_eq!(b.decrypt(&m1), Err(Error::Replayed { index: 0 }));
    // An attacker who takes the state from the disk now gets no key for m1 either.
    let mut stolen = DmDevice::from_pickle(&b.pickle(&key), &key).unwrap();
    assert_eq!(stolen.decrypt(&m1), Err(Error::Replayed { index: 0 }));
    // What was not read yet is still readable by the stolen state: forward secrecy covers
    // the past, not messages still in flight.
    assert_eq!(stolen.decrypt(&m2).unwrap().body, b"one");
}

/// Post-compromise recovery: a copy of a device's state taken earlier stops working once the
/// two devices have made a round trip (fresh Diffie-Hellman ratchet keys).
#[test]
fn a_stale_copy_of_a_device_is_locked_out_after_a_round_trip() {
    let mut alice = member(1, 1);
    let mut bob = member(2, 1);
    exchange(&mut [&mut alice, &mut bob], 5);
    let key = PickleKey::from_bytes([9; 32]);
    let m1 = alice.devices[0].dm.encrypt(bob.id(), b"m1", NOW).unwrap();
    bob.devices[0].dm.decrypt(&m1.envelope.to_bytes()).unwrap();
    // The attacker copies Bob's device state here.
    let mut copy = DmDevice::from_pickle(&bob.devices[0].dm.pickle(&key), &key).unwrap();

    let m2 = alice.devices[0]
        .dm
        .encrypt(bob.id(), b"m2", NOW)
        .unwrap()
        .envelope
        .to_bytes();
    assert_eq!(
        copy.decrypt(&m2).unwrap().body,
        b"m2",
        "same chain: the copy still reads"
    );
    assert_eq!(bob.devices[0].dm.decrypt(&m2).unwrap().body, b"m2");

    // Bob answers (a new ratchet key only the real device holds), Alice reads it.
    let r = bob.devices[0]
        .dm
        .encrypt(alice.id(), b"r", NOW)
        .unwrap()
        .envelope
        .to_bytes();
    alice.devices[0].dm.decrypt(&r).unwrap();
    let m3 = alice.devices[0]
        .dm
        .encrypt(bob.id(), b"m3", NOW)
        .unwrap()
        .envelope
        .to_bytes();
    assert_eq!(bob.devices[0].dm.decrypt(&m3).unwrap().body, b"m3");
    assert!(
        matches!(copy.decrypt(&m3), Err(Error::Decrypt { .. })),
        "the stale copy cannot follow the new ratchet"
    );
}

#[test]
fn a_bundle_from_a_device_the_member_did_not_certify_is_refused() {
    let mut alice = member(1, 2);
    let mut bob = member(2, 1);
    let none = no_revocations();
    let a0 = alice.devices[0].bundle(5);
    let a1_cert = alice.devices[1].cert.clone();
    let a0_cert = alice.devices[0].cert.clone();
    assert!(verify_bundle(&a0, &a0_cert, &none, NOW).is_ok());
    // The certificate of another of Alice's devices does not vouch for this one.
    assert_eq!(
        verify_bundle(&a0, &a1_cert, &none, NOW),
        Err(Error::NotCertified {
            reason: "the certificate is for another device"
        })
    );
    // A device key nobody certified, claiming to act for Alice.
    let mallory = SecretIdentity::from_seed(&[0xee; 32]);
    let mut m = DmDevice::new(alice.id(), mallory.device_id());
    let forged = m.publish_bundle(&mallory, 5, NOW).unwrap().to_bytes();
    assert!(matches!(
        verify_bundle(&forged, &a0_cert, &none, NOW),
        Err(Error::NotCertified { .. })
    ));
    // Mallory's own root certifying Mallory's key for... Mallory: not a certificate of Alice.
    let mroot = SecretIdentity::from_seed(&[0xef; 32]);
    let mcert = cert(&mroot, &mallory);
    assert_eq!(
        verify_bundle(&forged, &mcert, &none, NOW),
        Err(Error::NotCertified {
            reason: "the certificate is from another member"
        })
    );
    // Bob's root certifying Alice's device does not make it Bob's, or Alice's.
    let stray = cert(&bob.root, &alice.devices[0].key);
    assert!(matches!(
        verify_bundle(&a0, &stray, &none, NOW),
        Err(Error::NotCertified { .. })
    ));
    // A bundle naming Alice's device but signed by Mallory's key: wrong signer.
    let body = alice.devices[0].publish(5, NOW).value().clone();
    let b = Signed::sign(&alice.devices[0].key, body.clone()).unwrap();
    assert!(verify_bundle(&b.to_bytes(), &a0_cert, &none, NOW).is_ok());
    assert!(matches!(
        Signed::sign(&mallory, body),
        Err(qun_identity::Error::WrongSigner { .. })
    ));
    // One flipped bit of the signed body: bad signature.
    let mut tampered = a0.clone();
    let at = tampered.len() - 70;
    tampered[at] ^= 1;
    assert!(matches!(
        verify_bundle(&tampered, &a0_cert, &none, NOW),
        Err(Error::Identity(_) | Error::NotCertified { .. })
    ));
    // A certificate outside its validity window.
    let expired: Signed<DeviceCert> = Signed::sign(
        &alice.root,
        DeviceCert {
            expires: Some(NOW.plus_millis(1)),
            ..a0_cert.value().clone()
        },
    )
    .unwrap();
    assert_eq!(
        verify_bundle(&a0, &expired, &none, NOW.plus_millis(1)),
        Err(Error::NotCertified {
            reason: "the certificate is not valid at this time"
        })
    );
    let _ = &mut bob;
}

#[test]
fn a_revoked_device_gets_nothing_encrypted_to_it_once_the_revocation_is_known() {
    let mut alice = member(1, 2);
    let mut bob = member(2, 2);
    exchange(&mut [&mut alice, &mut bob], 10);
    let lost = bob.devices[1].id();
    let lost_key = bob.devices[1].dm.identity_key();
    let m1 = alice.devices[0]
        .dm
        .encrypt(bob.id(), b"before", NOW)
        .unwrap();
    assert!(m1.recipients.contains(&lost));
    assert_eq!(
        bob.devices[1]
            .dm
            .decrypt(&m1.envelope.to_bytes())
            .unwrap()
            .body,
        b"before"
    );

    // Bob revokes his lost phone; Alice's first device and Bob's other device learn of it.
    alice.devices[0].dm.revoke(lost);
    bob.devices[0].dm.revoke(lost);
    let m2 = alice.devices[0]
        .dm
        .encrypt(bob.id(), b"after", NOW)
        .unwrap();
    assert!(!m2.recipients.contains(&lost));
    assert!(m2.envelope.item_for(&lost_key).is_none());
    let bytes = m2.envelope.to_bytes();
    assert_eq!(bob.devices[1].dm.decrypt(&bytes), Err(Error::NotForUs));
    assert_eq!(bob.devices[0].dm.decrypt(&bytes).unwrap().body, b"after");
    let m3 = bob.devices[0].dm.encrypt(alice.id(), b"mine", NOW).unwrap();
    assert!(
        !m3.recipients.contains(&lost),
        "Bob's own devices drop it too"
    );
    // A device that has not heard of the revocation yet still encrypts to it: the window is
    // the time the revocation takes to arrive.
    let m4 = alice.devices[1].dm.encrypt(bob.id(), b"late", NOW).unwrap();
    assert!(m4.recipients.contains(&lost));

    // What the revoked device sends is refused, and so is any bundle of it.
    let from_lost = bob.devices[1].dm.encrypt(alice.id(), b"hi", NOW).unwrap();
    assert_eq!(
        alice.devices[0].dm.decrypt(&from_lost.envelope.to_bytes()),
        Err(Error::Revoked { device: lost })
    );
    let fresh = bob.devices[1].bundle(5);
    let cert = bob.devices[1].cert.clone();
    let revoked: BTreeSet<_> = [lost].into();
    assert_eq!(
        verify_bundle(&fresh, &cert, &revoked, NOW),
        Err(Error::Revoked { device: lost })
    );
    let v = verify_bundle(&fresh, &cert, &no_revocations(), NOW).unwrap();
    assert_eq!(
        alice.devices[0].dm.add_peer(&v),
        Err(Error::Revoked { device: lost })
    );
    assert!(alice.devices[0].dm.devices_of(&bob.id()) == vec![bob.devices[0].id()]);
}

#[test]
fn a_one_time_key_works_once() {
    let mut alice = member(1, 1);
    let mut bob = member(2, 1);
    exchange(&mut [&mut alice, &mut bob], 5);
    let unused = bob.devices[0].dm.unused_one_time_keys();
    assert_eq!(unused, 5);
    let m1 = alice.devices[0]
        .dm
        .encrypt(bob.id(), b"hi", NOW)
        .unwrap()
        .envelope
        .to_bytes();
    let b = &mut bob.devices[0].dm;
    b.decrypt(&m1).unwrap();
    assert_eq!(b.unused_one_time_keys(), unused - 1);
    // Replayed into the session it started: its message key is gone.
    assert_eq!(b.decrypt(&m1), Err(Error::Replayed { index: 0 }));
    // Even with that session dropped, the pre-key message cannot start another: its one-time
    // key was used up.
    b.forget_sessions(&alice.devices[0].id());
    assert_eq!(b.decrypt(&m1), Err(Error::UnknownOneTimeKey));
}

#[test]
fn two_senders_on_one_key_and_the_fallback_key() {
    let mut alice = member(1, 1);
    let mut bob = member(2, 1);
    let mut carol = member(3, 1);
    // Bob publishes a single one-time key; Alice and Carol both read that bundle.
    exchange(&mut [&mut alice, &mut bob, &mut carol], 1);
    let a = alice.devices[0]
        .dm
        .encrypt(bob.id(), b"a", NOW)
        .unwrap()
        .envelope
        .to_bytes();
    let c = carol.devices[0]
        .dm
        .encrypt(bob.id(), b"c", NOW)
        .unwrap()
        .envelope
        .to_bytes();
    let b = &mut bob.devices[0].dm;
    assert_eq!(b.decrypt(&a).unwrap().body, b"a");
    // Without a server handing out keys, the second sender on the same key fails and must
    // start again from a newer bundle.
    assert_eq!(b.decrypt(&c), Err(Error::UnknownOneTimeKey));

    // A bundle with no one-time key left: senders use the fallback key.
    let mut dave = member(4, 1);
    let mut erin = member(5, 1);
    exchange(&mut [&mut dave, &mut erin], 0);
    let d = dave.devices[0]
        .dm
        .encrypt(erin.id(), b"d", NOW)
        .unwrap()
        .envelope
        .to_bytes();
    assert_eq!(erin.devices[0].dm.decrypt(&d).unwrap().body, b"d");
}

#[test]
fn a_message_rewrapped_under_another_device_is_refused() {
    let mut alice = member(1, 1);
    let mut bob = member(2, 1);
    let mut mallory = member(6, 1);
    exchange(&mut [&mut alice, &mut bob, &mut mallory], 5);
    let sent = alice.devices[0]
        .dm
        .encrypt(bob.id(), b"for Bob", NOW)
        .unwrap();

    // Mallory claims Alice's message came from her device: the sender key is not hers.
    let mut forged = sent.envelope.clone();
    forged.sender_device = mallory.devices[0].id();
    assert_eq!(
        bob.devices[0].dm.decrypt(&forged.to_bytes()),
        Err(Error::SenderKeyMismatch {
            device: mallory.devices[0].id()
        })
    );

    // Mallory's certified device publishes a bundle claiming Alice's Olm identity key, and
    // Bob (who has not seen Alice's device yet) believes it. The message decrypts, but the
    // payload names Alice's device: refused.
    let mut decoy = mallory.devices[0].publish(0, NOW).value().clone();
    decoy.identity_key = sent.envelope.sender_key;
    decoy.fallback_key = None;
    decoy.created = NOW.plus_millis(1);
    let decoy = Signed::sign(&mallory.devices[0].key, decoy)
        .unwrap()
        .to_bytes();
    let v = verify_bundle(&decoy, &mallory.devices[0].cert, &no_revocations(), NOW).unwrap();
    // Only Bob's real device state holds the one-time key; use it.
    let b = &mut bob.devices[0].dm;
    b.forget_sessions(&alice.devices[0].id());
    let key = PickleKey::from_bytes([1; 32]);
    let mut bob_as_naive = DmDevice::from_pickle(&b.pickle(&key), &key).unwrap();
    assert_eq!(bob_as_naive.add_peer(&v), Ok(true));
    assert_eq!(
        bob_as_naive.decrypt(&forged.to_bytes()),
        Err(Error::Misbound {
            reason: "sender device"
        })
    );
}

#[test]
fn sending_errors_change_nothing() {
    let mut alice = member(1, 2);
    let mut bob = member(2, 1);
    exchange(&mut [&mut alice, &mut bob], 5);
    let stranger = member(9, 1);
    let (alice_id, alice_other) = (alice.id(), alice.devices[1].id());
    let a = &mut alice.devices[0].dm;
    assert_eq!(
        a.encrypt(stranger.id(), b"x", NOW).unwrap_err(),
        Error::NoDevices {
            member: stranger.id()
        }
    );
    assert!(matches!(
        a.encrypt(bob.id(), &vec![0; 64 * 1024 + 1], NOW),
        Err(Error::TooLarge { .. })
    ));
    // A note to self reaches the member's other devices.
    let note = a.encrypt(alice_id, b"note", NOW).unwrap();
    assert_eq!(note.id.seq, 0, "failed sends used no sequence number");
    assert_eq!(note.recipients, vec![alice_other]);
    assert_eq!(
        alice.devices[1]
            .dm
            .decrypt(&note.envelope.to_bytes())
            .unwrap()
            .conversation,
        alice.id()
    );
    // Bundles are signed by the account's own device key only, and are not peers of it.
    let other = SecretIdentity::from_seed(&[0x55; 32]);
    assert!(matches!(
        alice.devices[0].dm.publish_bundle(&other, 5, NOW),
        Err(Error::WrongKey { .. })
    ));
    let own = alice.devices[0].bundle(5);
    let cert = alice.devices[0].cert.clone();
    let v = verify_bundle(&own, &cert, &no_revocations(), NOW).unwrap();
    assert_eq!(alice.devices[0].dm.add_peer(&v), Err(Error::OwnDevice));
    // A newer bundle replaces an older one; an older one changes nothing.
    let older = v;
    let newer_bytes = alice.devices[0].publish(5, NOW.plus_millis(5)).to_bytes();
    let newer = verify_bundle(&newer_bytes, &cert, &no_revocations(), NOW).unwrap();
    assert_eq!(bob.devices[0].dm.add_peer(&newer), Ok(true));
    assert_eq!(bob.devices[0].dm.add_peer(&older), Ok(false));
}

#[test]
fn pickles_restore_accounts_and_sessions() {
    let mut alice = member(1, 1);
    let mut bob = member(2, 1);
    exchange(&mut [&mut alice, &mut bob], 5);
    let key = PickleKey::from_bytes([3; 32]);
    let m1 = alice.devices[0]
        .dm
        .encrypt(bob.id(), b"1", NOW)
        .unwrap()
        .envelope
        .to_bytes();
    bob.devices[0].dm.decrypt(&m1).unwrap();

    let mut a = DmDevice::from_pickle(&alice.devices[0].dm.pickle(&key), &key).unwrap();
    let mut b = DmDevice::from_pickle(&bob.devices[0].dm.pickle(&key), &key).unwrap();
    assert_eq!(a.identity_key(), alice.devices[0].dm.identity_key());
    assert_eq!(b.unused_one_time_keys(), 4);
    let r = b.encrypt(alice.id(), b"2", NOW).unwrap();
    assert_eq!(
        r.envelope.items[0].kind(),
        Kind::Normal,
        "the session survived"
    );
    assert_eq!(a.decrypt(&r.envelope.to_bytes()).unwrap().body, b"2");
    let m3 = a.encrypt(bob.id(), b"3", NOW).unwrap();
    assert_eq!(m3.id.seq, 1, "the counter survived");
    assert_eq!(b.decrypt(&m3.envelope.to_bytes()).unwrap().body, b"3");

    // A wrong key or damaged bytes are errors.
    let bytes = a.pickle(&key);
    let wrong = PickleKey::from_bytes([4; 32]);
    assert!(matches!(
        DmDevice::from_pickle(&bytes, &wrong),
        Err(Error::Pickle {
            what: "account",
            ..
        })
    ));
    for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            DmDevice::from_pickle(&bytes[..cut], &key).is_err(),
            "cut at {cut}"
        );
    }
    let _ = FanOut::decode(&[]).unwrap_err();
}

#[test]
fn a_bundle_with_degenerate_keys_reaches_nobody() {
    let mut alice = member(1, 1);
    let mut mallory = member(6, 1);
    exchange(&mut [&mut alice, &mut mallory], 2);
    // A certified device publishes a low-order identity key: no shared secret can come of it.
    let mut bad = mallory.devices[0].publish(0, NOW).value().clone();
    bad.identity_key = [0; 32];
    bad.one_time_keys = vec![[1; 32]];
    bad.fallback_key = None;
    bad.created = NOW.plus_millis(1);
    let bytes = Signed::sign(&mallory.devices[0].key, bad)
        .unwrap()
        .to_bytes();
    let v = verify_bundle(&bytes, &mallory.devices[0].cert, &no_revocations(), NOW).unwrap();
    let a = &mut alice.devices[0].dm;
    assert_eq!(a.add_peer(&v), Ok(true));
    assert_eq!(
        a.encrypt(mallory.id(), b"x", NOW).unwrap_err(),
        Error::NoDevices {
            member: mallory.id()
        }
    );
}

#[test]
fn a_session_broken_by_a_taken_one_time_key_is_repaired() {
    let mut alice = member(1, 1);
    let mut bob = member(2, 1);
    let mut carol = member(3, 1);
    exchange(&mut [&mut alice, &mut bob, &mut carol], 1);
    let carol_dev = carol.devices[0].id();
    let a = alice.devices[0].dm.encrypt(bob.id(), b"a", NOW).unwrap();
    let c1 = carol.devices[0].dm.encrypt(bob.id(), b"c1", NOW).unwrap();
    let c2 = carol.devices[0].dm.encrypt(bob.id(), b"c2", NOW).unwrap();
    let b = &mut bob.devices[0].dm;
    b.decrypt(&a.envelope.to_bytes()).unwrap();
    // Alice took Bob's only one-time key first: Carol's session cannot be read, nor anything
    // else she sends on it.
    assert_eq!(
        b.decrypt(&c1.envelope.to_bytes()),
        Err(Error::UnknownOneTimeKey)
    );
    assert_eq!(
        b.decrypt(&c2.envelope.to_bytes()),
        Err(Error::UnknownOneTimeKey)
    );
    // Bob repairs: an empty message on a fresh session of his own.
    let fix = b.unwedge(carol_dev, NOW).unwrap();
    assert_eq!(fix.recipients, vec![carol_dev]);
    let r = carol.devices[0]
        .dm
        .decrypt(&fix.envelope.to_bytes())
        .unwrap();
    assert!(r.is_repair());
    assert_eq!(r.conversation, bob.id());
    // Carol's next message goes on Bob's session, and Bob reads it.
    let c3 = carol.devices[0].dm.encrypt(bob.id(), b"c3", NOW).unwrap();
    assert_eq!(c3.envelope.items[0].kind(), Kind::Normal);
    let got = bob.devices[0].dm.decrypt(&c3.envelope.to_bytes()).unwrap();
    assert_eq!(got.body, b"c3");
    assert!(!got.is_repair());
    // Empty messages are repairs only.
    assert_eq!(
        alice.devices[0].dm.encrypt(bob.id(), b"", NOW).unwrap_err(),
        Error::EmptyBody
    );
}
