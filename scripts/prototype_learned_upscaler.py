#!/usr/bin/env python3
"""Prototype, not shipped (issue 24's open part): a RAISR-style learned upscaler built from
blade's pieces. One direct BLADE bank (7x7 taps, the TV model's selection rule: 24 orientations,
8 strengths, 3 coherences) maps the Lanczos-3 start u0 of an area-downsampled image to the
residual HR - u0 by per-filter least squares over BSDS500 training photographs; the result is
u0 + BLADE(u0), optionally followed by one exact back-projection onto the data.

Measured 2026-12-05 (x2, area, 80 training images; six scikit-image photographs, luma):
bicubic 30.72 / 0.9070, Lanczos-3 30.99 / 0.9120, learned 31.49 / 0.9193, learned + one
back-projection 31.58 / 0.9231 (+0.86 dB over bicubic: issue 24 asks for +1.0).

Usage: BLADE_MODULE_DIR=build/python/blade /usr/bin/python3 scripts/prototype_learned_upscaler.py [FACTOR] [IMAGES]
"""

import sys
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import blade  # noqa: E402

R = 3
S = 2 * R + 1
DATA = Path("/usr/lib/python3/dist-packages/skimage/data")
HELD_OUT = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "camera.png"]


def lanczos(f, factor):
    return np.asarray(Image.fromarray(f, mode="F").resize((f.shape[1] * factor, f.shape[0] * factor),
                                                          Image.LANCZOS)).astype(np.float32)


def prepare(path, factor):
    a = blade.read_image(str(path))
    a = blade.to_luma(a) if a.ndim == 3 else a
    h, w = a.shape
    hr = np.ascontiguousarray(a[:h // factor * factor, :w // factor * factor])
    f = blade.downscale(hr, factor, "area")
    return hr, f, lanczos(f, factor)


def main():
    factor = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    folder = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT.parent / "shared" / "data" / "train" / "BSDS500"
    rule = blade.Model.load(str(ROOT / "models" / "tv.blade")).selection()
    model = blade.empty_model("tv", footprint=S,
                              bins=[rule["orientations"], rule["strengths"], rule["coherences"]],
                              strength_thresholds=rule["strength_thresholds"],
                              coherence_thresholds=rule["coherence_thresholds"])
    count = model.filters().shape[0]
    a = np.zeros((count, S * S, S * S))
    b = np.zeros((count, S * S))
    n = np.zeros(count)
    for path in sorted(folder.glob("*.jpg"))[:80]:
        hr, _, u0 = prepare(path, factor)
        idx = model.select(u0)[R:-R, R:-R].ravel()
        patches = sliding_window_view(u0, (S, S)).reshape(-1, S * S).astype(np.float64)
        target = (hr - u0)[R:-R, R:-R].ravel().astype(np.float64)
        order = np.argsort(idx, kind="stable")
        bounds = np.searchsorted(idx[order], np.arange(count + 1))
        for k in range(count):
            rows = order[bounds[k]:bounds[k + 1]]
            if rows.size:
                p = patches[rows]
                a[k] += p.T @ p
                b[k] += p.T @ target[rows]
                n[k] += rows.size
    pooled = np.linalg.solve(a.sum(0) + 1e-6 * np.trace(a.sum(0)) * np.eye(S * S), b.sum(0))
    taps = np.array([np.linalg.solve(a[k] + 1e-3 * np.trace(a[k]) / (S * S) * np.eye(S * S), b[k])
                     if n[k] >= 200 else pooled for k in range(count)])
    model.set_filters(taps.reshape(count, S, S).astype(np.float32))
    scores = {}
    for name in HELD_OUT:
        hr, f, u0 = prepare(DATA / name, factor)
        u = u0 + model.rhs(u0)
        back = u + np.kron(f - blade.downscale(np.ascontiguousarray(u), factor, "area"),
                           np.ones((factor, factor), np.float32))
        bicubic = np.asarray(Image.fromarray(f, mode="F").resize(hr.shape[::-1], Image.BICUBIC))
        for key, x in (("bicubic", bicubic), ("lanczos", u0), ("learned", u), ("learned + back-projection", back)):
            scores.setdefault(key, []).append((blade.psnr(x, hr), blade.ssim(x, hr)))
    for key, v in scores.items():
        print(f"x{factor} area {key:26s} {np.mean([p for p, _ in v]):.3f} / {np.mean([s for _, s in v]):.4f}")


if __name__ == "__main__":
    main()
