#!/usr/bin/python3
# Makes shipped TV, Perona-Malik and CED models keep constants: projects their filters to zero sum, then re-measures their stability horizons.
"""Level invariance for shipped models (blade/model.h, ProjectFiltersToZeroSum).

    BLADE_MODULE_DIR=build/python/blade /usr/bin/python3 scripts/project_zero_sum.py \\
        --images ../shared/data/train/BSDS500 --limit 30 models/tv.blade ...

Each model's filters acting on u lose their mean tap (every knot of a parametric model), the
file is written back, and `blade stability --write` measures its horizon again (1000 steps; at
every knot of a parametric model, each within the range it had stored) on the given photographs. A model that
already keeps constants (largest filter sum below 1e-5, e.g. the monotone ones) is left alone.
"""
import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import blade  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--images", required=True, help="photographs for the stability measurement")
    ap.add_argument("--limit", type=int, default=30)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--binary", default=str(ROOT / "build" / "bin" / "blade"))
    a = ap.parse_args()
    for path in a.models:
        m = blade.Model.load(path)
        before = m.largest_filter_sum
        if before < 1e-5:
            print(f"{path}: keeps constants already (largest filter sum {before:.2g})")
            continue
        m.project_filters_to_zero_sum()
        m.save(path)
        if m.form == "denoise":  # no horizon: each stage runs once
            print(f"{path}: largest filter sum {before:.3g} -> {blade.Model.load(path).largest_filter_sum:.2g}")
            continue
        subprocess.run([a.binary, "-q", "stability", "--model", path, "--images", a.images,
                        "--limit", str(a.limit), "--steps", str(a.steps), "--write", path], check=True)
        print(f"{path}: largest filter sum {before:.3g} -> {blade.Model.load(path).largest_filter_sum:.2g}")


if __name__ == "__main__":
    main()
