"""Probe (issue 26, docs/RESULTS.md): would selection continuous in strength, or a filter output
normalised by the strength, help BLADE for TV flow? A plain NumPy model of BLADE's direct form
(7x7 filters, 24 orientations x S strengths x 3 coherences, rho 1, the TV preset's reference
frames made with blade.solve), fitted by one-step least squares (relative ridge 1e-3) three ways:
- hard: one filter per pixel, chosen by its bin (as blade);
- interp: the two filters of the neighbouring strength bins, weighted linearly in log strength
  between the bin centres (a selection continuous in strength);
- norm: one filter per pixel, its output divided by (strength + the first threshold);
- scheme: one filter per pixel over its 7x7 patch of u and its 3x3 patch of F(u), TV's classical
  right-hand side on the LR grid (blade.classical_rhs): the scheme term (docs/DESIGN.md §21);
- scheme1: the same with F(u) at the pixel only (one coefficient per filter).
Scores: one-step MSE and the PSNR of a 10-step rollout against the reference, on the 10 BSDS
images after the first N.

Usage: BLADE_MODULE_DIR=build/python/blade /usr/bin/python3 scripts/selection_probe.py N [S] [KINDS]
(S strength bins: 8 uses models/tv.blade's thresholds, others quantiles of the training data;
KINDS a comma-separated subset of hard,interp,norm,scheme,scheme1, default all)."""
import glob
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import blade  # noqa: E402

FP = 7
R = FP // 2
DT = 0.01
m = blade.Model.load(str(ROOT / "models" / "tv.blade"))
sel = m.selection()
ST = np.log(np.array(sel["strength_thresholds"]))
CT = np.array(sel["coherence_thresholds"])
NO, NC = 24, 3
NS = int(sys.argv[2]) if len(sys.argv) > 2 else 8


def centres(st):
    return np.concatenate([[st[0] - (st[1] - st[0]) / 2], (st[1:] + st[:-1]) / 2, [st[-1] + (st[-1] - st[-2]) / 2]])


cent = centres(ST)


def read(path):
    im = blade.to_luma(blade.read_image(path).astype(np.float32))
    h, w = (s - s % 4 for s in im.shape[:2])
    return np.ascontiguousarray(im[:h, :w])


def frames(path):
    u = read(path)
    out = [blade.downscale(u, 4)]
    for _ in range(10):
        u = blade.solve(u, "tv", time=0.01, steps=80, dx=0.25)
        out.append(blade.downscale(u, 4))
    return out


def feats(u):
    f = blade.features(u, rho=1.0)
    o = f["orientation"]
    ob = np.floor(o / np.pi * NO).astype(int) % NO
    ls = np.log(np.maximum(f["strength"], 1e-12))
    sb = np.searchsorted(ST, ls, side="right")
    cb = np.searchsorted(CT, f["coherence"], side="right")
    # interpolation in strength: lower slot s0 and weight a of slot s0 + 1
    j = np.clip(np.searchsorted(cent, ls, side="right") - 1, 0, NS - 2)
    a = np.clip((ls - cent[j]) / (cent[j + 1] - cent[j]), 0, 1)
    w = 1.0 / (np.exp(ls) + np.exp(ST[0]))
    return ob, sb, cb, j, a, w, o


def patches(u):
    p = np.pad(u, R, mode="edge")
    return np.lib.stride_tricks.sliding_window_view(p, (FP, FP)).reshape(u.shape[0], u.shape[1], FP * FP)


def design(u, kind):
    ob, sb, cb, j, a, w, _ = feats(u)
    P = patches(u).reshape(-1, FP * FP).astype(np.float64)
    if kind == "hard":
        return [((ob * NS + sb) * NC + cb).ravel()], [np.ones(P.shape[0])], P
    if kind == "norm":
        return [((ob * NS + sb) * NC + cb).ravel()], [w.ravel()], P
    if kind in ("scheme", "scheme1"):
        F = blade.classical_rhs(u.astype(np.float32), "tv", params={"eps": 0.01})
        pf = np.lib.stride_tricks.sliding_window_view(np.pad(F, 1, mode="edge"), (3, 3))
        pf = pf.reshape(-1, 9) if kind == "scheme" else F.reshape(-1, 1)
        P = np.hstack([P, pf.astype(np.float64)])
        return [((ob * NS + sb) * NC + cb).ravel()], [np.ones(P.shape[0])], P
    # interp: two slots
    i0 = ((ob * NS + j) * NC + cb).ravel()
    i1 = ((ob * NS + j + 1) * NC + cb).ravel()
    return [i0, i1], [(1 - a).ravel(), a.ravel()], P


T = FP * FP


def fit(data, kind, ridge=1e-3):
    NF = NO * NS * NC
    if kind in ("hard", "norm", "scheme", "scheme1"):
        nt = design(data[0][0], kind)[2].shape[1]  # taps per filter (58 with the scheme term)
        A = np.zeros((NF, nt, nt))
        b = np.zeros((NF, nt))
        for seq in data:
            for k in range(10):
                (idx,), (wt,), P = design(seq[k], kind)
                d = ((seq[k + 1] - seq[k]) / DT).ravel().astype(np.float64)
                order = np.argsort(idx, kind="stable")
                idx_s, P_s, d_s, w_s = idx[order], P[order], d[order], wt[order]
                bounds = np.flatnonzero(np.diff(idx_s)) + 1
                starts = np.concatenate([[0], bounds])
                ends = np.concatenate([bounds, [len(idx_s)]])
                for s0, e0 in zip(starts, ends):
                    f = idx_s[s0]
                    Pw = P_s[s0:e0] * w_s[s0:e0, None]
                    A[f] += Pw.T @ Pw
                    b[f] += Pw.T @ d_s[s0:e0]
        lam = ridge * np.mean([np.trace(A[f]) / nt for f in range(NF) if np.trace(A[f]) > 0])
        H = np.zeros((NF, nt))
        pooled_A, pooled_b = A.sum(0), b.sum(0)
        hp = np.linalg.solve(pooled_A + lam * np.eye(nt), pooled_b)
        for f in range(NF):
            if np.trace(A[f]) > 0:
                H[f] = np.linalg.solve(A[f] + lam * np.eye(nt), b[f])
            else:
                H[f] = hp
        return H
    # interp: chains over strength for each (o, c): unknowns NS x T
    nch = NO * NC
    A = np.zeros((nch, NS * T, NS * T))
    b = np.zeros((nch, NS * T))
    for seq in data:
        for k in range(10):
            ob, sb, cb, j, a, w, _ = feats(seq[k])
            P = patches(seq[k]).reshape(-1, T).astype(np.float64)
            d = ((seq[k + 1] - seq[k]) / DT).ravel().astype(np.float64)
            ch = (ob * NC + cb).ravel()
            jj = j.ravel()
            aa = a.ravel()
            key = ch * NS + jj
            order = np.argsort(key, kind="stable")
            key_s = key[order]
            bounds = np.flatnonzero(np.diff(key_s)) + 1
            starts = np.concatenate([[0], bounds])
            ends = np.concatenate([bounds, [len(key_s)]])
            for s0, e0 in zip(starts, ends):
                sl = order[s0:e0]
                c_, j_ = divmod(key_s[s0], NS)
                Pp, ap, dp = P[sl], aa[sl], d[sl]
                X0 = Pp * (1 - ap)[:, None]
                X1 = Pp * ap[:, None]
                r0, r1 = slice(j_ * T, (j_ + 1) * T), slice((j_ + 1) * T, (j_ + 2) * T)
                A[c_][r0, r0] += X0.T @ X0
                A[c_][r1, r1] += X1.T @ X1
                cross = X0.T @ X1
                A[c_][r0, r1] += cross
                A[c_][r1, r0] += cross.T
                b[c_][r0] += X0.T @ dp
                b[c_][r1] += X1.T @ dp
    diag = [np.trace(A[c]) / (NS * T) for c in range(nch) if np.trace(A[c]) > 0]
    lam = ridge * np.mean(diag)
    H = np.zeros((NO * NS * NC, T))
    for c in range(nch):
        o, cc = divmod(c, NC)
        x = np.linalg.solve(A[c] + lam * np.eye(NS * T), b[c])
        for s in range(NS):
            H[(o * NS + s) * NC + cc] = x[s * T:(s + 1) * T]
    return H


def rhs(u, H, kind):
    idxs, wts, P = design(u, kind)
    out = np.zeros(P.shape[0])
    for idx, wt in zip(idxs, wts):
        out += wt * np.einsum("nt,nt->n", P, H[idx])
    return out.reshape(u.shape)


def evaluate(data, H, kind):
    one, roll = [], []
    for seq in data:
        e = 0
        for k in range(10):
            pred = seq[k] + DT * rhs(seq[k], H, kind)
            e += np.mean((pred - seq[k + 1]) ** 2) / 10
        one.append(e)
        u = seq[0].astype(np.float64)
        for k in range(10):
            u = u + DT * rhs(u.astype(np.float32), H, kind)
        roll.append(blade.psnr(u.astype(np.float32), seq[10]))
    return np.mean(one), np.mean(roll)


files = sorted(glob.glob(str(ROOT.parent / "shared" / "data" / "train" / "BSDS500" / "*.jpg")))
n_train = int(sys.argv[1]) if len(sys.argv) > 1 else 30
t0 = time.time()
data = [frames(f) for f in files[:n_train + 10]]
print(f"frames {time.time() - t0:.0f} s", flush=True)
train, val = data[:n_train], data[n_train:]
if NS != 8:  # quantile thresholds of the training frames' log strength, as blade train fits them
    ls = np.concatenate([np.log(np.maximum(blade.features(seq[k], rho=1.0)["strength"], 1e-12)).ravel()
                         for seq in train for k in range(10)])
    ST = np.quantile(ls, np.arange(1, NS) / NS)
    cent = centres(ST)
for kind in (sys.argv[3].split(",") if len(sys.argv) > 3 else ("hard", "interp", "norm", "scheme", "scheme1")):
    t0 = time.time()
    H = fit(train, kind)
    one, roll = evaluate(val, H, kind)
    print(f"{kind:7s}: one-step MSE {one:.4e}, 10-step PSNR {roll:.2f} dB ({time.time() - t0:.0f} s)", flush=True)
