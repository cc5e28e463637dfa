"""Resizing conventions (issue 24, docs/FORMATS.md): the degradations match Pillow and
scikit-image, and upscaling a box-downsampled image lands on the original's pixel centres."""

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data
from skimage.filters import window
from skimage.registration import phase_cross_correlation
from skimage.transform import downscale_local_mean

ROOT = Path(os.environ.get("BLADE_SOURCE_DIR", Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(ROOT))
blade = pytest.importorskip("blade")
TV = ROOT / "models" / "tv.blade"


def pil_resize(image, factor, method):
    """Pillow on float ("F") planes: no 8-bit rounding in the reference."""
    h, w = image.shape[:2]
    planes = [Image.fromarray(np.ascontiguousarray(image[..., c]), mode="F")
              .resize((w // factor, h // factor), method) for c in range(image.shape[2])]
    return np.stack([np.asarray(p) for p in planes], -1)


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_degradations_match_pillow_and_scikit_image(factor):
    im = data.astronaut()[:480, :480].astype(np.float32) / 255
    np.testing.assert_allclose(blade.downscale(im, factor, "bicubic"),
                               pil_resize(im, factor, Image.BICUBIC), atol=1e-6)
    np.testing.assert_allclose(blade.downscale(im, factor, "area"),
                               pil_resize(im, factor, Image.BOX), atol=1e-6)
    np.testing.assert_allclose(blade.downscale(im, factor), downscale_local_mean(im, (factor, factor, 1)),
                               atol=1e-6)


def exact_area(image, width, height):
    """Area averaging as the integral it is: each pixel repeated L / n times along an axis (L the
    least common multiple of the sizes), then blocks of L / m averaged, one axis at a time."""
    for axis, m in ((1, width), (0, height)):
        n = image.shape[axis]
        lcm = np.lcm(n, m)
        fine = np.repeat(image.astype(np.float64), lcm // n, axis=axis)
        shape = list(fine.shape)
        shape[axis:axis + 1] = [m, lcm // m]
        image = fine.reshape(shape).mean(axis=axis + 1)
    return image


@pytest.mark.parametrize("size", [(320, 288), (360, 200), (7, 96), (480, 160)])
def test_resize_area_is_the_exact_area_integral_at_any_size(size):
    im = data.astronaut()[:480, :480].astype(np.float32) / 255
    np.testing.assert_allclose(blade.resize_area(im, *size), exact_area(im, *size), atol=2e-6)
    with pytest.raises(blade.Error, match="no larger"):
        blade.resize_area(im, 481, 100)


def smooth_image(size=192, seed=24):
    """A band-limited random field (sums of low-frequency cosines) in [0.1, 0.9]."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    u = np.zeros((size, size))
    for _ in range(12):
        fx, fy = rng.uniform(-0.06, 0.06, 2)
        u += rng.uniform(0.2, 1.0) * np.cos(2 * np.pi * (fx * x + fy * y) + rng.uniform(0, 6.3))
    u = (u - u.min()) / (u.max() - u.min())
    return (0.1 + 0.8 * u).astype(np.float32)


def shift_of(result, original, border=16):
    """The sub-pixel shift (largest component, pixels) that best aligns result with original:
    plain cross-correlation (normalization=None) of the mean-free interiors under a Hann window;
    phase correlation would lock onto the window's edges in so smooth an image."""
    inner = (slice(border, -border), slice(border, -border))
    a, b = original[inner] - original[inner].mean(), result[inner] - result[inner].mean()
    hann = window("hann", a.shape)
    shift, _, _ = phase_cross_correlation(a * hann, b * hann, upsample_factor=200,
                                          normalization=None)
    return np.abs(shift).max()


@pytest.mark.parametrize("factor", [2, 4])
def test_upscaling_a_box_downsampled_image_is_aligned_with_the_original(factor):
    original = smooth_image()
    small = downscale_local_mean(original, (factor, factor)).astype(np.float32)
    model = blade.Model.load(str(TV))
    for degradation in (None, "area", "bicubic", "gaussian:1"):
        up = blade.upscale(model, small, factor=factor, degradation=degradation)
        assert up.shape == original.shape
        assert shift_of(up, original) < 0.05, (degradation, shift_of(up, original))
    # The test can fail: the paper's corner lattice puts LR pixel n on HR pixel factor * n, half
    # of (factor - 1) pixels away from where a box-downsampled pixel's centre lies.
    corner = blade.upscale(model, small, factor=factor, degradation="corner:0")
    assert shift_of(corner, original) == pytest.approx((factor - 1) / 2, abs=0.05)
