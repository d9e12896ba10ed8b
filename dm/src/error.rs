//! The one error type of `qun-dm`: every way a bundle, an envelope, a session or a pickle can
//! be refused, each with what was wrong. No variant is produced by a panic path.

use qun_identity::{DeviceId, MemberId};

/// Everything that can go wrong in the DM core.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Input longer than its limit; nothing was parsed.
    #[error("{what} too large: {actual} bytes, limit {limit}")]
    TooLarge {
        /// What was refused.
        what: &'static str,
        /// The limit in bytes (or items, for counts).
        limit: usize,
        /// The size of the input.
        actual: usize,
    },
    /// Bytes that do not decode as the expected structure (truncated, trailing bytes,
    /// non-canonical encoding, unknown version or kind, bad field).
    #[error("malformed {what}: {reason}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// The bundle's envelope or the certificate failed qun-identity's checks (signature, kind,
    /// body rules, signer).
    #[error(transparent)]
    Identity(#[from] qun_identity::Error),
    /// The device certificate does not certify the device that signed the bundle, for the
    /// member the bundle names; or it is outside its validity window.
    #[error("the device certificate does not vouch for this bundle: {reason}")]
    NotCertified {
        /// Which check failed.
        reason: &'static str,
    },
    /// The device is revoked: nothing is encrypted to it and nothing from it is accepted.
    #[error("device {device} is revoked")]
    Revoked {
        /// The revoked device.
        device: DeviceId,
    },
    /// A bundle of this device itself was offered as a peer's.
    #[error("a device's own bundle is not a peer")]
    OwnDevice,
    /// No known device of the member could be reached (no bundle known, or no session and no
    /// key left): fetch a fresh bundle.
    #[error("no reachable device of member {member}")]
    NoDevices {
        /// The member.
        member: MemberId,
    },
    /// An empty message body (empty messages are session repairs, see `DmDevice::unwedge`).
    #[error("empty message")]
    EmptyBody,
    /// The envelope has no message for this device.
    #[error("the envelope holds no message for this device")]
    NotForUs,
    /// The sending device is unknown here (no verified bundle of it): fetch its bundle, then
    /// decrypt again.
    #[error("unknown sending device {device}")]
    UnknownSender {
        /// The claimed sender.
        device: DeviceId,
    },
    /// The envelope's sender key is not the identity key of the device it names.
    #[error("sender key does not belong to device {device}")]
    SenderKeyMismatch {
        /// The claimed sender.
        device: DeviceId,
    },
    /// A pre-key message names a one-time key this device does not hold (never had it, or
    /// already used: one-time keys work once).
    #[error("pre-key message for an unknown or already used one-time key")]
    UnknownOneTimeKey,
    /// Olm could not establish a session (non-contributory key, mismatched keys or config).
    #[error("cannot establish an Olm session: {reason}")]
    Session {
        /// vodozemac's reason.
        reason: String,
    },
    /// A message whose key is already used up or discarded: a replay, or a message older than
    /// what the ratchet keeps.
    #[error("message key already used or discarded (chain index {index})")]
    Replayed {
        /// The message's index in its chain.
        index: u64,
    },
    /// No session with the sender decrypts the message (bad MAC, bad padding, gap too big).
    #[error("cannot decrypt: {reason}")]
    Decrypt {
        /// vodozemac's reason.
        reason: String,
    },
    /// The decrypted payload names another sender or recipient than the envelope it came in:
    /// a re-wrapped message.
    #[error("payload does not match its envelope: {reason}")]
    Misbound {
        /// Which field disagreed.
        reason: &'static str,
    },
    /// A pickle that does not open with the key, or does not decode.
    #[error("cannot unpickle {what}: {reason}")]
    Pickle {
        /// Account, session or device state.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// The signing key given is not this account's device key.
    #[error("signing key {given} is not this account's device {expected}")]
    WrongKey {
        /// The account's device.
        expected: DeviceId,
        /// The key given.
        given: DeviceId,
    },
}

impl Error {
    pub(crate) fn decode(what: &'static str, reason: impl std::fmt::Display) -> Self {
        Error::Decode {
            what,
            reason: reason.to_string(),
        }
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
