#!/usr/bin/env python3
"""Compares two output snapshots (scripts/outputs_snapshot.sh): every number but the timings.

Usage: scripts/compare_snapshots.py BEFORE_DIR AFTER_DIR
"""
import glob
import json
import os
import sys

B, A = sys.argv[1], sys.argv[2]
def walk(x, path=''):
    if isinstance(x, dict):
        for k, v in x.items(): yield from walk(v, f'{path}/{k}')
    elif isinstance(x, list):
        for i, v in enumerate(x): yield from walk(v, f'{path}[{i}]')
    else: yield path, x
worst = {}
for f in sorted(glob.glob(B + '/*.json')):
    name = os.path.basename(f)
    a = json.load(open(os.path.join(A, name))); b = json.load(open(f))
    fa = dict(walk(a)); fb = dict(walk(b))
    n = same = 0; maxd = 0.0; missing = 0
    for k, v in fb.items():
        if 'seconds' in k or k.endswith('/ms') or 'model' in k: continue
        if not isinstance(v, (int, float)) or isinstance(v, bool): continue
        if k not in fa: missing += 1; continue
        n += 1
        if fa[k] == v: same += 1
        else: maxd = max(maxd, abs(fa[k] - v))
    print(f'{name:24s} numbers {n:4d}  identical {same:4d}  max |diff| {maxd:.3g}  (keys only in BEFORE: {missing})')
