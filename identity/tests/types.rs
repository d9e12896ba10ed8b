//! Small behaviours of the public types that the other test files do not pin: timestamps,
//! capabilities, invitations, endorsement supersession, and what `Debug` shows.

mod common;

use common::*;
use qun_identity::endorsement::Inserted;
use qun_identity::{
    Capabilities, Endorsement, EndorsementBook, Invitation, Limits, Scope, Signed, Timestamp,
    Topic, Weight, canonical,
};

#[test]
fn timestamps() {
    assert_eq!(Timestamp::MAX.plus_millis(1), Timestamp::MAX);
    assert_eq!(Timestamp::ZERO.plus_millis(5).as_millis(), 5);
    assert_eq!(Timestamp::from_millis(7).to_string(), "7ms");
    assert_eq!(format!("{:?}", Timestamp(7)), "Timestamp(7)");
    assert!(Timestamp(1) < Timestamp(2));
    // On the wire a timestamp is a plain varint.
    assert_eq!(canonical::encode(&Timestamp(300)), vec![0xac, 0x02]);
    assert!(Timestamp::now() > Timestamp::from_millis(1_600_000_000_000));
}

#[test]
fn capabilities() {
    let ce = Capabilities::CONTENT | Capabilities::ENDORSE;
    assert!(ce.contains(Capabilities::CONTENT));
    assert!(ce.contains(Capabilities::NONE));
    assert!(!ce.contains(Capabilities::GOVERN));
    assert!(Capabilities::ALL.contains(ce | Capabilities::GOVERN));
    assert_eq!(ce.bits(), 0b011);
    assert_eq!(ce.to_string(), "content+endorse");
    assert_eq!(Capabilities::NONE.to_string(), "none");
    assert_eq!(Capabilities::ALL.to_string(), "content+endorse+govern");
    assert_eq!(format!("{ce:?}"), "Capabilities(content+endorse)");
    assert_eq!(Capabilities::default(), Capabilities::NONE);
}

#[test]
fn invitations() {
    let named = invitation();
    assert!(named.admits(&member(3)));
    assert!(!named.admits(&member(4)));
    let (bearer, secret) =
        Invitation::bearer(community(), member(1), NOW, None).expect("random nonce");
    let (other, _) = Invitation::bearer(community(), member(1), NOW, None).expect("random nonce");
    assert!(bearer.admits(&member(4)) && bearer.admits(&member(5)));
    assert_ne!(bearer.nonce, other.nonce);
    // A bearer invitation is used with a proof of possession bound to the joiner: the proof
    // for one member does not work for another, nor on another invitation, nor without one.
    let proof = bearer.prove(&secret, &member(4));
    assert!(bearer.check_use(&member(4), Some(&proof)).is_ok());
    assert!(bearer.check_use(&member(5), Some(&proof)).is_err());
    assert!(other.check_use(&member(4), Some(&proof)).is_err());
    assert!(bearer.check_use(&member(4), None).is_err());
    // A named invitation needs no proof, and admits nobody else whatever they present.
    assert!(named.check_use(&member(3), None).is_ok());
    assert!(named.check_use(&member(4), Some(&proof)).is_err());
    // Both halves or neither: a bearer invitation without a key does not sign.
    let mut keyless = bearer.clone();
    keyless.key = None;
    assert!(Signed::sign(&key(1), keyless).is_err());
    // A used invitation stands as a full, community-scoped `invite` endorsement that the
    // inviter can sign.
    let edge = named.as_edge(member(3));
    assert_eq!(
        (
            edge.from,
            edge.to,
            edge.topic.as_str(),
            edge.scope,
            edge.weight
        ),
        (
            member(1),
            member(3),
            Topic::INVITE,
            Scope::Community(community()),
            Weight::FULL
        )
    );
    let signed = Signed::sign(&key(1), edge).expect("a valid endorsement");
    assert!(Signed::<Endorsement>::from_bytes(&signed.to_bytes(), &Limits::default(), NOW).is_ok());
    // Nobody invites themselves.
    let mut selfish = invitation();
    selfish.invitee = Some(selfish.inviter);
    assert!(Signed::sign(&key(1), selfish).is_err());
}

#[test]
fn endorsement_book_supersession() {
    let at = |t: u64, w: i16, note: &str| {
        let mut e = endorsement();
        e.created = Timestamp(t);
        e.expires = None;
        e.weight = Weight::from_millis(w).expect("in range");
        e.note = note.into();
        Signed::sign(&key(1), e).expect("valid")
    };
    let mut book = EndorsementBook::new();
    assert!(book.is_empty());
    assert_eq!(book.insert(at(10, 500, "")), Inserted::New);
    assert_eq!(book.insert(at(10, 500, "")), Inserted::Stale);
    assert_eq!(book.insert(at(5, 900, "")), Inserted::Stale);
    assert_eq!(book.insert(at(20, 800, "")), Inserted::Superseded);
    assert_eq!(book.len(), 1);
    assert_eq!(
        book.latest().next().map(|e| e.value().weight.millis()),
        Some(800)
    );
    // Same millisecond: the greater content id wins, whichever arrives first.
    let (a, b) = (at(30, 100, "a"), at(30, 200, "b"));
    let winner = if a.id() > b.id() { &a } else { &b };
    assert!(winner.supersedes(if winner == &a { &b } else { &a }));
    for order in [[&a, &b], [&b, &a]] {
        let mut book = EndorsementBook::new();
        for e in order {
            book.insert(e.clone());
        }
        assert_eq!(book.latest().next(), Some(winner));
    }
    // Weight 0 revokes: the slot stays, nothing is active.
    let revoke = at(40, 0, "");
    assert!(revoke.value().is_revocation());
    assert_eq!(book.insert(revoke), Inserted::Superseded);
    assert_eq!(book.len(), 1);
    assert_eq!(book.active(NOW).count(), 0);
    // Another topic is another slot; a different slot never supersedes.
    let mut general = endorsement();
    general.topic = Topic::general();
    general.expires = None;
    let general = Signed::sign(&key(1), general).expect("valid");
    assert!(!general.supersedes(&at(0, 1, "")));
    assert_eq!(book.insert(general), Inserted::New);
    assert_eq!(book.active(NOW).count(), 1);
}

#[test]
fn debug_output_is_short_and_shows_no_payload() {
    let s = Signed::sign(&key(1), endorsement()).expect("valid");
    let env = format!("{:?}", s.envelope());
    assert!(
        env.contains("<103b>") && env.contains("qun/endorsement/v1"),
        "{env}"
    );
    assert!(!env.contains("sig"), "{env}");
    let signed = format!("{s:?}");
    assert!(
        signed.contains("Weight(0.750)") && signed.contains("Topic(rust)"),
        "{signed}"
    );
    assert_eq!(
        format!("{:?}", member(1)),
        format!("MemberId({})", member(1).short())
    );
    assert_eq!(member(1).short().len(), 12);
    assert_eq!(
        format!("{:?}", community()),
        format!("ContentId({})", community().short())
    );
    assert!(!format!("{:?}", key(1)).contains("1, 1"));
}
