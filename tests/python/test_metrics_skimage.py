"""Cross-checks `blade compare` (PSNR, SSIM) against scikit-image computed live on fresh pairs.

Run by ctest (label "python") with BLADE_BINARY set to the blade executable. The skimage settings
are the ones that implement REFERENCE_SCHEMES.md section 8: 11x11 Gaussian window, sigma 1.5,
population statistics, data range 1, mean over the valid region.
"""

import json
import math
import os
import subprocess

import numpy as np
import pytest
import scipy.ndimage
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

BINARY = os.environ.get("BLADE_BINARY")

pytestmark = pytest.mark.skipif(not BINARY, reason="BLADE_BINARY is not set")


def make_pair(kind, rng):
    """A deterministic (a, b) float32 pair of the given kind, both (H, W)."""
    if kind == "noise":
        y, x = np.mgrid[0:57, 0:64] / 64.0
        a = 0.5 + 0.3 * np.sin(7 * x + 3 * y) * np.cos(4 * y - x)
        b = a + rng.normal(0, 0.04, a.shape)
    elif kind == "blur":
        a = scipy.ndimage.gaussian_filter(rng.uniform(0, 1, (48, 64)), 1.0)
        b = scipy.ndimage.gaussian_filter(a, 1.5)
    elif kind == "shift":
        a = scipy.ndimage.gaussian_filter(rng.uniform(0, 1, (64, 40)), 2.0)
        b = np.roll(a, 3, axis=1)
    elif kind == "random":
        a, b = rng.uniform(0, 1, (33, 29)), rng.uniform(0, 1, (33, 29))
    elif kind == "contrast":
        a = scipy.ndimage.gaussian_filter(rng.uniform(0, 1, (40, 52)), 1.2)
        b = 0.7 * a + 0.1
    elif kind == "minimal":
        a = rng.uniform(0, 1, (11, 11))
        b = a + rng.normal(0, 0.1, a.shape)
    else:
        raise ValueError(kind)
    return np.clip(a, 0, 1).astype(np.float32), np.clip(b, 0, 1).astype(np.float32)


KINDS = ["noise", "blur", "shift", "random", "contrast", "minimal"]


@pytest.mark.parametrize("kind", KINDS)
def test_compare_matches_skimage(kind, tmp_path):
    rng = np.random.default_rng(1000 + KINDS.index(kind))
    a, b = make_pair(kind, rng)
    path_a, path_b, path_json = tmp_path / "a.npy", tmp_path / "b.npy", tmp_path / "out.json"
    np.save(path_a, a)
    np.save(path_b, b)
    subprocess.run([BINARY, "compare", str(path_a), str(path_b), "--json", str(path_json)],
                   check=True, capture_output=True, timeout=120)
    with open(path_json) as f:
        result = json.load(f)

    # Score the exact float32 pixel values in float64 (skimage filters float32 input in float32).
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    ssim = structural_similarity(a64, b64, gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False, data_range=1.0)
    psnr = peak_signal_noise_ratio(a64, b64, data_range=1.0)
    assert abs(result["ssim"] - ssim) < 1e-4, (result, ssim)
    ours_psnr = math.inf if result["psnr"] is None else result["psnr"]
    assert abs(ours_psnr - psnr) < 1e-3, (result, psnr)
