"""Applications on photographs no model was trained on (issue 24): restoration with every shipped
regulariser `restore` accepts improves a blurred, noisy photo at its defaults."""

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
ACCEPTED = ["tv", "tv-flux", "tv-monotone", "pm", "pm-monotone", "ced", "ced-flux", "ced-restore",
            "ced-monotone"]


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


def test_restore_refuses_what_it_cannot_use(photo_and_observation):
    _, observed = photo_and_observation
    for name in ("ch", "ch-flux"):
        with pytest.raises(blade.Error, match="restore needs a tv, pm or ced model"):
            blade.restore(blade.Model.load(str(MODELS / f"{name}.blade")), observed, "blur:sigma=1")


def test_every_application_has_a_shipped_default_model():
    expected = {"segment": "tv", "upscale": "tv", "restore": "ced", "deconv": "ced", "resample": None}
    for app, pde in expected.items():
        model = blade.Model.default_for(app)
        if pde is None:
            assert model.form == "resample"
        else:
            assert model.pde == pde, (app, model.pde)
    with pytest.raises(blade.Error, match="unknown application"):
        blade.Model.default_for("sharpen")
