#!/usr/bin/env python3
"""Inpainting (`blade restore --op mask:FILE`) against OpenCV's inpainting (Telea, Navier-Stokes;
python3-opencv, scripts/install-deps.sh bench), in one run, on color photographs with two masks:
"scratches" (every 17th row and a 10 x W/2 bar) and "pixels" (half of the pixels, drawn at
random with a fixed seed). PSNR over the missing pixels (all channels) and whole-image luma
SSIM, means over the images; median seconds per megapixel on one thread.

Usage: BLADE_MODULE_DIR=build/python/blade /usr/bin/python3 scripts/inpaint_compare.py DIR_OR_FILES...
"""

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from heldout_common import ROOT, blade, cv2, files_of, one_thread


def masks(h, w):
    scratches = np.ones((h, w), bool)
    scratches[::17, :] = False
    scratches[h // 2:h // 2 + 10, w // 4:w // 4 + w // 2] = False
    pixels = np.random.default_rng(1).random((h, w)) >= 0.5
    return {"scratches": scratches, "pixels": pixels}


def main():
    files = files_of(sys.argv[1:])
    if not files:
        sys.exit("inpaint_compare: give folders or image files")
    one_thread()
    models = {name: blade.Model.load(str(ROOT / "models" / f"{name}.blade"))
              for name in ("ced-restore", "tv-plain")}
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            truth = blade.read_image(str(f))
            if truth.ndim == 2:
                truth = np.repeat(truth[:, :, None], 3, axis=2)
            h, w = truth.shape[:2]
            for mask_name, known in masks(h, w).items():
                mask_file = str(Path(tmp) / "mask.png")
                Image.fromarray(known.astype(np.uint8) * 255).save(mask_file)
                holes = np.ascontiguousarray(truth * known[:, :, None], dtype=np.float32)
                methods = {"holes (input)": lambda: holes}
                for name, model in models.items():
                    methods[f"BLADE {name}"] = lambda m=model: blade.restore(m, holes, f"mask:{mask_file}")
                if cv2 is not None:
                    u8 = np.clip(np.rint(holes * 255), 0, 255).astype(np.uint8)
                    missing = (~known).astype(np.uint8)
                    for name, flag in (("OpenCV Telea", cv2.INPAINT_TELEA), ("OpenCV NS", cv2.INPAINT_NS)):
                        methods[name] = lambda flag=flag: cv2.inpaint(u8, missing, 3, flag).astype(np.float32) / 255
                for name, run in methods.items():
                    t = time.perf_counter()
                    u = np.asarray(run(), dtype=np.float64)
                    seconds = time.perf_counter() - t
                    err = ((u - truth)[~known] ** 2).mean()
                    psnr = 10 * np.log10(1 / err)
                    ssim = blade.ssim(blade.to_luma(np.ascontiguousarray(u, dtype=np.float32)), blade.to_luma(truth))
                    rows.setdefault((mask_name, name), []).append((psnr, ssim, seconds / (h * w / 1e6)))
    for mask_name in ("scratches", "pixels"):
        print(f"mask {mask_name}, {len(files)} images (PSNR over the missing pixels, luma SSIM):")
        for (m, name), r in rows.items():
            if m == mask_name:
                r = np.array(r)
                print(f"  {name:16s} {r[:, 0].mean():7.3f} dB  {r[:, 1].mean():.4f}  {np.median(r[:, 2]) * 1e3:8.1f} ms/Mpx")


if __name__ == "__main__":
    main()
