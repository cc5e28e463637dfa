#!/usr/bin/python3
"""Writes the SSIM/PSNR reference data for tests/metrics_test.cc (run with /usr/bin/python3).

Creates deterministic image pairs as float32 (H, W) .npy files under tests/data/ssim/ and records
scikit-image's values in tests/data/ssim_reference.json. The skimage settings are the ones that
match REFERENCE_SCHEMES.md section 8 (Wang et al. / tf.image.ssim): 11x11 Gaussian window with
sigma 1.5, population statistics, data range 1, mean over the valid (cropped) region.
"""

import json
import pathlib

import numpy as np
import scipy.ndimage
import skimage
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "tests" / "data"
PAIR_DIR = DATA_DIR / "ssim"


def smooth_scene(height, width, rng):
    """A smooth pattern with a disc and an oblique edge, in [0, 1]."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    fx, fy = x / width, y / height
    phase = rng.uniform(0, 2 * np.pi, size=3)
    v = 0.5 + 0.2 * np.sin(6 * fx + 2 * fy + phase[0]) * np.cos(5 * fy - 1.5 * fx + phase[1])
    v += 0.25 * (((fx - 0.55) ** 2 + (fy - 0.45) ** 2) < 0.06)
    v -= 0.2 * ((fx + 0.3 * fy) > 0.8)
    v += 0.04 * np.sin(40 * fx + 23 * fy + phase[2])
    return np.clip(v, 0, 1)


def make_pairs():
    rng = np.random.default_rng(20240611)
    pairs = {}

    a = smooth_scene(64, 64, rng)
    pairs["smooth_noise"] = (a, np.clip(a + rng.normal(0, 0.05, a.shape), 0, 1))

    a = np.clip(smooth_scene(64, 64, rng) + rng.normal(0, 0.03, (64, 64)), 0, 1)
    pairs["blurred"] = (a, scipy.ndimage.gaussian_filter(a, 1.2, mode="reflect"))

    a = smooth_scene(56, 60, rng)
    pairs["shifted"] = (a, np.roll(a, (1, 2), axis=(0, 1)))

    pairs["random_random"] = (rng.uniform(0, 1, (40, 40)), rng.uniform(0, 1, (40, 40)))

    a = smooth_scene(48, 64, rng)  # non-square: H = 48, W = 64
    pairs["quantized_64x48"] = (a, np.round(a * 15) / 15)

    a = rng.uniform(0, 1, (11, 11))  # the smallest size SSIM accepts: a single window
    pairs["minimal_11x11"] = (a, np.clip(a + rng.normal(0, 0.1, a.shape), 0, 1))

    a = smooth_scene(30, 50, rng)
    pairs["contrast"] = (a, 0.5 * a + 0.25)

    a = smooth_scene(64, 23, rng)  # tall and narrow
    pairs["tall_23x64"] = (a, np.clip(a + rng.normal(0.02, 0.08, a.shape), 0, 1))
    return pairs


def main():
    PAIR_DIR.mkdir(parents=True, exist_ok=True)
    entries = []
    for name, (a, b) in make_pairs().items():
        a32, b32 = a.astype(np.float32), b.astype(np.float32)
        assert a32.shape[0] <= 64 and a32.shape[1] <= 64
        files = {}
        for key, image in (("a", a32), ("b", b32)):
            path = PAIR_DIR / f"{name}_{key}.npy"
            np.save(path, image)
            files[key] = str(path.relative_to(DATA_DIR))
        # Score the stored float32 values in float64: skimage would otherwise filter float32
        # input in float32, and the reference should be the exact value for these pixels.
        a64, b64 = a32.astype(np.float64), b32.astype(np.float64)
        ssim = structural_similarity(a64, b64, gaussian_weights=True, sigma=1.5,
                                     use_sample_covariance=False, data_range=1.0)
        psnr = peak_signal_noise_ratio(a64, b64, data_range=1.0)
        entries.append({"name": name, "a": files["a"], "b": files["b"],
                        "height": a32.shape[0], "width": a32.shape[1],
                        "ssim": float(ssim), "psnr": float(psnr)})
    reference = {
        "generator": "tests/python/make_ssim_reference.py",
        "skimage_version": skimage.__version__,
        "settings": "structural_similarity(gaussian_weights=True, sigma=1.5, "
                    "use_sample_covariance=False, data_range=1); "
                    "peak_signal_noise_ratio(data_range=1)",
        "pairs": entries,
    }
    with open(DATA_DIR / "ssim_reference.json", "w") as f:
        json.dump(reference, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
