//! The one error type of `qun-crdt`.

use automerge::ChangeHash as Hash;
use qun_identity::MemberId;

/// Why a change, message or edit was refused. Nothing is stored or forwarded when one of
/// these is returned.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// Input larger than the configured limit; it was not parsed.
    #[error("{what} too large: {actual} bytes/items, limit {limit}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// The limit.
        limit: usize,
        /// The actual size.
        actual: usize,
    },
    /// Bytes that do not decode.
    #[error("malformed {what}: {reason}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// A wire message of a version this node does not speak.
    #[error("unsupported {what} version {version}")]
    Version {
        /// Which message.
        what: &'static str,
        /// The version found.
        version: u8,
    },
    /// The change carries no valid signature by its actor.
    #[error("bad signature on change {hash}")]
    BadSignature {
        /// The change.
        hash: Hash,
    },
    /// The change's Automerge actor is not an ed25519 device key.
    #[error("change actor is not a device key: {reason}")]
    BadActor {
        /// Why.
        reason: String,
    },
    /// The change's author was not allowed to do what it does, in the state at its dependencies.
    #[error("unauthorized {action} by {author}: {reason}")]
    Unauthorized {
        /// The member (or device, for unknown devices) that authored it.
        author: String,
        /// The action tag.
        action: &'static str,
        /// Which rule refused it.
        reason: String,
    },
    /// The change touches data it does not own.
    #[error("change by {author} writes outside its own data: {reason}")]
    NotOwner {
        /// The author device.
        author: String,
        /// Which operation.
        reason: String,
    },
    /// The change is inconsistent with the document (sequence reuse, bad window, bad genesis).
    #[error("invalid change {hash}: {reason}")]
    InvalidChange {
        /// The change.
        hash: Hash,
        /// Why.
        reason: String,
    },
    /// The change's dependencies (or the governance changes it cites, or its device's previous
    /// change) are not known yet.
    #[error("change {hash} waits for {} unknown dependencies", missing.len())]
    MissingDeps {
        /// The change.
        hash: Hash,
        /// What it waits for: hashes of missing changes, and for a gap in its device's
        /// sequence numbers a key derived from the document, device and previous sequence number.
        missing: Vec<Hash>,
        /// Whether it may wait: its device is known here (a member's root key or linked
        /// device, or someone who asked to join) or it is a join. Changes from unknown keys
        /// are not kept.
        known: bool,
    },
    /// Its device already signed another change with this sequence number in this document
    /// (equivocation). Every node keeps the one with the lower hash in the document; the
    /// device's writes there from this sequence number on are void.
    #[error("change {hash}: device {device} equivocated at sequence number {seq}")]
    Equivocation {
        /// The refused change.
        hash: Hash,
        /// The device.
        device: String,
        /// The sequence number used twice.
        seq: u64,
    },
    /// The change depends on a change that lost an equivocation: it can never be applied.
    /// Its author's node re-issues it on the winning side.
    #[error("change {hash} depends on the losing side of an equivocation")]
    Stranded {
        /// The change.
        hash: Hash,
    },
    /// A content change for a window too far ahead of this node's clock: not taken now (it
    /// comes again by sync once its window begins).
    #[error("change {hash} is for window {window}, beyond {latest} by this node's clock")]
    FutureWindow {
        /// The change.
        hash: Hash,
        /// Its window.
        window: u32,
        /// The latest window taken now.
        latest: u32,
    },
    /// A change waiting for dependencies was signed by a device this node does not know: it
    /// is not kept (only members' changes and joins wait).
    #[error("change {hash} from unknown device {device} waits for dependencies: not kept")]
    UnknownDevice {
        /// The change.
        hash: Hash,
        /// The device.
        device: String,
    },
    /// The pending queue of changes waiting for dependencies is full.
    #[error("pending queue full ({limit} changes)")]
    PendingFull {
        /// The limit.
        limit: usize,
    },
    /// The document would grow past its size limit.
    #[error("document {doc} would exceed {limit} bytes")]
    DocTooLarge {
        /// The document (`gov` or `c/<channel>/<window>`).
        doc: String,
        /// The limit.
        limit: usize,
    },
    /// A message names a community this replicator does not hold.
    #[error("unknown community {0}")]
    UnknownCommunity(String),
    /// A genesis whose hash is not the community id, or that breaks the genesis rules.
    #[error("bad community genesis: {0}")]
    BadGenesis(String),
    /// A local edit that cannot be made (not a member, unknown post, bad input...).
    #[error("cannot {action}: {reason}")]
    Edit {
        /// What the user tried.
        action: &'static str,
        /// Why it cannot be done.
        reason: String,
    },
    /// A market field breaks its format rule (a listing's title, a tag, a key, a rating...).
    #[error("bad {field}: {reason}")]
    MarketField {
        /// Which field.
        field: &'static str,
        /// The rule it breaks.
        reason: String,
    },
    /// A ledger field breaks its format rule (an amount, a unit, a title...).
    #[error("bad {field}: {reason}")]
    LedgerField {
        /// Which field.
        field: &'static str,
        /// The rule it breaks.
        reason: String,
    },
    /// A deal step the state machine does not allow from the deal's state at the change's
    /// dependencies (docs/market.md): a step must cite the state it leaves.
    #[error("a deal that is {status} cannot take {action}")]
    DealTransition {
        /// The deal's status at the change's dependencies.
        status: &'static str,
        /// The step's action tag.
        action: &'static str,
    },
    /// Automerge refused a change that passed our checks (a bug or a crafted change).
    #[error("automerge: {0}")]
    Automerge(String),
    /// An identity-layer failure (envelope, certificate, invitation).
    #[error(transparent)]
    Identity(#[from] qun_identity::Error),
}

impl Error {
    pub(crate) fn decode(what: &'static str, reason: impl std::fmt::Display) -> Self {
        Error::Decode {
            what,
            reason: reason.to_string(),
        }
    }

    pub(crate) fn unauthorized(
        author: &MemberId,
        action: &'static str,
        reason: impl std::fmt::Display,
    ) -> Self {
        Error::Unauthorized {
            author: author.to_string(),
            action,
            reason: reason.to_string(),
        }
    }

    pub(crate) fn edit(action: &'static str, reason: impl std::fmt::Display) -> Self {
        Error::Edit {
            action,
            reason: reason.to_string(),
        }
    }

    /// Whether this error means "not yet" rather than "never": the input may become valid
    /// once missing dependencies arrive.
    pub fn is_pending(&self) -> bool {
        matches!(self, Error::MissingDeps { .. })
    }
}

impl From<automerge::AutomergeError> for Error {
    fn from(e: automerge::AutomergeError) -> Self {
        Error::Automerge(e.to_string())
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
