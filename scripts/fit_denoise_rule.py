#!/usr/bin/env python3
"""Fits `blade denoise`'s rule (issue 24): the stopping time of the shipped TV model (no data
term) that removes Gaussian noise of a given sigma best, on training photographs (BSDS500 train,
which the TV model was also trained on; never the evaluation photographs), gray and color.
For each noise level it scans the time (blade.denoise(..., time=T), the same path the rule's time
takes), takes the best by a parabola through the best three in log time, and fits
time = scale * sigma255 ** power by least squares in log-log; the constants go to
kDenoise{Gray,Color}Time{Scale,Power} in include/blade/restore.h.

Usage: BLADE_MODULE_DIR=build/python/blade /usr/bin/python3 scripts/fit_denoise_rule.py [DIR] [N] [gray|color]
"""

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import blade  # noqa: E402

SIGMAS = (5, 10, 15, 20, 25, 30, 40, 50)
FACTORS = np.exp(np.linspace(-np.log(1.6), np.log(1.6), 15))  # around the current rule's time (the middle: 1)


def psnr(u, truth):
    return 10 * np.log10(1 / np.mean((u.astype(np.float64) - truth) ** 2))


def main():
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data" / "train" / "BSDS500"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 24
    every = sorted(folder.glob("*.jpg"))
    files = every[::max(1, len(every) // count)][:count]
    photos = [blade.read_image(str(f)) for f in files]
    for mode in sys.argv[3:4] or ("gray", "color"):
        images = [blade.to_luma(p) for p in photos] if mode == "gray" else photos
        channels = 1 if mode == "gray" else 3
        rng = np.random.default_rng(24)
        best_times = []
        for sigma in SIGMAS:
            noisy = [np.clip(im + rng.normal(0, sigma / 255, im.shape), 0, 1).astype(np.float32) for im in images]
            times = blade.denoise_time(sigma, channels) * FACTORS
            scores = np.array([np.mean([psnr(blade.denoise(f, sigma, time=t), im) for f, im in zip(noisy, images)])
                               for t in times])
            i = int(np.clip(np.argmax(scores), 1, len(times) - 2))
            x, y = np.log(times[i - 1:i + 2]), scores[i - 1:i + 2]
            a, b, _ = np.polyfit(x, y, 2)
            best = float(np.exp(np.clip(-b / (2 * a), x[0], x[2]))) if a < 0 else float(times[np.argmax(scores)])
            best_times.append(best)
            print(f"{mode} sigma {sigma:3d}: best time {best:.5f} ({scores.max():.3f} dB; the current rule's "
                  f"{blade.denoise_time(sigma, channels):.5f}: {scores[len(times) // 2]:.3f} dB; noisy "
                  f"{np.mean([psnr(f, im) for f, im in zip(noisy, images)]):.2f})", flush=True)
        power, log_scale = np.polyfit(np.log(SIGMAS), np.log(best_times), 1)
        print(f"{mode}: time = {np.exp(log_scale):.5f} * sigma255 ** {power:.3f} "
              f"({len(images)} images of {folder})", flush=True)


if __name__ == "__main__":
    main()
