"""Models at other parameter points and stopping times (issue 25's first part): Python and the
command line agree with the symmetry done by hand in NumPy, and refuse what no symmetry reaches."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from skimage import data

ROOT = Path(os.environ.get("BLADE_SOURCE_DIR", Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(ROOT))
blade = pytest.importorskip("blade")
BINARY = os.environ.get("BLADE_BINARY")
MODELS = ROOT / "models"


# pm-monotone.blade and tv-monotone.blade: point models at c = 0.1 and eps = 0.01 (the shipped
# pm.blade and tv.blade cover a box by blending, tests/python/test_parametric_models.py).
def test_run_at_a_point_is_the_model_on_the_scaled_image():
    pm = blade.Model.load(str(MODELS / "pm-monotone.blade"))
    assert pm.pde_params["c"] == pytest.approx(0.1)
    u = np.ascontiguousarray(data.camera()[::4, ::4].astype(np.float32) / 255)
    # PM at c = 0.05 to T = 2: the c = 0.1 model on 2 u, 5 steps of 0.4, halved.
    with pytest.warns(UserWarning, match="intensities are in"):  # 2 u reaches 2: said so
        scaled = pm.run(2 * u, steps=5) / 2
    np.testing.assert_allclose(pm.run(u, params={"c": 0.05}, time=2.0), scaled, atol=1e-6)
    # TV at eps = 0.02 to T = 0.1: the eps = 0.01 model on u / 2 to T = 0.05, doubled.
    tv = blade.Model.load(str(MODELS / "tv-monotone.blade"))
    np.testing.assert_allclose(tv.run(u, params={"eps": 0.02}, time=0.1), 2 * tv.run(u / 2, steps=5), atol=1e-6)
    with pytest.raises(blade.Error, match="no exact symmetry"):
        blade.Model.load(str(MODELS / "ch-flux.blade")).run(u, params={"gamma": 0.3})
    with pytest.raises(blade.Error, match="outside what this model covers"):
        pm.run(u, params={"c": 0.01})
    with pytest.raises(blade.Error, match="not both"):
        pm.run(u, steps=3, time=2.0)


@pytest.mark.skipif(BINARY is None, reason="BLADE_BINARY not set")
def test_command_line_runs_at_a_point(tmp_path):
    u = np.ascontiguousarray(data.camera()[::4, ::4].astype(np.float32) / 255)
    src = tmp_path / "u.tiff"
    blade.write_image(str(src), u)
    out = tmp_path / "out.tiff"
    r = subprocess.run([BINARY, "run", "--model", str(MODELS / "pm-monotone.blade"), "--param", "c=0.05", "--time", "2",
                        str(src), str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    want = blade.Model.load(str(MODELS / "pm-monotone.blade")).run(u, params={"c": 0.05}, time=2.0)
    np.testing.assert_allclose(blade.read_image(str(out)), want, atol=1e-6)
    r = subprocess.run([BINARY, "run", "--model", str(MODELS / "ch-flux.blade"), "--param", "gamma=0.3",
                        str(src), str(out)], capture_output=True, text=True)
    assert r.returncode != 0 and r.stderr.count("\n") == 1 and "no exact symmetry" in r.stderr


def test_evaluation_at_a_point_uses_the_points_reference(tmp_path):
    """blade.evaluate_model(params=, time=): the reference and the classical rows at the point
    (checked against blade.solve), BLADE at the point (checked against Model.run)."""
    hr = np.ascontiguousarray(data.camera()[128:384:2, 64:448:2].astype(np.float32) / 255)  # 128 x 192
    path = tmp_path / "hr.tiff"
    blade.write_image(str(path), hr)
    pm = blade.Model.load(str(MODELS / "pm-monotone.blade"))
    e = blade.evaluate_model(pm, [str(path)], cache="", params={"c": 0.05}, time=2.0)
    assert e["preset"] == "pm@c=0.05,T=2" and e["steps"] == 5
    lr = hr.reshape(32, 4, 48, 4).mean(axis=(1, 3)).astype(np.float32)
    ref = blade.solve(hr, "pm", time=2.0, dx=0.25, params={"c": 0.05})
    ref = ref.reshape(32, 4, 48, 4).mean(axis=(1, 3)).astype(np.float32)
    assert e["rows"]["identity"]["psnr"] == pytest.approx(blade.psnr(lr, ref), abs=0.02)
    out = pm.run(lr, params={"c": 0.05}, time=2.0)
    assert e["rows"]["blade"]["psnr"] == pytest.approx(blade.psnr(out, ref), abs=0.02)
    stable = blade.solve(lr, "pm", time=2.0, params={"c": 0.05})
    assert e["rows"]["classical_lr"]["psnr"] == pytest.approx(blade.psnr(stable, ref), abs=0.02)
    # The model's own point is the plain protocol.
    own = blade.evaluate_model(pm, [str(path)], cache="")
    again = blade.evaluate_model(pm, [str(path)], cache="", params={"c": 0.1})
    assert again["rows"]["blade"]["psnr"] == pytest.approx(own["rows"]["blade"]["psnr"], abs=1e-9)
    with pytest.raises(blade.Error, match="no exact symmetry"):
        blade.evaluate_model(blade.Model.load(str(MODELS / "ch-flux.blade")), [str(path)], cache="",
                             params={"gamma": 0.3})


def test_evaluation_past_the_horizon_needs_unsafe(tmp_path):
    """A model whose stored horizon is shorter than its run is refused by evaluate_model and
    evaluate unless unsafe=True, which scores it as Model.run(unsafe=True) runs it."""
    import json
    doc = json.loads((MODELS / "pm-monotone.blade").read_text())
    doc["safe_steps"] = 5
    doc.pop("constraint")  # a monotone model has no horizon (its maximum principle holds)
    doc.pop("checksum", None)  # the content changed on purpose
    short_path = tmp_path / "short.blade"
    short_path.write_text(json.dumps(doc))
    short = blade.Model.load(str(short_path))
    assert short.safe_steps == 5
    hr = np.ascontiguousarray(data.camera()[128:384:2, 64:448:2].astype(np.float32) / 255)
    path = tmp_path / "hr.tiff"
    blade.write_image(str(path), hr)
    for evaluate in (blade.evaluate_model, blade.evaluate):
        with pytest.raises(blade.Error, match="stable only up to 5 steps"):
            evaluate(short, [str(path)], cache="")
    e = blade.evaluate_model(short, [str(path)], cache="", unsafe=True)
    full = blade.evaluate_model(blade.Model.load(str(MODELS / "pm-monotone.blade")), [str(path)], cache="")
    assert e["rows"]["blade"]["psnr"] == pytest.approx(full["rows"]["blade"]["psnr"], abs=1e-9)
    rows = blade.evaluate(short, [str(path)], cache="", unsafe=True)
    assert rows[0]["blade"]["psnr"] == pytest.approx(full["rows"]["blade"]["psnr"], abs=1e-6)
