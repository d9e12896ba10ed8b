//! The crate's one error type.

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the trust engine. Each variant says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A tunable is out of its range or contradicts another one; fix the configuration.
    #[error("invalid parameter {name}: {reason}")]
    InvalidParam {
        /// Which parameter.
        name: &'static str,
        /// What is wrong with it and what range is allowed.
        reason: String,
    },
    /// Ranking or admission was asked for with no seed; pass at least one viewer or founder.
    #[error("no seeds given: ranking and admission need at least one trusted starting member")]
    NoSeeds,
    /// A seed or queried node is not in the graph; endorse it or load its edges first.
    #[error("unknown node index {index} (the graph has {nodes} nodes)")]
    UnknownNode {
        /// The index asked for.
        index: u32,
        /// How many nodes the graph has.
        nodes: usize,
    },
    /// A label (from an edge list or a `--seeds` argument) is not in the graph.
    #[error("label {0:?} is not in the graph")]
    UnknownLabel(String),
    /// The graph would exceed the `u32` node or edge index space.
    #[error("graph too large: {what} would exceed {limit}")]
    TooLarge {
        /// Nodes or edges.
        what: &'static str,
        /// The limit.
        limit: u64,
    },
    /// An edge-list line could not be parsed; fix the file at that line.
    #[error("line {line}: {reason}")]
    Parse {
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// Reading the edge list failed (the reader, not the format).
    #[error("reading the edge list at line {line}: {source}")]
    Read {
        /// 1-based line number where reading stopped.
        line: u64,
        /// The reader's error.
        #[source]
        source: std::io::Error,
    },
    /// An endorsement was signed by a key that does not act for its `from` member.
    #[error("endorsement rejected by identity checks: {0}")]
    Identity(#[source] Box<qun_identity::Error>),
}

impl From<qun_identity::Error> for Error {
    fn from(e: qun_identity::Error) -> Self {
        Error::Identity(Box::new(e))
    }
}

impl Error {
    pub(crate) fn param(name: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidParam {
            name,
            reason: reason.into(),
        }
    }
}
