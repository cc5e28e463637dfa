#!/usr/bin/env python3
"""Prototype, not shipped (issue 24's open part): a RAISR-style learned upscaler built from
blade's pieces. One direct BLADE bank (7x7 taps, the TV model's selection rule: 24 orientations,
8 strengths, 3 coherences) maps the Lanczos-3 start u0 of an area-downsampled image to the
residual HR - u0 by per-filter least squares over BSDS500 training photographs; the result is
u0 + BLADE(u0), optionally followed by one exact back-projection onto the data.

With "phase", each (filter, pixel phase (y mod F, x mod F)) pair gets its own filter, as RAISR
does: the pixel's offset from the LR samples changes what the Lanczos start got wrong.

Measured 2026-12-05 (x2, area; six scikit-image photographs, luma): bicubic 30.72 / 0.9070,
Lanczos-3 30.99 / 0.9120; 80 training images, one bank: learned 31.49 / 0.9193, + one
back-projection 31.58 / 0.9231 (+0.86 dB over bicubic); 120 training images, per-phase banks:
31.70 / 0.9233, + back-projection 31.73 / 0.9246 (+1.01 dB; issue 24 asks for +1.0).

Usage: BLADE_MODULE_DIR=build/python/blade /usr/bin/python3 scripts/prototype_learned_upscaler.py
       [FACTOR] [TRAINING_DIR] [COUNT] [phase]
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
    training = int(sys.argv[3]) if len(sys.argv) > 3 else 80
    phases = factor * factor if "phase" in sys.argv[4:] else 1
    rule = blade.Model.load(str(ROOT / "models" / "tv.blade")).selection()
    model = blade.empty_model("tv", footprint=S,
                              bins=[rule["orientations"], rule["strengths"], rule["coherences"]],
                              strength_thresholds=rule["strength_thresholds"],
                              coherence_thresholds=rule["coherence_thresholds"])
    count = model.filters().shape[0] * phases

    def keys(u0):
        """The filter of each pixel: its selection index, and with phases its pixel phase."""
        idx = model.select(u0).astype(np.int64)
        if phases == 1:
            return idx
        yy, xx = np.mgrid[0:u0.shape[0], 0:u0.shape[1]]
        return idx * phases + (yy % factor) * factor + (xx % factor)

    a = np.zeros((count, S * S, S * S))
    b = np.zeros((count, S * S))
    n = np.zeros(count)
    for path in sorted(folder.glob("*.jpg"))[:training]:
        hr, _, u0 = prepare(path, factor)
        idx = keys(u0)[R:-R, R:-R].ravel()
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
    scores = {}
    for name in HELD_OUT:
        hr, f, u0 = prepare(DATA / name, factor)
        # u0 + the learned filter of each pixel applied to its patch (edges replicated).
        patches = sliding_window_view(np.pad(u0, R, mode="edge"), (S, S)).reshape(-1, S * S)
        u = u0 + np.einsum("ij,ij->i", patches, taps[keys(u0).ravel()]).reshape(u0.shape).astype(np.float32)
        back = u + np.kron(f - blade.downscale(np.ascontiguousarray(u), factor, "area"),
                           np.ones((factor, factor), np.float32))
        bicubic = np.asarray(Image.fromarray(f, mode="F").resize(hr.shape[::-1], Image.BICUBIC))
        for key, x in (("bicubic", bicubic), ("lanczos", u0), ("learned", u), ("learned + back-projection", back)):
            scores.setdefault(key, []).append((blade.psnr(x, hr), blade.ssim(x, hr)))
    for key, v in scores.items():
        print(f"x{factor} area {key:26s} {np.mean([p for p, _ in v]):.3f} / {np.mean([s for _, s in v]):.4f}")


if __name__ == "__main__":
    main()
