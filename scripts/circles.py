#!/usr/bin/env python3
"""circles.py ROOT BUILD: call and include circles between strait's source files.

Calls: every object of the libraries and the daemon in BUILD, through nm: a file calls
another when it uses a symbol the other defines. Includes: every #include of common/, dp/,
cp/ and include/strait/ that names a file of the tree. A circle is a strongly connected
component of more than one file (Tarjan). Prints each graph's circles; exits 1 if any.
"""
import os, re, subprocess, sys, collections
root, build = sys.argv[1], sys.argv[2]
objs = []
for d in ('libstrait_common.a.p', 'libstrait_dp.a.p', 'libstrait_k8s.a.p', 'libstrait_cp.a.p', 'strait.p'):
    p = os.path.join(build, d)
    if os.path.isdir(p):
        objs += [os.path.join(p, f) for f in os.listdir(p) if f.endswith('.o')]
def src_of(o):
    n = os.path.basename(o)[:-2]          # cp_k8s.c
    n = re.sub(r'^(common|dp|cp)_', r'\1/', n, count=1)
    return n
defs, uses = {}, collections.defaultdict(set)
for o in objs:
    s = src_of(o)
    for line in subprocess.run(['nm', o], capture_output=True, text=True).stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in 'TDBR':
            defs[parts[2]] = s
        elif len(parts) == 2 and parts[0] == 'U':
            uses[s].add(parts[1])
calls = collections.defaultdict(set)
for s, us in uses.items():
    for u in us:
        if u in defs and defs[u] != s:
            calls[s].add(defs[u])
# includes: quoted includes and strait/ headers, file → header
inc = collections.defaultdict(set)
for d in ('common', 'dp', 'cp', 'include/strait'):
    for f in os.listdir(os.path.join(root, d)):
        if not f.endswith(('.c', '.h')): continue
        path = f'{d}/{f}'
        for m in re.finditer(r'#include ["<](strait/)?([^">]+)[">]', open(os.path.join(root, path)).read()):
            h = m.group(2)
            if m.group(1): inc[path].add('include/strait/' + h)
            elif os.path.exists(os.path.join(root, d, h)): inc[path].add(f'{d}/{h}')
def sccs(g):
    idx, low, st, on, out, c = {}, {}, [], set(), [], [0]
    nodes = set(g) | {v for vs in g.values() for v in vs}
    sys.setrecursionlimit(10000)
    def visit(v):
        idx[v] = low[v] = c[0]; c[0] += 1; st.append(v); on.add(v)
        for w in g.get(v, ()):
            if w not in idx: visit(w); low[v] = min(low[v], low[w])
            elif w in on: low[v] = min(low[v], idx[w])
        if low[v] == idx[v]:
            comp = []
            while True:
                w = st.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: out.append(sorted(comp))
    for v in nodes:
        if v not in idx: visit(v)
    return out
found = 0
for name, g in (('calls between .c files', calls), ('includes', inc)):
    c = sccs(g)
    found += len(c)
    print(f'{name}: {len(c)} circle(s) over {sum(map(len, g.values()))} edges', *c, sep='\n  ')
sys.exit(1 if found or not objs else 0)
