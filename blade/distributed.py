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
    image = blade.read_image(src)
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
    blade.write_image(np.clip(out, 0, 1), dst)
    return dst


def map_images(client, model_path: str, inputs: Iterable[str], out_dir: str, app: str = "run",
               suffix: str = ".png", **options) -> list[str]:
    """Applies a model (`app` 'run') or an application to every input image, one Dask task per
    image; writes OUT_DIR/<stem><suffix> and returns the output paths in input order. A task's
    error is raised here with the library's message. Outputs are clipped to [0, 1], as the
    `blade` tool writes 8-bit files."""
    if app not in APPS:
        raise ValueError(f"unknown application '{app}' (one of {', '.join(APPS)})")
    os.makedirs(out_dir, exist_ok=True)
    inputs = [os.path.abspath(p) for p in inputs]
    stems = [os.path.splitext(os.path.basename(p))[0] for p in inputs]
    if len(set(stems)) != len(stems):
        raise ValueError("two inputs share a file name; their outputs would collide")
    futures = [client.submit(_process_one, os.path.abspath(model_path), src,
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


def _add(x: dict, y: dict) -> dict:
    return {k: x[k] + y[k] for k in x}


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
    model = blade.empty_model(pde, footprint, counts,
                              blade.quantile_thresholds(np.concatenate([f[0] for f in feats]), counts[1]),
                              blade.quantile_thresholds(np.concatenate([f[1] for f in feats]), counts[2]))
    futures = [client.submit(_accumulate, model, part, cache, pure=False) for part in parts]
    while len(futures) > 1:  # pairwise tree reduction on the workers
        futures = [client.submit(_add, futures[i], futures[i + 1]) if i + 1 < len(futures)
                   else futures[i] for i in range(0, len(futures), 2)]
    total = futures[0].result()
    blade.solve_normal_equations(model, total["a"], total["b"], total["count"], ridge)
    return model


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
