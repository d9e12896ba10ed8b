#!/usr/bin/env python3
"""Import cycles between the files of a crate: `scripts/import-cycles.py crdt/src`.

Each file is a module; an edge a -> b when a names b through `crate::...` or `super::...`
(in `use` lines or inline paths). Prints each strongly connected component of more than one
file, and exits 1 if there is any."""
import os, re, sys

root = sys.argv[1].rstrip('/')
mods = {}
for dp, _, fs in os.walk(root):
    for f in fs:
        if f.endswith('.rs'):
            p = os.path.join(dp, f)
            rel = os.path.relpath(p, root)[:-3].split(os.sep)
            if rel[-1] in ('mod', 'lib', 'main'):
                rel = rel[:-1]
            mods[tuple(rel)] = p

def resolve(path):
    """Longest module prefix of `path` that is a file."""
    for n in range(len(path), -1, -1):
        if tuple(path[:n]) in mods:
            return tuple(path[:n])
    return None

edges = {m: set() for m in mods}
pat = re.compile(r'\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)+)')
for m, p in mods.items():
    src = open(p).read()
    # strip line comments and test modules (tests may import anything)
    src = re.sub(r'//[^\n]*', '', src)
    src = src.split('#[cfg(test)]\nmod tests')[0]
    is_dir_mod = os.path.basename(p) in ('mod.rs', 'lib.rs', 'main.rs')
    for kind, rest in pat.findall(src):
        parts = [x for x in rest.split('::') if x]
        if kind == 'crate':
            base = []
        else:
            base = list(m) if is_dir_mod else list(m[:-1])
            base = base[:-1]
            while parts and parts[0] == 'super':
                parts = parts[1:]; base = base[:-1]
        for n in range(len(parts), 0, -1):
            t = resolve(base + parts[:n])
            if t is not None and t != m and t != ():
                # a parent module re-exporting children is not a dependency on them
                if t != tuple(m[:len(t)]):
                    edges[m].add(t)
                break

# Tarjan
index, low, stack, on, sccs, i = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)
def strong(v):
    index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
    for w in edges[v]:
        if w not in index:
            strong(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1:
            sccs.append(comp)
for v in mods:
    if v not in index:
        strong(v)
for c in sccs:
    print('cycle:', ' <-> '.join('/'.join(x) or '(root)' for x in sorted(c)))
print(f'{len(sccs)} cycles among {len(mods)} files in {root}')
sys.exit(1 if sccs else 0)
