//! Test members with certified devices, and the exchange of their prekey bundles.
#![allow(dead_code, clippy::unwrap_used)]

use qun_dm::{DmDevice, verify_bundle};
use qun_identity::{
    Capabilities, DeviceCert, DeviceId, MemberId, SecretIdentity, Signed, Timestamp,
};
use std::collections::BTreeSet;

pub const NOW: Timestamp = Timestamp::from_millis(1_700_000_000_000);

/// A device: its key, the member's certificate for it, and its DM state.
pub struct Dev {
    pub key: SecretIdentity,
    pub cert: Signed<DeviceCert>,
    pub dm: DmDevice,
}

impl Dev {
    pub fn id(&self) -> DeviceId {
        self.key.device_id()
    }

    /// A fresh signed bundle with `keys` one-time keys, as bytes.
    pub fn bundle(&mut self, keys: usize) -> Vec<u8> {
        self.publish(keys, NOW).to_bytes()
    }

    /// A fresh signed bundle made at `at`.
    pub fn publish(&mut self, keys: usize, at: Timestamp) -> Signed<qun_dm::PrekeyBundle> {
        self.dm.publish_bundle(&self.key, keys, at).unwrap()
    }
}

pub struct Member {
    pub root: SecretIdentity,
    pub devices: Vec<Dev>,
}

impl Member {
    pub fn id(&self) -> MemberId {
        self.root.member_id()
    }
}

pub fn cert(root: &SecretIdentity, device: &SecretIdentity) -> Signed<DeviceCert> {
    Signed::sign(
        root,
        DeviceCert {
            member: root.member_id(),
            device: device.device_id(),
            capabilities: Capabilities::ALL,
            label: "test".into(),
            not_before: NOW,
            expires: None,
        },
    )
    .unwrap()
}

/// Member `n` (1..=15) with `devices` devices; keys from fixed seeds.
pub fn member(n: u8, devices: usize) -> Member {
    let root = SecretIdentity::from_seed(&[n * 16; 32]);
    let devices = (0..devices)
        .map(|i| {
            let key = SecretIdentity::from_seed(&[n * 16 + 1 + i as u8; 32]);
            let cert = cert(&root, &key);
            let dm = DmDevice::new(root.member_id(), key.device_id());
            Dev { key, cert, dm }
        })
        .collect();
    Member { root, devices }
}

/// Every device publishes a bundle with `keys` one-time keys; every other device of every
/// member verifies it against the certificate and learns it.
pub fn exchange(members: &mut [&mut Member], keys: usize) {
    let none = BTreeSet::new();
    let mut bundles = Vec::new();
    for m in members.iter_mut() {
        for d in &mut m.devices {
            bundles.push((d.id(), d.bundle(keys), d.cert.clone()));
        }
    }
    for m in members.iter_mut() {
        for d in &mut m.devices {
            for (id, bytes, cert) in &bundles {
                if *id != d.id() {
                    let v = verify_bundle(bytes, cert, &none, NOW).unwrap();
                    d.dm.add_peer(&v).unwrap();
                }
            }
        }
    }
}
