//! Tampering with delegation: a device acts for its member only with a certificate from that
//! member, inside the certificate's window, with the needed capability, and not after the
//! member revoked it; none of these answers depends on the order certificates and revocations
//! arrived in.

mod common;

use common::*;
use qun_identity::{
    ActsFor, Capabilities, Delegations, DeviceCert, Endorsement, Error, SecretIdentity, Signed,
    SignedBody, Timestamp, canonical,
};

fn signed<T: SignedBody>(k: &SecretIdentity, v: T) -> Signed<T> {
    Signed::sign(k, v).expect("sample bodies are valid")
}

fn text(k: &SecretIdentity) -> String {
    k.public().to_string()
}

// ---------------------------------------------------------------------------------------------
// Attribution and certificate windows

#[test]
fn endorsement_by_an_uncertified_key_does_not_act_for_the_member() {
    // An endorsement body names its member but not its signer: Mallory can sign one claiming
    // to be from Alice; it verifies as a signature, and attribution refuses it.
    let mallory = key(4);
    let forged = signed(&mallory, endorsement());
    let d = Delegations::new();
    assert_eq!(
        forged.acting_member(&d),
        Err(Error::NoDeviceCert {
            member: member(1).to_string(),
            device: text(&mallory),
        })
    );
    assert_eq!(
        signed(&key(1), endorsement()).acting_member(&d),
        Ok(member(1))
    );
}
/// An endorsement signed by Alice's laptop (11), created at `at`.
fn laptop_endorsement(at: Timestamp) -> Signed<Endorsement> {
    let mut e = endorsement();
    e.created = at;
    e.expires = None;
    signed(&key(11), e)
}

#[test]
fn device_acts_for_its_member_only_inside_the_cert_window() {
    let cert = signed(&key(1), device_cert());
    let (nb, exp) = (cert.value().not_before, cert.value().expires.expect("exp"));
    let mut d = Delegations::new();
    d.add_cert(cert.clone());
    assert_eq!(d.member_of(&key(11).device_id()), Some(member(1)));
    let laptop = key(11).public();
    assert_eq!(
        d.acts_for(&member(1), &laptop, NOW, Capabilities::ENDORSE),
        Ok(ActsFor::Device { cert: cert.id() })
    );
    assert_eq!(
        d.acts_for(&member(1), &key(1).public(), NOW, Capabilities::ALL),
        Ok(ActsFor::Root)
    );
    let before = Timestamp::from_millis(nb.as_millis() - 1);
    assert_eq!(
        laptop_endorsement(before).acting_member(&d),
        Err(Error::NotYetValid {
            at: nb,
            now: before
        })
    );
    assert_eq!(laptop_endorsement(nb).acting_member(&d), Ok(member(1)));
    assert_eq!(
        laptop_endorsement(exp).acting_member(&d),
        Err(Error::Expired { at: exp, now: exp })
    );
    // The laptop acts for Alice, not for anyone else.
    let mut e = endorsement();
    e.from = member(5);
    e.expires = None;
    assert_eq!(
        signed(&key(11), e).acting_member(&d),
        Err(Error::NoDeviceCert {
            member: member(5).to_string(),
            device: laptop.to_string(),
        })
    );
}

#[test]
fn device_without_the_capability_is_refused() {
    let mut cert = device_cert();
    cert.capabilities = Capabilities::CONTENT;
    let mut d = Delegations::new();
    d.add_cert(signed(&key(1), cert));
    assert_eq!(
        laptop_endorsement(NOW).acting_member(&d),
        Err(Error::MissingCapability {
            device: key(11).public().to_string(),
            needed: Capabilities::ENDORSE,
            has: Capabilities::CONTENT,
        })
    );
}

// ---------------------------------------------------------------------------------------------
// Revoked devices

#[test]
fn revoked_device_is_refused_from_the_revocation_time_on() {
    let rev = revocation();
    let from = rev.from;
    let mut d = Delegations::new();
    d.add_cert(signed(&key(1), device_cert()));
    d.add_revocation(&signed(&key(1), rev));
    let just_before = Timestamp::from_millis(from.as_millis() - 1);
    assert_eq!(
        laptop_endorsement(just_before).acting_member(&d),
        Ok(member(1))
    );
    let revoked = Err(Error::Revoked {
        member: member(1).to_string(),
        device: key(11).public().to_string(),
        from,
    });
    assert_eq!(laptop_endorsement(from).acting_member(&d), revoked);
    assert_eq!(
        laptop_endorsement(from.plus_millis(DAY)).acting_member(&d),
        revoked
    );
    // The root itself is never revoked by a device revocation.
    let mut e = endorsement();
    e.created = from.plus_millis(DAY);
    e.expires = None;
    assert_eq!(signed(&key(1), e).acting_member(&d), Ok(member(1)));
}

#[test]
fn earliest_revocation_wins_whatever_the_order() {
    let early = revocation();
    let mut late = revocation();
    late.from = early.from.plus_millis(DAY);
    for order in [[&early, &late], [&late, &early]] {
        let mut d = Delegations::new();
        d.add_cert(signed(&key(1), device_cert()));
        for r in order {
            d.add_revocation(&signed(&key(1), r.clone()));
        }
        assert!(matches!(
            laptop_endorsement(early.from).acting_member(&d),
            Err(Error::Revoked { from, .. }) if from == early.from
        ));
    }
}

#[test]
fn revocation_by_another_member_does_not_revoke() {
    // Mallory "revokes" Alice's laptop under Mallory's own name: it says nothing about Alice.
    let mut rev = revocation();
    rev.member = member(4);
    let mut d = Delegations::new();
    d.add_cert(signed(&key(1), device_cert()));
    d.add_revocation(&signed(&key(4), rev));
    assert_eq!(
        laptop_endorsement(NOW.plus_millis(DAY)).acting_member(&d),
        Ok(member(1))
    );
}

#[test]
fn delegation_answers_do_not_depend_on_insertion_order() {
    // Alice certifies the laptop twice (content only; then everything, from later), and
    // Mallory certifies Alice's laptop key too: nobody needs the device's consent.
    let first = signed(&key(1), {
        let mut c = device_cert();
        c.capabilities = Capabilities::CONTENT;
        c
    });
    let second = signed(&key(1), {
        let mut c = device_cert();
        c.not_before = NOW.plus_millis(DAY);
        c
    });
    let mallory = signed(&key(4), {
        let mut c = device_cert();
        c.member = member(4);
        c
    });
    let device = key(11).device_id();
    let build = |certs: &[&Signed<DeviceCert>]| {
        let mut d = Delegations::new();
        for c in certs {
            d.add_cert((*c).clone());
        }
        d
    };
    let ab = build(&[&first, &second]);
    let ba = build(&[&second, &first, &second]);
    assert_eq!(ab.certs_of(&device), ba.certs_of(&device));
    assert_eq!(ab.certs_of(&device).len(), 2);
    for at in [NOW, NOW.plus_millis(DAY)] {
        for needed in [Capabilities::CONTENT, Capabilities::ENDORSE] {
            assert_eq!(
                ab.acts_for(&member(1), &device.0, at, needed),
                ba.acts_for(&member(1), &device.0, at, needed),
            );
        }
    }
    assert_eq!(ab.member_of(&device), Some(member(1)));
    // Two members claim the device: ambiguous, in either order.
    assert_eq!(build(&[&first, &mallory]).member_of(&device), None);
    assert_eq!(build(&[&mallory, &first]).member_of(&device), None);
    assert_eq!(Delegations::new().member_of(&device), None);
}

#[test]
fn malformed_device_certs_are_refused() {
    let alice = key(1);
    let good = signed(&alice, device_cert());
    let mut self_cert = device_cert();
    self_cert.device = alice.device_id();
    let mut long_label = device_cert();
    long_label.label = "x".repeat(65);
    let mut backwards = device_cert();
    backwards.expires = Some(backwards.not_before);
    for bad in [self_cert, long_label, backwards] {
        assert!(
            matches!(
                Signed::sign(&alice, bad.clone()),
                Err(Error::Invalid {
                    what: "device cert",
                    ..
                })
            ),
            "{bad:?}"
        );
        // Signed by hand, it is refused on verification too.
        let forged = forge(&alice, &tag_of::<DeviceCert>(), &canonical::encode(&bad));
        assert!(
            matches!(
                verify_both::<DeviceCert>(&forged, NOW, &good),
                Err(Error::Invalid {
                    what: "device cert",
                    ..
                })
            ),
            "{bad:?}"
        );
    }
    let mut label = device_cert();
    label.label = "x".repeat(64);
    assert!(Signed::sign(&alice, label).is_ok());
}
