//! Fuzz harness shared by the cargo-fuzz targets in `dm/fuzz` and the crasher replay in
//! `tests/fuzz_crashers.rs` (feature `test-utils`): fixed keys, and one function per decoder
//! that runs it on arbitrary input and asserts its invariants.
//!
//! Inputs start with a mode byte. `bundle_decode`: even — the rest is bundle envelope bytes;
//! odd — the rest is a bundle *body*, correctly signed by the fixture device, so the body
//! decoder and the bundle's rules see arbitrary input. `envelope_decode`: even — the rest is
//! fan-out envelope bytes; odd — the rest is an Olm message (pre-key when bit 1 is clear)
//! placed in a well-formed envelope from the fixture sender to the fixture recipient, so
//! vodozemac's decoders and the ratchet see arbitrary input.

use crate::{DmDevice, Error, FanOut, Item, Kind, PrekeyBundle, Received, Result, verify_bundle};
use qun_identity::{
    Capabilities, DeviceCert, SecretIdentity, Signed, SignedBody, Timestamp, domain_tag,
};
use std::collections::BTreeSet;

/// The time every check runs at.
pub const NOW: Timestamp = Timestamp::from_millis(1_700_000_000_000);

/// The fixture sender: member root and device keys.
pub fn alice() -> (SecretIdentity, SecretIdentity) {
    (
        SecretIdentity::from_seed(&[0x10; 32]),
        SecretIdentity::from_seed(&[0x11; 32]),
    )
}

/// The fixture recipient: member root and device keys.
pub fn bob() -> (SecretIdentity, SecretIdentity) {
    (
        SecretIdentity::from_seed(&[0x20; 32]),
        SecretIdentity::from_seed(&[0x21; 32]),
    )
}

/// `root`'s certificate for `device`, valid from [`NOW`] on.
pub fn cert(root: &SecretIdentity, device: &SecretIdentity) -> Result<Signed<DeviceCert>> {
    Ok(Signed::sign(
        root,
        DeviceCert {
            member: root.member_id(),
            device: device.device_id(),
            capabilities: Capabilities::ALL,
            label: "fuzz".into(),
            not_before: NOW,
            expires: None,
        },
    )?)
}

fn varint(mut n: usize, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Envelope wire bytes with `body` signed by `signer` under the bundle's tag.
pub fn signed_bundle_body(signer: &SecretIdentity, body: &[u8]) -> Vec<u8> {
    let tag = domain_tag(PrekeyBundle::KIND, PrekeyBundle::VERSION);
    let mut msg = tag.as_bytes().to_vec();
    msg.push(0);
    msg.extend_from_slice(body);
    let mut out = Vec::new();
    varint(tag.len(), &mut out);
    out.extend_from_slice(tag.as_bytes());
    out.extend_from_slice(signer.public().as_bytes());
    varint(body.len(), &mut out);
    out.extend_from_slice(body);
    out.extend_from_slice(&signer.sign_raw(&msg));
    out
}

/// Run the bundle decoder on a fuzz input. Whatever verifies re-encodes to its body, and a
/// sender that learns it can encrypt to it or says why not — never panics.
pub fn check_bundle(data: &[u8]) -> Result<()> {
    let Some((&mode, rest)) = data.split_first() else {
        return Err(Error::decode("fuzz input", "empty"));
    };
    let (root, device) = alice();
    let bytes = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        signed_bundle_body(&device, rest)
    };
    let cert = cert(&root, &device)?;
    let v = verify_bundle(&bytes, &cert, &BTreeSet::new(), NOW)?;
    let (bob_root, bob_device) = bob();
    let mut sender = DmDevice::new(bob_root.member_id(), bob_device.device_id());
    sender.add_peer(&v)?;
    match sender.encrypt(root.member_id(), b"fuzz", NOW) {
        Ok(_) | Err(Error::NoDevices { .. }) => Ok(()),
        Err(e) => panic!("encrypting to a verified bundle failed oddly: {e:?}"),
    }
}

/// A recipient that knows the fixture sender's device, and that sender.
pub struct EnvelopeFixture {
    /// The fixture recipient.
    pub recipient: DmDevice,
    /// The fixture sender.
    pub sender: DmDevice,
}

impl EnvelopeFixture {
    /// Both devices, each knowing the other's bundle.
    pub fn new() -> Result<Self> {
        let (a_root, a_dev) = alice();
        let (b_root, b_dev) = bob();
        let mut sender = DmDevice::new(a_root.member_id(), a_dev.device_id());
        let mut recipient = DmDevice::new(b_root.member_id(), b_dev.device_id());
        let none = BTreeSet::new();
        let a = sender.publish_bundle(&a_dev, 4, NOW)?.to_bytes();
        let b = recipient.publish_bundle(&b_dev, 4, NOW)?.to_bytes();
        recipient.add_peer(&verify_bundle(&a, &cert(&a_root, &a_dev)?, &none, NOW)?)?;
        sender.add_peer(&verify_bundle(&b, &cert(&b_root, &b_dev)?, &none, NOW)?)?;
        Ok(EnvelopeFixture { recipient, sender })
    }

    /// Run the envelope decoder and the recipient's decryption on a fuzz input. A decoded
    /// envelope re-encodes to its input; decryption answers with a typed error.
    pub fn check(&mut self, data: &[u8]) -> Result<Received> {
        let Some((&mode, rest)) = data.split_first() else {
            return Err(Error::decode("fuzz input", "empty"));
        };
        let bytes = if mode & 1 == 0 {
            rest.to_vec()
        } else {
            let kind = if mode & 2 == 0 {
                Kind::PreKey
            } else {
                Kind::Normal
            };
            let item = Item::new(self.recipient.identity_key(), kind, rest.to_vec());
            FanOut::new(self.sender.device(), self.sender.identity_key(), vec![item]).to_bytes()
        };
        if let Ok(f) = FanOut::decode(&bytes) {
            assert_eq!(
                f.to_bytes(),
                bytes,
                "a decoded envelope re-encodes to its input"
            );
        }
        self.recipient.decrypt(&bytes)
    }
}
