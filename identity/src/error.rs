//! The one error type of `qun-identity`.

use crate::Timestamp;

/// Everything that can go wrong when decoding, verifying, sealing or opening identity data.
///
/// Every variant says what was wrong with the input; none of them is ever produced by a panic
/// path, whatever the bytes were.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The signature does not verify for the claimed author over the domain tag and body.
    #[error("bad signature by {author}")]
    BadSignature {
        /// The key the envelope claims signed it.
        author: String,
    },
    /// The envelope carries another kind than the one the caller expected.
    #[error("wrong envelope kind: expected {expected}, found {found}")]
    WrongKind {
        /// Domain tag the caller asked for (`qun/<kind>/v<n>`).
        expected: String,
        /// Domain tag the envelope carries.
        found: String,
    },
    /// The signed object is past its expiry.
    #[error("expired at {at} (now {now})")]
    Expired {
        /// When it expired.
        at: Timestamp,
        /// The time it was checked at.
        now: Timestamp,
    },
    /// The signed object is not valid yet.
    #[error("not valid before {at} (now {now})")]
    NotYetValid {
        /// When it becomes valid.
        at: Timestamp,
        /// The time it was checked at.
        now: Timestamp,
    },
    /// The envelope's author is not the key the body says must sign it.
    #[error("signed by {signer}, but the body names {expected} as its signer")]
    WrongSigner {
        /// Who must sign, according to the body.
        expected: String,
        /// Who did sign.
        signer: String,
    },
    /// Input longer than the configured limit; nothing was decoded.
    #[error("input too large: {actual} bytes, limit {limit}")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
        /// The size of the input in bytes.
        actual: usize,
    },
    /// Bytes that do not decode as the expected structure (truncated, trailing bytes,
    /// non-canonical encoding, bad field).
    #[error("malformed {what}: {reason}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// A structurally well-formed value that breaks a rule of its type (weight out of range,
    /// empty topic, expiry before creation...).
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// Which type.
        what: &'static str,
        /// Which rule.
        reason: String,
    },
    /// A textual key or content id that does not parse.
    #[error("malformed {what} {input:?}: {reason}")]
    BadText {
        /// What kind of string was expected.
        what: &'static str,
        /// The input (truncated to 80 characters).
        input: String,
        /// Why it failed.
        reason: &'static str,
    },
    /// The device has no certificate from the member.
    #[error("device {device} has no certificate from member {member}")]
    NoDeviceCert {
        /// The member the signer claims to act for.
        member: String,
        /// The signing device.
        device: String,
    },
    /// The device was revoked by its member before the time in question.
    #[error("device {device} was revoked by {member} from {from}")]
    Revoked {
        /// The member who revoked it.
        member: String,
        /// The revoked device.
        device: String,
        /// Revocation takes effect from this time.
        from: Timestamp,
    },
    /// The device's certificate does not grant the needed capability.
    #[error("device {device} lacks capability {needed} (has {has})")]
    MissingCapability {
        /// The device.
        device: String,
        /// What was needed.
        needed: crate::Capabilities,
        /// What the certificate grants.
        has: crate::Capabilities,
    },
    /// The passphrase does not open the keyfile (the file itself is intact).
    #[error("wrong passphrase for keyfile")]
    WrongPassphrase,
    /// The keyfile is damaged (bad magic, truncated, or checksum mismatch).
    #[error("corrupt keyfile: {reason}")]
    CorruptKeyfile {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The keyfile is encrypted but no passphrase was supplied, or the other way round.
    #[error("keyfile needs a passphrase")]
    PassphraseRequired,
    /// The keyfile uses key derivation parameters outside the accepted bounds.
    #[error("keyfile key-derivation parameters out of bounds: {reason}")]
    KdfParams {
        /// Which bound.
        reason: String,
    },
    /// A backup phrase that is not a valid 24-word BIP39 English mnemonic.
    #[error("invalid backup phrase: {reason}")]
    BadPhrase {
        /// Why.
        reason: String,
    },
    /// Reading or writing a keyfile failed.
    #[error("keyfile I/O on {path}: {kind}: {message}")]
    Io {
        /// The file.
        path: String,
        /// The OS error kind.
        kind: std::io::ErrorKind,
        /// The OS error message.
        message: String,
    },
    /// The operating system's random number generator failed.
    #[error("OS random number generator failed: {0}")]
    Random(String),
}

impl Error {
    pub(crate) fn decode(what: &'static str, reason: impl std::fmt::Display) -> Self {
        Error::Decode {
            what,
            reason: reason.to_string(),
        }
    }

    pub(crate) fn invalid(what: &'static str, reason: impl std::fmt::Display) -> Self {
        Error::Invalid {
            what,
            reason: reason.to_string(),
        }
    }

    pub(crate) fn io(path: &std::path::Path, e: std::io::Error) -> Self {
        Error::Io {
            path: path.display().to_string(),
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
