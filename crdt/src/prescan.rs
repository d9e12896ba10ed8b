//! Stand-in for the bounded header pre-scan (being written on branch `prescan`): same API,
//! implemented with Automerge's full parse. Replaced before this lands.

use automerge::{Change, ChangeHash};

/// The header fields of a change.
#[derive(Debug, Clone)]
pub struct ChangeHeader {
    /// Hash.
    pub hash: ChangeHash,
    /// Dependencies.
    pub deps: Vec<ChangeHash>,
    /// Actor bytes.
    pub actor: Vec<u8>,
    /// Sequence number.
    pub seq: u64,
    /// First op counter.
    pub start_op: u64,
    /// Time.
    pub time: i64,
    /// Message.
    pub message: Option<String>,
    /// Op count.
    pub ops: u64,
}

/// Why a pre-scan refused.
#[derive(Debug, thiserror::Error)]
pub enum PrescanError {
    /// Does not parse.
    #[error("{0}")]
    Parse(String),
    /// Too many ops.
    #[error("more than {limit} operations")]
    TooManyOps {
        /// Limit.
        limit: u64,
    },
}

/// Pre-scan a change.
pub fn prescan(bytes: &[u8], max_ops: u64) -> Result<ChangeHeader, PrescanError> {
    let c = Change::from_bytes(bytes.to_vec()).map_err(|e| PrescanError::Parse(e.to_string()))?;
    if bytes.len() < 8 || bytes[4..8] != c.hash().0[..4] {
        return Err(PrescanError::Parse("checksum mismatch".into()));
    }
    if c.len() as u64 > max_ops {
        return Err(PrescanError::TooManyOps { limit: max_ops });
    }
    Ok(ChangeHeader {
        hash: c.hash(),
        deps: c.deps().to_vec(),
        actor: c.actor_id().to_bytes().to_vec(),
        seq: c.seq(),
        start_op: c.start_op().get(),
        time: c.timestamp(),
        message: c.message().map(str::to_string),
        ops: c.len() as u64,
    })
}
