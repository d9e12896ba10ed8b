//! End-to-end encrypted direct messages for qun, on vodozemac's Olm (the double ratchet
//! Element uses). Pure and sans-IO: no network, no disk, no clock (time is an argument).
//!
//! * [`bundle`]: a device publishes its Olm identity key and one-time keys in a
//!   [`PrekeyBundle`] signed by its device key; [`verify_bundle`] accepts it only with the
//!   member's certificate for that device, and never for a revoked device.
//! * [`DmDevice`]: a device's account and sessions; [`DmDevice::encrypt`] makes one
//!   [`FanOut`] envelope with an Olm message for every device of the recipient and every other
//!   device of the sender; [`DmDevice::decrypt`] opens this device's copy.
//! * [`PickleKey`], [`DmDevice::pickle`], [`DmDevice::from_pickle`]: persistence.
//!
//! docs/privacy.md explains the choice of Olm, the design and what is not covered.
//!
//! ```
//! use qun_dm::{DmDevice, verify_bundle};
//! use qun_identity::{Capabilities, DeviceCert, SecretIdentity, Signed, Timestamp};
//! use std::collections::BTreeSet;
//!
//! let now = Timestamp::from_millis(1_700_000_000_000);
//! let cert = |root: &SecretIdentity, dev: &SecretIdentity| {
//!     Signed::sign(root, DeviceCert {
//!         member: root.member_id(),
//!         device: dev.device_id(),
//!         capabilities: Capabilities::ALL,
//!         label: "phone".into(),
//!         not_before: now,
//!         expires: None,
//!     })
//! };
//! let (alice, alice_phone) = (SecretIdentity::from_seed(&[1; 32]), SecretIdentity::from_seed(&[2; 32]));
//! let (bob, bob_phone) = (SecretIdentity::from_seed(&[3; 32]), SecretIdentity::from_seed(&[4; 32]));
//! let mut a = DmDevice::new(alice.member_id(), alice_phone.device_id());
//! let mut b = DmDevice::new(bob.member_id(), bob_phone.device_id());
//!
//! // Each device publishes a signed bundle; the other checks it against the certificate.
//! let no_revocations = BTreeSet::new();
//! let a_bundle = a.publish_bundle(&alice_phone, 10, now)?.to_bytes();
//! let b_bundle = b.publish_bundle(&bob_phone, 10, now)?.to_bytes();
//! b.add_peer(&verify_bundle(&a_bundle, &cert(&alice, &alice_phone)?, &no_revocations, now)?)?;
//! a.add_peer(&verify_bundle(&b_bundle, &cert(&bob, &bob_phone)?, &no_revocations, now)?)?;
//!
//! // Alice writes; the envelope travels as bytes, through anyone.
//! let sent = a.encrypt(bob.member_id(), b"hello Bob", now)?;
//! let got = b.decrypt(&sent.envelope.to_bytes())?;
//! assert_eq!(got.body, b"hello Bob");
//! assert_eq!(got.conversation, alice.member_id());
//! # Ok::<(), qun_dm::Error>(())
//! ```
#![deny(missing_docs)]
#![warn(clippy::unwrap_used, unreachable_pub)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod bundle;
mod codec;
mod device;
pub mod envelope;
mod error;
mod pickle;
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;

pub use bundle::{PrekeyBundle, VerifiedBundle, verify_bundle};
pub use device::{
    DmDevice, MAX_SESSIONS_PER_DEVICE, MAX_USED_KEYS_PER_DEVICE, MessageId, Received, Sent,
};
pub use envelope::{FanOut, Item, Kind};
pub use error::{Error, Result};
pub use pickle::{MAX_PICKLE_BYTES, PickleKey};
