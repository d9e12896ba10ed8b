//! Edge-list import for researchers: `source target [weight] [time]` per line.
//!
//! * Fields are separated by tabs, spaces or commas (TSV, CSV and SNAP/KONECT-style files
//!   all work); labels are any token without those separators — integers or strings — and
//!   are interned in order of first appearance.
//! * `#` starts a comment (whole line or trailing); blank lines are skipped. A first line
//!   whose weight or time field is not a number is *not* skipped silently: put `#` before a
//!   header.
//! * `weight` defaults to 1; any finite number is accepted (positive = endorsement, negative
//!   = distrust kept for local filtering, 0 = no edge). Ranking only uses weights relative to
//!   the endorser's total, so scales such as −10..10 work as they are.
//! * `time` (integer or decimal) is checked; with [`ImportOptions::until`] set, later edges
//!   are skipped (a snapshot of an evolving graph).
//! * A repeated `(source, target)` pair: the last line wins. Self-loops are skipped.
//! * Streaming over any `BufRead`: one line buffer, labels interned as they come, edges
//!   gathered as `(u32, u32, f32)` and turned into CSR with one sort at the end. Malformed
//!   lines are errors carrying their 1-based line number.

use crate::error::{Error, Result};
use crate::graph::{Node, TrustGraph};
use qun_identity::Topic;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::BufRead;

/// A small multiplicative hasher (FxHash) for the label index: labels come from a local file
/// chosen by the researcher, so SipHash's flooding resistance buys nothing, and lookups are
/// two per line. The map is never iterated, so output never depends on it.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Options of [`read_edge_list`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportOptions {
    /// Keep only edges with `time <= until` (edges without a time are kept).
    pub until: Option<f64>,
}

/// Counts from an import.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportStats {
    /// Lines read.
    pub lines: u64,
    /// Edge lines accepted.
    pub edges: u64,
    /// Comment and blank lines.
    pub skipped: u64,
    /// Self-loops skipped.
    pub self_loops: u64,
    /// Edges after `until`, skipped.
    pub after_until: u64,
    /// Lines with a negative weight.
    pub negative: u64,
    /// Distinct labels.
    pub nodes: u64,
}

/// An imported graph: one topic (`*`), labels as strings.
#[derive(Clone, Debug)]
pub struct EdgeList {
    /// The graph.
    pub graph: TrustGraph<String>,
    /// What was read.
    pub stats: ImportStats,
}

impl EdgeList {
    /// Resolve labels such as `--seeds a,b` (comma-separated, surrounding spaces ignored).
    pub fn seeds(&self, list: &str) -> Result<Vec<Node>> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                self.graph
                    .node(&s.to_string())
                    .ok_or_else(|| Error::UnknownLabel(s.to_string()))
            })
            .collect()
    }
}

/// Read an edge list (see the [module docs](self)).
pub fn read_edge_list<R: BufRead>(mut reader: R, options: &ImportOptions) -> Result<EdgeList> {
    let mut stats = ImportStats::default();
    let mut index: HashMap<Box<str>, u32, BuildHasherDefault<FxHasher>> = HashMap::default();
    let mut labels: Vec<String> = Vec::new();
    let mut edges: Vec<(u32, u32, f32)> = Vec::new();
    let mut buf = String::new();
    let mut intern = |label: &str, labels: &mut Vec<String>, line: u64| -> Result<u32> {
        if let Some(&i) = index.get(label) {
            return Ok(i);
        }
        if labels.len() >= u32::MAX as usize - 1 {
            return Err(Error::Parse {
                line,
                reason: "more than 2^32 - 2 distinct labels".into(),
            });
        }
        let i = labels.len() as u32;
        labels.push(label.to_string());
        index.insert(label.into(), i);
        Ok(i)
    };
    loop {
        buf.clear();
        let line_no = stats.lines + 1;
        let read = reader.read_line(&mut buf).map_err(|source| Error::Read {
            line: line_no,
            source,
        })?;
        if read == 0 {
            break;
        }
        stats.lines = line_no;
        let content = buf.split('#').next().unwrap_or("");
        let mut fields = content
            .split(['\t', ' ', ',', '\r', '\n'])
            .filter(|f| !f.is_empty());
        let Some(src) = fields.next() else {
            stats.skipped += 1;
            continue;
        };
        let parse_err = |reason: String| Error::Parse {
            line: line_no,
            reason,
        };
        let dst = fields.next().ok_or_else(|| {
            parse_err(format!(
                "expected `source target [weight] [time]`, found only {src:?}"
            ))
        })?;
        let weight = match fields.next() {
            None => 1.0f32,
            Some(w) => match w.parse::<f32>() {
                Ok(x) if x.is_finite() => x,
                _ => return Err(parse_err(format!("weight {w:?} is not a finite number"))),
            },
        };
        let time = match fields.next() {
            None => None,
            Some(t) => match t.parse::<f64>() {
                Ok(x) if x.is_finite() => Some(x),
                _ => return Err(parse_err(format!("time {t:?} is not a number"))),
            },
        };
        if let Some(extra) = fields.next() {
            return Err(parse_err(format!("unexpected fifth field {extra:?}")));
        }
        let u = intern(src, &mut labels, line_no)?;
        let v = intern(dst, &mut labels, line_no)?;
        if u == v {
            stats.self_loops += 1;
            continue;
        }
        if let (Some(until), Some(t)) = (options.until, time)
            && t > until
        {
            stats.after_until += 1;
            continue;
        }
        if weight < 0.0 {
            stats.negative += 1;
        }
        stats.edges += 1;
        edges.push((u, v, weight));
    }
    stats.nodes = labels.len() as u64;
    let graph = TrustGraph::from_edges(labels, Topic::general(), edges)?;
    Ok(EdgeList { graph, stats })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mixed_formats() {
        let text = "# header\nalice bob\nbob,carol,0.5\n\n1\t2\t1.0\t1700000000\ncarol alice -1 # distrust\nalice alice\n";
        let e = read_edge_list(text.as_bytes(), &ImportOptions::default()).unwrap();
        assert_eq!(e.stats.lines, 7);
        assert_eq!(e.stats.edges, 4);
        assert_eq!(e.stats.self_loops, 1);
        assert_eq!(e.stats.skipped, 2);
        assert_eq!(e.graph.len(), 5);
        let g = &e.graph;
        let n = |s: &str| g.node(&s.to_string()).unwrap();
        let t = Topic::general();
        assert_eq!(g.edge(n("bob"), n("carol"), &t), Some(0.5));
        assert_eq!(g.edge(n("carol"), n("alice"), &t), Some(-1.0));
        assert_eq!(g.edge_count(&t), 3);
        assert_eq!(e.seeds("alice, 1").unwrap(), vec![n("alice"), n("1")]);
        assert!(matches!(e.seeds("zed"), Err(Error::UnknownLabel(_))));
    }

    #[test]
    fn malformed_lines_name_their_line() {
        for (text, line) in [
            ("a b\nc\n", 2),
            ("a b x\n", 1),
            ("a b 1 t\n", 1),
            ("a b 1 2 3\n", 1),
            ("a b NaN\n", 1),
        ] {
            match read_edge_list(text.as_bytes(), &ImportOptions::default()) {
                Err(Error::Parse { line: l, .. }) => assert_eq!(l, line, "{text:?}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn until_and_last_wins() {
        let text = "a b 1 10\na b 0.25 20\na c 1 30\n";
        let e = read_edge_list(text.as_bytes(), &ImportOptions { until: Some(25.0) }).unwrap();
        let g = &e.graph;
        let n = |s: &str| g.node(&s.to_string()).unwrap();
        assert_eq!(g.edge(n("a"), n("b"), &Topic::general()), Some(0.25));
        assert_eq!(g.edge(n("a"), n("c"), &Topic::general()), None);
        assert_eq!(e.stats.after_until, 1);
    }
}
