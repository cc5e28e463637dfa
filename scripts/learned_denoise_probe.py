#!/usr/bin/env python3
"""Probe (NumPy, not shipped): would a BLADE filter bank trained for denoising itself, as the
learned upscalers are trained for upscaling, beat the TV model run by `blade denoise`'s rule?

Gray only. From the noisy image u (Gaussian noise SIGMA/255, clipped to [0, 1]), each stage does
u <- u + sum(patch(u) * w[bin(u)]), the bin by u's structure tensor (blade.features at RHO: 24
orientations x 3 strength x 3 coherence tertiles fitted on the stage's inputs), w fitted by least
squares (ridge 1e-3 of the mean diagonal) of the residual clean - u over N training photographs
(BSDS500, the first N sorted) and their 8 mirror and rotation copies, stage by stage. Scored on
the photographs of DIR (each with its own seeded noise) against blade.denoise (the rule), luma.

Usage: BLADE_MODULE_DIR=build/python/blade /usr/bin/python3 scripts/learned_denoise_probe.py \
           SIGMA N STAGES RHO FOOTPRINT DIR
"""

import sys
import time
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import blade  # noqa: E402

ORIENTATIONS, STRENGTHS, COHERENCES = 24, 3, 3


def main():
    sigma, count, stages, rho, size = (float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]),
                                       float(sys.argv[4]), int(sys.argv[5]))
    folder = Path(sys.argv[6])
    s, r = sigma / 255, size // 2
    blade.set_threads(1)

    def gray(path):
        im = blade.read_image(str(path))
        return blade.to_luma(im) if im.ndim == 3 else im

    def noisy(clean, seed):
        rng = np.random.default_rng(seed)
        return np.clip(clean + rng.normal(0, s, clean.shape).astype(np.float32), 0, 1)

    def patches(u):
        return sliding_window_view(np.pad(u, r, mode="reflect"), (size, size)).reshape(-1, size * size)

    def features(u):
        f = blade.features(u, rho=rho)
        return f["orientation"].ravel(), f["strength"].ravel(), f["coherence"].ravel()

    def bins(u, thresholds):
        o, st, c = features(u)
        bo = np.minimum((o / np.pi * ORIENTATIONS).astype(int), ORIENTATIONS - 1)
        return (bo * STRENGTHS + np.searchsorted(thresholds[0], st)) * COHERENCES + np.searchsorted(thresholds[1], c)

    def stage(u, thresholds, w):
        return u + np.einsum("ij,ij->i", patches(u), w[bins(u, thresholds)]).reshape(u.shape).astype(np.float32)

    train = sorted((ROOT.parent / "shared" / "data" / "train" / "BSDS500").glob("*.jpg"))[:count]
    cleans = [gray(p) for p in train]
    inputs = [noisy(c, 1000 + i) for i, c in enumerate(cleans)]
    model = []
    k, n = ORIENTATIONS * STRENGTHS * COHERENCES, size * size
    for _ in range(stages):
        feats = [features(u) for u in inputs]
        thresholds = (np.quantile(np.concatenate([f[1] for f in feats]), [1 / 3, 2 / 3]),
                      np.quantile(np.concatenate([f[2] for f in feats]), [1 / 3, 2 / 3]))
        a, b, counts = np.zeros((k, n, n)), np.zeros((k, n)), np.zeros(k)
        for u, c in zip(inputs, cleans):
            for rot in range(4):
                for flip in (False, True):
                    uu, cc = np.rot90(u, rot), np.rot90(c, rot)
                    if flip:
                        uu, cc = uu[:, ::-1], cc[:, ::-1]
                    uu, cc = np.ascontiguousarray(uu), np.ascontiguousarray(cc)
                    x, t, idx = patches(uu).astype(np.float64), (cc - uu).ravel().astype(np.float64), bins(uu, thresholds)
                    order = np.argsort(idx, kind="stable")
                    edges = np.searchsorted(idx[order], np.arange(k + 1))
                    x, t = x[order], t[order]
                    for j in range(k):
                        lo, hi = edges[j], edges[j + 1]
                        if hi > lo:
                            a[j] += x[lo:hi].T @ x[lo:hi]
                            b[j] += x[lo:hi].T @ t[lo:hi]
                            counts[j] += hi - lo
        w = np.zeros((k, n))
        for j in range(k):
            if counts[j] > 4 * n:
                w[j] = np.linalg.solve(a[j] + 1e-3 * np.trace(a[j]) / n * np.eye(n), b[j])
        model.append((thresholds, w))
        inputs = [stage(u, thresholds, w) for u in inputs]

    scores = []
    for i, path in enumerate(sorted(p for p in folder.iterdir() if p.suffix in (".png", ".jpg"))):
        clean = gray(path)
        f = noisy(clean, 24 + i)
        t0 = time.perf_counter()
        u = f
        for thresholds, w in model:
            u = stage(u, thresholds, w)
        rule = blade.denoise(f, sigma)
        scores.append((blade.psnr(u, clean), blade.ssim(u, clean), blade.psnr(rule, clean), blade.ssim(rule, clean)))
    m = np.mean(scores, axis=0)
    print(f"sigma {sigma:g}, {count} training photographs, {stages} stage(s), rho {rho:g}, {size}x{size}: "
          f"learned {m[0]:.3f} / {m[1]:.4f}, TV rule {m[2]:.3f} / {m[3]:.4f} ({len(scores)} images of {folder})")


if __name__ == "__main__":
    main()
