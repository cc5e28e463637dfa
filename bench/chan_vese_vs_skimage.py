#!/usr/bin/python3
"""Times scikit-image's chan_vese against `blade segment` (reference and BLADE TV) on the same
images and iteration count, and prints the ratios. Usage:
  bench/chan_vese_vs_skimage.py [IMAGES_DIR] [--limit N] [--iters N]
Defaults: ../shared/data/kodak, 4 images, 300 iterations (the paper's setting)."""
import argparse
import pathlib
import subprocess
import tempfile
import time

import numpy as np
from skimage import color, io
from skimage.segmentation import chan_vese

root = pathlib.Path(__file__).resolve().parent.parent
parser = argparse.ArgumentParser()
parser.add_argument("images", nargs="?", default=str(root.parent / "shared/data/kodak"))
parser.add_argument("--limit", type=int, default=4)
parser.add_argument("--iters", type=int, default=300)
parser.add_argument("--blade", default=str(root / "build/bin/blade"))
parser.add_argument("--model", default=str(root / "models/tv.blade"))
args = parser.parse_args()

files = sorted(p for p in pathlib.Path(args.images).iterdir() if p.suffix.lower() in (".png", ".jpg"))
files = files[: args.limit]
totals = {"skimage": 0.0, "blade reference": 0.0, "blade BLADE TV": 0.0}
with tempfile.TemporaryDirectory() as tmp:
    for f in files:
        img = io.imread(f)
        gray = color.rgb2gray(img) if img.ndim == 3 else img / 255.0
        t = time.perf_counter()
        # tol=0 runs all iterations, like the paper's fixed 300; checkerboard start as in IPOL.
        chan_vese(gray, mu=0.2, lambda1=1, lambda2=1, tol=0, max_num_iter=args.iters, dt=0.5,
                  init_level_set="checkerboard")
        totals["skimage"] += time.perf_counter() - t
        luma = pathlib.Path(tmp) / "luma.npy"
        np.save(luma, gray.astype(np.float32))
        for name, extra in (("blade reference", ["--reference"]),
                            ("blade BLADE TV", ["--model", args.model])):
            t = time.perf_counter()
            subprocess.run([args.blade, "-q", "--threads", "1", "segment", *extra, "--iters",
                            str(args.iters), str(luma), str(pathlib.Path(tmp) / "mask.png")],
                           check=True)
            totals[name] += time.perf_counter() - t
n = len(files)
print(f"Chan-Vese, {args.iters} iterations, {n} images from {args.images}, 1 thread, "
      "whole-process time per image for blade:")
for name, total in totals.items():
    print(f"  {name:16s} {total / n:8.2f} s   ({totals['skimage'] / total:5.2f}x skimage speed)")
