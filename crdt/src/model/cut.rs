//! Causal cuts: how a revocation says which content writes of the revoked principal it saw.
//!
//! Governance changes depend on each other, so "in the revocation's causal past" is decided by
//! the governance DAG alone. Content documents are separate DAGs that governance changes do not
//! depend on, so a revocation (removal, demotion, device revocation, expiry) carries a cut: for
//! each device of the revoked principal and each content document its author held, the last
//! sequence number of that device it had seen. A content write of the principal that does not
//! causally follow the revocation (it does not cite it) is void when its sequence number is
//! beyond the cut in its document. Documents whose window is below `floor` are not listed (the
//! cut has a size bound) and are kept whole: see docs/authorization.md.

use crate::error::{Error, Result};
use crate::ids::DocId;
use qun_identity::DeviceId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most (device, document) entries one cut may list.
pub const MAX_CUT_ENTRIES: usize = 2_048;

/// For each device and content document: the last sequence number the revoker had seen.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CutWire", into = "CutWire")]
pub struct Cut {
    /// Content documents with a window below this are not listed and stay whole.
    pub floor: u32,
    /// Last seen sequence number per device and content document (absent: none seen).
    pub seqs: BTreeMap<DeviceId, BTreeMap<DocId, u64>>,
}

impl Cut {
    /// Whether a content write by `device` with sequence number `seq` in `doc` lies beyond the
    /// cut (is not in the revoker's causal past).
    pub fn beyond(&self, device: &DeviceId, doc: &DocId, seq: u64) -> bool {
        if let DocId::Content { window, .. } = doc
            && *window < self.floor
        {
            return false;
        }
        let seen = self
            .seqs
            .get(device)
            .and_then(|d| d.get(doc))
            .copied()
            .unwrap_or(0);
        seq > seen
    }

    /// Number of (device, document) entries.
    pub fn len(&self) -> usize {
        self.seqs.values().map(BTreeMap::len).sum()
    }

    /// Whether the cut lists nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0 && self.floor == 0
    }

    /// Build a cut from `(device, doc, last seq)` entries, keeping the newest windows when there
    /// are more than [`MAX_CUT_ENTRIES`]: documents in windows below the `floor` then stay
    /// whole, and in the floor's window what did not fit is beyond the cut (void), never the
    /// other way round.
    pub fn from_entries(mut entries: Vec<(DeviceId, DocId, u64)>) -> Cut {
        entries.retain(|(_, d, s)| *s > 0 && !d.is_governance());
        let window = |d: &DocId| match d {
            DocId::Content { window, .. } => *window,
            DocId::Governance => u32::MAX,
        };
        let mut floor = 0;
        if entries.len() > MAX_CUT_ENTRIES {
            entries.sort_by(|a, b| window(&b.1).cmp(&window(&a.1)).then(a.cmp(b)));
            entries.truncate(MAX_CUT_ENTRIES);
            floor = entries.iter().map(|(_, d, _)| window(d)).min().unwrap_or(0);
        }
        let mut seqs: BTreeMap<DeviceId, BTreeMap<DocId, u64>> = BTreeMap::new();
        for (dev, doc, seq) in entries {
            let e = seqs.entry(dev).or_default().entry(doc).or_insert(0);
            *e = (*e).max(seq);
        }
        Cut { floor, seqs }
    }
}

/// JSON form: `{"f": floor, "s": {"<device>": {"c/<channel>/<window>": seq}}}`.
#[derive(Serialize, Deserialize, Default)]
struct CutWire {
    #[serde(default, skip_serializing_if = "is_zero")]
    f: u32,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    s: BTreeMap<String, BTreeMap<String, u64>>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl From<Cut> for CutWire {
    fn from(c: Cut) -> Self {
        CutWire {
            f: c.floor,
            s: c.seqs
                .into_iter()
                .map(|(d, m)| {
                    (
                        d.to_string(),
                        m.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
                    )
                })
                .collect(),
        }
    }
}

impl TryFrom<CutWire> for Cut {
    type Error = Error;
    fn try_from(w: CutWire) -> Result<Cut> {
        let mut seqs = BTreeMap::new();
        let mut n = 0usize;
        for (d, m) in w.s {
            let dev: DeviceId = d
                .parse()
                .map_err(|_| Error::decode("cut", "not a device id"))?;
            let mut docs = BTreeMap::new();
            for (k, v) in m {
                let doc: DocId = k.parse()?;
                if doc.is_governance() {
                    return Err(Error::decode("cut", "lists the governance document"));
                }
                n += 1;
                docs.insert(doc, v);
            }
            seqs.insert(dev, docs);
        }
        if n > MAX_CUT_ENTRIES {
            return Err(Error::TooLarge {
                what: "cut entries",
                limit: MAX_CUT_ENTRIES,
                actual: n,
            });
        }
        Ok(Cut { floor: w.f, seqs })
    }
}
