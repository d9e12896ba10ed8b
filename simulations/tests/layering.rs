//! The crate's files import one another without cycles: the shared context (`ctx.rs`),
//! events, results and the other leaves sit below the models and the applications, which
//! sit below the run loop (`world.rs`); inside a directory module, the files that add to a
//! type import its `mod.rs`, never the reverse.
//!
//! An edge `a → b` is a `use crate::…`, `use super::…` or `use self::…` in file `a` naming
//! something in file `b`, or an inline `crate::b::…` path in `a`'s code (comments do not
//! count; `mod b;` declarations are not edges).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path of a file under `src/`: `["world"]`, `["app", "replicator"]`, `[]` for lib.rs.
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

fn collect(dir: &Path, root: &Path, out: &mut BTreeMap<Vec<String>, String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read src")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, root, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            let rel = p.strip_prefix(root).expect("under src");
            if rel == Path::new("main.rs") {
                continue; // the binary: nothing imports it
            }
            let text = std::fs::read_to_string(&p).expect("read file");
            out.insert(module_of(rel), text);
        }
    }
}

/// `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.to_string()];
    };
    let close = tree.rfind('}').expect("balanced braces");
    let (prefix, body) = (&tree[..open], &tree[open + 1..close]);
    let (mut parts, mut depth, mut cur) = (Vec::new(), 0, String::new());
    for ch in body.chars() {
        match ch {
            ',' if depth == 0 => parts.push(std::mem::take(&mut cur)),
            '{' => {
                depth += 1;
                cur.push(ch);
            }
            '}' => {
                depth -= 1;
                cur.push(ch);
            }
            _ => cur.push(ch),
        }
    }
    parts.push(cur);
    parts
        .iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(|p| expand(p).into_iter().map(|x| format!("{prefix}{x}")))
        .collect()
}

/// The file a path (`crate::a::b::Item`, as segments) lives in: its longest module prefix.
fn resolve(segs: &[String], modules: &BTreeMap<Vec<String>, String>) -> Option<Vec<String>> {
    (0..=segs.len())
        .rev()
        .map(|k| segs[..k].to_vec())
        .find(|m| modules.contains_key(m))
}

fn segments(path: &str) -> Vec<String> {
    path.split("::")
        .map(|s| s.split(" as ").next().unwrap_or("").trim().to_string())
        .filter(|s| !s.is_empty() && s != "*" && s != "self")
        .collect()
}

fn edges(modules: &BTreeMap<Vec<String>, String>) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let mut out = BTreeMap::new();
    for (module, text) in modules {
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut targets = BTreeSet::new();
        // `use` statements, with the indentation telling a `mod tests` apart.
        let mut rest = code.as_str();
        while let Some(i) = rest.find("use ") {
            let line_start = rest[..i].rfind('\n').map_or(0, |n| n + 1);
            let lead = &rest[line_start..i];
            let is_use = lead.trim().is_empty()
                || lead.trim() == "pub"
                || (lead.trim().starts_with("pub(") && lead.trim().ends_with(')'));
            let after = &rest[i + 4..];
            let end = after.find(';').unwrap_or(after.len());
            if !is_use {
                rest = after;
                continue;
            }
            {
                let nested = lead.starts_with(' ') || lead.starts_with('\t');
                let tree: String = after[..end]
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                for path in expand(&tree) {
                    let segs = segments(&path);
                    let Some(first) = segs.first() else { continue };
                    let base: Vec<String> = match first.as_str() {
                        "crate" | "qun_sim" => Vec::new(),
                        // `super` from a nested `mod tests` is this file.
                        "super" if nested => module.clone(),
                        "super" => module[..module.len().saturating_sub(1)].to_vec(),
                        "self" => module.clone(),
                        // lib.rs re-exports its own modules by bare name.
                        m if module.is_empty() && modules.contains_key(&vec![m.to_string()]) => {
                            let mut full = vec![m.to_string()];
                            full.extend(segs[1..].iter().cloned());
                            if let Some(t) = resolve(&full, modules) {
                                targets.insert(t);
                            }
                            continue;
                        }
                        _ => continue,
                    };
                    let mut full = base;
                    full.extend(segs[1..].iter().cloned());
                    if let Some(t) = resolve(&full, modules) {
                        targets.insert(t);
                    }
                }
            }
            rest = &after[end..];
        }
        // Inline `crate::a::b` paths.
        for (i, _) in code.match_indices("crate::") {
            if i > 0 {
                let prev = code.as_bytes()[i - 1];
                if prev == b':' || prev.is_ascii_alphanumeric() || prev == b'_' {
                    continue;
                }
            }
            let path: String = code[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            if let Some(t) = resolve(&segments(&path)[1..], modules) {
                targets.insert(t);
            }
        }
        targets.remove(module);
        out.insert(module.clone(), targets);
    }
    out
}

/// Strongly connected components with more than one file (Tarjan).
fn cycles(g: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<Vec<String>>> {
    struct T<'a> {
        g: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        on: BTreeSet<&'a Vec<String>>,
        out: Vec<Vec<Vec<String>>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a Vec<String>) {
        let n = t.index.len();
        t.index.insert(v, n);
        t.low.insert(v, n);
        t.stack.push(v);
        t.on.insert(v);
        for w in &t.g[v] {
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut c = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                c.push(w.clone());
                if w == v {
                    break;
                }
            }
            if c.len() > 1 {
                t.out.push(c);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v) {
            visit(&mut t, v);
        }
    }
    t.out
}

fn name(m: &[String]) -> String {
    if m.is_empty() {
        "lib".into()
    } else {
        m.join("::")
    }
}

#[test]
fn no_import_cycles_between_files() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules = BTreeMap::new();
    collect(&src, &src, &mut modules);
    let g = edges(&modules);
    // The script sees what it should: the run loop imports the context and the models.
    let world = &g[&vec!["world".to_string()]];
    for m in ["ctx", "event", "app", "gossip_model"] {
        assert!(world.contains(&vec![m.to_string()]), "world → {m} not seen");
    }
    let found = cycles(&g);
    let report: Vec<String> = found
        .iter()
        .map(|c| {
            let members: BTreeSet<&Vec<String>> = c.iter().collect();
            let arrows: Vec<String> = c
                .iter()
                .flat_map(|a| {
                    g[a].iter()
                        .filter(|b| members.contains(b))
                        .map(move |b| format!("{} → {}", name(a), name(b)))
                })
                .collect();
            arrows.join(", ")
        })
        .collect();
    assert!(found.is_empty(), "import cycles: {report:#?}");
}

#[test]
fn a_cycle_is_detected() {
    let mut modules = BTreeMap::new();
    modules.insert(vec!["a".to_string()], "use crate::b::X;\n".to_string());
    modules.insert(
        vec!["b".to_string()],
        "// crate::c::Z in a comment is not an edge\nfn f() { crate::a::g() }\n".to_string(),
    );
    modules.insert(
        vec!["c".to_string()],
        "use crate::{a, b::{Y, Z}};\n".to_string(),
    );
    let g = edges(&modules);
    assert_eq!(g[&vec!["b".to_string()]].len(), 1, "{g:?}");
    let found = cycles(&g);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].len(), 2, "a ↔ b; c only points into it: {found:?}");
}
