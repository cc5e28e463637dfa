#!/usr/bin/env python3
"""`blade denoise` against scikit-image's denoise_tv_chambolle at its best weight per image (an
oracle a user does not have), Gaussian noise 10, 20 and 30 (0-255 units, seed 24), gray (luma)
and color, one thread, in the same run (issue 24): blade.denoise's default (the shipped learned
denoiser for the channels, denoise-gray or denoise-color), and the TV model (tv-plain) with both
its stopping rules: the rule (a time per noise level) and stop="sure" (per image, by Stein's
unbiased risk estimate). OpenCV's fastNlMeansDenoising(Colored) is shown beside it when
python3-opencv is installed (scripts/install-deps.sh bench).

Usage: BLADE_MODULE_DIR=build/python/blade /usr/bin/python3 scripts/denoise_compare.py \
           [--sigmas 10,20,30] DIR_OR_FILES...
"""

import sys
import time

import numpy as np
from skimage.metrics import peak_signal_noise_ratio as psnr
from skimage.metrics import structural_similarity as ssim
from skimage.restoration import denoise_tv_chambolle

from heldout_common import blade, cv2, files_of, one_thread

WEIGHTS = (0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25)


def timed(f):
    t = time.perf_counter()
    r = f()
    return r, time.perf_counter() - t


def score(u, truth, color):
    kw = {"channel_axis": -1} if color else {}
    return psnr(truth, u, data_range=1), ssim(truth, u, data_range=1, **kw)


def main():
    args = sys.argv[1:]
    sigmas = (10, 20, 30)
    if args[:1] == ["--sigmas"]:
        sigmas = tuple(float(v) for v in args[1].split(","))
        args = args[2:]
    files = files_of(args)
    one_thread()
    rng = np.random.default_rng(24)
    tv = blade.Model.default_for("denoise")  # tv-plain: the TV model, for any level and option
    for color in (False, True):
        images = []
        for f in files:
            a = blade.read_image(str(f))
            if a.ndim == 2 and color:
                continue
            images.append(a if color else (blade.to_luma(a) if a.ndim == 3 else a))
        for sigma in sigmas:
            rows = {"noisy": [], "blade (learned)": [], "blade TV rule": [], "blade TV, stop=sure": [],
                    "chambolle (best weight)": [], "opencv nlmeans": []}
            times = {k: [] for k in rows if k != "noisy"}
            for truth in images:
                f = np.clip(truth + rng.normal(0, sigma / 255, truth.shape), 0, 1).astype(np.float32)
                rows["noisy"].append(score(f, truth, color))
                for name, run in (("blade (learned)", lambda: blade.denoise(f, sigma)),
                                  ("blade TV rule", lambda: blade.denoise(f, sigma, tv)),
                                  ("blade TV, stop=sure", lambda: blade.denoise(f, sigma, tv, stop="sure"))):
                    try:
                        u, t = timed(run)
                    except blade.Error as e:  # SURE refuses mostly clipped images (heavy noise)
                        print(f"  ({name} skipped one image: {e})")
                        continue
                    rows[name].append(score(u, truth, color))
                    times[name].append(t)
                kw = {"channel_axis": -1} if color else {}
                # Heavier noise wants heavier weights, lighter noise lighter ones (the list for 5 to
                # 30 unchanged).
                weights = (WEIGHTS + ((0.3, 0.4, 0.5, 0.7, 1.0) if sigma > 30 else ())
                           + ((0.002, 0.005, 0.01, 0.015) if sigma < 5 else ()))
                best = max(weights, key=lambda w: psnr(truth, denoise_tv_chambolle(f, weight=w, **kw), data_range=1))
                u, t = timed(lambda: denoise_tv_chambolle(f, weight=best, **kw))
                rows["chambolle (best weight)"].append(score(u, truth, color))
                times["chambolle (best weight)"].append(t)
                if cv2 is not None:
                    f8 = np.round(f * 255).astype(np.uint8)
                    if color:
                        run = lambda: cv2.fastNlMeansDenoisingColored(f8, None, sigma, sigma)
                    else:
                        run = lambda: cv2.fastNlMeansDenoising(f8, None, sigma)
                    u, t = timed(run)
                    rows["opencv nlmeans"].append(score(u.astype(np.float32) / 255, truth, color))
                    times["opencv nlmeans"].append(t)
            print(f"{'color' if color else 'gray'}, sigma {sigma:g}, {len(images)} images:")
            for name, r in rows.items():
                if not r:
                    continue
                t = f", {np.median(times[name]) * 1e3:7.1f} ms median" if name in times and times[name] else ""
                fewer = f" ({len(r)} images)" if len(r) != len(images) else ""
                print(f"  {name:24s} {np.mean([a for a, _ in r]):6.2f} dB  {np.mean([b for _, b in r]):.4f}{t}{fewer}")
            for name in ("blade (learned)", "blade TV rule", "blade TV, stop=sure"):
                if len(times[name]) != len(images):
                    continue  # not the same images as the oracle's
                ratio = np.sum(times[name]) / np.sum(times["chambolle (best weight)"])
                print(f"  {name} / chambolle time: {ratio:.3f}", flush=True)


if __name__ == "__main__":
    main()
