"""Golden checks: every shipped model on a committed input, held to its recorded PSNR and SSIM.

The data in tests/data/golden/ is made by scripts/make_golden.py (a synthetic scene, the presets'
classical references, blade.psnr / blade.ssim of each model's output). A change that moves any
model's output by a genuine amount fails here, in either direction; if the change was intended,
re-record with `/usr/bin/python3 scripts/make_golden.py` and commit the new golden.json.

Tolerance: results are bit-identical for every thread count (docs/DESIGN.md), and the filtering
kernels are bit for bit the same on AVX2 and AVX-512; the one documented difference between SIMD
targets is the float selection, which may quantize a pixel whose feature lies exactly on a bin
edge differently (docs/BENCHMARKS.md, fourth round). Such a flip moves one pixel's filter for one
step, far below 1e-3 dB on this 96x64 image. 0.01 dB (0.23 % of the MSE) and 1e-4 SSIM leave
room for that and still fail a 0.02 dB shift, let alone a 0.05 dB regression.

PSNR and SSIM see only part of a change (one filter of a 576-filter bank scaled by 1.01 moves
the PM model's PSNR by 0.005 dB), so each output is also compared with its fingerprint, the means
of its 4x4 tiles (fingerprints.npz): their RMS difference must stay below 2e-6. A single pixel
moved by up to 6e-4 (a bin-edge flip) passes; every one-filter x1.01 perturbation of a shipped
model measured 4.6e-6 (resample) to 1.5e-4 (ch-flux) and fails. On the machine that recorded the
values the outputs are bit-identical with 1 and 2 threads and the fingerprints differ only by the
float32 rounding of the stored means (at most 6e-8).
"""

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(os.environ.get("BLADE_SOURCE_DIR", Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(ROOT))
blade = pytest.importorskip("blade")

GOLDEN = ROOT / "tests" / "data" / "golden"
MODELS = ROOT / "models"
PSNR_TOL = 0.01  # dB
SSIM_TOL = 1e-4
MEAN_TOL = 1e-4  # the output's mean intensity
FINGERPRINT_TOL = 2e-6  # RMS difference of the 4x4 tile means
RERECORD = "if the change was intended, re-record with `/usr/bin/python3 scripts/make_golden.py`"

DOC = json.loads((GOLDEN / "golden.json").read_text())
MODEL_FILES = sorted(p.name for p in MODELS.glob("*.blade"))
FINGERPRINTS = dict(np.load(GOLDEN / DOC["fingerprints"]["file"]))


def load(name):
    return np.load(GOLDEN / name)


def crop(image, c):
    return np.ascontiguousarray(image[c:-c, c:-c]) if c > 0 else image


def golden_output(model, entry):
    """The model's output on the committed input, as make_golden.py produced it."""
    if entry["form"] == "resample":
        return blade.resample(load(entry["input"]), load(entry["flow"]), model)
    if entry["form"] == "denoise":
        return blade.denoise(load(entry["input"]), entry["sigma"], model)
    if entry["form"] == "upscale":
        return blade.upscale(model, load(entry["input"]), factor=entry["factor"],
                             degradation=entry["degradation"])
    # The model's own steps, which must lie within its stability horizon (ch, ch-flux: 10 of 14-15).
    assert model.steps == entry["steps"], (
        f"{entry['model']}: the model runs {model.steps} steps, {entry['steps']} were recorded; "
        f"{RERECORD}")
    if model.safe_steps >= 0:
        assert model.steps <= model.safe_steps, (
            f"{entry['model']}: {model.steps} steps exceed the stability horizon {model.safe_steps}")
    return model.run(load(entry["input"]))


def tile_means(image, block):
    h, w = image.shape[:2]  # color: per channel
    return image.astype(np.float64).reshape(h // block, block, w // block, block, *image.shape[2:]).mean(axis=(1, 3))


def check(name, model):
    entry = dict(DOC["models"][name], model=name)
    out = golden_output(model, entry)
    reference = load(entry["reference"])
    assert out.shape == reference.shape
    assert np.all(np.isfinite(out)), f"{name}: non-finite output"
    c = entry["crop"]
    psnr = blade.psnr(crop(out, c), crop(reference, c))
    ssim = blade.ssim(crop(out, c), crop(reference, c))
    mean = float(out.astype(np.float64).mean())
    want = (entry["psnr"], entry["ssim"], entry["output"]["mean"])
    problems = []
    if not abs(psnr - want[0]) <= PSNR_TOL:
        problems.append(f"PSNR {psnr:.4f} dB, recorded {want[0]:.4f} dB "
                        f"(difference {psnr - want[0]:+.4f}, tolerance {PSNR_TOL})")
    if not abs(ssim - want[1]) <= SSIM_TOL:
        problems.append(f"SSIM {ssim:.6f}, recorded {want[1]:.6f} "
                        f"(difference {ssim - want[1]:+.6f}, tolerance {SSIM_TOL})")
    if not abs(mean - want[2]) <= MEAN_TOL:
        problems.append(f"output mean {mean:.6f}, recorded {want[2]:.6f} (tolerance {MEAN_TOL})")
    recorded = FINGERPRINTS[name].astype(np.float64)
    moved = tile_means(out, DOC["fingerprints"]["block"]) - recorded
    rms = float(np.sqrt(np.mean(moved**2)))
    if not rms <= FINGERPRINT_TOL:
        problems.append(f"output fingerprint (4x4 tile means) moved by RMS {rms:.2e}, largest "
                        f"{np.abs(moved).max():.2e} (tolerance {FINGERPRINT_TOL:g})")
    assert not problems, (f"golden check of models/{name} against {entry['reference']}: "
                          + "; ".join(problems) + f"; {RERECORD}")


def test_every_model_has_a_golden_entry():
    missing = [m for m in MODEL_FILES if m not in DOC["models"] or m not in FINGERPRINTS]
    stale = [m for m in DOC["models"] if m not in MODEL_FILES]
    assert len(MODEL_FILES) > 0
    assert not missing, (f"models without a golden entry in tests/data/golden/golden.json: "
                         f"{missing}; record them with `/usr/bin/python3 scripts/make_golden.py`")
    assert not stale, (f"golden.json names models that are not in models/: {stale}; re-record "
                       f"with `/usr/bin/python3 scripts/make_golden.py`")


@pytest.mark.parametrize("name", MODEL_FILES)
def test_model_matches_golden(name):
    if name not in DOC["models"]:
        pytest.fail(f"models/{name} has no golden entry; record it with "
                    f"`/usr/bin/python3 scripts/make_golden.py`")
    check(name, blade.Model.load(str(MODELS / name)))


def test_golden_check_catches_a_perturbed_model():
    """The check can fail: one filter of the TV model's scheme bank (the 3x3 filters of F(u)),
    scaled by 1.02, moves its PSNR, SSIM and fingerprint too far."""
    name = "tv.blade"
    model = blade.Model.load(str(MODELS / name)).at({})  # parametric: its default point's model
    filters = model.filters(1)
    sel = model.select(load(DOC["models"][name]["input"]), bank=1)
    k = np.bincount(sel.ravel(), minlength=len(filters)).argmax()  # the most used filter
    filters[k] *= 1.02
    model.set_filters(filters, bank=1)
    with pytest.raises(AssertionError, match="golden check.*PSNR.*SSIM.*fingerprint"):
        check(name, model)


@pytest.mark.parametrize("name", ["ced-direct.blade", "resample.blade"])
def test_fingerprint_catches_what_psnr_misses(name):
    """One filter x1.01 moves CED's and resample's PSNR by less than the 0.01 dB tolerance: the
    fingerprint fails."""
    model = blade.Model.load(str(MODELS / name))
    if model.axes:  # parametric (ced-direct.blade): its default point's model
        model = model.at({})
    filters = model.filters()
    sel = model.select(load(DOC["models"][name]["input"]))
    filters[np.bincount(sel.ravel(), minlength=len(filters)).argmax()] *= 1.01
    model.set_filters(filters)
    with pytest.raises(AssertionError, match="fingerprint") as failure:
        check(name, model)
    assert "PSNR" not in str(failure.value)


def test_golden_check_catches_a_shifted_record():
    """The check can fail: the recorded PSNR moved by 0.02 dB."""
    name = "pm.blade"
    saved = DOC["models"][name]["psnr"]
    try:
        DOC["models"][name]["psnr"] = saved + 0.02
        with pytest.raises(AssertionError, match="PSNR"):
            check(name, blade.Model.load(str(MODELS / name)))
    finally:
        DOC["models"][name]["psnr"] = saved


def test_the_long_run_cahn_hilliard_model_stays_in_range_for_100_steps():
    """models/ch-long.blade (issue 26): a flux-form model whose stored horizon covers its 100
    steps; 100 steps from scikit-image photographs (4x area-downsampled luma) stay finite and
    within [-0.5, 1.5], where the 10-step models leave that range after 11 to 31 steps, and keep
    the mean (the mass) to float rounding."""
    from skimage import data
    m = blade.Model.load(str(MODELS / "ch-long.blade"))
    assert m.form == "flux" and m.steps == 100 and m.safe_steps >= 100
    for photo in (data.camera(), data.astronaut(), data.coffee(), data.chelsea()):
        u = blade.to_luma(np.ascontiguousarray(photo, dtype=np.float32) / 255)
        h, w = (s - s % 4 for s in u.shape[:2])
        start = blade.downscale(np.ascontiguousarray(u[:h, :w]), 4)
        out = m.run(start, steps=100)
        assert np.isfinite(out).all() and -0.5 <= out.min() and out.max() <= 1.5, (out.min(), out.max())
        assert abs(out.astype(np.float64).mean() - start.astype(np.float64).mean()) < 1e-6


# TV flow, Perona-Malik and CED commute with adding a constant and keep constants; their models
# select filters without intensity bins, so they do too when every filter acting on u sums to zero
# (blade/model.h, ProjectFiltersToZeroSum). Cahn-Hilliard's models read the level (intensity bins)
# and may not be projected.
LEVEL_BLIND = ["ced-direct", "ced-monotone", "ced-restore", "ced", "pm-monotone", "pm", "tv-flux",
               "tv-monotone", "tv-plain", "tv"]


@pytest.mark.parametrize("name", ["denoise-gray", "denoise-color"])
def test_learned_denoisers_keep_a_flat_image_at_every_level(name):
    model = blade.Model.load(str(MODELS / f"{name}.blade"))
    assert model.largest_filter_sum < 1e-6
    shape = (40, 48) if name == "denoise-gray" else (40, 48, 3)
    for sigma in (2, 20, 100):
        for level in (0.2, 0.5):
            flat = np.full(shape, level, np.float32)
            assert np.abs(blade.denoise(flat, sigma, model) - level).max() < 1e-6


@pytest.mark.parametrize("name", LEVEL_BLIND)
def test_models_blind_to_the_level_keep_constants_and_commute_with_adding_one(name):
    model = blade.Model.load(str(MODELS / f"{name}.blade"))
    assert model.largest_filter_sum < 1e-5  # every knot of a parametric model included
    for level in (0.05, 0.3, 0.7):
        flat = np.full((48, 64), level, np.float32)
        assert np.abs(model.run(flat) - level).max() < 1e-6
    u = np.load(GOLDEN / "input_lr.npy")
    moved = model.run(u + np.float32(0.1)) - model.run(u) - np.float32(0.1)
    assert np.abs(moved).max() < 1e-4 and np.abs(moved).mean() < 1e-6


@pytest.mark.parametrize("name", ["ch", "ch-flux", "ch-long"])
def test_models_that_read_the_level_are_not_projected(name):
    model = blade.Model.load(str(MODELS / f"{name}.blade"))
    assert model.largest_filter_sum > 1e-2  # their sums carry the PDE's nonlinearity between bins
    with pytest.raises(blade.Error, match="without\s+intensity bins"):
        model.project_filters_to_zero_sum()
