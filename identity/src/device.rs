//! Device delegation: a member's root key certifies device keys, and can revoke them.
//!
//! A member's root key is the identity; it can live offline (restorable from the backup phrase,
//! see [`crate::phrase`]). Each node signs with its own device key, linked to the member by a
//! root-signed [`DeviceCert`]. A root-signed [`Revocation`] invalidates a device from a given
//! time: objects the device signed before that time stay valid, later ones do not. Losing a
//! device loses nothing: the root certifies a new one and revokes the old.
//!
//! Times are the signer's claims. A stolen device can backdate what it signs, so revoke from the
//! last time the device was known to be in good hands, not from the moment of discovery.

use crate::envelope::{Signed, SignedBody};
use crate::error::{Error, Result};
use crate::{ContentId, DeviceId, MemberId, PublicIdentity, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Longest device label, in bytes.
pub const MAX_LABEL_BYTES: usize = 64;
/// Longest revocation reason, in bytes.
pub const MAX_REASON_BYTES: usize = 256;

/// What a device may do on its member's behalf (a bit set).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Capabilities(u32);

impl Capabilities {
    /// Nothing.
    pub const NONE: Capabilities = Capabilities(0);
    /// Write community content: posts, replies, reactions, profile.
    pub const CONTENT: Capabilities = Capabilities(1);
    /// Give and revoke endorsements and invitations.
    pub const ENDORSE: Capabilities = Capabilities(1 << 1);
    /// Governance: roles, admission policy, moderation, channels.
    pub const GOVERN: Capabilities = Capabilities(1 << 2);
    /// Everything defined so far.
    pub const ALL: Capabilities = Capabilities(0b111);

    /// Whether every bit of `other` is set in `self`.
    pub const fn contains(self, other: Capabilities) -> bool {
        self.0 & other.0 == other.0
    }

    /// Union.
    pub const fn union(self, other: Capabilities) -> Capabilities {
        Capabilities(self.0 | other.0)
    }

    /// The raw bits.
    pub const fn bits(self) -> u32 {
        self.0
    }
}

impl std::ops::BitOr for Capabilities {
    type Output = Capabilities;
    fn bitor(self, rhs: Self) -> Self {
        self.union(rhs)
    }
}

impl fmt::Display for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Self::CONTENT, "content"),
            (Self::ENDORSE, "endorse"),
            (Self::GOVERN, "govern"),
        ];
        let set: Vec<&str> = names
            .iter()
            .filter(|(c, _)| self.contains(*c))
            .map(|(_, n)| *n)
            .collect();
        if set.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&set.join("+"))
        }
    }
}

impl fmt::Debug for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Capabilities({self})")
    }
}

/// A member's root key vouching that `device` acts for it, with some capabilities, in a window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCert {
    /// The member (root key) issuing the certificate; must be the envelope's signer.
    pub member: MemberId,
    /// The device key being certified.
    pub device: DeviceId,
    /// What the device may do.
    pub capabilities: Capabilities,
    /// A human label ("laptop", "phone").
    pub label: String,
    /// Valid from this time.
    pub not_before: Timestamp,
    /// Valid until this time (exclusive), or forever.
    pub expires: Option<Timestamp>,
}

impl SignedBody for DeviceCert {
    const KIND: &'static str = "device-cert";
    const VERSION: u16 = 1;
    const MAX_BODY_BYTES: usize = 512;

    fn check(&self) -> Result<()> {
        if self.label.len() > MAX_LABEL_BYTES {
            return Err(Error::invalid("device cert", "label longer than 64 bytes"));
        }
        if self.device.key() == self.member.key() {
            return Err(Error::invalid(
                "device cert",
                "a root key acts for itself and needs no certificate",
            ));
        }
        if let Some(exp) = self.expires
            && exp <= self.not_before
        {
            return Err(Error::invalid("device cert", "expires before not_before"));
        }
        Ok(())
    }

    fn required_signer(&self) -> Option<PublicIdentity> {
        Some(*self.member.key())
    }

    fn validity(&self) -> (Option<Timestamp>, Option<Timestamp>) {
        (Some(self.not_before), self.expires)
    }
}

/// A member's root key withdrawing a device from a given time on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// The member; must be the envelope's signer.
    pub member: MemberId,
    /// The device withdrawn.
    pub device: DeviceId,
    /// Objects the device signed at or after this time are invalid.
    pub from: Timestamp,
    /// Why, for humans.
    pub reason: String,
}

impl SignedBody for Revocation {
    const KIND: &'static str = "device-revocation";
    const VERSION: u16 = 1;
    const MAX_BODY_BYTES: usize = 512;

    fn check(&self) -> Result<()> {
        if self.reason.len() > MAX_REASON_BYTES {
            return Err(Error::invalid("revocation", "reason longer than 256 bytes"));
        }
        Ok(())
    }

    fn required_signer(&self) -> Option<PublicIdentity> {
        Some(*self.member.key())
    }
}

/// How a signer acts for a member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActsFor {
    /// The member's root key signed directly.
    Root,
    /// A certified device signed; the id of the certificate that allowed it.
    Device {
        /// Content id of the device certificate envelope.
        cert: ContentId,
    },
}

/// The certificates and revocations a verifier knows about.
///
/// Answers "does this key act for member X at time t with capability c — and if not, why".
/// Order of insertion does not matter; it is a set.
#[derive(Clone, Debug, Default)]
pub struct Delegations {
    certs: BTreeMap<DeviceId, Vec<Signed<DeviceCert>>>,
    /// Earliest revocation time per (member, device).
    revoked: BTreeMap<(MemberId, DeviceId), Timestamp>,
}

impl Delegations {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a verified certificate (duplicates are ignored).
    ///
    /// A device's certificates are kept ordered by content id, so every answer below is the
    /// same whatever order they arrived in.
    pub fn add_cert(&mut self, cert: Signed<DeviceCert>) {
        let id = cert.id();
        let list = self.certs.entry(cert.value().device).or_default();
        if let Err(pos) = list.binary_search_by_key(&id, Signed::id) {
            list.insert(pos, cert);
        }
    }

    /// Add a verified revocation; the earliest one for a device wins.
    pub fn add_revocation(&mut self, rev: &Signed<Revocation>) {
        let r = rev.value();
        self.revoked
            .entry((r.member, r.device))
            .and_modify(|t| *t = (*t).min(r.from))
            .or_insert(r.from);
    }

    /// The member a device is certified for, when all its certificates name the same one.
    ///
    /// `None` when the device has no certificate, or certificates from several members: a
    /// certificate needs no consent from the device, so anyone can certify any key, and a second
    /// issuer makes the answer ambiguous. Ask [`Delegations::acts_for`] about the member an
    /// object claims instead.
    pub fn member_of(&self, device: &DeviceId) -> Option<MemberId> {
        let list = self.certs.get(device)?;
        let member = list.first()?.value().member;
        list.iter()
            .all(|c| c.value().member == member)
            .then_some(member)
    }

    /// The certificates of a device, ordered by content id.
    pub fn certs_of(&self, device: &DeviceId) -> &[Signed<DeviceCert>] {
        self.certs.get(device).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Whether `signer` acts for `member` at time `at` with capability `needed`, and if not, why.
    pub fn acts_for(
        &self,
        member: &MemberId,
        signer: &PublicIdentity,
        at: Timestamp,
        needed: Capabilities,
    ) -> Result<ActsFor> {
        if signer == member.key() {
            return Ok(ActsFor::Root);
        }
        let device = DeviceId(*signer);
        if let Some(from) = self.revoked.get(&(*member, device))
            && at >= *from
        {
            return Err(Error::Revoked {
                member: member.to_string(),
                device: device.to_string(),
                from: *from,
            });
        }
        let mine: Vec<&Signed<DeviceCert>> = self
            .certs_of(&device)
            .iter()
            .filter(|c| c.value().member == *member)
            .collect();
        if mine.is_empty() {
            return Err(Error::NoDeviceCert {
                member: member.to_string(),
                device: device.to_string(),
            });
        }
        let mut last_err = None;
        for c in &mine {
            let v = c.value();
            if at < v.not_before {
                last_err = Some(Error::NotYetValid {
                    at: v.not_before,
                    now: at,
                });
            } else if v.expires.is_some_and(|e| at >= e) {
                last_err = Some(Error::Expired {
                    at: v.expires.unwrap_or(Timestamp::MAX),
                    now: at,
                });
            } else if !v.capabilities.contains(needed) {
                last_err = Some(Error::MissingCapability {
                    device: device.to_string(),
                    needed,
                    has: v.capabilities,
                });
            } else {
                return Ok(ActsFor::Device { cert: c.id() });
            }
        }
        Err(last_err.unwrap_or(Error::NoDeviceCert {
            member: member.to_string(),
            device: device.to_string(),
        }))
    }
}

/// A signed body made on a member's behalf, by the member's root or one of its devices.
pub trait Attributed: SignedBody {
    /// Capability a device needs to sign this kind.
    const CAPABILITY: Capabilities;
    /// The member the body claims to come from.
    fn claimed_member(&self) -> MemberId;
    /// The time the body claims it was made.
    fn made_at(&self) -> Timestamp;
}

impl<T: Attributed> Signed<T> {
    /// The member this object acts for, checked against `delegations`.
    pub fn acting_member(&self, delegations: &Delegations) -> Result<MemberId> {
        let v = self.value();
        let member = v.claimed_member();
        delegations.acts_for(&member, self.author(), v.made_at(), T::CAPABILITY)?;
        Ok(member)
    }
}
