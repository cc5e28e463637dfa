#!/usr/bin/env python3
"""Stopping rules for `blade denoise` on one set of photographs (gray, Gaussian noise 10, 20 and
30 clipped to [0, 1], seed 24; docs/RESULTS.md, "Stopping per image by SURE"): the fitted rule
(the default), the best whole step per image chosen with the clean image (the ceiling), the
discrepancy principle at its best kappa, Monte-Carlo SURE summed everywhere and summed where the
local mean lies M sigmas inside [0, 1] (M = 1, 2, 3), each step by step in the rule's own step,
here re-implemented in NumPy around Model.run (blade.denoise(stop="sure") is the shipped M = 2).

Usage: BLADE_MODULE_DIR=build/python/blade /usr/bin/python3 scripts/denoise_stopping.py DIR [COUNT]
"""

import math
import sys

import numpy as np
from scipy.ndimage import gaussian_filter

from heldout_common import blade, files_of

STEPS = 30


def main():
    files = files_of([sys.argv[1]])[: int(sys.argv[2]) if len(sys.argv) > 2 else None]
    blade.set_threads(1)
    model = blade.Model.default_for("denoise")
    rng = np.random.default_rng(24)
    images = []
    for f in files:
        a = blade.read_image(str(f))
        images.append(np.ascontiguousarray(blade.to_luma(a) if a.ndim == 3 else a, dtype=np.float32))
    for sigma in (10, 20, 30):
        s = sigma / 255
        rule_time = blade.denoise_time(sigma, 1)
        step = min(model.dt, rule_time / max(1, math.floor(rule_time / model.dt + 0.5)))  # DenoiseSteps
        rows = {}
        for truth in images:
            f = np.clip(truth + rng.normal(0, s, truth.shape), 0, 1).astype(np.float32)
            b = rng.choice([-1.0, 1.0], truth.shape).astype(np.float32)
            eps = 0.05 * s
            mean = gaussian_filter(f.astype(np.float64), 1.5)
            masks = {"SURE, everywhere": np.ones(f.shape, bool)}
            for m in (1, 2, 3):
                masks[f"SURE, {m} sigma inside"] = np.abs(mean - 0.5) < 0.5 - m * s
            u, v = f.copy(), (f + eps * b).astype(np.float32)
            psnrs, ratios, sures = [], [], {k: [] for k in masks}
            for _ in range(STEPS):
                u = model.run(u, steps=1, dt=step)
                v = model.run(v, steps=1, dt=step)
                psnrs.append(blade.psnr(u, truth))
                ratios.append(float(np.mean((u - f) ** 2)) / (s * s))
                d, r = b * (v - u) / eps, (u - f) ** 2
                for k, m in masks.items():
                    sures[k].append(float(np.mean(r[m])) - s * s + 2 * s * s * float(np.mean(d[m])))
            psnrs, ratios = np.array(psnrs), np.array(ratios)
            rows.setdefault("rule (default)", []).append(blade.psnr(blade.denoise(f, sigma), truth))
            rows.setdefault("best whole step (clean image)", []).append(psnrs.max())
            for kappa in np.arange(0.5, 1.0, 0.05):
                k = int(np.argmax(ratios >= kappa)) if np.any(ratios >= kappa) else STEPS - 1
                rows.setdefault(f"discrepancy, kappa {kappa:.2f}", []).append(psnrs[k])
            for k, v_ in sures.items():
                rows.setdefault(k, []).append(psnrs[int(np.argmin(v_))])
        disc = max((k for k in rows if k.startswith("discrepancy")), key=lambda k: np.mean(rows[k]))
        print(f"sigma {sigma}, {len(images)} images:")
        for k, v_ in rows.items():
            if k.startswith("discrepancy") and k != disc:
                continue
            print(f"  {k:34s} {np.mean(v_):.3f} dB")


if __name__ == "__main__":
    main()
