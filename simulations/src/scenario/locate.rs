//! Where a key is in the scenario's source: spans from [`toml::de::DeTable`], so every
//! error can name its dotted key and line.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

/// 1-based line of a byte offset.
pub(super) fn line_of(src: &str, offset: usize) -> usize {
    src.get(..offset.min(src.len()))
        .map(|s| s.bytes().filter(|&b| b == b'\n').count() + 1)
        .unwrap_or(0)
}

/// Span of a dotted key (`gossip.d_lo`, `partitions[1].end_s`) in the source.
pub(super) fn span_of(src: &str, key: &str) -> Option<Range<usize>> {
    let doc = DeTable::parse(src).ok()?;
    let mut table: &DeTable<'_> = doc.get_ref();
    let mut span = None;
    let mut parts = key.split('.').peekable();
    while let Some(part) = parts.next() {
        let (name, index) = match part.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        let (k, v) = table.iter().find(|(k, _)| k.get_ref().as_ref() == name)?;
        span = Some(k.span());
        let mut value = v.get_ref();
        if let (Some(i), DeValue::Array(a)) = (index, value) {
            let item = a.get(i)?;
            span = Some(item.span());
            value = item.get_ref();
        }
        match value {
            DeValue::Table(t) if parts.peek().is_some() => table = t,
            _ => break,
        }
    }
    span
}

/// Dotted key whose key or value contains `offset` (the innermost one).
pub(super) fn key_at(src: &str, offset: usize) -> Option<String> {
    fn walk(table: &DeTable<'_>, offset: usize, path: &mut Vec<String>) -> bool {
        for (k, v) in table.iter() {
            let inside = k.span().contains(&offset) || v.span().contains(&offset);
            let name = k.get_ref().to_string();
            match v.get_ref() {
                DeValue::Table(t) => {
                    path.push(name);
                    if walk(t, offset, path) || inside {
                        return true;
                    }
                    path.pop();
                }
                DeValue::Array(a) => {
                    for (i, item) in a.iter().enumerate() {
                        if let DeValue::Table(t) = item.get_ref() {
                            path.push(format!("{name}[{i}]"));
                            if walk(t, offset, path) || item.span().contains(&offset) {
                                return true;
                            }
                            path.pop();
                        }
                    }
                    if inside {
                        path.push(name);
                        return true;
                    }
                }
                _ => {
                    if inside {
                        path.push(name);
                        return true;
                    }
                }
            }
        }
        false
    }
    let doc = DeTable::parse(src).ok()?;
    let mut path = Vec::new();
    walk(doc.get_ref(), offset, &mut path).then(|| path.join("."))
}
