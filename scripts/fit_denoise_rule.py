#!/usr/bin/env python3
"""Fits `blade denoise`'s rule (issue 24): the number of steps of the shipped TV model (its dt,
no data term) that removes Gaussian noise of a given sigma best, on training photographs
(BSDS500 train, which the TV model was also trained on; never the evaluation photographs).
Prints the best step count per noise level and the least-squares line steps = a * sigma255.

Usage: BLADE_MODULE_DIR=build/python/blade /usr/bin/python3 scripts/fit_denoise_rule.py [DIR] [N]
"""

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import blade  # noqa: E402


def main():
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data" / "train" / "BSDS500"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 24
    files = sorted(folder.glob("*.jpg"))[::max(1, len(list(folder.glob("*.jpg"))) // count)][:count]
    images = [blade.to_luma(blade.read_image(str(f))) for f in files]
    model = blade.Model.load(str(ROOT / "models" / "tv.blade"))
    rng = np.random.default_rng(24)
    sigmas, best_steps = [], []
    for sigma in (5, 10, 15, 20, 25, 30, 40, 50):
        noisy = [np.clip(im + rng.normal(0, sigma / 255, im.shape), 0, 1).astype(np.float32) for im in images]
        scores = {}
        for steps in range(1, 41):
            scores[steps] = np.mean([blade.psnr(model.run(f, steps=steps), im) for f, im in zip(noisy, images)])
        steps = max(scores, key=scores.get)
        sigmas.append(sigma)
        best_steps.append(steps)
        print(f"sigma {sigma:3d}: best {steps:2d} steps, {scores[steps]:.2f} dB (noisy "
              f"{np.mean([blade.psnr(f, im) for f, im in zip(noisy, images)]):.2f})", flush=True)
    s, n = np.array(sigmas, float), np.array(best_steps, float)
    a = float(s @ n / (s @ s))
    print(f"steps = {a:.4f} * sigma255 (least squares through 0), {len(images)} images of {folder}")


if __name__ == "__main__":
    main()
