"""The command line and the Python module are thin over one library: the same request gives the
same result from both (training recipe, application protocols), and the library's guards (the
stability horizon) hold in both."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(os.environ.get("BLADE_SOURCE_DIR", Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from scenes import scene  # noqa: E402
blade = pytest.importorskip("blade")
BINARY = os.environ.get("BLADE_BINARY", str(ROOT / "build" / "bin" / "blade"))
MODELS = ROOT / "models"


def cli(*args):
    return subprocess.run([BINARY, "-q", *map(str, args)], check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    for i in range(4):
        np.save(folder / f"scene{i}.npy", scene(i))
    return folder


@pytest.mark.parametrize("pde, options", [("pm", ["--epochs", "0"]), ("tv", []),
                                          ("pm", ["--epochs", "0", "--steps", "4"])])
def test_train_gives_the_same_model_from_both_front_ends(images, tmp_path, pde, options):
    # PM with --epochs 0 (the example), TV with no options at all: the documented recipe
    # (newton fine-tuning) from both, and PM trained for 4 larger steps instead of the preset's 10.
    cache = tmp_path / "cache"
    out = tmp_path / f"{pde}.blade"
    cli("train", "--pde", pde, "--images", images, "--cache", cache, "--out", out, *options)
    kwargs = {"epochs": 0} if options else {}
    if "--steps" in options:
        kwargs["steps"] = 4
    files = sorted(str(p) for p in images.iterdir())
    from_python = blade.train(pde, files, cache=str(cache), **kwargs)
    from_cli = blade.Model.load(str(out))
    assert from_python.selection() == from_cli.selection()
    np.testing.assert_array_equal(from_python.filters(), from_cli.filters())
    assert from_python.safe_steps == from_cli.safe_steps
    if pde == "tv":
        assert from_cli.filters().shape[1:] == (7, 7)  # the recipe's footprint, not a default 5
    steps = 4 if "--steps" in options else 10
    assert from_cli.steps == from_python.steps == steps
    assert abs(from_cli.dt * steps - {"pm": 4.0, "tv": 0.1}[pde]) < 1e-12  # the preset's T


def test_flux_newton_with_the_stability_term_is_the_same_from_both_front_ends(images, tmp_path):
    # The flux recipe (newton with the flux curvature) and the stability term, from both.
    cache = tmp_path / "cache"
    out = tmp_path / "pm-flux.blade"
    cli("train", "--pde", "pm", "--form", "flux", "--epochs", "2", "--stability-weight", "1",
        "--stability-rollout", "12", "--images", images, "--cache", cache, "--out", out)
    files = sorted(str(p) for p in images.iterdir())
    from_python = blade.train("pm", files, "flux", cache=str(cache), epochs=2, stability_weight=1.0,
                              stability_rollout=12)
    from_cli = blade.Model.load(str(out))
    np.testing.assert_array_equal(from_python.filters(), from_cli.filters())
    assert from_cli.form == "flux"
    assert "stability range over steps 1..12" in from_cli.provenance["loss"]
    assert "stability range" in from_python.provenance["loss"]
    with pytest.raises(blade.Error, match="at least as long"):
        blade.train("pm", files, "flux", cache=str(cache), epochs=1, stability_weight=1.0,
                    stability_rollout=5)


def test_a_run_past_the_horizon_is_refused_in_python_and_on_the_command_line(tmp_path):
    model = blade.Model.load(str(MODELS / "ch.blade"))
    h = model.safe_steps  # measured when trained: 31 for the shipped model
    assert 10 <= h < 1000
    u = scene(1, 32, 48)
    with pytest.raises(blade.Error, match=f"only up to {h} steps"):
        model.run(u, steps=1000)
    assert np.isfinite(model.run(u, steps=h)).all()  # the horizon itself is allowed
    np.save(tmp_path / "u.npy", u)
    refused = subprocess.run([BINARY, "run", "--model", MODELS / "ch.blade", "--steps", "1000",
                              tmp_path / "u.npy", tmp_path / "out.npy"], capture_output=True,
                             text=True)
    assert refused.returncode == 1 and f"only up to {h} steps" in refused.stderr
    assert not (tmp_path / "out.npy").exists()
    # unsafe runs it, from both, with the same result.
    v = model.run(u, steps=h + 5, unsafe=True)
    cli("run", "--model", MODELS / "ch.blade", "--steps", h + 5, "--unsafe", tmp_path / "u.npy",
        tmp_path / "out.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), v)


@pytest.mark.parametrize("app, model, extra", [
    ("deconv", "ced-restore", {}),
    ("upscale", "tv", {}),
    ("segment", "tv", {"iterations": 20}),
])
def test_evaluate_app_gives_the_numbers_of_eval_app(images, tmp_path, app, model, extra):
    out = tmp_path / "e.json"
    flags = ["--iters", str(extra["iterations"])] if "iterations" in extra else []
    cli("eval-app", app, "--model", MODELS / f"{model}.blade", "--images", images, "--json", out,
        *flags)
    from_cli = json.loads(out.read_text())
    files = sorted(str(p) for p in images.iterdir())
    from_python = blade.evaluate_app(app, blade.Model.load(str(MODELS / f"{model}.blade")), files,
                                     **extra)
    assert from_python["images"] == from_cli["images"] == 4
    assert from_python["settings"] == from_cli["settings"]
    # Numeric settings are JSON numbers (jq '.settings.mu > 0.01'), text stays text.
    numbers = {"deconv": ("blur_sigma", "noise_sigma", "lambda", "steps"), "upscale": ("factor", "steps"),
               "segment": ("iterations", "mu", "reference_mu")}[app]
    assert all(isinstance(from_cli["settings"][k], (int, float)) for k in numbers), from_cli["settings"]
    assert all(isinstance(v, (int, float)) or not v.replace(".", "", 1).isdigit()
               for v in from_cli["settings"].values()), from_cli["settings"]
    if app == "segment":
        assert from_cli["settings"]["iterations"] == 20
    for method, metrics in from_cli["rows"].items():
        for metric, value in metrics.items():
            if metric != "seconds":  # timings differ from run to run
                assert from_python["rows"][method][metric] == value, (method, metric)
    # Without a model: the application's shipped default, as eval-app without --model.
    if app == "deconv":
        default = blade.evaluate_app(app, None, files)
        assert default["rows"]["blade"]["psnr"] == blade.evaluate_app(
            app, blade.Model.default_for(app), files)["rows"]["blade"]["psnr"]
    # The rows are the means of the per-image entries.
    method = "area/blade" if app == "upscale" else "blade"
    metric = "iou" if app == "segment" else "psnr"
    per_image = [im[method][metric] for im in from_cli["per_image"]]
    assert abs(np.mean(per_image) - from_cli["rows"][method][metric]) < 1e-12


def test_evaluate_model_gives_the_numbers_of_eval(images, tmp_path):
    out = tmp_path / "e.json"
    cache = tmp_path / "cache"
    model = MODELS / "pm.blade"
    subprocess.run([BINARY, "-q", "eval", "--model", model, "--images", images, "--json", out,
                    "--long-steps", "20", "--classical", "1", "--classical", "2:30"], check=True,
                   capture_output=True, env={**os.environ, "BLADE_CACHE": str(cache)})
    from_cli = json.loads(out.read_text())
    files = sorted(str(p) for p in images.iterdir())
    from_python = blade.evaluate_model(blade.Model.load(str(model)), files, long_steps=20,
                                       cache=str(cache), classical=["1", "2:30"])
    assert from_python["protocol"] == "kodak4x" and from_python["steps"] == from_cli["steps"]
    for row, metrics in from_cli["rows"].items():
        for metric in ("psnr", "ssim", "diverged"):
            assert from_python["rows"][row][metric] == metrics[metric], (row, metric)
    assert from_python["range"] == from_cli["range"]
    assert from_python["long_run"] == from_cli["long_run"]
    # The long run is held to the model's measured range: images outside it are counted.
    long_run = from_cli["long_run"]
    assert long_run["allowed"] == pytest.approx(blade.Model.load(str(model)).stability_range)
    inside = long_run["allowed"][0] <= long_run["range"][0] and long_run["range"][1] <= long_run["allowed"][1]
    assert inside == (long_run["left_allowed"] == 0) and long_run["left_allowed"] >= long_run["diverged"]
    assert from_cli["rows"]["blade"]["psnr"] > from_cli["rows"]["identity"]["psnr"]
    # The frontier's classical runs: the converged run at the LR grid is classical-LR itself.
    rows = from_cli["rows"]
    assert rows["classical_1x"]["psnr"] == rows["classical_lr"]["psnr"]
    assert rows["classical_1x"]["steps"] == rows["classical_lr"]["steps"]
    assert rows["classical_2x_30"]["steps"] == 30


def test_checkpoints_are_written_and_resumed_from_python_as_from_the_command_line(images, tmp_path):
    files = sorted(str(p) for p in images.iterdir())
    ck = tmp_path / "ck.blade"
    # Without the scheme term: newton on a tiny TV scheme model stops after one epoch (no step
    # lowers the loss), and this test needs two.
    options = dict(epochs=2, footprint=3, scheme_footprint=0, bins=[8, 2, 2], cache=str(tmp_path / "cache"))
    first = blade.train("tv", files, checkpoint=str(ck), **options)
    assert ck.exists() and (tmp_path / "ck.best.blade").exists()
    state = blade.Model.load(str(ck)).provenance
    assert state["checkpoint_epoch"] == "2" and state["checkpoint_stopped"] == "no"
    # TV's selection ignores the level: the trained filters are projected to zero sum.
    assert first.largest_filter_sum < 1e-5 and "zero_sum" in first.provenance
    resumed = blade.train("tv", files, resume=str(ck), **{**options, "epochs": 3})
    assert resumed.filters().shape == (32, 3, 3)
    # The resumed model records the original run's least-squares loss (the checkpoint keeps it at
    # round-trip precision), not the loss of the checkpoint it started from.
    assert float(state["checkpoint_ls_validation_loss"]) == pytest.approx(
        float(first.provenance["ls_validation_mse"]), rel=1e-5)
    assert resumed.provenance["ls_validation_mse"] == first.provenance["ls_validation_mse"]
    with pytest.raises(blade.Error, match="already at epoch 2"):
        blade.train("tv", files, resume=str(ck), **options)
    with pytest.raises(blade.Error, match="not a training checkpoint"):
        blade.train("tv", files, resume=str(MODELS / "tv.blade"), **options)
    # Another run's settings are refused, naming the first that differs.
    with pytest.raises(blade.Error, match="its run had seed 1, this one has 7"):
        blade.train("tv", files, resume=str(ck), seed=7, **{**options, "epochs": 3})
    with pytest.raises(blade.Error, match="its run had bins 8x2x2x1, this one has 8x2x3x1"):
        blade.train("tv", files, resume=str(ck), **{**options, "epochs": 3, "bins": [8, 2, 3]})
    # A checkpoint is the pair: without its best model, resuming would forget it.
    alone = tmp_path / "alone.blade"
    alone.write_bytes(ck.read_bytes())
    with pytest.raises(blade.Error, match="alone.best.blade' is missing"):
        blade.train("tv", files, resume=str(alone), **{**options, "epochs": 3})
    # A run that early stopping ended (Adam at a large rate, patience 1) is marked so, and
    # resuming it is refused instead of training on.
    stopped = tmp_path / "stopped.blade"
    adam = {**options, "epochs": 30, "optimizer": "adam", "learning_rate": 0.05, "patience": 1}
    blade.train("tv", files, checkpoint=str(stopped), **adam)
    state = blade.Model.load(str(stopped)).provenance
    assert state["checkpoint_stopped"] == "yes" and int(state["checkpoint_epoch"]) < 30
    assert int(state["checkpoint_since_best"]) == 1
    with pytest.raises(blade.Error, match="had already stopped after epoch"):
        blade.train("tv", files, resume=str(stopped), **{**adam, "epochs": 40})


def test_zero_steps_and_empty_image_lists_are_refused_not_replaced_by_defaults():
    """steps=0 once meant the model's own 10 steps in Python (the command line refused it), and an
    empty list evaluated to rows of zeros: both are refused by the library, for every front end."""
    image = np.linspace(0, 1, 64 * 64, dtype=np.float32).reshape(64, 64)
    with pytest.raises(blade.Error, match=r"steps must be 1..100000 \(got 0\)"):
        blade.deconvolve(None, image, steps=0)
    with pytest.raises(blade.Error, match=r"steps must be 1..100000 \(got 0\)"):
        blade.restore(None, image, "blur:sigma=1", steps=0)
    with pytest.raises(blade.Error, match=r"steps must be 1..100000 \(got 0\)"):
        blade.upscale(blade.Model.load(str(MODELS / "tv-plain.blade")), image[:32, :32], factor=2,
                      degradation="corner:0.4", steps=0, project=True)
    with pytest.raises(blade.Error, match="needs at least one image"):
        blade.evaluate_model(blade.Model.load(str(MODELS / "tv-plain.blade")), [])
    with pytest.raises(blade.Error, match="needs at least one image"):
        blade.evaluate_app("segment", blade.Model.load(str(MODELS / "tv-plain.blade")), [])
    with pytest.raises(blade.Error, match="at least 2 images"):
        blade.train("tv", [])
    # A 0 given for a time, a step or a step count is refused as the command line refuses it; left
    # out (None), the default applies.
    for call, message in ((lambda: blade.solve(image, "pm", time=0.0), "time must be positive"),
                          (lambda: blade.solve(image, "pm", dt=0.0), "dt must be positive"),
                          (lambda: blade.solve(image, "pm", steps=0), "steps must be 1.."),
                          (lambda: blade.Model.load("pm").run(image, steps=0), "steps must be at least 1"),
                          (lambda: blade.Model.load("pm").run(image, dt=0.0), "dt must be positive"),
                          (lambda: blade.Model.load("pm").run(image, time=0.0), "time must be positive")):
        with pytest.raises(blade.Error, match=message):
            call()
    assert np.array_equal(blade.Model.load("pm").run(image), blade.Model.load("pm").run(image, steps=None))


def test_the_application_options_of_the_command_line_are_python_arguments(tmp_path):
    """upscale --fast, restore/deconv --dt and --unsafe, align --lk: the same result from both
    front ends; and an inpainting mask may be an array as well as a file."""
    u = scene(2, 48, 64)
    np.save(tmp_path / "u.npy", u)
    out = tmp_path / "out.npy"

    def both(python_result, *args):
        cli(*args, tmp_path / "u.npy", out)
        np.testing.assert_array_equal(np.load(out), python_result)

    lr = u[::2, ::2].copy()
    np.save(tmp_path / "lr.npy", lr)
    fast = blade.upscale(None, lr, factor=2, fast=True)
    cli("upscale", "--factor", "2", "--fast", tmp_path / "lr.npy", out)
    np.testing.assert_array_equal(np.load(out), fast)
    assert not np.array_equal(fast, blade.upscale(None, lr, factor=2))  # the refiner was skipped
    with pytest.raises(blade.Error, match="PDE regulariser"):
        blade.upscale(blade.Model.load(str(MODELS / "tv.blade")), lr, fast=True)
    # The library's one rule for both front ends: a learned upscaler takes no PDE-form option.
    for kw, flag in (({"unsafe": True}, "--unsafe"), ({"steps": 10}, "--steps")):
        with pytest.raises(blade.Error, match="belong to the PDE-regularised forms"):
            blade.upscale(None, lr, factor=2, **kw)
        refused = subprocess.run([BINARY, "upscale", "--factor", "2", flag, *(["10"] if flag == "--steps" else []),
                                  tmp_path / "lr.npy", out], capture_output=True, text=True)
        assert refused.returncode == 1 and "belong to the PDE-regularised forms" in refused.stderr
    ced = blade.Model.load(str(MODELS / "ced-restore.blade"))
    both(blade.restore(ced, u, "blur:sigma=1", dt=ced.dt / 2),
         "restore", "--model", MODELS / "ced-restore.blade", "--op", "blur:sigma=1", "--dt", ced.dt / 2)
    with pytest.raises(blade.Error, match="larger than"):
        blade.deconvolve(ced, u, dt=2 * ced.dt)
    both(blade.deconvolve(ced, u, dt=2 * ced.dt, unsafe=True),
         "deconv", "--model", MODELS / "ced-restore.blade", "--dt", 2 * ced.dt, "--unsafe")
    # A mask as an array is the mask file's operator; with an alpha channel it is refused, as
    # the file is.
    mask = np.ones_like(u)
    mask[10:20, 20:40] = 0
    with pytest.raises(blade.Error, match="alpha channel"):
        blade.restore(ced, u, np.dstack([mask, mask, mask, mask]))
    np.save(tmp_path / "mask.npy", mask)
    np.testing.assert_array_equal(blade.restore(ced, u, mask), blade.restore(ced, u, f"mask:{tmp_path / 'mask.npy'}"))
    # align --lk 0: block matching alone.
    alt = np.roll(u, 2, axis=1)
    np.save(tmp_path / "alt.npy", alt)
    cli("align", tmp_path / "u.npy", tmp_path / "alt.npy", "--flow", tmp_path / "f.flo", "--lk", "0")
    flo = np.fromfile(tmp_path / "f.flo", np.float32)[3:].reshape(48, 64, 2)
    np.testing.assert_array_equal(flo, blade.align(u, alt, lk=0))


def test_evaluate_resample_gives_the_numbers_of_eval_resample(tmp_path):
    folder = tmp_path / "bursts"
    folder.mkdir()
    for i in range(2):
        np.save(folder / f"s{i}.npy", scene(i, 200, 208))
    out = tmp_path / "r.json"
    cli("eval-resample", "--images", folder, "--json", out)
    from_cli = json.loads(out.read_text())
    files = sorted(str(p) for p in folder.iterdir())
    from_python = blade.evaluate_resample(None, files)
    assert from_python["rows"] == from_cli["rows"] and from_python["per_image"] == from_cli["per_image"]
    assert from_python["alignment"] == from_cli["alignment"] and from_python["images"] == 2
    # BLADE's third-order model beats bicubic after two resamplings, as on Kodak.
    assert from_cli["rows"]["blade"]["psnr_2"] > from_cli["rows"]["bicubic"]["psnr_2"]
