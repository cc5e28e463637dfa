"""Dask scale-out on a LocalCluster of 2 worker processes: distributed least squares equals the
single-process fit, and batch inference writes the same images as the command-line tool."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(os.environ.get("BLADE_SOURCE_DIR", Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(ROOT))
blade = pytest.importorskip("blade")
distributed = pytest.importorskip("distributed")
from skimage import data, io  # noqa: E402

import blade.distributed as bd  # noqa: E402

BINARY = os.environ.get("BLADE_BINARY", str(ROOT / "build" / "bin" / "blade"))


@pytest.fixture(scope="module")
def client():
    # Worker processes import blade from the source tree like this process.
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=40)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """Six 128x96 crops of scikit-image photographs (HR for the 4x protocol)."""
    folder = tmp_path_factory.mktemp("images")
    sources = [data.camera(), data.astronaut(), data.coffee(), data.chelsea(), data.rocket(),
               data.immunohistochemistry()]
    paths = []
    for i, img in enumerate(sources):
        crop = img[40:136, 60:188]
        path = folder / f"img{i}.png"
        io.imsave(path, crop, check_contrast=False)
        paths.append(str(path))
    return paths


def test_distributed_least_squares_equals_single_process(client, images, tmp_path):
    cache = str(tmp_path / "cache")
    model = bd.train_least_squares(client, "pm", images, footprint=3, bins=(8, 2, 2), ridge=1e-3,
                                   cache=cache)
    # Single process, same thresholds (taken from the distributed model) and same images.
    sel = model.selection()
    local = blade.empty_model("pm", 3, [8, 2, 2], strength_thresholds=sel["strength_thresholds"],
                              coherence_thresholds=sel["coherence_thresholds"])
    strength, coherence = blade.selection_features("pm", images, cache=cache)
    assert sel["strength_thresholds"] == pytest.approx(blade.quantile_thresholds(strength, 2), rel=0, abs=0)
    assert sel["coherence_thresholds"] == pytest.approx(blade.quantile_thresholds(coherence, 2), rel=0, abs=0)
    blade.fit_least_squares(local, images, ridge=1e-3, cache=cache)
    a, b = model.filters(), local.filters()
    assert np.abs(a).max() > 0
    assert np.max(np.abs(a - b)) <= 1e-6 * np.max(np.abs(b))


def test_normal_equations_add_over_shards(images, tmp_path):
    cache = str(tmp_path / "cache")
    model = blade.empty_model("pm", 3, [8, 2, 2], strength_thresholds=[0.02], coherence_thresholds=[0.5])
    whole = blade.accumulate_normal_equations(model, images, cache=cache)
    parts = [blade.accumulate_normal_equations(model, images[i::3], cache=cache) for i in range(3)]
    for key in ("a", "b", "count"):
        total = sum(p[key] for p in parts)
        assert np.allclose(total, whole[key], rtol=1e-12, atol=1e-12)
    assert whole["count"].sum() == 6 * 32 * 24 * 10  # every LR pixel of 10 frame pairs per image


def test_batch_inference_matches_the_command_line(client, images, tmp_path):
    model = str(ROOT / "models" / "tv.blade")
    outputs = bd.map_images(client, model, images[:3], str(tmp_path / "dask"))
    assert [Path(p).name for p in outputs] == ["img0.png", "img1.png", "img2.png"]
    for src, out in zip(images[:3], outputs):
        cli = tmp_path / ("cli_" + Path(src).name)
        subprocess.run([BINARY, "-q", "run", "--model", model, src, str(cli)], check=True)
        assert np.array_equal(blade.read_image(out), blade.read_image(str(cli)))
    assert not list((tmp_path / "dask").glob(".*"))  # no temporary files left behind
    # A 16-bit input gives a 16-bit output, as the tool's; its bytes equal the tool's.
    deep = tmp_path / "deep" / "img16.png"
    deep.parent.mkdir()
    blade.write_image(str(deep), blade.read_image(images[0]), depth="16")
    assert blade.read_image(str(deep), with_depth=True)[1] == "16"
    [out] = bd.map_images(client, model, [str(deep)], str(tmp_path / "dask16"))
    cli = tmp_path / "cli16.png"
    subprocess.run([BINARY, "-q", "run", "--model", model, str(deep), str(cli)], check=True)
    assert blade.read_image(out, with_depth=True)[1] == "16"
    assert np.array_equal(blade.read_image(out), blade.read_image(str(cli)))
    # A float input to .tif stays float and unclipped, as the tool's; a shipped model's bare name
    # works as in Model.load (it had been made an absolute path in the current folder).
    bright = tmp_path / "float" / "bright.npy"
    bright.parent.mkdir()
    np.save(bright, 1.2 * blade.read_image(images[0]))
    [out] = bd.map_images(client, "tv", [str(bright)], str(tmp_path / "daskf"), suffix=".tif")
    cli = tmp_path / "clif.tif"
    subprocess.run([BINARY, "-q", "run", "--model", model, str(bright), str(cli)], check=True)
    assert blade.read_image(out).max() > 1.01  # clipped, it would be 1
    assert np.array_equal(blade.read_image(out), blade.read_image(str(cli)))


def test_task_errors_reach_the_caller(client, images, tmp_path):
    with pytest.raises(FileNotFoundError, match="cannot open"):
        bd.map_images(client, str(ROOT / "models" / "tv.blade"), [str(tmp_path / "missing.png")],
                      str(tmp_path / "out"))


def test_fine_tuning_sums_gradients_across_workers(client, images, tmp_path):
    cache = str(tmp_path / "cache")
    model = bd.train_least_squares(client, "pm", images, footprint=3, bins=(8, 2, 2), cache=cache)
    # The per-step gradient summed over shards is the single-process gradient.
    loss, grads, count = blade.rollout_loss_gradient(model, images, cache=cache)
    parts = [blade.rollout_loss_gradient(model, images[i::2], cache=cache) for i in range(2)]
    assert count == 6 and sum(p[2] for p in parts) == 6
    assert sum(p[0] for p in parts) == pytest.approx(loss, rel=1e-12)
    assert np.allclose(sum(p[1][0] for p in parts), grads[0], rtol=1e-10, atol=1e-15)
    assert np.abs(grads[0]).max() > 0
    # Finite differences of the summed loss along the gradient agree with it.
    g = grads[0]
    eps = 1e-3 / np.abs(g).max()
    base = model.filters().astype(np.float64)
    losses = []
    for sign in (+1, -1):
        trial = bd._with_taps(model, (base + sign * eps * g).astype(np.float32))
        losses.append(blade.rollout_loss(trial, images, cache=cache))
    slope = (losses[0] - losses[1]) / (2 * eps)
    assert slope == pytest.approx(float(np.sum(g * g)), rel=0.05)
    # Distributed fine-tuning lowers the training loss at every accepted epoch.
    tuned, history = bd.fine_tune(client, model, images, epochs=3, cache=cache)
    assert len(history) >= 2 and all(b < a for a, b in zip(history, history[1:]))
    assert history[0] == pytest.approx(loss / count, rel=1e-9)
    assert blade.rollout_loss(tuned, images, cache=cache) / 6 == pytest.approx(history[-1], rel=1e-9)
