#!/usr/bin/env python3
"""Upscaling against the interpolators a user would pick, in one run (issue 24): Pillow's BICUBIC
and LANCZOS, OpenCV's INTER_CUBIC and INTER_LANCZOS4 (python3-opencv, scripts/install-deps.sh
bench), blade.upscale's default (the shipped learned upscaler for the factor and degradation, and
the same without its refiner network), and eq. 4.6 (its default TV model, tv-plain), on luma, x2 and x4, inputs made
by the area and bicubic degradations. Mean PSNR dB / SSIM and median seconds per output
megapixel on one thread.

Usage: BLADE_MODULE_DIR=build/python/blade /usr/bin/python3 scripts/upscale_compare.py [--shave N] DIR_OR_FILES...

--shave N scores every method without the outer N pixels of each image, as super-resolution
papers do (N = the factor there); the default scores the whole image.
"""

import sys
import time

import numpy as np
from PIL import Image

from heldout_common import ROOT, blade, cv2, files_of, one_thread


def main():
    args = sys.argv[1:]
    shave = 0
    if args[:1] == ["--shave"]:
        if len(args) < 3 or not args[1].isdigit():
            sys.exit("upscale_compare: --shave takes a pixel count (0 or more), then folders or files")
        shave, args = int(args[1]), args[2:]
    files = files_of(args)
    one_thread()
    model = blade.Model.load(str(ROOT / "models" / "tv-plain.blade"))  # eq. 4.6's default model
    images = []
    for f in files:
        a = blade.read_image(str(f))
        images.append(blade.to_luma(a) if a.ndim == 3 else a)
    for factor in (2, 4):
        for degradation in ("area", "bicubic"):
            learned = blade.Model.default_for("upscale", factor=factor, degradation=degradation)
            methods = {
                "PIL bicubic": lambda f, s: np.asarray(Image.fromarray(f, mode="F").resize(s, Image.BICUBIC)),
                "PIL Lanczos": lambda f, s: np.asarray(Image.fromarray(f, mode="F").resize(s, Image.LANCZOS)),
                "BLADE learned": lambda f, s: blade.upscale(learned, f, factor=factor, degradation=degradation),
                "BLADE eq. 4.6": lambda f, s: blade.upscale(model, f, factor=factor, degradation=degradation),
            }
            if learned.upscale["refiner_layers"]:  # what the refiner adds, in the same run
                stages = blade.Model.default_for("upscale", factor=factor, degradation=degradation)
                stages.set_refiner([])
                methods["BLADE stages only"] = lambda f, s: blade.upscale(stages, f, factor=factor,
                                                                          degradation=degradation)
            if cv2 is not None:
                methods["OpenCV INTER_CUBIC"] = lambda f, s: cv2.resize(f, s, interpolation=cv2.INTER_CUBIC)
                methods["OpenCV INTER_LANCZOS4"] = lambda f, s: cv2.resize(f, s, interpolation=cv2.INTER_LANCZOS4)
            scores = {k: [] for k in methods}
            rates = {k: [] for k in methods}
            for hr in images:
                h, w = hr.shape
                if 2 * shave >= min(h, w) - factor:
                    sys.exit(f"upscale_compare: --shave {shave} leaves nothing of a {w}x{h} image")
                hr = np.ascontiguousarray(hr[:h // factor * factor, :w // factor * factor])
                f = blade.downscale(hr, factor, degradation)
                size = (hr.shape[1], hr.shape[0])
                for name, run in methods.items():
                    t = time.perf_counter()
                    u = np.ascontiguousarray(run(f, size), dtype=np.float32)
                    rates[name].append((time.perf_counter() - t) / (hr.size / 1e6))
                    if shave:
                        u, ref = (np.ascontiguousarray(a[shave:-shave, shave:-shave]) for a in (u, hr))
                    else:
                        ref = hr
                    scores[name].append((blade.psnr(u, ref), blade.ssim(u, ref)))
            shaved = f", {shave} border pixels not scored" if shave else ""
            print(f"x{factor}, {degradation} degradation, {len(images)} images{shaved}:")
            for name in methods:
                p = np.mean([a for a, _ in scores[name]])
                s = np.mean([b for _, b in scores[name]])
                print(f"  {name:22s} {p:7.3f} dB  {s:.4f}  {np.median(rates[name]) * 1e3:8.2f} ms/Mpx", flush=True)


if __name__ == "__main__":
    main()
