#!/usr/bin/env python3
"""Probe (not shipped): x4 upscaling as the shipped x2 learned upscaler applied twice, against the
shipped x4 upscaler and Pillow bicubic, luma PSNR over the photographs of DIR (each cropped to a
multiple of 4 and shrunk by `blade.downscale`; area x4 is exactly area x2 twice, bicubic is not).

Usage: BLADE_MODULE_DIR=build/python/blade /usr/bin/python3 scripts/upscale_cascade_probe.py DIR
"""

import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import blade  # noqa: E402


def main():
    files = sorted(p for p in Path(sys.argv[1]).iterdir() if p.suffix.lower() in (".png", ".jpg"))
    for deg in ("area", "bicubic"):
        m2 = blade.Model.default_for("upscale", factor=2, degradation=deg)
        m4 = blade.Model.default_for("upscale", factor=4, degradation=deg)
        scores = []
        for p in files:
            im = blade.read_image(str(p))
            hr = blade.to_luma(im) if im.ndim == 3 else im
            h, w = hr.shape
            hr = np.ascontiguousarray(hr[:h // 4 * 4, :w // 4 * 4])
            f = blade.downscale(hr, 4, deg)
            direct = blade.upscale(m4, f, factor=4, degradation=deg)
            twice = blade.upscale(m2, blade.upscale(m2, f, factor=2, degradation=deg), factor=2, degradation=deg)
            bicubic = np.asarray(Image.fromarray(f, mode="F").resize(hr.shape[::-1], Image.BICUBIC))
            scores.append((blade.psnr(direct, hr), blade.psnr(twice, hr), blade.psnr(np.ascontiguousarray(bicubic), hr)))
        m = np.mean(scores, axis=0)
        print(f"{deg}: x4 model {m[0]:.3f} dB, x2 model twice {m[1]:.3f} dB, bicubic {m[2]:.3f} dB "
              f"({len(scores)} images)")


if __name__ == "__main__":
    main()
