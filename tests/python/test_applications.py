"""Applications on photographs no model was trained on (issue 24): restoration with every shipped
regulariser `restore` accepts improves a blurred, noisy photo at its defaults."""

import math
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from skimage import data
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

ROOT = Path(os.environ.get("BLADE_SOURCE_DIR", Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(ROOT))
blade = pytest.importorskip("blade")
MODELS = ROOT / "models"
ACCEPTED = ["tv", "tv-flux", "tv-monotone", "pm", "pm-monotone", "ced", "ced-direct", "ced-restore",
            "ced-monotone"]


def denoise_steps(time, dt):
    """The denoising time as a run (the library's DenoiseSteps): the nearest whole number of
    steps, each at most dt."""
    k = max(1, math.floor(time / dt + 0.5))
    return k, min(dt, time / k)


@pytest.fixture(scope="module")
def photo_and_observation():
    truth = blade.to_luma(data.astronaut()[96:352, 128:384])  # the img_as_float rule: /255
    rng = np.random.default_rng(24)
    observed = blade.gaussian_blur(truth, 1.0) + rng.normal(0, 5 / 255, truth.shape)
    return truth, np.ascontiguousarray(observed.astype(np.float32))


@pytest.mark.parametrize("name", ACCEPTED)
def test_restore_improves_psnr_and_ssim_at_its_defaults(photo_and_observation, name):
    truth, observed = photo_and_observation
    restored = blade.restore(blade.Model.load(str(MODELS / f"{name}.blade")), observed,
                             "blur:sigma=1")
    before = (peak_signal_noise_ratio(truth, observed, data_range=1),
              structural_similarity(truth, observed, data_range=1))
    after = (peak_signal_noise_ratio(truth, restored, data_range=1),
             structural_similarity(truth, restored, data_range=1))
    assert after[0] > before[0] + 0.3, (name, before, after)
    assert after[1] > before[1], (name, before, after)


def harmonic_fill(image, known, iterations=3000):
    """The classical inpainting reference: Laplace's equation in the holes (Jacobi iterations),
    the known pixels fixed, replicated borders."""
    u = np.where(known, image, image[known].mean())
    for _ in range(iterations):
        p = np.pad(u, 1, mode="edge")
        u = np.where(known, image, (p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:]) / 4)
    return u


@pytest.mark.skipif(not os.environ.get("BLADE_BINARY"), reason="BLADE_BINARY not set")
def test_restore_inpaints_as_well_as_the_harmonic_fill_and_keeps_the_known_pixels(tmp_path):
    """restore with mask:FILE fills holes wider than its ten steps could reach by diffusion
    alone (it starts from a push-pull fill), at least as well as Laplace's equation, and the
    known pixels come back exactly; the CLI gives the same image."""
    truth = blade.to_luma(data.camera()[200:328, 180:308])
    known = np.ones(truth.shape, bool)
    known[::11, :] = False
    known[50:62, 20:100] = False
    mask_file = tmp_path / "mask.png"
    blade.write_image(str(mask_file), known.astype(np.float32), depth="8")
    holes = np.ascontiguousarray(np.where(known, truth, 0), dtype=np.float32)
    restored = blade.restore(None, holes, f"mask:{mask_file}")
    reference = harmonic_fill(holes.astype(np.float64), known)

    def hole_psnr(u):
        return 10 * np.log10(1 / np.mean((u[~known] - truth[~known]) ** 2))

    assert hole_psnr(holes) < 12
    assert hole_psnr(restored) > hole_psnr(reference), (hole_psnr(restored), hole_psnr(reference))
    assert hole_psnr(restored) > 22
    np.testing.assert_array_equal(restored[known], holes[known])
    blade.write_image(str(tmp_path / "holes.tif"), holes, depth="float")
    import subprocess
    subprocess.run([os.environ["BLADE_BINARY"], "-q", "restore", "--op", f"mask:{mask_file}",
                    str(tmp_path / "holes.tif"), str(tmp_path / "cli.tif")], check=True)
    np.testing.assert_array_equal(blade.read_image(str(tmp_path / "cli.tif")), restored)


def test_restore_refuses_what_it_cannot_use(photo_and_observation):
    _, observed = photo_and_observation
    for name in ("ch", "ch-flux"):
        with pytest.raises(blade.Error, match="restore needs a tv, pm or ced model"):
            blade.restore(blade.Model.load(str(MODELS / f"{name}.blade")), observed, "blur:sigma=1")


def test_every_application_has_a_shipped_default_model():
    expected = {"segment": "tv", "restore": "ced", "deconv": "ced", "denoise": "tv", "resample": None}
    for app, pde in expected.items():
        model = blade.Model.default_for(app)
        if pde is None:
            assert model.form == "resample"
        else:
            assert model.pde == pde, (app, model.pde)
    # Upscaling: the learned upscaler for the factor and degradation (x4 area by default), else TV.
    for factor, degradation in ((None, None), (2, "bicubic"), (4, "area")):
        model = blade.Model.default_for("upscale", factor=factor, degradation=degradation)
        assert model.form == "upscale"
        assert model.upscale["factor"] == (factor or 4) and model.upscale["degradation"] == (degradation or "area")
    # The TV applications run tv-plain, the TV model without the scheme term (a better
    # regulariser than tv.blade: docs/RESULTS.md).
    for app in ("segment", "denoise"):
        assert not blade.Model.default_for(app).scheme_term, app
    # Denoising at a level the learned denoisers cover: the one for the channels
    # (tests/python/test_learned_denoise.py checks the rest).
    assert blade.Model.default_for("denoise", sigma=20, channels=3).denoise["channels"] == 3
    assert blade.Model.default_for("upscale", factor=3).pde == "tv"
    assert blade.Model.default_for("upscale", factor=2, degradation="corner:0.4").pde == "tv"
    with pytest.raises(blade.Error, match="upscaling's default only"):
        blade.Model.default_for("segment", factor=2)
    with pytest.raises(blade.Error, match="unknown application"):
        blade.Model.default_for("sharpen")


def test_denoise_matches_the_best_weight_of_chambolle_tv():
    """blade.denoise (by default the learned denoiser) and the TV model's rule (fitted on BSDS500
    training photographs) against scikit-image's TV denoising at its best weight for this very
    image, an oracle a user does not have."""
    from skimage.restoration import denoise_tv_chambolle

    tv = blade.Model.load(str(MODELS / "tv-plain.blade"))
    truth = blade.to_luma(data.astronaut()[96:352, 128:384])
    rng = np.random.default_rng(7)
    for sigma in (10, 20, 30):
        noisy = np.clip(truth + rng.normal(0, sigma / 255, truth.shape), 0, 1).astype(np.float32)
        learned = peak_signal_noise_ratio(truth, blade.denoise(noisy, sigma), data_range=1)
        ours = peak_signal_noise_ratio(truth, blade.denoise(noisy, sigma, tv), data_range=1)
        oracle = max(peak_signal_noise_ratio(truth, denoise_tv_chambolle(noisy, weight=w), data_range=1)
                     for w in (0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2))
        assert ours > oracle - 0.3, (sigma, ours, oracle)
        assert learned > oracle + 0.2, (sigma, learned, oracle)
        assert ours > peak_signal_noise_ratio(truth, noisy, data_range=1) + 4, sigma
    with pytest.raises(blade.Error, match="noise sigma must be in"):
        blade.denoise(truth, 0)
    with pytest.raises(blade.Error, match="time must be positive"):
        blade.denoise(truth, 10, time=-1)
    with pytest.raises(blade.Error, match="denoise needs a tv model"):
        blade.denoise(truth, 10, model=blade.Model.load(str(MODELS / "ced.blade")))


def test_denoise_color_matches_the_best_weight_of_vectorial_chambolle_tv():
    """In color the rule's own time (channels share one structure tensor: the denoiser selects on
    luma, RunOptions::luma_selection, though a TV model runs other color images channel by
    channel; each noisy channel alone was 0.12 and 0.22 dB below the oracle here) against
    scikit-image's vectorial TV at its best weight for this very image; the default learned
    color denoiser above it."""
    from skimage.restoration import denoise_tv_chambolle

    tv = blade.Model.load(str(MODELS / "tv-plain.blade"))
    truth = (data.astronaut()[96:352, 128:384] / 255.0).astype(np.float32)
    rng = np.random.default_rng(7)
    for sigma in (10, 30):
        noisy = np.clip(truth + rng.normal(0, sigma / 255, truth.shape), 0, 1).astype(np.float32)
        learned = peak_signal_noise_ratio(truth, blade.denoise(noisy, sigma), data_range=1)
        ours = peak_signal_noise_ratio(truth, blade.denoise(noisy, sigma, tv), data_range=1)
        oracle = max(peak_signal_noise_ratio(truth, denoise_tv_chambolle(noisy, weight=w, channel_axis=-1),
                                             data_range=1) for w in (0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.15))
        assert ours > oracle + 0.15, (sigma, ours, oracle)
        assert learned > oracle + 0.2, (sigma, learned, oracle)


def test_denoise_stopped_by_sure_reaches_the_oracle_and_the_best_step():
    """stop="sure" (Stein's unbiased risk estimate, per image, from the noisy image alone) on a
    held-out photograph crop with clipped noise, gray and color: the model run to a whole number
    of steps within 0.1 dB of the best such run (chosen with the clean image), and at least
    scikit-image's TV at its best weight for this very image. It refuses a stopping time."""
    from skimage.restoration import denoise_tv_chambolle

    model = blade.Model.load(str(MODELS / "tv-plain.blade"))
    rng = np.random.default_rng(11)
    for truth, kw in ((blade.to_luma(data.astronaut()[96:352, 128:384]), {}),
                      ((data.astronaut()[96:352, 128:384] / 255.0).astype(np.float32), {"channel_axis": -1})):
        for sigma in (10, 20, 30):
            noisy = np.clip(truth + rng.normal(0, sigma / 255, truth.shape), 0, 1).astype(np.float32)
            u = blade.denoise(noisy, sigma, stop="sure")
            sure = peak_signal_noise_ratio(truth, u, data_range=1)
            rule = blade.denoise_time(sigma, 1 if truth.ndim == 2 else 3)
            step = denoise_steps(rule, model.dt)[1]  # the rule's own step
            runs = [model.run(noisy, steps=k, dt=step, luma_selection=True) for k in range(1, 30)]
            assert any(np.array_equal(u, r) for r in runs), sigma
            best = max(peak_signal_noise_ratio(truth, r, data_range=1) for r in runs)
            assert sure > best - 0.1, (sigma, kw, sure, best)  # measured: at most 0.08 below
            oracle = max(peak_signal_noise_ratio(truth, denoise_tv_chambolle(noisy, weight=w, **kw), data_range=1)
                         for w in (0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2))
            assert sure > oracle, (sigma, kw, sure, oracle)
    with pytest.raises(blade.Error, match="exclude each other"):
        blade.denoise(truth, 10, stop="sure", time=0.02)
    with pytest.raises(blade.Error, match="inside \\[0, 1\\], where its estimate holds"):
        blade.denoise(np.full((64, 64), 0.02, np.float32), 30, stop="sure")  # all near black
    with pytest.raises(blade.Error, match="stop must be"):
        blade.denoise(truth, 10, stop="discrepancy")


def test_denoise_runs_the_tv_model_to_the_rules_time_in_whole_steps():
    """blade.denoise with the shipped TV model runs to denoise_time(sigma, channels) in the
    nearest whole number of steps, each at most its dt, or to a given time exactly, in the fewest
    whole steps of at most dt; the rule is the fitted power law, gray and color apart."""
    model = blade.Model.load(str(MODELS / "tv-plain.blade"))
    gray = blade.to_luma(data.astronaut()[:96, :96])
    color = (data.astronaut()[:96, :96] / 255.0).astype(np.float32)
    assert blade.denoise_time(20, 1) == pytest.approx(0.00176 * 20 ** 1.166)
    assert blade.denoise_time(20, 3) == pytest.approx(0.00208 * 20 ** 1.029)
    for image, channels in ((gray, 1), (color, 3)):
        for sigma, time in ((5, None), (20, None), (20, 0.013)):
            t = time or blade.denoise_time(sigma, channels)
            steps, dt = denoise_steps(t, model.dt)
            if time:  # a stopping time: reached exactly
                steps = math.ceil(time / model.dt * (1 - 1e-9))
                dt = time / steps
                assert steps * dt == pytest.approx(time)
            assert dt <= model.dt and abs(steps * model.dt - t) <= model.dt + 1e-12
            np.testing.assert_array_equal(blade.denoise(image, sigma, model, time=time),
                                          model.run(image, steps=steps, dt=dt, luma_selection=True))
