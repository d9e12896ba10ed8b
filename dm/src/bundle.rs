//! Signed prekey bundles: how a device publishes its Olm identity key and one-time keys.
//!
//! A [`PrekeyBundle`] travels in a qun signed envelope (`qun/dm-prekeys/v1`, see
//! `qun_identity::envelope`), signed by the device's ed25519 key. It is accepted only through
//! [`verify_bundle`], which needs the member's device certificate for that device and the set
//! of devices known to be revoked:
//!
//! ```text
//! member root ──DeviceCert──▶ device key ──PrekeyBundle──▶ curve25519 identity key, one-time keys
//! ```
//!
//! So a curve25519 key is trusted for a member exactly when a device the member certified
//! signed it, and that device is not revoked.

use crate::error::{Error, Result};
use qun_identity::{
    ContentId, DeviceCert, DeviceId, Envelope, Limits, MemberId, PublicIdentity, Signed,
    SignedBody, Timestamp,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Most one-time keys in one bundle (vodozemac advises publishing at most 50).
pub const MAX_ONE_TIME_KEYS: usize = 64;
/// Largest encoded bundle body, in bytes (64 keys take about 2.2 KiB).
pub const MAX_BUNDLE_BODY_BYTES: usize = 4096;
/// Largest bundle envelope accepted, in bytes; checked before anything is parsed.
pub const MAX_BUNDLE_BYTES: usize = MAX_BUNDLE_BODY_BYTES + 512;

/// A device's published Olm keys, signed by the device key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrekeyBundle {
    /// The member the device acts for.
    pub member: MemberId,
    /// The device; its key must sign the bundle.
    pub device: DeviceId,
    /// The Olm account's curve25519 identity key.
    pub identity_key: [u8; 32],
    /// Unused one-time keys, strictly ascending (so each appears once, in one spelling).
    pub one_time_keys: Vec<[u8; 32]>,
    /// The fallback key, used when a sender has no one-time key of this device left.
    pub fallback_key: Option<[u8; 32]>,
    /// When the device made this bundle (its claim); a later bundle of a device replaces an
    /// earlier one.
    pub created: Timestamp,
}

impl SignedBody for PrekeyBundle {
    const KIND: &'static str = "dm-prekeys";
    const VERSION: u16 = 1;
    const MAX_BODY_BYTES: usize = MAX_BUNDLE_BODY_BYTES;

    fn check(&self) -> qun_identity::Result<()> {
        let invalid = |reason: &str| qun_identity::Error::Invalid {
            what: "prekey bundle",
            reason: reason.to_string(),
        };
        if self.one_time_keys.len() > MAX_ONE_TIME_KEYS {
            return Err(invalid("more than 64 one-time keys"));
        }
        if !self.one_time_keys.windows(2).all(|w| w[0] < w[1]) {
            return Err(invalid("one-time keys not strictly ascending"));
        }
        if self.one_time_keys.contains(&self.identity_key)
            || self
                .fallback_key
                .is_some_and(|f| f == self.identity_key || self.one_time_keys.contains(&f))
        {
            return Err(invalid("a key appears twice"));
        }
        if self.device.key() == self.member.key() {
            return Err(invalid("the device is the member's root key"));
        }
        Ok(())
    }

    fn required_signer(&self) -> Option<PublicIdentity> {
        Some(*self.device.key())
    }
}

/// A bundle that passed [`verify_bundle`]: signed by a certified, unrevoked device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedBundle {
    bundle: PrekeyBundle,
    id: ContentId,
}

impl VerifiedBundle {
    /// The bundle.
    pub fn bundle(&self) -> &PrekeyBundle {
        &self.bundle
    }

    /// Content id of the bundle's envelope bytes.
    pub fn id(&self) -> ContentId {
        self.id
    }

    /// The member.
    pub fn member(&self) -> MemberId {
        self.bundle.member
    }

    /// The device.
    pub fn device(&self) -> DeviceId {
        self.bundle.device
    }
}

/// Check untrusted bundle bytes against the member's certificate for the device that signed
/// them, and the devices known to be revoked.
///
/// In order: size (before parsing), strict envelope decoding, kind and ed25519 signature by the
/// device the bundle names, the bundle's rules, then the certificate: it must be for the same
/// member and device and valid at `now` (its root signature was checked when it became a
/// `Signed`); and the device must not be in `revoked`.
pub fn verify_bundle(
    bytes: &[u8],
    cert: &Signed<DeviceCert>,
    revoked: &BTreeSet<DeviceId>,
    now: Timestamp,
) -> Result<VerifiedBundle> {
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(Error::TooLarge {
            what: "prekey bundle",
            limit: MAX_BUNDLE_BYTES,
            actual: bytes.len(),
        });
    }
    let limits = Limits {
        max_envelope_bytes: MAX_BUNDLE_BYTES,
    };
    let envelope = Envelope::decode(bytes, &limits)?;
    let id = envelope.id();
    let signed: Signed<PrekeyBundle> = envelope.verify(now)?;
    let bundle = signed.value().clone();
    let c = cert.value();
    if c.device != bundle.device {
        return Err(Error::NotCertified {
            reason: "the certificate is for another device",
        });
    }
    if c.member != bundle.member {
        return Err(Error::NotCertified {
            reason: "the certificate is from another member",
        });
    }
    if !cert.valid_at(now) {
        return Err(Error::NotCertified {
            reason: "the certificate is not valid at this time",
        });
    }
    if revoked.contains(&bundle.device) {
        return Err(Error::Revoked {
            device: bundle.device,
        });
    }
    Ok(VerifiedBundle { bundle, id })
}
