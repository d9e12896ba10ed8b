//! `qun_crdt::prescan`: it reports exactly what `automerge::Change::from_bytes` does for the
//! changes automerge writes, refuses hostile chunks cheaply, and never panics or under-counts on
//! mutated ones.

mod prescan_harness;

use automerge::ObjId;
use automerge::marks::{ExpandMark, Mark};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, Change, ObjType, ReadDoc, ScalarValue, Value};
use prescan_harness::{check_bytes, seal, seal_as, sleb, uleb};
use proptest::prelude::*;
use qun_crdt::prescan::{PrescanError, prescan};
use std::path::Path;

const BIG: u64 = 1 << 40;
const LIMIT: u64 = 2_000;

// ---------------------------------------------------------------------------------------------
// Generating real changes

#[derive(Debug, Clone)]
enum Val {
    Str(String),
    Int(i64),
    Uint(u64),
    F64(f64),
    Bytes(Vec<u8>),
    Counter(i64),
    Ts(i64),
    Bool(bool),
    Null,
}

impl From<&Val> for ScalarValue {
    fn from(v: &Val) -> Self {
        match v {
            Val::Str(s) => ScalarValue::Str(s.as_str().into()),
            Val::Int(i) => ScalarValue::Int(*i),
            Val::Uint(u) => ScalarValue::Uint(*u),
            Val::F64(f) => ScalarValue::F64(*f),
            Val::Bytes(b) => ScalarValue::Bytes(b.clone()),
            Val::Counter(c) => ScalarValue::counter(*c),
            Val::Ts(t) => ScalarValue::Timestamp(*t),
            Val::Bool(b) => ScalarValue::Boolean(*b),
            Val::Null => ScalarValue::Null,
        }
    }
}

fn val() -> impl Strategy<Value = Val> {
    prop_oneof![
        "[a-z]{0,12}".prop_map(Val::Str),
        ".{0,40}".prop_map(Val::Str),
        any::<i64>().prop_map(Val::Int),
        any::<u64>().prop_map(Val::Uint),
        any::<f64>().prop_map(Val::F64),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Val::Bytes),
        any::<i64>().prop_map(Val::Counter),
        any::<i64>().prop_map(Val::Ts),
        any::<bool>().prop_map(Val::Bool),
        Just(Val::Null),
    ]
}

/// One step of a script run on two replicas.
#[derive(Debug, Clone)]
enum Step {
    /// An edit of an object picked by `sel`, of a kind picked by `what`.
    Edit {
        sel: usize,
        what: u8,
        key: u8,
        at: usize,
        n: usize,
        val: Val,
        text: String,
    },
    /// Commit the open transaction.
    Commit { message: Option<String>, time: i64 },
    /// Merge each replica into the other (changes with several dependencies, conflicts).
    Merge,
    /// Edits go to the other replica.
    Switch,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (any::<usize>(), any::<u8>(), 0..4u8, any::<usize>(), 0..4usize, val(), "[a-zé ]{0,8}")
            .prop_map(|(sel, what, key, at, n, val, text)| Step::Edit { sel, what, key, at, n, val, text }),
        // Automerge's change graph overflows (debug panic in hexane) on time deltas past i64.
        2 => (proptest::option::of(".{0,30}"), -(1i64 << 50)..(1i64 << 50))
            .prop_map(|(message, time)| Step::Commit { message, time }),
        1 => Just(Step::Merge),
        1 => Just(Step::Switch),
    ]
}

/// The objects an edit can target: the root, the objects under its keys, and one level below.
fn objects(doc: &AutoCommit) -> Vec<(ObjId, ObjType)> {
    let mut out = vec![(automerge::ROOT, ObjType::Map)];
    let mut i = 0;
    while i < out.len() && out.len() < 12 {
        let (obj, t) = out[i].clone();
        let props: Vec<automerge::Prop> = match t {
            ObjType::Map | ObjType::Table => doc.keys(&obj).map(Into::into).collect(),
            ObjType::List => (0..doc.length(&obj).min(4)).map(Into::into).collect(),
            ObjType::Text => vec![],
        };
        for p in props {
            if let Ok(Some((Value::Object(t), id))) = doc.get(&obj, p) {
                out.push((id, t));
            }
        }
        i += 1;
    }
    out
}

fn kind(k: u8) -> ObjType {
    match k % 3 {
        0 => ObjType::Map,
        1 => ObjType::List,
        _ => ObjType::Text,
    }
}

fn edit(doc: &mut AutoCommit, step: &Step) {
    let Step::Edit {
        sel,
        what,
        key,
        at,
        n,
        val,
        text,
    } = step
    else {
        return;
    };
    let objs = objects(doc);
    let (obj, t) = objs[sel % objs.len()].clone();
    let key = format!("k{key}");
    let v = ScalarValue::from(val);
    let len = doc.length(&obj);
    // Failures (incrementing a non-counter, say) are fine: the step just does nothing.
    let _ = match t {
        ObjType::Map | ObjType::Table => match what % 4 {
            0 => doc.put(&obj, key, v),
            1 => doc.put_object(&obj, key, kind(what / 4)).map(drop),
            2 => doc.delete(&obj, key),
            _ => doc.increment(&obj, key, *at as i64 % 100),
        },
        ObjType::List => match what % 5 {
            0 => doc.insert(&obj, at % (len + 1), v),
            1 => doc
                .insert_object(&obj, at % (len + 1), kind(what / 5))
                .map(drop),
            2 if len > 0 => doc.put(&obj, at % len, v),
            3 if len > 0 => doc.delete(&obj, at % len),
            _ if len > 0 => doc.increment(&obj, at % len, 1),
            _ => Ok(()),
        },
        ObjType::Text => match what % 3 {
            0 | 1 => {
                let pos = at % (len + 1);
                let del = (*n).min(len - pos) as isize;
                doc.splice_text(&obj, pos, del, text)
            }
            _ if len > 0 => {
                let start = at % len;
                let end = (start + n + 1).min(len);
                let expand = match what / 3 % 4 {
                    0 => ExpandMark::Before,
                    1 => ExpandMark::After,
                    2 => ExpandMark::Both,
                    _ => ExpandMark::None,
                };
                doc.mark(&obj, Mark::new(format!("m{key}"), v, start, end), expand)
            }
            _ => Ok(()),
        },
    };
}

fn commit(doc: &mut AutoCommit, message: &Option<String>, time: i64) {
    let mut o = CommitOptions::default().with_time(time);
    if let Some(m) = message {
        o = o.with_message(m.clone());
    }
    doc.commit_with(o);
}

/// Run `steps` on two replicas with 32-byte actors; every change either made, in causal order.
fn run(actors: ([u8; 32], [u8; 32]), steps: &[Step]) -> Vec<Change> {
    let (a, mut b) = actors;
    if a == b {
        b[0] ^= 1;
    }
    let mut docs = [
        AutoCommit::new().with_actor(ActorId::from(a)),
        AutoCommit::new().with_actor(ActorId::from(b)),
    ];
    let mut cur = 0;
    for s in steps {
        match s {
            Step::Edit { .. } => edit(&mut docs[cur], s),
            Step::Commit { message, time } => commit(&mut docs[cur], message, *time),
            Step::Merge => {
                let [x, y] = &mut docs;
                x.merge(y).expect("merge");
                y.merge(x).expect("merge");
            }
            Step::Switch => cur = 1 - cur,
        }
    }
    let [x, y] = &mut docs;
    x.commit();
    y.commit();
    x.merge(y).expect("merge");
    x.get_changes(&[])
}

/// A fixed history covering every column: maps, lists, text, marks, counters, conflicts (several
/// predecessors), messages, negative times, several dependencies.
fn sample() -> Vec<Change> {
    let mut a = AutoCommit::new().with_actor(ActorId::from([7u8; 32]));
    let list = a
        .put_object(automerge::ROOT, "list", ObjType::List)
        .unwrap();
    let text = a
        .put_object(automerge::ROOT, "text", ObjType::Text)
        .unwrap();
    a.put(automerge::ROOT, "n", ScalarValue::counter(3))
        .unwrap();
    for i in 0..20 {
        a.insert(&list, i, i as i64).unwrap();
    }
    a.splice_text(&text, 0, 0, "hello wörld").unwrap();
    commit(&mut a, &Some("first".into()), 1_700_000_000_000);
    let mut b = a.fork().with_actor(ActorId::from([9u8; 32]));
    a.put(automerge::ROOT, "k", "from a").unwrap();
    b.put(automerge::ROOT, "k", "from b").unwrap();
    b.put(automerge::ROOT, "k2", vec![1u8, 2, 3]).unwrap();
    a.mark(
        &text,
        Mark::new("bold".into(), true, 0, 5),
        ExpandMark::After,
    )
    .unwrap();
    commit(&mut a, &None, -5);
    commit(&mut b, &Some(String::new()), 0);
    a.merge(&mut b).unwrap();
    a.put(automerge::ROOT, "k", "resolved").unwrap(); // 2 predecessors
    a.increment(automerge::ROOT, "n", 4).unwrap();
    for i in (0..20).step_by(3).rev() {
        a.delete(&list, i).unwrap();
    }
    a.splice_text(&text, 2, 3, "").unwrap();
    a.put(&list, 0, 2.5).unwrap();
    commit(&mut a, &Some("merge".into()), -(1 << 40));
    a.put(automerge::ROOT, "small", 1).unwrap();
    commit(&mut a, &None, 1);
    a.get_changes(&[])
}

// ---------------------------------------------------------------------------------------------
// Editing changes column by column

/// A change body split into the part before the column metadata, the columns and the extra
/// bytes (test code: valid input only).
#[derive(Clone)]
struct Body {
    head: Vec<u8>,
    cols: Vec<(u32, Vec<u8>)>,
    extra: Vec<u8>,
}

struct Cur<'a>(&'a [u8], usize);

impl Cur<'_> {
    fn uleb(&mut self) -> u64 {
        let (mut v, mut s) = (0u64, 0);
        loop {
            let b = self.0[self.1];
            self.1 += 1;
            v |= u64::from(b & 0x7f) << s;
            s += 7;
            if b & 0x80 == 0 {
                return v;
            }
        }
    }
    fn skip(&mut self, n: u64) {
        self.1 += n as usize;
    }
}

/// The body of a valid uncompressed change chunk.
fn body_of(chunk: &[u8]) -> &[u8] {
    let mut c = Cur(chunk, 9);
    let len = c.uleb() as usize;
    &chunk[c.1..c.1 + len]
}

impl Body {
    fn parse(chunk: &[u8]) -> Body {
        let body = body_of(chunk);
        let mut c = Cur(body, 0);
        let deps = c.uleb();
        c.skip(32 * deps);
        let n = c.uleb();
        c.skip(n); // actor
        c.uleb(); // seq
        c.uleb(); // start op
        c.uleb(); // time (signed, same length rules)
        let n = c.uleb();
        c.skip(n); // message
        for _ in 0..c.uleb() {
            let n = c.uleb();
            c.skip(n);
        }
        let head = body[..c.1].to_vec();
        let meta: Vec<(u32, u64)> = (0..c.uleb()).map(|_| (c.uleb() as u32, c.uleb())).collect();
        let mut cols = Vec::new();
        for (spec, len) in meta {
            cols.push((spec, body[c.1..c.1 + len as usize].to_vec()));
            c.skip(len);
        }
        Body {
            head,
            cols,
            extra: body[c.1..].to_vec(),
        }
    }

    fn set(&mut self, spec: u32, data: Vec<u8>) -> &mut Self {
        match self.cols.iter_mut().find(|(s, _)| *s == spec) {
            Some(c) => c.1 = data,
            None => {
                self.cols.push((spec, data));
                self.cols.sort_by_key(|c| c.0);
            }
        }
        self
    }

    fn remove(&mut self, spec: u32) -> &mut Self {
        self.cols.retain(|c| c.0 != spec);
        self
    }

    fn body(&self) -> Vec<u8> {
        let mut out = self.head.clone();
        uleb(self.cols.len() as u64, &mut out);
        for (spec, data) in &self.cols {
            uleb(u64::from(*spec), &mut out);
            uleb(data.len() as u64, &mut out);
        }
        for (_, data) in &self.cols {
            out.extend_from_slice(data);
        }
        out.extend_from_slice(&self.extra);
        out
    }

    fn chunk(&self) -> Vec<u8> {
        seal(&self.body())
    }
}

const OBJ_ACTOR: u32 = 0x01;
const OBJ_CTR: u32 = 0x02;
const KEY_ACTOR: u32 = 0x11;
const KEY_CTR: u32 = 0x13;
const KEY_STR: u32 = 0x15;
const INSERT: u32 = 0x34;
const ACTION: u32 = 0x42;
const VAL_META: u32 = 0x56;
const PRED_NUM: u32 = 0x70;
const PRED_ACTOR: u32 = 0x71;
const PRED_CTR: u32 = 0x73;
const EXPAND: u32 = 0x94;
const MARK_NAME: u32 = 0xa5;

/// RLE run: `n` rows of one value.
fn run_of(n: u64, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    sleb(n as i64, &mut out);
    out.extend_from_slice(value);
    out
}

/// A run of `n` rows in the encoding of column `spec`.
fn big_column(spec: u32, n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    match spec & 7 {
        4 => uleb(n, &mut out),           // boolean: n falses
        5 => out = run_of(n, &[1, b'a']), // string "a"
        _ => out = run_of(n, &[0]),       // integer 0
    }
    out
}

/// A one-op change: `put(ROOT, "k", 1)` on a fresh document (no predecessors).
fn tiny() -> Change {
    let mut d = AutoCommit::new().with_actor(ActorId::from([3u8; 32]));
    d.put(automerge::ROOT, "k", 1).unwrap();
    commit(&mut d, &None, 0);
    d.get_last_local_change().unwrap()
}

/// A change whose one op overwrites a value (one predecessor), with a dependency.
fn overwrite() -> Change {
    let mut d = AutoCommit::new().with_actor(ActorId::from([3u8; 32]));
    d.put(automerge::ROOT, "k", 1).unwrap();
    commit(&mut d, &None, 0);
    d.put(automerge::ROOT, "k", 2).unwrap();
    commit(&mut d, &None, 0);
    d.get_last_local_change().unwrap()
}

fn too_many_ops(r: Result<qun_crdt::prescan::ChangeHeader, PrescanError>) -> bool {
    matches!(r, Err(PrescanError::TooManyOps { limit: LIMIT, declared_at_least }) if declared_at_least > LIMIT)
}

// ---------------------------------------------------------------------------------------------
// 1. Real changes: exactly what automerge reports

fn assert_exact(c: &Change, max: u64) {
    let h = prescan(c.raw_bytes(), max, max).unwrap_or_else(|e| panic!("refused: {e}"));
    let parsed = Change::from_bytes(c.raw_bytes().to_vec()).unwrap();
    prescan_harness::agree(&h, &parsed);
    assert_eq!(h.ops, parsed.len() as u64, "ops");
    assert_eq!(h.preds, prescan_harness::preds_of(&parsed), "preds");
    assert_eq!(h.hash, c.hash());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random histories on two replicas: every change's header, op count and predecessor count
    /// are exactly what `Change::from_bytes` reports.
    #[test]
    fn prescan_matches_automerge(actors in any::<([u8; 32], [u8; 32])>(), steps in proptest::collection::vec(step(), 1..40)) {
        for c in run(actors, &steps) {
            assert_exact(&c, 1_000_000);
        }
    }
}

#[test]
fn sample_history_matches() {
    let changes = sample();
    assert!(changes.len() >= 4);
    let cols: std::collections::BTreeSet<u32> = changes
        .iter()
        .flat_map(|c| Body::parse(c.raw_bytes()).cols.into_iter().map(|c| c.0))
        .collect();
    for spec in [
        OBJ_ACTOR, OBJ_CTR, KEY_ACTOR, KEY_CTR, KEY_STR, INSERT, ACTION, VAL_META, PRED_NUM,
        PRED_ACTOR, PRED_CTR, EXPAND, MARK_NAME,
    ] {
        assert!(cols.contains(&spec), "sample lacks column {spec:#x}");
    }
    assert!(
        changes
            .iter()
            .any(|c| prescan_harness::preds_of(c) > c.len() as u64 / 2)
    );
    for c in &changes {
        assert_exact(c, 1_000_000);
    }
}

/// A change of more than 10,000 operations (automerge encodes those row by row).
#[test]
fn large_change_matches() {
    let mut d = AutoCommit::new().with_actor(ActorId::from([5u8; 32]));
    let list = d.put_object(automerge::ROOT, "l", ObjType::List).unwrap();
    for i in 0..12_000 {
        d.insert(&list, i, (i % 7) as i64).unwrap();
    }
    d.commit();
    let c = d.get_last_local_change().unwrap();
    assert_exact(&c, 20_000);
    assert!(too_many_ops(prescan(c.raw_bytes(), LIMIT, LIMIT)));
}

// ---------------------------------------------------------------------------------------------
// 2. Hostile chunks

/// The measured attack: ~120 bytes whose action column declares 2^40 operations.
#[test]
fn action_run_of_2_pow_40_is_refused() {
    let c = tiny();
    let chunk = Body::parse(c.raw_bytes())
        .set(ACTION, big_column(ACTION, BIG))
        .chunk();
    assert!(chunk.len() < 140, "{} bytes", chunk.len());
    let t = std::time::Instant::now();
    let r = prescan(&chunk, LIMIT, LIMIT);
    eprintln!("{} bytes refused in {:?}: {r:?}", chunk.len(), t.elapsed());
    assert!(too_many_ops(r));
}

/// Whichever op column declares too many rows, and even without an action column.
#[test]
fn every_op_column_is_counted() {
    let base = Body::parse(overwrite().raw_bytes());
    for spec in [
        OBJ_ACTOR, OBJ_CTR, KEY_ACTOR, KEY_CTR, KEY_STR, INSERT, ACTION, VAL_META, PRED_NUM,
        EXPAND, MARK_NAME,
    ] {
        let mut b = base.clone();
        b.set(spec, big_column(spec, BIG));
        assert!(too_many_ops(prescan(&b.chunk(), LIMIT, LIMIT)), "{spec:#x}");
        b.remove(ACTION);
        if spec != ACTION {
            assert!(
                too_many_ops(prescan(&b.chunk(), LIMIT, LIMIT)),
                "{spec:#x} w/o action"
            );
        }
        // Just over the limit, in a literal run of 0s for integer columns.
        if spec & 7 == 2 {
            let mut lit = Vec::new();
            sleb(-(LIMIT as i64 + 1), &mut lit);
            lit.extend(std::iter::repeat_n(0u8, LIMIT as usize + 1));
            let mut b = base.clone();
            b.set(spec, lit);
            assert!(
                too_many_ops(prescan(&b.chunk(), LIMIT, LIMIT)),
                "{spec:#x} literal"
            );
        }
        // A null run.
        let mut b = base.clone();
        b.set(spec, vec![0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
        if spec & 7 != 4 {
            assert!(
                too_many_ops(prescan(&b.chunk(), LIMIT, LIMIT)),
                "{spec:#x} nulls"
            );
        }
    }
}

/// One operation with 2^40 predecessors: rows of the predecessor count column times its value.
#[test]
fn pred_explosion_is_refused() {
    let c = overwrite();
    assert_eq!(prescan_harness::preds_of(&c), 1);
    let mut b = Body::parse(c.raw_bytes());
    let mut v = Vec::new();
    uleb(BIG, &mut v);
    b.set(PRED_NUM, run_of(1, &v))
        .set(PRED_ACTOR, big_column(PRED_ACTOR, BIG))
        .set(PRED_CTR, big_column(PRED_CTR, BIG));
    assert!(matches!(
        prescan(&b.chunk(), LIMIT, LIMIT),
        Err(PrescanError::TooManyPreds { limit: LIMIT, .. })
    ));
    // The grouped columns alone count too.
    let mut b = Body::parse(c.raw_bytes());
    b.set(PRED_ACTOR, big_column(PRED_ACTOR, BIG));
    assert!(matches!(
        prescan(&b.chunk(), LIMIT, LIMIT),
        Err(PrescanError::TooManyPreds { .. })
    ));
    // Many operations with a few predecessors each add up.
    let mut b = Body::parse(c.raw_bytes());
    b.set(PRED_NUM, run_of(LIMIT, &[2]));
    assert!(matches!(
        prescan(&b.chunk(), LIMIT, LIMIT),
        Err(PrescanError::TooManyPreds { .. })
    ));
}

#[test]
fn compressed_chunk_is_refused() {
    let mut d = AutoCommit::new().with_actor(ActorId::from([5u8; 32]));
    let text = d.put_object(automerge::ROOT, "t", ObjType::Text).unwrap();
    d.splice_text(&text, 0, 0, &"lorem ipsum ".repeat(100))
        .unwrap();
    d.commit();
    let mut c = d.get_last_local_change().unwrap();
    let compressed = c.bytes().into_owned();
    assert_eq!(compressed[8], 2, "automerge compressed it");
    assert!(Change::from_bytes(compressed.clone()).is_ok());
    assert_eq!(
        prescan(&compressed, LIMIT, LIMIT),
        Err(PrescanError::Compressed)
    );
    assert_exact(&c, LIMIT);
}

#[test]
fn every_truncation_is_refused() {
    for c in sample() {
        let bytes = c.raw_bytes();
        for i in 0..bytes.len() {
            assert!(prescan(&bytes[..i], LIMIT, LIMIT).is_err(), "prefix {i}");
            // The same body cut short but sealed again: never a panic, never a disagreement.
            let body = body_of(bytes);
            let _ = check_bytes(&seal(&body[..i.min(body.len())]), LIMIT, LIMIT);
        }
    }
}

#[test]
fn appended_byte_is_refused() {
    let c = tiny();
    let mut bytes = c.raw_bytes().to_vec();
    bytes.push(0);
    assert_eq!(
        prescan(&bytes, LIMIT, LIMIT),
        Err(PrescanError::TrailingBytes { extra: 1 })
    );
    assert!(Change::from_bytes(bytes).is_err());
    // Inside the chunk, the same byte is an extra byte, which automerge keeps: accepted.
    let mut body = body_of(c.raw_bytes()).to_vec();
    body.push(0);
    assert_eq!(check_bytes(&seal(&body), LIMIT, LIMIT), Ok(1));
}

#[test]
fn malformed_headers_are_refused() {
    let c = tiny();
    let good = c.raw_bytes().to_vec();
    let body = body_of(&good).to_vec();
    let refused = |bytes: &[u8]| prescan(bytes, LIMIT, LIMIT).unwrap_err();

    let mut b = good.clone();
    b[0] ^= 1;
    assert_eq!(refused(&b), PrescanError::BadMagic);
    let mut b = good.clone();
    b[5] ^= 1;
    assert_eq!(refused(&b), PrescanError::BadChecksum);
    assert_eq!(refused(&seal_as(0, &body)), PrescanError::NotAChange(0));
    assert_eq!(refused(&seal_as(3, &body)), PrescanError::NotAChange(3));
    assert_eq!(refused(&seal_as(9, &body)), PrescanError::NotAChange(9));
    let mut doc = AutoCommit::new();
    doc.put(automerge::ROOT, "k", 1).unwrap();
    assert_eq!(refused(&doc.save()), PrescanError::NotAChange(0));
    assert!(matches!(refused(&[]), PrescanError::Truncated { .. }));

    // Declared length beyond the input.
    let mut b = good[..8].to_vec();
    b.push(1);
    uleb(1 << 62, &mut b);
    assert!(matches!(refused(&b), PrescanError::Truncated { .. }));
    // Overlong length.
    let mut b = good[..9].to_vec();
    b.extend([0x80 | body.len() as u8, 0x00]);
    b.extend(&body);
    assert!(matches!(refused(&b), PrescanError::BadLeb128 { .. }));

    // 2^60 dependencies.
    let mut b = Vec::new();
    uleb(1 << 60, &mut b);
    b.extend(&body[1..]);
    assert!(matches!(
        refused(&seal(&b)),
        PrescanError::TooManyDeps { declared, .. } if declared == 1 << 60
    ));

    // Start op 0.
    let parsed = Body::parse(&good);
    let mut head = parsed.head.clone();
    let start = 1 + 1 + 32 + 1; // deps, actor length, actor, seq
    assert_eq!(head[start], 1);
    head[start] = 0;
    let b = Body {
        head,
        ..parsed.clone()
    };
    assert_eq!(refused(&b.chunk()), PrescanError::ZeroStartOp);

    // A message that is not UTF-8.
    let mut head = parsed.head.clone();
    let msg = start + 2; // start op, time
    assert_eq!(head[msg], 0);
    head.splice(msg..=msg, [2, 0xff, 0xfe]);
    let b = Body {
        head,
        ..parsed.clone()
    };
    assert_eq!(refused(&b.chunk()), PrescanError::BadMessage);

    // Columns: deflated, out of order, repeated, longer than the data.
    let mut b = parsed.clone();
    b.cols[0].0 |= 0b1000;
    assert!(matches!(
        refused(&b.chunk()),
        PrescanError::CompressedColumn { .. }
    ));
    let mut b = parsed.clone();
    b.cols.swap(0, 1);
    assert!(matches!(
        refused(&b.chunk()),
        PrescanError::ColumnsOutOfOrder { .. }
    ));
    let mut b = parsed.clone();
    b.cols.insert(1, b.cols[0].clone());
    assert!(matches!(
        refused(&b.chunk()),
        PrescanError::ColumnsOutOfOrder { .. }
    ));
    let mut bytes = parsed.head.clone();
    bytes.extend([1, ACTION as u8, 100, 1, 1]);
    assert_eq!(refused(&seal(&bytes)), PrescanError::ColumnsOverrun);
    let mut bytes = parsed.head.clone();
    bytes.extend([
        2,
        ACTION as u8,
        0x80,
        0x80,
        0x80,
        0x80,
        0x80,
        0x80,
        0x80,
        0x80,
        0x80,
        0x01,
    ]);
    bytes.extend([
        0x52, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ]);
    assert_eq!(refused(&seal(&bytes)), PrescanError::ColumnsOverrun);
    let mut bytes = parsed.head.clone();
    bytes.extend([1, 0x80, 0x80, 0x80, 0x80, 0x10, 0]);
    assert!(matches!(
        refused(&seal(&bytes)),
        PrescanError::BadColumnSpec(_)
    ));

    // A key string declared longer than its column (automerge would allocate it first).
    let mut b = parsed.clone();
    let mut s = run_of(1, &[]);
    uleb(999_999_999, &mut s);
    s.push(b'k');
    b.set(KEY_STR, s);
    assert!(matches!(
        refused(&b.chunk()),
        PrescanError::BadColumn { spec: KEY_STR, .. }
    ));
    // An action run that ends before its value.
    let mut b = parsed.clone();
    b.set(ACTION, vec![2]);
    assert!(matches!(
        refused(&b.chunk()),
        PrescanError::BadColumn { spec: ACTION, .. }
    ));
    // An object actor index beyond the change's actors (automerge's `decode` would panic).
    let mut b = Body::parse(overwrite().raw_bytes());
    b.set(PRED_ACTOR, run_of(1, &[1]));
    assert_eq!(
        refused(&b.chunk()),
        PrescanError::BadActorIndex {
            spec: PRED_ACTOR,
            index: 1,
            actors: 1
        }
    );
    // Op counters past 32 bits: automerge's `from_bytes` panics on these (`OpId::new`).
    let mut b = Body::parse(overwrite().raw_bytes());
    let mut d = Vec::new();
    sleb(1 << 32, &mut d);
    b.set(PRED_CTR, run_of(1, &d));
    assert!(matches!(
        refused(&b.chunk()),
        PrescanError::CounterTooLarge { spec: PRED_CTR, counter } if counter == 1 << 32
    ));
    let mut b = Body::parse(sample()[2].raw_bytes());
    b.set(OBJ_CTR, run_of(1, &[0x80, 0x80, 0x80, 0x80, 0x10]));
    assert!(matches!(
        refused(&b.chunk()),
        PrescanError::CounterTooLarge { spec: OBJ_CTR, .. }
    ));
    // LEB128 past 64 bits in a column.
    let mut b = parsed.clone();
    b.set(
        ACTION,
        vec![0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02],
    );
    assert!(matches!(
        refused(&b.chunk()),
        PrescanError::BadColumn { spec: ACTION, .. }
    ));
}

/// Times and sequence numbers at the ends of their ranges (set in the header, since automerge's
/// change graph overflows on such times when committing).
#[test]
fn extreme_header_values_agree() {
    let parsed = Body::parse(tiny().raw_bytes());
    let seq_at = 1 + 1 + 32; // deps, actor length, actor
    for (seq, time) in [
        (0, i64::MIN),
        (u64::MAX, i64::MAX),
        (1 << 35, -1),
        (7, 1 << 62),
    ] {
        let mut head = parsed.head[..seq_at].to_vec();
        uleb(seq, &mut head);
        head.push(1); // start op
        sleb(time, &mut head);
        head.extend_from_slice(&parsed.head[seq_at + 3..]);
        let b = Body {
            head,
            ..parsed.clone()
        };
        let h = prescan(&b.chunk(), LIMIT, LIMIT).unwrap();
        assert_eq!((h.seq, h.time), (seq, time));
        assert_eq!(check_bytes(&b.chunk(), LIMIT, LIMIT), Ok(1));
    }
}

/// An actor id of any length is returned as it is (placement checks are the caller's).
#[test]
fn any_actor_length_is_returned() {
    for len in [0usize, 1, 16, 33] {
        let mut d = AutoCommit::new().with_actor(ActorId::from(vec![0xab; len]));
        d.put(automerge::ROOT, "k", 1).unwrap();
        d.commit();
        let c = d.get_last_local_change().unwrap();
        let h = prescan(c.raw_bytes(), LIMIT, LIMIT).unwrap();
        assert_eq!(h.actor, vec![0xab; len]);
        assert_exact(&c, LIMIT);
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Mutations

#[derive(Clone, Debug)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    /// Insert an LEB128 number (a plausible length or run count).
    Leb(usize, u64, bool),
}

fn edit_strategy() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<usize>(), 1..=255u8).prop_map(|(p, x)| Edit::Flip(p, x)),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Edit::Insert(p, b)),
        2 => any::<usize>().prop_map(Edit::Delete),
        1 => (any::<usize>(), prop_oneof![0..3000u64, any::<u64>()], any::<bool>())
            .prop_map(|(p, v, s)| Edit::Leb(p, v, s)),
    ]
}

fn mutate(bytes: &mut Vec<u8>, edits: &[Edit]) {
    for e in edits {
        match *e {
            Edit::Flip(p, x) if !bytes.is_empty() => {
                let i = p % bytes.len();
                bytes[i] ^= x;
            }
            Edit::Insert(p, b) => {
                let i = p % (bytes.len() + 1);
                bytes.insert(i, b);
            }
            Edit::Delete(p) if !bytes.is_empty() => {
                let i = p % bytes.len();
                bytes.remove(i);
            }
            Edit::Leb(p, v, signed) => {
                let i = p % (bytes.len() + 1);
                let mut enc = Vec::new();
                if signed {
                    sleb(v as i64, &mut enc);
                } else {
                    uleb(v, &mut enc);
                }
                bytes.splice(i..i, enc);
            }
            _ => {}
        }
    }
}

fn pool() -> &'static [Vec<u8>] {
    static POOL: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let mut p: Vec<Vec<u8>> = sample().iter().map(|c| c.raw_bytes().to_vec()).collect();
        p.push(tiny().raw_bytes().to_vec());
        p.push(overwrite().raw_bytes().to_vec());
        p
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Mutated changes (the body edited and the chunk sealed again, or the raw chunk edited):
    /// prescan never panics, and when automerge accepts what prescan accepted, they agree and
    /// prescan's counts bound automerge's.
    #[test]
    fn mutations_never_panic_and_agree(
        which in any::<prop::sample::Index>(),
        reseal in prop::bool::weighted(0.9),
        edits in proptest::collection::vec(edit_strategy(), 1..5),
    ) {
        let chunk = which.get(pool());
        let bytes = if reseal {
            let mut body = body_of(chunk).to_vec();
            mutate(&mut body, &edits);
            seal(&body)
        } else {
            let mut b = chunk.clone();
            mutate(&mut b, &edits);
            b
        };
        let _ = check_bytes(&bytes, LIMIT, LIMIT);
    }

    /// Arbitrary bytes, raw or sealed as a body, through the fuzz harness.
    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = prescan_harness::check(&data);
    }
}

// ---------------------------------------------------------------------------------------------
// Fuzz crashers and seeds

/// Inputs the `prescan` fuzz target ever failed on (`tests/fuzz-crashers/prescan/`) must now
/// pass the harness without a panic (refused or agreeing, as the harness decides).
#[test]
fn prescan_fuzz_crashers_pass() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-crashers/prescan");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut files: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    files.sort();
    for f in files.into_iter().filter(|f| f.is_file()) {
        if f.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let data = std::fs::read(&f).unwrap();
        let r = std::panic::catch_unwind(|| prescan_harness::check(&data));
        assert!(r.is_ok(), "{}: panicked", f.display());
    }
}

/// Writes the fuzz seeds to `crdt/fuzz/seeds/prescan/`: each sample change raw (mode byte 0)
/// and as a body to seal (mode byte 1). Run by hand:
/// `cargo test -p qun-crdt --test prescan -- --ignored write_prescan_seeds`.
#[test]
#[ignore]
fn write_prescan_seeds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/prescan");
    std::fs::create_dir_all(&dir).unwrap();
    for (i, chunk) in pool().iter().enumerate() {
        let raw = [[0u8].as_slice(), chunk].concat();
        std::fs::write(dir.join(format!("raw-{i:02}")), raw).unwrap();
        let body = [[1u8].as_slice(), body_of(chunk)].concat();
        std::fs::write(dir.join(format!("body-{i:02}")), body).unwrap();
    }
}

/// Through the front door: a ~100-byte change declaring 2^40 operations, offered to a
/// community with no key and no valid signature, is refused by the pre-scan with a typed error
/// (nothing parsed, nothing stored), and as gossip it gets a Reject verdict.
#[test]
fn ingest_refuses_an_op_bomb_before_parsing() {
    use qun_crdt::replicate::wire::{self, GossipMsg, WireChange};
    use qun_crdt::test_utils::{T0, genesis, key, replica};
    use qun_crdt::{
        AdmissionPolicy, Config, DocId, Error, Input, MsgId, Output, Replicator, Verdict,
    };
    let c = tiny();
    let bomb = Body::parse(c.raw_bytes())
        .set(ACTION, big_column(ACTION, BIG))
        .chunk();
    assert!(bomb.len() < 140);
    let g = genesis(&key(1), AdmissionPolicy::Open);
    let mut comm = replica(&g, &key(1));
    let before = comm.total_changes();
    let e = comm
        .ingest(&DocId::Governance, &bomb, &[0; 64])
        .unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e}");
    assert_eq!(comm.total_changes(), before);
    let mut r =
        Replicator::<usize>::new(key(1), key(1).member_id(), None, Config::default()).unwrap();
    let id = r.create(T0, g).unwrap();
    r.drain().for_each(drop);
    let msg = wire::encode(&GossipMsg {
        community: id,
        doc: DocId::Governance,
        changes: vec![WireChange {
            bytes: bomb,
            sig: [0; 64],
        }],
    });
    r.handle(
        T0,
        Input::Gossip {
            from: 9,
            id: MsgId(vec![1]),
            bytes: msg,
        },
    );
    assert!(r.drain().any(|o| matches!(
        o,
        Output::Verdict {
            verdict: Verdict::Reject,
            ..
        }
    )));
}
