#!/usr/bin/env python3
"""`blade denoise` with the noise level estimated (sigma=None, `--sigma auto`) against the level
given, on the photographs of DIR: Gaussian noise 5, 10, 20, 30 and 50 (0-255, seeded per image,
clipped to [0, 1]), gray (luma) and color, luma PSNR of the default (learned) denoiser both ways,
and blade.estimate_noise against scikit-image's estimate_sigma (the same rule).

Usage: BLADE_MODULE_DIR=build/python/blade /usr/bin/python3 scripts/denoise_auto_sigma.py DIR
"""

import sys
from pathlib import Path

import numpy as np
from skimage.restoration import estimate_sigma

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import blade  # noqa: E402


def luma(a):
    return blade.to_luma(a) if a.ndim == 3 else a


def main():
    files = sorted(p for p in Path(sys.argv[1]).iterdir() if p.suffix.lower() in (".png", ".jpg"))
    blade.set_threads(1)
    for color in (False, True):
        for sigma in (5, 10, 20, 30, 50):
            scores, est, sk = [], [], []
            for i, p in enumerate(files):
                im = blade.read_image(str(p))
                if color and im.ndim == 2:
                    continue
                clean = im if color else luma(im)
                rng = np.random.default_rng(24 + i)
                f = np.clip(clean + rng.normal(0, sigma / 255, clean.shape), 0, 1).astype(np.float32)
                est.append(blade.estimate_noise(f))
                kw = {"channel_axis": -1, "average_sigmas": True} if color else {}
                sk.append(255 * estimate_sigma(f, **kw))
                scores.append((blade.psnr(luma(blade.denoise(f, sigma)), luma(clean)),
                               blade.psnr(luma(blade.denoise(f)), luma(clean))))
            known, auto = np.mean(scores, axis=0)
            worst = max(abs(a - b) / b for a, b in zip(est, sk))
            print(f"{'color' if color else 'gray'} sigma {sigma}, {len(scores)} images: given {known:.2f} dB, "
                  f"estimated {auto:.2f} dB; estimate {np.mean(est):.2f} ({min(est):.2f} to {max(est):.2f}), "
                  f"scikit-image {np.mean(sk):.2f}, largest relative difference {worst:.4f}", flush=True)


if __name__ == "__main__":
    main()
