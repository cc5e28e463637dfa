"""Learned denoisers (issue 24): the stages and the blend between noise levels against a plain
NumPy version, golden values of the shipped denoisers on photographs they were not trained on,
the defaults `blade.denoise` and `blade denoise` choose, training from Python, and refusals."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image
from skimage import data

ROOT = Path(os.environ.get("BLADE_SOURCE_DIR", Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(ROOT))
blade = pytest.importorskip("blade")
BINARY = os.environ.get("BLADE_BINARY")
MODELS = ROOT / "models"


def noisy(truth, sigma, seed):
    rng = np.random.default_rng(seed)
    return np.clip(truth + rng.normal(0, sigma / 255, truth.shape), 0, 1).astype(np.float32)


def gray_photo():
    return blade.to_luma(data.astronaut()[96:352, 128:384])


def color_photo():
    return (data.astronaut()[96:352, 128:384] / 255.0).astype(np.float32)


def plain_stage(model, bank, u):
    """u + each pixel's filter (by the structure tensor of u, luma for color: blade.features and
    the bank's thresholds, eq. 2.5) correlated with its patch, edges replicated, every channel."""
    s = model.selection(bank)
    f = blade.features(u, rho=s["rho"])
    o = np.minimum((f["orientation"] / np.pi * s["orientations"]).astype(int), s["orientations"] - 1)
    st = np.searchsorted(s["strength_thresholds"], f["strength"], side="right")
    co = np.searchsorted(s["coherence_thresholds"], f["coherence"], side="right")
    index = o + s["orientations"] * (st + s["strengths"] * co)
    taps = model.filters(bank)
    r = taps.shape[1] // 2
    w = taps.reshape(len(taps), -1)[index]
    planes = [u] if u.ndim == 2 else [u[..., c] for c in range(u.shape[2])]
    out = []
    for p in planes:
        patches = sliding_window_view(np.pad(p.astype(np.float64), r, mode="edge"), taps.shape[1:])
        out.append(p + np.einsum("hwk,hwk->hw", patches.reshape(*p.shape, -1), w))
    return out[0] if u.ndim == 2 else np.stack(out, axis=-1)


def plain_level(model, level, f):
    stages = model.denoise["stages"]
    u = f.astype(np.float64)
    for s in range(stages):
        u = plain_stage(model, level * stages + s, u.astype(np.float32))
    return u


@pytest.mark.parametrize("name,photo", [("denoise-gray", gray_photo), ("denoise-color", color_photo)])
def test_shipped_denoiser_matches_a_plain_numpy_version(name, photo):
    model = blade.Model.load(str(MODELS / f"{name}.blade"))
    sigmas = model.denoise["sigmas"]
    f = noisy(photo()[:96, :128], 20, 5)
    # At a knot (20) and between two (25: w = log(25/20) / log(30/20) on the next level).
    k = sigmas.index(20)
    at = plain_level(model, k, f)
    w = np.log(25 / 20) / np.log(sigmas[k + 1] / 20)
    between = (1 - w) * at + w * plain_level(model, k + 1, f)
    for sigma, want in ((20, at), (25, between)):
        got = blade.denoise(f, sigma, model)
        # A feature exactly on a bin edge may quantize differently (float32 against float64
        # arithmetic): a handful of pixels at most.
        off = np.abs(got - want) > 1e-4
        assert off.mean() < 2e-3, (name, sigma, off.mean())


# Golden values of the shipped denoisers (two-sided): luma PSNR on scikit-image photographs
# (camera, astronaut, coffee; no model was trained or chosen on them), noise drawn with seed 7,
# and the margin over the TV model's rule (tv-plain) in the same run, checked to 0.1 dB below.
# Measured 2026-12-07 (Intel Xeon; the outputs do not depend on the machine); re-recorded in the
# sixteenth session when the denoisers' filters were projected to zero sum (+0.003 to +0.07 dB).
GOLDEN = {
    (1, 10): (34.456, 0.46),
    (1, 25): (29.695, 0.46),
    (1, 40): (26.841, 0.26),
    (3, 10): (36.145, 0.69),
    (3, 25): (31.007, 1.00),
    (3, 40): (27.989, 0.82),
}


def golden_photos(channels):
    for image in (data.camera(), data.astronaut(), data.coffee()):
        if image.ndim == 2 and channels == 3:
            continue
        a = (image[:256, :256] / 255.0).astype(np.float32)
        yield blade.to_luma(a) if (channels == 1 and a.ndim == 3) else a


def luma(a):
    return blade.to_luma(a) if a.ndim == 3 else a


@pytest.mark.parametrize("channels,sigma", sorted(GOLDEN))
def test_shipped_denoisers_golden_values(channels, sigma):
    tv = blade.Model.load(str(MODELS / "tv-plain.blade"))
    scores = []
    for truth in golden_photos(channels):
        f = noisy(truth, sigma, 7)
        learned = blade.denoise(f, sigma)
        rule = blade.denoise(f, sigma, tv)
        scores.append((blade.psnr(luma(learned), luma(truth)), blade.psnr(luma(rule), luma(truth))))
    psnr = np.mean([s for s, _ in scores])
    gain = np.mean([s - t for s, t in scores])
    want = GOLDEN[(channels, sigma)]
    assert want[0] - 0.02 <= psnr <= want[0] + 0.02, (psnr, gain)
    assert gain >= want[1] - 0.1, gain


def test_default_model_by_level_channels_and_options():
    gray, color = noisy(gray_photo()[:64, :64], 20, 1), noisy(color_photo()[:64, :64], 20, 1)
    learned_gray = blade.Model.default_for("denoise", sigma=20)
    learned_color = blade.Model.default_for("denoise", sigma=20, channels=3)
    assert learned_gray.form == "denoise" and learned_gray.denoise["channels"] == 1
    assert learned_color.form == "denoise" and learned_color.denoise["channels"] == 3
    for m in (learned_gray, learned_color):
        assert m.denoise["sigmas"][0] == 2 and m.denoise["sigmas"][-1] == 100
    np.testing.assert_array_equal(blade.denoise(gray, 20), blade.denoise(gray, 20, learned_gray))
    np.testing.assert_array_equal(blade.denoise(color, 20), blade.denoise(color, 20, learned_color))
    # Outside the learned levels, and with the TV model's options: the TV model (a shipped
    # model's bare name loads it).
    tv = blade.Model.load("tv-plain")
    assert tv.pde == "tv" and blade.Model.load("denoise-color.blade").denoise["channels"] == 3
    assert blade.Model.default_for("denoise", sigma=1.5).pde == "tv"
    assert blade.Model.default_for("denoise").pde == "tv"
    np.testing.assert_array_equal(blade.denoise(gray, 1.5), blade.denoise(gray, 1.5, tv))
    np.testing.assert_array_equal(blade.denoise(color, 1), blade.denoise(color, 1, tv))
    np.testing.assert_array_equal(blade.denoise(gray, 20, stop="sure"), blade.denoise(gray, 20, tv, stop="sure"))
    np.testing.assert_array_equal(blade.denoise(gray, 20, time=0.02), blade.denoise(gray, 20, tv, time=0.02))
    # Refusals: the learned denoiser's options, levels and channels.
    with pytest.raises(blade.Error, match="covers noise sigma 2 to 100"):
        blade.denoise(gray, 1.5, learned_gray)
    with pytest.raises(blade.Error, match="SURE stopping"):
        blade.denoise(gray, 20, learned_gray, stop="sure")
    with pytest.raises(blade.Error, match="a stopping time needs a PDE model's run"):
        blade.denoise(gray, 20, learned_gray, time=0.02)
    with pytest.raises(blade.Error, match="trained on color images"):
        blade.denoise(gray, 20, learned_color)
    with pytest.raises(blade.Error, match="gray \\(1\\) or color \\(3\\) images, not 2 channels"):
        blade.denoise_time(20, 2)
    with pytest.raises(blade.Error, match="sigma chooses denoising's default only"):
        blade.Model.default_for("segment", sigma=20)
    with pytest.raises(blade.Error, match="does not estimate du/dt"):
        learned_gray.run(gray)
    with pytest.raises(blade.Error, match="learned denoiser"):
        blade.segment(gray, learned_gray)
    with pytest.raises(blade.Error, match="running past a stability horizon"):
        blade.denoise(gray, 20, learned_gray, unsafe=True)
    # A gray model on a color image: each channel as a gray image.
    out = blade.denoise(color, 20, learned_gray)
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], blade.denoise(np.ascontiguousarray(color[..., c]), 20, learned_gray))


def test_noise_estimate_matches_scikit_image_and_drives_sigma_none():
    """blade.estimate_noise against scikit-image's estimate_sigma (the same wavelet median rule;
    it also counts pywt's border coefficients: within 1.3% on Kodak and the six selection
    photographs, scripts/denoise_auto_sigma.py), and
    blade.denoise without sigma runs at that estimate."""
    from skimage.restoration import estimate_sigma

    for truth, kw in ((gray_photo(), {}), (color_photo(), {"channel_axis": -1, "average_sigmas": True})):
        for sigma in (5, 20, 40):
            f = noisy(truth, sigma, 9)
            ours = blade.estimate_noise(f)
            assert ours == pytest.approx(255 * estimate_sigma(f, **kw), rel=0.02), (sigma, kw)
            assert ours == pytest.approx(sigma, rel=0.25), sigma
            if sigma == 20:
                np.testing.assert_array_equal(blade.denoise(f), blade.denoise(f, ours))
                np.testing.assert_array_equal(blade.denoise(f, "auto"), blade.denoise(f, ours))
    with pytest.raises(blade.Error, match="sigma must be a number, None or 'auto'"):
        blade.denoise(f, "twenty")
    # scikit-image's estimate_sigma is a fraction of the range: given as it is, one warning that
    # names the 0-255 value to give instead (the run itself would change almost nothing).
    g = noisy(gray_photo()[:64, :64], 10, 3)
    with pytest.warns(UserWarning, match=r"0-255 units.*give 10\.2"):
        blade.denoise(g, 0.04)
    with pytest.raises(blade.Error, match="no measurable noise"):
        blade.denoise(np.full((32, 32), 0.5, np.float32))


def test_training_from_python(tmp_path):
    crops = [data.camera()[:96, :128], data.coins()[:112, :96], data.moon()[200:296, 100:200]]
    files = []
    for k, c in enumerate(crops):
        files.append(str(tmp_path / f"t{k}.png"))
        Image.fromarray(c).save(files[-1])
    model = blade.train_denoise(files, sigmas=[10, 20], footprint=5, bins=[4, 2, 2], augment=2, stages=1)
    assert model.form == "denoise" and model.num_banks == 2
    assert model.denoise == {"sigmas": [10.0, 20.0], "stages": 1, "channels": 1}
    assert model.selection(0)["rho"] == 2.0 and model.selection(1)["rho"] == 3.0
    assert "seeded Gaussian noise" in model.provenance["training"]
    # The same seed gives the same model; its stage beats the noisy input on its own photographs.
    again = blade.train_denoise(files, sigmas=[10, 20], footprint=5, bins=[4, 2, 2], augment=2, stages=1)
    np.testing.assert_array_equal(model.filters(1), again.filters(1))
    truth = crops[0].astype(np.float32) / 255
    f = noisy(truth, 15, 3)
    assert blade.psnr(blade.denoise(f, 15, model), truth) > blade.psnr(f, truth) + 2
    path = tmp_path / "d.blade"
    model.save(str(path))
    assert blade.Model.load(str(path)).denoise == model.denoise
    with pytest.raises(blade.Error, match="noise levels must ascend"):
        blade.train_denoise(files, sigmas=[20, 10])
    with pytest.raises(blade.Error, match="footprint must be odd"):
        blade.train_denoise(files, footprint=4)


def run_blade(*args):
    return subprocess.run([BINARY, *map(str, args)], capture_output=True, text=True)


@pytest.mark.skipif(BINARY is None, reason="BLADE_BINARY not set")
def test_command_line_defaults_depth_and_refusals(tmp_path):
    truth = gray_photo()[:96, :96]
    f16 = np.round(noisy(truth, 20, 2) * 65535).astype(np.uint16)
    gray = tmp_path / "gray16.png"
    Image.fromarray(f16).save(gray)
    out = tmp_path / "out.png"
    r = run_blade("denoise", "--sigma", "20", gray, out)
    assert r.returncode == 0, r.stderr
    assert "denoise-gray.blade" in r.stderr and "learned denoiser" in r.stderr
    with Image.open(out) as im:  # 16-bit in, 16-bit out (PIL reads 16-bit gray PNG as "I")
        assert im.mode in ("I", "I;16") and im.size == (96, 96)
        levels = np.asarray(im)
    assert levels.max() > 255 and len(np.unique(levels)) > 1000
    color = tmp_path / "color.png"
    Image.fromarray(np.round(noisy(color_photo()[:96, :96], 20, 2) * 255).astype(np.uint8)).save(color)
    r = run_blade("denoise", "--sigma", "20", color, out)
    assert r.returncode == 0 and "denoise-color.blade" in r.stderr, r.stderr
    r = run_blade("denoise", "--sigma", "1.5", color, out)
    assert r.returncode == 0 and "tv-plain.blade" in r.stderr and "by the rule" in r.stderr, r.stderr
    r = run_blade("denoise", "--sigma", "20", "--stop", "sure", color, out)
    assert r.returncode == 0 and "tv-plain.blade" in r.stderr and "by SURE" in r.stderr, r.stderr
    # Refusals, one line each, no output written.
    out2 = tmp_path / "never.png"
    for args, message in (
            (["--sigma", "20", "--model", MODELS / "denoise-color.blade", gray], "trained on color images"),
            (["--sigma", "1.5", "--model", MODELS / "denoise-gray.blade", gray], "covers noise sigma 2 to 100"),
            (["--sigma", "20", "--stop", "sure", "--model", MODELS / "denoise-gray.blade", gray], "SURE stopping")):
        r = run_blade("denoise", *args, out2)
        assert r.returncode != 0 and message in r.stderr and r.stderr.count("\n") == 1, r.stderr
        assert not out2.exists()
    r = run_blade("run", "--model", MODELS / "denoise-gray.blade", gray, out2)
    assert r.returncode != 0 and "does not estimate du/dt" in r.stderr
    r = run_blade("restore", "--model", MODELS / "denoise-gray.blade", "--op", "blur:sigma=1", gray, out2)
    assert r.returncode != 0 and "learned denoiser" in r.stderr
    r = run_blade("denoise", "--sigma", "auto", gray, out)
    assert r.returncode == 0 and "estimated noise sigma" in r.stderr and "denoise-gray.blade" in r.stderr, r.stderr
    r = run_blade("denoise", "--sigma", "0.04", gray, out)
    assert r.returncode == 0 and "warning: noise sigma 0.04 is in 0-255 units" in r.stderr, r.stderr
    r = run_blade("denoise", "--sigma", "twenty", gray, out2)
    assert r.returncode == 2 and "--sigma: must be a number or auto" in r.stderr and not out2.exists(), r.stderr
    r = run_blade("info", MODELS / "denoise-color.blade")
    assert r.returncode == 0 and "denoises    color images, Gaussian noise sigma 2, 5, 10, 20, 30, 50, 75, 100" in r.stdout
    r = run_blade("train-denoise", "--images", tmp_path, "--sigmas", "20,10", "--out", tmp_path / "x.blade")
    assert r.returncode != 0 and "noise levels must ascend" in r.stderr
