"""Scale-out with Dask distributed: batch inference and least-squares training across workers.

Any Dask `Client` works: a `LocalCluster` on one machine or a scheduler with workers on many
(docs/SCALING.md). Workers need the blade package importable and read the image paths they
are given, so paths must be visible to every worker (a shared file system or object store
mount); outputs are written atomically by the worker that made them.
"""

from __future__ import annotations

import os
from typing import Iterable, Sequence

import numpy as np

import blade

APPS = ("run", "deconv", "upscale", "segment")


def _process_one(model_path: str, src: str, dst: str, app: str, options: dict) -> str:
    """One task: read, compute, write atomically (blade.write_image renames a finished file)."""
    model = blade.Model.load(model_path)
    image, depth = blade.read_image(src, with_depth=True)
    if app == "run":
        out = model.run(image, **options)
    elif app == "deconv":
        out = blade.deconvolve(model, image, **options)
    elif app == "upscale":
        out = blade.upscale(model, image, **options)
    elif app == "segment":
        out = blade.segment(image, model, **options)
    else:
        raise ValueError(f"unknown application '{app}' (one of {', '.join(APPS)})")
    # As the `blade` tool writes: clipped to [0, 1] only by an integer format (with its warning),
    # kept as computed by a float one (.tif at float depth, .npy).
    blade.write_image(dst, out, like=depth)
    return dst


def map_images(client, model_path: str, inputs: Iterable[str], out_dir: str, app: str = "run",
               suffix: str = ".png", **options) -> list[str]:
    """Applies a model (`app` 'run') or an application to every input image, one Dask task per
    image; writes OUT_DIR/<stem><suffix> and returns the output paths in input order. A task's
    error is raised here with the library's message. Outputs keep each input's sample depth
    (16-bit in, 16-bit out; a .png suffix holds 8 or 16 bits; a float input written to .tif
    or .npy stays float and unclipped), as the `blade` tool's do. model_path: a .blade file or
    a shipped model's name (as blade.Model.load takes it)."""
    if app not in APPS:
        raise ValueError(f"unknown application '{app}' (one of {', '.join(APPS)})")
    os.makedirs(out_dir, exist_ok=True)
    inputs = [os.path.abspath(p) for p in inputs]
    stems = [os.path.splitext(os.path.basename(p))[0] for p in inputs]
    if len(set(stems)) != len(stems):
        raise ValueError("two inputs share a file name; their outputs would collide")
    # A file is passed by its absolute path (workers may start elsewhere); anything else is a
    # shipped model's name ("tv", "upscale-x2-area"), which Model.load resolves on the worker.
    model_ref = os.path.abspath(model_path) if os.path.exists(model_path) else str(model_path)
    futures = [client.submit(_process_one, model_ref, src,
                             os.path.join(os.path.abspath(out_dir), stem + suffix), app, options,
                             pure=False)
               for src, stem in zip(inputs, stems)]
    return client.gather(futures)


def _shards(items: Sequence[str], n: int) -> list[list[str]]:
    n = max(1, min(n, len(items)))
    return [list(items[i::n]) for i in range(n)]


def _features(pde: str, images: list[str], cache: str):
    return blade.selection_features(pde, images, cache=cache)


def _accumulate(model: blade.Model, images: list[str], cache: str) -> dict:
    return blade.accumulate_normal_equations(model, images, cache=cache)




def train_least_squares(client, pde: str, images: Sequence[str], footprint: int = 5,
                        bins: Sequence[int] | None = None, ridge: float = 1e-3,
                        cache: str = "default", shards: int | None = None) -> blade.Model:
    """Least-squares BLADE training of a direct model spread over the cluster.

    1. Each shard computes (or reads from its cache) the 4x-reference sequences of its images
       and returns their selection features; the driver takes the equal-population thresholds
       of all of them (exact quantiles, as single-process training).
    2. Each shard sums the per-filter normal equations of its images; the sums are added
       pairwise on the cluster and solved once on the driver.
    The result equals `blade.fit_least_squares` over the same images and thresholds up to the
    order of floating-point sums."""
    images = [os.path.abspath(p) for p in images]
    if not images:
        raise ValueError("no training images")
    parts = _shards(images, shards or max(1, len(client.scheduler_info()["workers"])))
    counts = list(bins) if bins else preset_bins(pde)
    feats = client.gather([client.submit(_features, pde, part, cache, pure=False) for part in parts])
    model = blade.empty_model(
        pde, footprint, counts,
        strength_thresholds=blade.quantile_thresholds(np.concatenate([f[0] for f in feats]), counts[1]),
        coherence_thresholds=blade.quantile_thresholds(np.concatenate([f[1] for f in feats]), counts[2]))
    total = _tree_sum(client, [client.submit(_accumulate, model, part, cache, pure=False)
                               for part in parts])
    blade.solve_normal_equations(model, total["a"], total["b"], total["count"], ridge)
    return model


def _gradient(model: blade.Model, images: list[str], cache: str):
    loss, grads, count = blade.rollout_loss_gradient(model, images, cache=cache)
    return loss, grads[0], count


def _loss(model: blade.Model, images: list[str], cache: str) -> float:
    return blade.rollout_loss(model, images, cache=cache)


def _tree_sum(client, futures):
    """Adds the futures' results pairwise on the workers; returns the total."""
    while len(futures) > 1:
        futures = [client.submit(_add_any, futures[i], futures[i + 1]) if i + 1 < len(futures)
                   else futures[i] for i in range(0, len(futures), 2)]
    return futures[0].result()


def _add_any(x, y):
    """Sum of two shard results: dicts and tuples add element by element, numbers plainly."""
    if isinstance(x, dict):
        return {k: x[k] + y[k] for k in x}
    if isinstance(x, tuple):
        return tuple(a + b for a, b in zip(x, y))
    return x + y


def fine_tune(client, model: blade.Model, images: Sequence[str], epochs: int = 10,
              ridge: float = 1e-3, learning_rate: float = 1.0, cache: str = "default",
              shards: int | None = None) -> tuple[blade.Model, list[float]]:
    """Unrolled fine-tuning of a direct model with the gradient summed across workers per step:
    the same full-batch method as `blade train --optimizer newton` (steps preconditioned by
    the per-filter one-step curvature, Polak-Ribiere+ directions, halving until the training
    loss falls), with every loss and gradient a sum of shard sums. Returns the model and the
    training loss (mean 10-step MSE) before and after each accepted epoch."""
    images = [os.path.abspath(p) for p in images]
    parts = _shards(images, shards or max(1, len(client.scheduler_info()["workers"])))
    total = len(images)
    ne = _tree_sum(client, [client.submit(_accumulate, model, part, cache, pure=False) for part in parts])
    a = ne["a"].copy()
    n = a.shape[1]
    trace = np.trace(a, axis1=1, axis2=2)
    a[:, np.arange(n), np.arange(n)] += (ridge * trace / n + 1e-12)[:, None]
    samples = float(ne["count"].sum())
    scale = samples / (2 * model.dt * model.dt)

    def gradient(m):
        loss, g, count = _tree_sum(client, [client.submit(_gradient, m, part, cache, pure=False)
                                            for part in parts])
        return loss / count, g.reshape(g.shape[0], -1) / count

    def loss_of(m):
        return _tree_sum(client, [client.submit(_loss, m, part, cache, pure=False) for part in parts]) / total

    def precondition(g):
        return np.linalg.solve(a, g[..., None])[..., 0]

    loss, g = gradient(model)
    history = [loss]
    rate = min(1.0, learning_rate)
    direction = prev_g = prev_pg = None
    for _ in range(epochs):
        pg = precondition(g)
        beta = 0.0
        if prev_g is not None:
            den = float(np.sum(prev_pg * prev_g))
            beta = max(0.0, float(np.sum(pg * (g - prev_g))) / den) if den > 0 else 0.0
        direction = -scale * pg + (beta * direction if direction is not None else 0.0)
        if not float(np.sum(direction * g)) < 0:  # not a descent direction: restart
            direction = -scale * pg
        improved = False
        taps = model.filters()
        for _ in range(12):
            trial = _with_taps(model, taps + (rate * direction).reshape(taps.shape).astype(np.float32))
            if loss_of(trial) < loss:
                model, improved = trial, True
                break
            rate /= 2
        if not improved:
            break
        direction = direction * rate * 2
        rate = min(1.0, rate * 4)
        prev_g, prev_pg = g, pg
        loss, g = gradient(model)
        history.append(loss)
    return model, history


def _with_taps(model: blade.Model, taps: np.ndarray) -> blade.Model:
    import pickle

    copy = pickle.loads(pickle.dumps(model))
    copy.set_filters(taps)
    return copy


def preset_bins(pde: str) -> list[int]:
    """The (orientation, strength, coherence) bins of the PDE's preset."""
    preset = next((p for p in blade.presets() if p["name"] == pde), None)
    if preset is None:
        raise ValueError(f"no preset named '{pde}'")
    bins = preset["selection_bins"]
    if len(bins) > 3 and bins[3] > 1:
        raise ValueError(f"the {pde} preset also bins intensity, which distributed least squares "
                         "does not; pass bins=(orientations, strengths, coherences)")
    return list(bins[:3])
