#!/usr/bin/python3
"""Throughput of blade.distributed on a LocalCluster of 1 and 2 worker processes (one thread
each): batch inference (TV model over a folder) and distributed least squares (PM).
Usage: bench/dask_scaling.py [INFER_DIR] [TRAIN_DIR] [--limit N]
Defaults: ../shared/data/kodak and ../shared/data/train/BSDS500 (40 images)."""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
os.environ["OMP_NUM_THREADS"] = "1"

import distributed  # noqa: E402

import blade  # noqa: E402
import blade.distributed as bd  # noqa: E402


def images(folder: str, limit: int) -> list[str]:
    files = sorted(str(p) for p in Path(folder).iterdir() if p.suffix.lower() in (".png", ".jpg"))
    return files[:limit]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("infer", nargs="?", default=str(ROOT.parent / "shared/data/kodak"))
    parser.add_argument("train", nargs="?", default=str(ROOT.parent / "shared/data/train/BSDS500"))
    parser.add_argument("--limit", type=int, default=40)
    args = parser.parse_args()
    infer, train = images(args.infer, 24), images(args.train, args.limit)
    # Warm the reference cache once so both runs measure the accumulation, not the references.
    blade.selection_features("pm", train)
    for workers in (1, 2):
        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                           dashboard_address=None, silence_logs=40)
        with distributed.Client(cluster) as client, tempfile.TemporaryDirectory() as out:
            client.run(lambda: __import__("blade").set_threads(1))
            t = time.perf_counter()
            bd.map_images(client, str(ROOT / "models/tv.blade"), infer, out)
            t_infer = time.perf_counter() - t
            t = time.perf_counter()
            bd.train_least_squares(client, "pm", train, footprint=5, bins=(24, 8, 3))
            t_train = time.perf_counter() - t
        cluster.close()
        print(f"{workers} worker(s): batch inference {len(infer)} images in {t_infer:.2f} s "
              f"({len(infer) / t_infer:.2f} images/s); least squares on {len(train)} images in "
              f"{t_train:.2f} s ({len(train) / t_train:.2f} images/s)", flush=True)


if __name__ == "__main__":
    main()
