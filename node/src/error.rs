//! The one error type of the `qun-node` library: every failure of the node, its API, its CLI and
//! its files, each variant with a hint that tells the user what to do.

/// What can go wrong running a node.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store could not be opened or read back: it is damaged.
    #[error("store at {path} is damaged: {reason}")]
    StoreCorrupt {
        /// The store directory.
        path: String,
        /// What failed.
        reason: String,
    },
    /// The store failed to write or flush.
    #[error("store write failed: {0}")]
    StoreWrite(String),
    /// A store write failed earlier (or just now): the node accepts no more changes until it
    /// is restarted, and the change asked for was not made durable.
    #[error(
        "not saved: the store failed ({0}); this node accepts no changes until the store takes writes again"
    )]
    StoreFailed(String),
    /// Another node process is using this data directory.
    #[error("data directory {0} is in use by another qun process")]
    Locked(String),
    /// Identity or keyfile problem.
    #[error(transparent)]
    Identity(#[from] qun_identity::Error),
    /// Community state problem.
    #[error(transparent)]
    Crdt(#[from] qun_crdt::Error),
    /// Trust computation problem.
    #[error(transparent)]
    Trust(#[from] qun_trust::Error),
    /// Bad configuration (file, flag or address).
    #[error("configuration: {0}")]
    Config(String),
    /// A file or socket operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A socket address could not be listened on.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// libp2p could not be set up (transport, listen address, behaviour).
    #[error("network: {0}")]
    Network(String),
    /// An invite code that does not parse.
    #[error("invalid invite code: {0}")]
    BadInvite(String),
    /// The node's event loop has stopped.
    #[error("the node has stopped")]
    Stopped,
    /// The thing asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// A request is invalid as sent (an empty post, an id that does not parse, a weight out of
    /// range): nothing was done.
    #[error("{reason}")]
    Invalid {
        /// What is wrong with it.
        reason: String,
        /// What a valid one looks like.
        hint: &'static str,
    },
    /// The backup phrase is not shown, and why.
    #[error("{0}")]
    PhraseRefused(PhraseRefusal),
    /// The store was written by a newer qun (a schema this build does not know).
    #[error(
        "store at {path} has schema version {found}, newer than this qun reads ({supported}): it was written by a newer qun; run that version, or restore a backup made by this one with `qun restore <backup dir> --data-dir <new dir>`"
    )]
    StoreTooNew {
        /// The store directory.
        path: String,
        /// Its schema version.
        found: u32,
        /// The newest this build reads.
        supported: u32,
    },
    /// An older store could not be copied aside before its migration; it was not changed.
    #[error("store at {path} (schema {from}) was not migrated: copying it aside failed: {reason}")]
    MigrationFailed {
        /// The store directory.
        path: String,
        /// Its schema version.
        from: u32,
        /// What failed.
        reason: String,
    },
    /// This node was restored from a backup and has not caught up with a peer yet: its own
    /// writes wait, so that it never signs a change with a sequence number it used before.
    #[error(
        "this node was restored from a backup and has not caught up yet ({communities} communities still to sync with a peer): its own writes wait so it never reuses a sequence number"
    )]
    CatchingUp {
        /// Communities not synced with a peer yet.
        communities: usize,
    },
    /// A backup directory is not usable (missing file, wrong checksum, unknown format).
    #[error("backup at {path}: {reason}")]
    BadBackup {
        /// The backup directory.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `qun restore` would overwrite an existing identity or store.
    #[error("{0} exists already: restoring would overwrite it")]
    RestoreTarget(String),
    /// The full-text index failed (it is rebuilt from the communities at the next start).
    #[error("search index: {0}")]
    Search(String),
    /// A blob (an image or attachment) is larger than this node takes.
    #[error("the file is {actual} bytes; this node takes files of at most {limit} bytes")]
    BlobTooLarge {
        /// The limit, bytes.
        limit: u64,
        /// The file's size, bytes.
        actual: u64,
    },
    /// Storing a blob would take the blob store over its budget.
    #[error("the blob store is full ({used} of {budget} bytes used; this file needs {size})")]
    BlobBudget {
        /// The store's budget, bytes.
        budget: u64,
        /// Bytes held.
        used: u64,
        /// The blob's size.
        size: u64,
    },
    /// Bytes that do not hash to the blob id they were sent as: refused, nothing stored.
    #[error("blob {expected}: the bytes received hash to {actual}")]
    BlobMismatch {
        /// The id asked for.
        expected: String,
        /// What the bytes hash to.
        actual: String,
    },
    /// No peer could give us the blob (none has it, none is connected, or each refused).
    #[error("blob {id} is not available: {reason}")]
    BlobUnavailable {
        /// The blob.
        id: String,
        /// Why.
        reason: String,
    },
}

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// A one-line hint telling the user what to do about this error.
    pub fn hint(&self) -> &'static str {
        match self {
            Error::StoreCorrupt { .. } => {
                "run `qun repair` to salvage what can be read; the rest is fetched again from peers"
            }
            Error::StoreWrite(_) => "check free disk space and permissions of the data directory",
            Error::StoreFailed(_) => {
                "free disk space or fix permissions: the node tries again every few seconds and resumes by itself (or restart `qun up`; `qun repair` if it reports damage)"
            }
            Error::Locked(_) => "stop the other `qun up` (or use another --data-dir)",
            Error::Identity(qun_identity::Error::WrongPassphrase) => {
                "check the passphrase (QUN_PASSPHRASE or the prompt)"
            }
            Error::Identity(qun_identity::Error::CorruptKeyfile { .. }) => {
                "restore identity.key from a backup, or `qun init --restore` with your backup phrase"
            }
            Error::Identity(_) => "see `qun init --help`",
            Error::Crdt(_) => "see `qun status` for the community's state",
            Error::Trust(_) => "endorse someone first (`qun endorse`), then ask again",
            Error::Config(_) => "see `qun up --help` and config.toml in the data directory",
            Error::Io { .. } => "check the path and its permissions",
            Error::Listen { .. } => {
                "choose another address with --api (127.0.0.1:0 takes any free port); ports below 1024 need privileges"
            }
            Error::Network(_) => {
                "check --listen addresses (e.g. /ip4/0.0.0.0/tcp/0) and that the port is free"
            }
            Error::BadInvite(_) => {
                "copy the whole code again, from its first to its last character (or ask for a new one)"
            }
            Error::Stopped => "start the node with `qun up`",
            Error::NotFound(_) => "check the id (see `qun community list`)",
            Error::Invalid { hint, .. } => hint,
            Error::PhraseRefused(r) => r.hint(),
            Error::StoreTooNew { .. } => {
                "install the qun version that wrote this store (`qun --version` shows this one); stores are never downgraded"
            }
            Error::MigrationFailed { .. } => {
                "free disk space next to the store (the copy needs as much again), then run `qun up` again"
            }
            Error::CatchingUp { .. } => {
                "let it connect to a peer of each community (see `qun status`); if this backup is the only copy anywhere, restart with `qun up --i-know-this-is-the-only-copy`"
            }
            Error::BadBackup { .. } => {
                "use a directory written by `qun backup` and copied whole (manifest.json lists its files)"
            }
            Error::Search(_) => {
                "delete the `search` directory in the data directory; the node rebuilds it at its next start"
            }
            Error::BlobTooLarge { .. } => {
                "attach a smaller file (scale the image down), or raise [blobs] max_blob_bytes in config.toml"
            }
            Error::BlobBudget { .. } => {
                "run `qun blobs gc` to remove files no post or profile names, or raise [blobs] budget_bytes in config.toml"
            }
            Error::BlobMismatch { .. } => {
                "nothing to do: the peer that sent them is not asked for this file again"
            }
            Error::BlobUnavailable { .. } => {
                "it is fetched from members' nodes that have it: try again when one is online"
            }
            Error::RestoreTarget(_) => {
                "restore into a new, empty --data-dir (move the existing one away first)"
            }
        }
    }
}

/// Why the backup phrase is not shown (inside [`Error::PhraseRefused`]; see
/// `crate::keystore::check_phrase_request`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhraseRefusal {
    /// The keyfile is encrypted and no passphrase was given.
    PassphraseNeeded,
    /// The passphrase does not open the keyfile.
    WrongPassphrase,
    /// The keyfile has no passphrase and showing the phrase was not confirmed.
    ConfirmationNeeded,
}

impl std::fmt::Display for PhraseRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PhraseRefusal::PassphraseNeeded => {
                "the backup phrase is shown only after the keyfile's passphrase is typed again"
            }
            PhraseRefusal::WrongPassphrase => "wrong passphrase",
            PhraseRefusal::ConfirmationNeeded => {
                "the keyfile has no passphrase, so nothing protects the backup phrase: confirm to show it"
            }
        })
    }
}

impl PhraseRefusal {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            PhraseRefusal::PassphraseNeeded => {
                "type it at the prompt, or pipe it on stdin (QUN_PASSPHRASE is not used for this)"
            }
            PhraseRefusal::WrongPassphrase => {
                "it is the passphrase you chose for identity.key at `qun init`"
            }
            PhraseRefusal::ConfirmationNeeded => {
                "confirm where nobody can look over your shoulder (`qun backup-phrase --confirm`)"
            }
        }
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
