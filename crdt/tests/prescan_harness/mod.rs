//! How fuzz input is fed to [`qun_crdt::prescan::prescan`], shared by the cargo-fuzz target
//! `prescan` (`crdt/fuzz`, which includes this file by path) and the tests in
//! `tests/prescan.rs` (property tests and crasher fixtures under `tests/fuzz-crashers/prescan/`).
//!
//! Input: an even first byte takes the rest as change bytes as they are; an odd one takes the
//! rest as a change *body* and seals it into a chunk with the right length and checksum, so
//! that a fuzzer gets past sha256 to the fields and columns.
//!
//! [`check`] returns `Ok(ops)` when both `prescan` and `Change::from_bytes` accept, `Err(why)`
//! when either refuses, and panics (the finding) when an invariant breaks: the two disagree on
//! a field, or prescan's operation or predecessor count is below what automerge decoded.
//! `Change::from_bytes` only runs on bytes prescan accepted, with small limits, so a fuzzer
//! also finds (as a timeout or out-of-memory) anything prescan lets through that is expensive
//! to parse.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use automerge::Change;
use qun_crdt::prescan::{ChangeHeader, prescan};
use sha2::{Digest, Sha256};

/// Limits the harness passes to `prescan` (qun's default operations per change).
pub const MAX_OPS: u64 = qun_crdt::limits::DEFAULT_MAX_OPS_PER_CHANGE as u64;
/// Predecessor limit the harness passes.
pub const MAX_PREDS: u64 = MAX_OPS;

/// Automerge's chunk magic bytes.
pub const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// Unsigned LEB128.
pub fn uleb(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Signed LEB128.
pub fn sleb(mut v: i64, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if (v == 0 && b & 0x40 == 0) || (v == -1 && b & 0x40 != 0) {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// A change chunk around `body`, of type `chunk_type`, with the right length and checksum.
pub fn seal_as(chunk_type: u8, body: &[u8]) -> Vec<u8> {
    let mut head = vec![chunk_type];
    uleb(body.len() as u64, &mut head);
    let hash = Sha256::new()
        .chain_update(&head)
        .chain_update(body)
        .finalize();
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&hash[..4]);
    out.extend_from_slice(&head);
    out.extend_from_slice(body);
    out
}

/// An uncompressed change chunk around `body`.
pub fn seal(body: &[u8]) -> Vec<u8> {
    seal_as(1, body)
}

/// Run one fuzz input (see the module doc).
pub fn check(data: &[u8]) -> Result<u64, String> {
    let Some((&mode, rest)) = data.split_first() else {
        return Err("empty".into());
    };
    if mode % 2 == 1 {
        check_bytes(&seal(rest), MAX_OPS, MAX_PREDS)
    } else {
        check_bytes(rest, MAX_OPS, MAX_PREDS)
    }
}

/// `prescan`, then (only if it accepts) `Change::from_bytes`; panics if they disagree.
pub fn check_bytes(bytes: &[u8], max_ops: u64, max_preds: u64) -> Result<u64, String> {
    let h = prescan(bytes, max_ops, max_preds).map_err(|e| format!("prescan: {e}"))?;
    assert!(h.ops <= max_ops && h.preds <= max_preds, "limits not kept");
    let c = Change::from_bytes(bytes.to_vec()).map_err(|e| format!("automerge: {e}"))?;
    agree(&h, &c);
    Ok(h.ops)
}

/// Predecessor references of all operations of `c`.
pub fn preds_of(c: &Change) -> u64 {
    c.decode()
        .operations
        .iter()
        .map(|o| o.pred.len() as u64)
        .sum()
}

/// Panic unless `h` says what `c` does, with bounds at or above its counts.
pub fn agree(h: &ChangeHeader, c: &Change) {
    assert_eq!(h.hash, c.hash(), "hash");
    assert_eq!(h.deps, c.deps(), "deps");
    assert_eq!(h.actor, c.actor_id().to_bytes(), "actor");
    assert_eq!(h.seq, c.seq(), "seq");
    assert_eq!(h.start_op, c.start_op().get(), "start_op");
    assert_eq!(h.time, c.timestamp(), "time");
    assert_eq!(h.message.as_deref(), c.message(), "message");
    assert!(
        h.ops >= c.len() as u64,
        "prescan counted {} ops, automerge decoded {}",
        h.ops,
        c.len()
    );
    let preds = preds_of(c);
    assert!(
        h.preds >= preds,
        "prescan counted {} preds, automerge decoded {preds}",
        h.preds
    );
}
