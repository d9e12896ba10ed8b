//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong in the simulator library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario file is not valid; `key` and `line` point at the culprit.
    #[error("{file}:{line}: `{key}`: {message}")]
    Scenario {
        /// File name as given by the caller.
        file: String,
        /// 1-based line of the offending key (0 when unknown).
        line: usize,
        /// Dotted path of the offending key (`gossip.d_lo`).
        key: String,
        /// What is wrong and what would be accepted.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// An edge-list file has a malformed line.
    #[error("{path}:{line}: bad edge line: {message}")]
    EdgeList {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Writing CSV output failed.
    #[error("csv output: {0}")]
    Csv(#[from] csv::Error),
    /// Writing JSON output failed.
    #[error("json output: {0}")]
    Json(#[from] serde_json::Error),
    /// The economy simulation found the ledger disagreeing with its members, or could not
    /// make a change.
    #[error("economy: {0}")]
    Economy(String),
    /// Drawing a plot failed.
    #[error("plot {path}: {message}")]
    Plot {
        /// The output file.
        path: PathBuf,
        /// The backend's message.
        message: String,
    },
    /// The trust engine rejected the experiment (bad parameters, unknown seed label…).
    #[error("trust layer: {0}")]
    Trust(#[from] qun_trust::Error),
    /// Full-fidelity mode: the real replication core refused a step of the set-up (a genesis,
    /// an admission, a restore).
    #[error("full-fidelity mode: {0}")]
    Replicator(#[from] qun_crdt::Error),
    /// A sweep parameter path does not exist in the scenario or got an unusable value.
    #[error("sweep parameter `{param}`: {message}")]
    Sweep {
        /// Dotted scenario key being swept.
        param: String,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// Wraps an IO error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
