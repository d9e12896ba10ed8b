//! A bounded pre-scan of Automerge change bytes, to run before [`automerge::Change::from_bytes`].
//!
//! `Change::from_bytes` decodes every operation of a change. Its op columns are run-length
//! encoded, so ~120 bytes can declare 2^40 operations, or one operation with 2^40 predecessors,
//! and a compressed chunk inflates without limit; no key is needed to send such bytes.
//! [`prescan`] reads what a signature check needs (the hash, the actor, the dependencies...) and
//! upper bounds on the work of the full parse, in time O(`bytes.len()`) and memory O(deps +
//! actor + message) whatever the bytes declare: nothing is allocated by a declared size before
//! the size is checked against the input, and run-length-encoded runs are summed, never
//! expanded.
//!
//! # Format (automerge 0.12: `storage/chunk.rs`, `storage/change.rs`, `storage/columns/`)
//!
//! ```text
//! chunk:  magic 85 6f 4a 83 | checksum: 4 bytes | chunk type: 1 byte | body length: uLEB | body
//! body:   dependencies: uLEB count, count × 32-byte hash
//!         actor: uLEB length, bytes | seq: uLEB | start op: uLEB, not 0 | time: sLEB
//!         message: uLEB length, UTF-8 (empty = none)
//!         other actors: uLEB count, count × (uLEB length, bytes)
//!         column metadata: uLEB count, count × (spec: uLEB u32, data length: uLEB)
//!         column data: the columns' bytes back to back, in metadata order
//!         extra bytes: the rest of the body
//! hash = sha256(chunk type ‖ uLEB(body length) ‖ body); checksum = the hash's first 4 bytes
//! column spec = id << 4 | deflate << 3 | type (0 group, 1 actor, 2 integer, 3 delta integer,
//!               4 boolean, 5 string, 6 value metadata, 7 value)
//! ```
//!
//! The header integers use automerge's own strict LEB128 reader (no overlong encodings); the
//! column data uses the `leb128` crate's, as automerge's column decoders do. Both are ported
//! here bit for bit, so where automerge reads a value, [`prescan`] reads the same value from the
//! same bytes.
//!
//! # What is refused
//!
//! Anything but exactly one uncompressed change chunk: wrong magic, a compressed chunk, a
//! document or bundle chunk, a body shorter or longer than declared, a checksum that is not the
//! hash's, bad LEB128, a zero start op, a message that is not UTF-8, columns out of order or
//! repeated or deflated or longer than the data, malformed runs in an op column, an operation
//! naming an actor beyond the change's actor list, an op id counter past 32 bits, and more than
//! `max_ops` operations or `max_preds` predecessor references. An actor id of any length is
//! returned as it is.
//!
//! Automerge's `from_bytes` refuses all of these too except a few it never writes: a wrong
//! checksum (it does not check it), garbage in an op column after the rows it reads, an op
//! column with more rows than the action column, an actor index out of range (it accepts that,
//! and `Change::decode` then panics on it), and an op counter past 32 bits (it *panics* on that,
//! in `OpId::new`; found by the `prescan` fuzz target).
//!
//! # Why [`ChangeHeader::ops`] and [`ChangeHeader::preds`] are upper bounds
//!
//! In automerge 0.12, `Change::from_bytes` ends in `verify_ops`, which runs `ChangeOpsIter`
//! (`storage/change/change_op_columns.rs`). Per operation it reads one row from each op column
//! (object actor and counter, key actor, counter and string, insert, action, value metadata,
//! predecessor count, and when present expand and mark name), `n` rows from the predecessor
//! actor and counter columns where `n` is the row's predecessor count, and it stops when the
//! action column is exhausted or at the first error, which fails the whole parse. Apart from
//! that it only reads bytes that are present (strings, values), so its work is
//! O(bytes + operations + predecessor references).
//!
//! The number of rows a column yields is a function of its bytes alone: the sum of its run
//! lengths (RLE: repeated, literal and null runs; boolean: the alternating counts). [`prescan`]
//! walks each op column with a port of its decoder and sums run lengths with overflow checks,
//! stopping as soon as a sum passes the limit, so it never does more than one step per byte.
//!
//! * Operations: automerge decodes at most as many as the action column (id 4, integer) has
//!   rows; [`ChangeHeader::ops`] is the largest row count of *every* op column, that one
//!   included, so the bound does not even depend on which column drives the iteration. The
//!   sender chooses the column metadata, but cannot push the count down: the column a spec
//!   names is the only one with that spec (specs must strictly increase, as automerge also
//!   requires), omitting a column makes automerge see it empty too (0 rows), a deflated column
//!   is refused, and a column is exactly the bytes its metadata says (the data must be there).
//!   Where automerge reads the same bytes differently from its own metadata (a spec inside a
//!   group, say), it sees fewer rows than [`prescan`] counts, never more. For a change automerge
//!   wrote every op column has exactly `len()` rows or is empty, so `ops == change.len()`.
//! * Predecessors: automerge reads a prefix of the rows of the predecessor count column (the
//!   group column, id 7); [`ChangeHeader::preds`] is the sum over all its rows (run length ×
//!   value), an upper bound on what it materialises, and equal to the total for a change
//!   automerge wrote.
//!
//! So after `prescan(bytes, max_ops, max_preds)` succeeds, `Change::from_bytes(bytes)` does
//! O(`bytes.len()` + `max_ops` + `max_preds`) work.

use automerge::ChangeHash;
use sha2::{Digest, Sha256};

/// The four bytes every Automerge chunk starts with.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// Chunk types (`storage/chunk.rs`).
const CHUNK_DOCUMENT: u8 = 0;
const CHUNK_CHANGE: u8 = 1;
const CHUNK_COMPRESSED: u8 = 2;
const CHUNK_BUNDLE: u8 = 3;
const HASH_LEN: usize = 32;

/// Column types (`storage/columns/column_specification.rs`).
const GROUP: u32 = 0;
const ACTOR: u32 = 1;
const INTEGER: u32 = 2;
const DELTA: u32 = 3;
const BOOLEAN: u32 = 4;
const STRING: u32 = 5;
const VALUE_META: u32 = 6;
/// The deflate bit of a column spec.
const DEFLATE: u32 = 0b1000;

/// The header of a change chunk, and bounds on the size of its operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeHeader {
    /// The change hash (what [`automerge::Change::hash`] will report).
    pub hash: ChangeHash,
    /// Dependencies, in the order encoded.
    pub deps: Vec<ChangeHash>,
    /// The author's actor id, as encoded (any length).
    pub actor: Vec<u8>,
    /// Sequence number of the change for its actor.
    pub seq: u64,
    /// Counter of the change's first operation (never 0).
    pub start_op: u64,
    /// Time, as the author set it.
    pub time: i64,
    /// The message, if not empty.
    pub message: Option<String>,
    /// Upper bound on the operations `Change::from_bytes` decodes: `change.len()` for a
    /// well-formed change (see the module doc).
    pub ops: u64,
    /// Upper bound on the predecessor references it decodes, over all operations.
    pub preds: u64,
}

/// Why bytes were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrescanError {
    /// The input ended inside a field.
    #[error("truncated change: input ends inside {what}")]
    Truncated {
        /// The field.
        what: &'static str,
    },
    /// The input does not start with Automerge's magic bytes.
    #[error("not an Automerge chunk (bad magic bytes)")]
    BadMagic,
    /// A compressed (deflated) change chunk: refused, it can inflate without limit.
    #[error("compressed change chunk")]
    Compressed,
    /// A chunk that is not a change (0 document, 3 bundle, or unknown).
    #[error("chunk type {0} is not a change")]
    NotAChange(u8),
    /// Bytes follow the chunk.
    #[error("{extra} bytes after the change chunk")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// The checksum is not the first four bytes of the hash.
    #[error("checksum does not match the change hash")]
    BadChecksum,
    /// An LEB128 integer is overlong or does not fit 64 bits.
    #[error("malformed LEB128 integer in {what}")]
    BadLeb128 {
        /// The field.
        what: &'static str,
    },
    /// More dependencies are declared than the remaining bytes can hold.
    #[error("{declared} dependencies declared, room for {room}")]
    TooManyDeps {
        /// Declared count.
        declared: u64,
        /// How many 32-byte hashes the rest of the input could hold.
        room: usize,
    },
    /// The start op is 0.
    #[error("start op is 0")]
    ZeroStartOp,
    /// The message is not UTF-8.
    #[error("change message is not UTF-8")]
    BadMessage,
    /// A column spec does not fit 32 bits.
    #[error("column spec {0} does not fit 32 bits")]
    BadColumnSpec(u64),
    /// Column specs are not strictly increasing (automerge refuses both disorder and repeats).
    #[error("column {spec:#x} out of order or repeated")]
    ColumnsOutOfOrder {
        /// The offending spec.
        spec: u32,
    },
    /// A column is deflated (automerge refuses compressed columns in a change).
    #[error("column {spec:#x} is deflated")]
    CompressedColumn {
        /// The column spec.
        spec: u32,
    },
    /// The column lengths add up to more than the rest of the input.
    #[error("column data declared longer than the input")]
    ColumnsOverrun,
    /// An operation names an actor beyond the change's actor list (automerge's `from_bytes`
    /// accepts it; `Change::decode` then panics).
    #[error("column {spec:#x} names actor {index}, the change has {actors}")]
    BadActorIndex {
        /// The column spec.
        spec: u32,
        /// The index named.
        index: u64,
        /// Actors in the change (its own and the others).
        actors: u64,
    },
    /// An op id counter does not fit 32 bits (automerge's `from_bytes` panics on it).
    #[error("column {spec:#x} holds op counter {counter}, more than 32 bits")]
    CounterTooLarge {
        /// The column spec.
        spec: u32,
        /// The counter (saturated at the bounds of i64 as automerge's delta decoder does).
        counter: i64,
    },
    /// An op column's runs are malformed.
    #[error("malformed column {spec:#x}: {reason}")]
    BadColumn {
        /// The column spec.
        spec: u32,
        /// What is wrong.
        reason: &'static str,
    },
    /// Some op column declares more rows (operations) than the limit.
    #[error("more than {limit} operations (at least {declared_at_least})")]
    TooManyOps {
        /// The limit.
        limit: u64,
        /// Rows counted when the limit was passed.
        declared_at_least: u64,
    },
    /// The operations declare more predecessor references in total than the limit.
    #[error("more than {limit} predecessor references (at least {declared_at_least})")]
    TooManyPreds {
        /// The limit.
        limit: u64,
        /// References counted when the limit was passed.
        declared_at_least: u64,
    },
}

use PrescanError as E;

/// Check that `bytes` is one uncompressed Automerge change chunk of at most `max_ops`
/// operations and `max_preds` predecessor references in total, and read its header, in time
/// linear in `bytes.len()` (see the module doc).
pub fn prescan(bytes: &[u8], max_ops: u64, max_preds: u64) -> Result<ChangeHeader, PrescanError> {
    let mut r = Reader::new(bytes);
    if r.take(MAGIC.len(), "magic bytes")? != MAGIC {
        return Err(E::BadMagic);
    }
    let checksum = r.take(4, "checksum")?;
    let chunk_type = r.byte("chunk type")?;
    match chunk_type {
        CHUNK_CHANGE => {}
        CHUNK_COMPRESSED => return Err(E::Compressed),
        CHUNK_DOCUMENT | CHUNK_BUNDLE => return Err(E::NotAChange(chunk_type)),
        other => return Err(E::NotAChange(other)),
    }
    let body_len = r.uleb("chunk length")?;
    let rest = r.rest();
    let body_len = match usize::try_from(body_len) {
        Ok(n) if n <= rest.len() => n,
        _ => return Err(E::Truncated { what: "chunk body" }),
    };
    if rest.len() > body_len {
        return Err(E::TrailingBytes {
            extra: rest.len() - body_len,
        });
    }
    let body = rest;

    // As automerge's `chunk::hash`: the type, the length re-encoded, the body.
    let mut len_buf = [0u8; 10];
    let len_leb = write_uleb(body_len as u64, &mut len_buf);
    let hash: [u8; HASH_LEN] = Sha256::new()
        .chain_update([chunk_type])
        .chain_update(len_leb)
        .chain_update(body)
        .finalize()
        .into();
    if hash[..4] != *checksum {
        return Err(E::BadChecksum);
    }

    let mut r = Reader::new(body);
    let n_deps = r.uleb("dependency count")?;
    let room = r.remaining() / HASH_LEN;
    if n_deps > room as u64 {
        return Err(E::TooManyDeps {
            declared: n_deps,
            room,
        });
    }
    let mut deps = Vec::with_capacity(n_deps as usize);
    for _ in 0..n_deps {
        let h = r.take(HASH_LEN, "dependencies")?;
        let mut a = [0u8; HASH_LEN];
        a.copy_from_slice(h);
        deps.push(ChangeHash(a));
    }
    let actor = r.len_prefixed("actor")?.to_vec();
    let seq = r.uleb("seq")?;
    let start_op = r.uleb("start op")?;
    if start_op == 0 {
        return Err(E::ZeroStartOp);
    }
    let time = r.sleb("time")?;
    let message = r.len_prefixed("message")?;
    let message = match std::str::from_utf8(message) {
        Ok("") => None,
        Ok(m) => Some(m.to_owned()),
        Err(_) => return Err(E::BadMessage),
    };
    let n_other = r.uleb("other actor count")?;
    for _ in 0..n_other {
        // Each takes at least one byte, so this loop is bounded by the input.
        r.len_prefixed("other actors")?;
    }
    // Index 0 is the change's actor, 1.. the others.
    let actors = n_other.saturating_add(1);

    // Column metadata. Nothing is stored per column; each spec is checked as it is read and
    // its data found afterwards from the running offset.
    let n_cols = r.uleb("column count")?;
    let meta_start = r.pos;
    let mut total: u64 = 0;
    let mut last: Option<u32> = None;
    for _ in 0..n_cols {
        let spec = r.uleb("column metadata")?;
        let spec = u32::try_from(spec).map_err(|_| E::BadColumnSpec(spec))?;
        let len = r.uleb("column metadata")?;
        if spec & DEFLATE != 0 {
            return Err(E::CompressedColumn { spec });
        }
        if last.is_some_and(|l| spec <= l) {
            return Err(E::ColumnsOutOfOrder { spec });
        }
        last = Some(spec);
        total = total.checked_add(len).ok_or(E::ColumnsOverrun)?;
    }
    if total > r.remaining() as u64 {
        return Err(E::ColumnsOverrun);
    }
    let data = r.take(total as usize, "column data")?;
    // The rest of the body is extra bytes, which automerge keeps without interpreting.

    // Second pass over the (already validated) metadata: walk each op column.
    let mut meta = Reader::new(&body[meta_start..]);
    let mut offset = 0usize;
    let (mut ops, mut preds) = (0u64, 0u64);
    for _ in 0..n_cols {
        let spec = meta.uleb("column metadata")? as u32;
        let len = meta.uleb("column metadata")? as usize;
        let col = &data[offset..offset + len];
        offset += len;
        let Some((kind, role)) = op_column(spec) else {
            continue;
        };
        let (row_limit, sum_limit) = match role {
            Role::Op => (max_ops, None),
            Role::PredCount => (max_ops, Some(max_preds)),
            Role::Pred => (max_preds, None),
        };
        let check = match (spec & 0b111, kind) {
            // Automerge's `OpId::new` unwraps both into u32.
            (ACTOR, _) => Check::Actor((actors - 1).min(u64::from(u32::MAX))),
            (INTEGER, _) if spec >> 4 == 0 => Check::Counter,
            (DELTA, _) => Check::DeltaCounter,
            _ => Check::Nothing,
        };
        let stats = walk(col, kind, row_limit, sum_limit, check).map_err(|e| match e {
            Walk::Rows(n) if role == Role::Pred => E::TooManyPreds {
                limit: max_preds,
                declared_at_least: n,
            },
            Walk::Rows(n) => E::TooManyOps {
                limit: max_ops,
                declared_at_least: n,
            },
            Walk::Sum(n) => E::TooManyPreds {
                limit: max_preds,
                declared_at_least: n,
            },
            Walk::Actor(index) => E::BadActorIndex {
                spec,
                index,
                actors,
            },
            Walk::Counter(counter) => E::CounterTooLarge { spec, counter },
            Walk::Bad(reason) => E::BadColumn { spec, reason },
        })?;
        match role {
            Role::Op => ops = ops.max(stats.rows),
            Role::PredCount => {
                ops = ops.max(stats.rows);
                preds = stats.sum;
            }
            Role::Pred => {}
        }
    }

    Ok(ChangeHeader {
        hash: ChangeHash(hash),
        deps,
        actor,
        seq,
        start_op,
        time,
        message,
        ops,
        preds,
    })
}

/// What a column's rows are.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    /// One row per operation.
    Op,
    /// The predecessor count column: one row per operation, the sum of its values is the number
    /// of predecessor references.
    PredCount,
    /// One row per predecessor reference (the grouped actor and counter columns).
    Pred,
}

/// How a column's rows are encoded.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// RLE of unsigned LEB128 (`RleDecoder<u64>`).
    Uint,
    /// RLE of signed LEB128 (`RleDecoder<i64>`, under `DeltaDecoder`).
    Int,
    /// RLE of length-prefixed strings (`RleDecoder<SmolStr>`).
    Str,
    /// Alternating run lengths of false and true (`BooleanDecoder`).
    Bool,
}

/// The op columns automerge 0.12 decodes (`ChangeOpsColumns::try_from`), by spec.
fn op_column(spec: u32) -> Option<(Kind, Role)> {
    let (id, ty) = (spec >> 4, spec & 0b111);
    Some(match (id, ty) {
        // object actor, object counter
        (0, ACTOR) | (0, INTEGER) => (Kind::Uint, Role::Op),
        // key actor, key counter, key string
        (1, ACTOR) => (Kind::Uint, Role::Op),
        (1, DELTA) => (Kind::Int, Role::Op),
        (1, STRING) => (Kind::Str, Role::Op),
        // insert
        (3, BOOLEAN) => (Kind::Bool, Role::Op),
        // action
        (4, INTEGER) => (Kind::Uint, Role::Op),
        // value metadata (the raw value column, (5, VALUE), is read by length from it)
        (5, VALUE_META) => (Kind::Uint, Role::Op),
        // predecessors: count, actor, counter
        (7, GROUP) => (Kind::Uint, Role::PredCount),
        (7, ACTOR) => (Kind::Uint, Role::Pred),
        (7, DELTA) => (Kind::Int, Role::Pred),
        // expand, mark name
        (9, BOOLEAN) => (Kind::Bool, Role::Op),
        (10, STRING) => (Kind::Str, Role::Op),
        _ => return None,
    })
}

/// Rows of a column, and the sum of its values (unsigned columns only, for the predecessor
/// count).
struct Stats {
    rows: u64,
    sum: u64,
}

/// Why a column walk stopped.
enum Walk {
    /// Rows passed the limit; at least this many.
    Rows(u64),
    /// The sum of values passed the limit; at least this much.
    Sum(u64),
    /// An actor index out of range.
    Actor(u64),
    /// An op counter past u32.
    Counter(i64),
    /// Malformed.
    Bad(&'static str),
}

/// What a column's values must satisfy for automerge to decode them without panicking.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Check {
    /// Anything.
    Nothing,
    /// Actor indices: at most this.
    Actor(u64),
    /// Op counters: at most `u32::MAX`.
    Counter,
    /// Op counters as deltas (`DeltaDecoder`: a running saturating sum): at most `u32::MAX`.
    DeltaCounter,
}

/// Count a column's rows as automerge's decoder for `kind` would yield them, without expanding
/// any run: one step per run or literal value, each consuming at least one byte. Values are
/// checked as `check` says.
fn walk(
    col: &[u8],
    kind: Kind,
    row_limit: u64,
    sum_limit: Option<u64>,
    check: Check,
) -> Result<Stats, Walk> {
    let mut c = ColReader { data: col, pos: 0 };
    let mut rows: u64 = 0;
    let mut sum: u64 = 0;
    // `DeltaDecoder`'s running value.
    let mut absolute: i64 = 0;
    let add_rows = |rows: &mut u64, n: u64| -> Result<(), Walk> {
        *rows = rows.checked_add(n).ok_or(Walk::Rows(u64::MAX))?;
        if *rows > row_limit {
            return Err(Walk::Rows(*rows));
        }
        Ok(())
    };
    // `count` rows of `value` (a run, or one literal).
    let on_value =
        |sum: &mut u64, absolute: &mut i64, count: u64, value: i128| -> Result<(), Walk> {
            let clamp = |v: i128| v.clamp(i64::MIN.into(), i64::MAX.into()) as i64;
            let big = |v: i64| v > i64::from(u32::MAX);
            match check {
                Check::Nothing => {}
                Check::Actor(max) if value > i128::from(max) => {
                    return Err(Walk::Actor(u64::try_from(value).unwrap_or(u64::MAX)));
                }
                Check::Actor(_) => {}
                Check::Counter if value > i128::from(u32::MAX) => {
                    return Err(Walk::Counter(clamp(value)));
                }
                Check::Counter => {}
                Check::DeltaCounter => {
                    // A run adds the same delta `count` times, saturating: the values are
                    // monotonic, so the largest is its first or its last, and stepwise saturation
                    // ends where the clamped exact sum does. count, |value| < 2^64: no overflow.
                    let first = clamp(i128::from(*absolute) + value);
                    *absolute = clamp(i128::from(*absolute) + i128::from(count) * value);
                    if big(first) || big(*absolute) {
                        return Err(Walk::Counter(first.max(*absolute)));
                    }
                }
            }
            let Some(limit) = sum_limit else {
                return Ok(());
            };
            let value = u64::try_from(value).map_err(|_| Walk::Bad("negative count"))?;
            *sum = count
                .checked_mul(value)
                .and_then(|v| sum.checked_add(v))
                .ok_or(Walk::Sum(u64::MAX))?;
            if *sum > limit {
                return Err(Walk::Sum(*sum));
            }
            Ok(())
        };
    if kind == Kind::Bool {
        // `BooleanDecoder`: counts of false, true, false, ... until the data ends.
        while !c.done() {
            add_rows(&mut rows, c.uleb()?)?;
        }
        return Ok(Stats { rows, sum });
    }
    // `RleDecoder`: a signed count; > 0: a run of one value; < 0: that many literal values;
    // 0: an unsigned count of nulls.
    while !c.done() {
        let count = c.sleb()?;
        if count > 0 {
            let n = count as u64;
            add_rows(&mut rows, n)?;
            let v = c.value(kind)?;
            on_value(&mut sum, &mut absolute, n, v)?;
        } else if count < 0 {
            // automerge takes `count.abs()`, which overflows for i64::MIN.
            let n = count
                .checked_neg()
                .ok_or(Walk::Bad("literal run too long"))? as u64;
            add_rows(&mut rows, n)?;
            // n ≤ row_limit, and each value consumes at least one byte or fails.
            for _ in 0..n {
                let v = c.value(kind)?;
                on_value(&mut sum, &mut absolute, 1, v)?;
            }
        } else {
            let n = c.uleb()?;
            // automerge stores it as an isize: longer runs turn negative and never end.
            if n > i64::MAX as u64 {
                return Err(Walk::Bad("null run too long"));
            }
            add_rows(&mut rows, n)?;
        }
    }
    Ok(Stats { rows, sum })
}

/// Cursor over column data, reading LEB128 as the `leb128` crate (0.2) does, which is what
/// automerge's column decoders use: overlong encodings are accepted, the tenth byte may only
/// hold the 64th bit (its sign extension for signed values).
struct ColReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl ColReader<'_> {
    fn done(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn byte(&mut self) -> Result<u8, Walk> {
        let b = *self
            .data
            .get(self.pos)
            .ok_or(Walk::Bad("data ends inside a value"))?;
        self.pos += 1;
        Ok(b)
    }

    /// `leb128::read::unsigned`.
    fn uleb(&mut self) -> Result<u64, Walk> {
        let mut result: u64 = 0;
        let mut shift = 0u32;
        loop {
            let b = self.byte()?;
            if shift == 63 && b != 0x00 && b != 0x01 {
                return Err(Walk::Bad("LEB128 overflow"));
            }
            result |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(result);
            }
            shift += 7;
        }
    }

    /// `leb128::read::signed`.
    fn sleb(&mut self) -> Result<i64, Walk> {
        let mut result: i64 = 0;
        let mut shift = 0u32;
        let mut b;
        loop {
            b = self.byte()?;
            if shift == 63 && b != 0x00 && b != 0x7f {
                return Err(Walk::Bad("LEB128 overflow"));
            }
            result |= i64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        if shift < 64 && b & 0x40 != 0 {
            result |= !0 << shift;
        }
        Ok(result)
    }

    /// Read one value of a run: the number for integer columns, 0 for strings.
    fn value(&mut self, kind: Kind) -> Result<i128, Walk> {
        match kind {
            Kind::Uint => self.uleb().map(i128::from),
            Kind::Int => self.sleb().map(i128::from),
            Kind::Str => {
                // `Vec<u8>::decode`: a length, then that many bytes. automerge allocates the
                // length (up to 1 GB) before reading: refuse what is not there.
                let len = self.uleb()?;
                let left = (self.data.len() - self.pos) as u64;
                if len > left {
                    return Err(Walk::Bad("string longer than its column"));
                }
                self.pos += len as usize;
                Ok(0)
            }
            Kind::Bool => Err(Walk::Bad("boolean column has no run values")),
        }
    }
}

/// Cursor over the chunk, reading LEB128 as automerge's `storage::parse::leb128` does (strict:
/// no overlong encodings, nothing past 64 bits).
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    fn rest(&mut self) -> &'a [u8] {
        let rest = &self.data[self.pos..];
        self.pos = self.data.len();
        rest
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], PrescanError> {
        if n > self.remaining() {
            return Err(E::Truncated { what });
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, PrescanError> {
        Ok(self.take(1, what)?[0])
    }

    /// A uLEB length, then that many bytes (checked against the input before anything is
    /// taken).
    fn len_prefixed(&mut self, what: &'static str) -> Result<&'a [u8], PrescanError> {
        let n = self.uleb(what)?;
        if n > self.remaining() as u64 {
            return Err(E::Truncated { what });
        }
        self.take(n as usize, what)
    }

    /// `storage::parse::leb128_u64`.
    fn uleb(&mut self, what: &'static str) -> Result<u64, PrescanError> {
        let mut res: u64 = 0;
        let mut shift = 0u32;
        loop {
            let b = self.byte(what)?;
            res |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                if (shift > 64 && b > 1) || (shift > 7 && b == 0) {
                    return Err(E::BadLeb128 { what });
                }
                return Ok(res);
            } else if shift > 64 {
                return Err(E::BadLeb128 { what });
            }
        }
    }

    /// `storage::parse::leb128_i64`.
    fn sleb(&mut self, what: &'static str) -> Result<i64, PrescanError> {
        let mut res: i64 = 0;
        let mut shift = 0u32;
        let mut prev = 0u8;
        loop {
            let b = self.byte(what)?;
            res |= i64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                let too_large = shift > 64 && b != 0 && b != 0x7f;
                let overlong =
                    shift > 7 && ((b == 0 && prev & 0x40 == 0) || (b == 0x7f && prev & 0x40 != 0));
                if too_large || overlong {
                    return Err(E::BadLeb128 { what });
                }
                if shift < 64 && b & 0x40 != 0 {
                    res |= -1 << shift;
                }
                return Ok(res);
            } else if shift > 64 {
                return Err(E::BadLeb128 { what });
            }
            prev = b;
        }
    }
}

/// Unsigned LEB128 of `v` into `buf`; returns the bytes written.
fn write_uleb(mut v: u64, buf: &mut [u8; 10]) -> &[u8] {
    let mut i = 0;
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            buf[i] = b;
            return &buf[..=i];
        }
        buf[i] = b | 0x80;
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(col: &[u8], kind: Kind) -> Result<(u64, u64), &'static str> {
        checked(col, kind, Check::Nothing)
    }

    fn checked(col: &[u8], kind: Kind, check: Check) -> Result<(u64, u64), &'static str> {
        let sum_limit = (check == Check::Nothing).then_some(1000);
        walk(col, kind, 1000, sum_limit, check)
            .map(|s| (s.rows, s.sum))
            .map_err(|e| match e {
                Walk::Rows(_) => "rows",
                Walk::Sum(_) => "sum",
                Walk::Actor(_) => "actor",
                Walk::Counter(_) => "counter",
                Walk::Bad(r) => r,
            })
    }

    #[test]
    fn header_leb128_is_strict() {
        let u = |b: &[u8]| Reader::new(b).uleb("x");
        assert_eq!(u(&[0x00]), Ok(0));
        assert_eq!(u(&[0xe5, 0x8e, 0x26]), Ok(624_485));
        assert!(u(&[0x80, 0x00]).is_err(), "overlong");
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(u(&max), Ok(u64::MAX));
        let mut big = max;
        big[9] = 0x02;
        assert!(u(&big).is_err(), "past 64 bits");
        let s = |b: &[u8]| Reader::new(b).sleb("x");
        assert_eq!(s(&[0x7f]), Ok(-1));
        assert_eq!(s(&[0xc0, 0xbb, 0x78]), Ok(-123_456));
        assert!(s(&[0xff, 0x7f]).is_err(), "overlong -1");
        assert!(s(&[0x80, 0x00]).is_err(), "overlong 0");
        let mut buf = [0; 10];
        for v in [0, 1, 127, 128, 624_485, u64::MAX] {
            assert_eq!(Reader::new(write_uleb(v, &mut buf)).uleb("x"), Ok(v));
        }
    }

    #[test]
    fn column_leb128_is_lenient_like_the_leb128_crate() {
        let mut c = ColReader {
            data: &[0x80, 0x00, 0xff, 0x7f],
            pos: 0,
        };
        assert!(matches!(c.uleb(), Ok(0)), "overlong accepted");
        assert!(matches!(c.sleb(), Ok(-1)), "overlong accepted");
        assert!(c.done());
    }

    #[test]
    fn runs_are_summed() {
        // run of 3 × 5, literal [1, 2], 4 nulls: 9 rows, sum 18.
        assert_eq!(stats(&[3, 5, 0x7e, 1, 2, 0, 4], Kind::Uint), Ok((9, 18)));
        // zero-length null run adds nothing.
        assert_eq!(stats(&[0, 0, 1, 7], Kind::Uint), Ok((1, 7)));
        // strings: run of 2 × "ab", literal ["", "c"].
        assert_eq!(
            stats(&[2, 2, b'a', b'b', 0x7e, 0, 1, b'c'], Kind::Str),
            Ok((4, 0))
        );
        // booleans: 2 false, 0 true, 3 false.
        assert_eq!(stats(&[2, 0, 3], Kind::Bool), Ok((5, 0)));
        // 0x7f is -1: a literal run of one value.
        assert_eq!(stats(&[0x7f, 0x0f], Kind::Uint), Ok((1, 15)));
        assert_eq!(stats(&[2], Kind::Uint), Err("data ends inside a value"));
        assert_eq!(stats(&[0xe9, 0x07, 0], Kind::Uint), Err("rows"));
        assert_eq!(stats(&[3, 0xe9, 0x03], Kind::Uint), Err("sum"));
        assert_eq!(
            stats(&[1, 5, b'a'], Kind::Str),
            Err("string longer than its column")
        );
    }

    #[test]
    fn counters_must_fit_32_bits() {
        let mut max = vec![1];
        max.extend([0xff, 0xff, 0xff, 0xff, 0x0f]); // one row of u32::MAX
        assert_eq!(checked(&max, Kind::Uint, Check::Counter), Ok((1, 0)));
        let over = [1, 0x80, 0x80, 0x80, 0x80, 0x10]; // 2^32
        assert_eq!(checked(&over, Kind::Uint, Check::Counter), Err("counter"));
        // Deltas: 1000 rows of +2^23 pass 2^32 only near the end of the run.
        let run = [0xe8, 0x07, 0x80, 0x80, 0x80, 0x04];
        assert_eq!(
            checked(&run, Kind::Int, Check::DeltaCounter),
            Err("counter")
        );
        // ... and +2^23 then -2^23 never leave the range.
        let lit = [0x7e, 0x80, 0x80, 0x80, 0x04, 0x80, 0x80, 0x80, 0x7c];
        assert_eq!(checked(&lit, Kind::Int, Check::DeltaCounter), Ok((2, 0)));
        // Actor indices.
        assert_eq!(checked(&[2, 3], Kind::Uint, Check::Actor(3)), Ok((2, 0)));
        assert_eq!(checked(&[2, 4], Kind::Uint, Check::Actor(3)), Err("actor"));
    }
}
