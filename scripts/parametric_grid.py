#!/usr/bin/env python3
"""A parametric model over its box (issue 25) on the kodak4x protocol, point by point on a grid
that spans the box (half its values between the model's knots): each image's luma is the HR
start; the classical reference runs on it at 4x (dx = 1/4, stable step) to the point's time and
is area-downsampled 4x; everything else runs on the LR image. Rows at every point: identity,
classical-LR-10 (10 steps, forced), classical-LR (converged: stable step), the parametric model
(blade.Model.run(params=, time=)) and, where one was trained, a point model trained at exactly
that point with the same recipe (`blade train --param NAME=V --time T`). Mean PSNR dB / SSIM over
the images, and the mean time of one LR run (one thread).

Usage: BLADE_MODULE_DIR=build/python/blade /usr/bin/python3 scripts/parametric_grid.py PDE MODEL
           KODAK_DIR [--count N] [--points-dir DIR] [--train-images DIR [--form flux]] [--json OUT]
           [--plot PNG]
With --table, MODEL is such a --json file and its Markdown table is printed (no runs).
With --train-images, the point models missing from --points-dir are trained first (the recipe of
the PDE, as models/README.md; `blade train` of this checkout).
"""

import argparse
import json
import subprocess
import time as clock
from pathlib import Path

import numpy as np

from heldout_common import ROOT, blade, files_of

# Per PDE: the grid (every parameter's values x times) and the points that get a point model.
GRIDS = {
    # The shipped box's knots: c 0.03, 0.0533, 0.1, 0.169, 0.3 and time 1, 1.78, 4, 5.62, 10; the
    # grid's other values are the cells' centres in log, where blending is least accurate.
    "pm": {"params": {"c": [0.03, 0.04, 0.073, 0.1, 0.13, 0.225, 0.3]}, "times": [1.0, 2.67, 4.0, 7.5, 10.0],
           "point_models": [(0.04, 2.67), (0.073, 2.67), (0.13, 2.67), (0.225, 2.67), (0.04, 7.5),
                            (0.073, 7.5), (0.13, 7.5), (0.225, 7.5), (0.03, 1.0), (0.3, 10.0),
                            (0.1, 4.0)],
           "recipe": ["--ridge", "1e-5", "--bins", "24", "16", "3", "--epochs", "0"]},
    # models/tv.blade's knots: eps 0.002, 0.00447, 0.01, 0.0224, 0.05 and time 0.025, 0.05, 0.1, 0.2,
    # 0.4 (5 x 5; the preset's knot, eps 0.01 and T 0.1, is the former point model).
    "tv": {"params": {"eps": [0.002, 0.003, 0.0067, 0.01, 0.015, 0.0335, 0.05]},
           "times": [0.025, 0.0354, 0.1, 0.283, 0.4],
           "point_models": [(0.003, 0.0354), (0.0067, 0.0354), (0.015, 0.0354), (0.003, 0.283),
                            (0.0067, 0.283), (0.015, 0.283), (0.01, 0.1)],
           "recipe": ["--footprint", "7", "--epochs", "20", "--optimizer", "newton", "--learning-rate", "1",
                      "--patience", "5"]},
    # models/ced.blade's and ced-direct.blade's knots: rho 2, 4, 6 and time 1, 2, 4, 8 (the preset's
    # knot, rho 4 and T 4, is the former point model); C moves by the intensity symmetry.
    "ced": {"params": {"rho": [2.0, 2.83, 4.0, 4.9, 6.0]}, "times": [1.0, 2.83, 4.0, 5.66, 8.0],
            "point_models": [(2.83, 2.83), (4.9, 2.83), (2.83, 5.66), (4.9, 5.66), (2.83, 4.0),
                             (4.0, 5.66), (4.0, 4.0)],
            "recipe": ["--limit", "64", "--footprint", "7", "--augment-ls", "--epochs", "20", "--optimizer",
                       "newton", "--learning-rate", "1", "--patience", "5"],
            # models/ced.blade's recipe (the flux form's defaults), for --form flux ("recipe" is
            # models/ced-direct.blade's).
            "flux_recipe": ["--seed", "1", "--form", "flux", "--limit", "64"]},
    "ch": {"params": {"gamma": [0.15, 0.19, 0.25, 0.35, 0.5]}, "times": [2.0, 2.8, 4.0, 5.7, 8.0],
           "point_models": [(0.19, 2.8), (0.35, 2.8), (0.19, 5.7), (0.35, 5.7), (0.15, 2.0),
                            (0.5, 8.0), (0.25, 4.0)],
           "recipe": ["--bins", "8", "16", "1", "16", "--epochs", "20", "--stability-margin", "0.5"]},
}


def area(u, f=4):
    h, w = u.shape
    return u.reshape(h // f, f, w // f, f).mean(axis=(1, 3)).astype(np.float32)


def timed(fn):
    t0 = clock.perf_counter()
    out = fn()
    return out, clock.perf_counter() - t0


def point_model_path(points_dir, pde, name, value, time):
    return Path(points_dir) / f"{pde}-{name}{value:g}-T{time:g}.blade"


def train_point_models(pde, grid, points_dir, images, form):
    name = next(iter(grid["params"]))
    Path(points_dir).mkdir(parents=True, exist_ok=True)
    for value, time in grid["point_models"]:
        out = point_model_path(points_dir, pde, name, value, time)
        if out.exists():
            continue
        t0 = clock.perf_counter()
        subprocess.run([str(ROOT / "build" / "bin" / "blade"), "train", "--pde", pde, "--images", images,
                        "--param", f"{name}={value:g}", "--time", f"{time:g}",
                        *grid["flux_recipe" if form == "flux" else "recipe"],
                        "--out", str(out)], check=True, capture_output=True)
        print(f"trained {out.name} in {clock.perf_counter() - t0:.0f} s", flush=True)


def markdown(doc):
    """The grid as a Markdown table (PSNR dB / SSIM; bold: the best of classical-LR and BLADE),
    and what it shows against the issue's targets."""
    name = doc["param"]
    cols = ("identity", "classical-LR-10", "classical-LR", "point model", "parametric")
    lines = [f"| {name} | T | " + " | ".join(cols) + " |", "|---|---|" + "---|" * len(cols)]
    gaps, below_lr10, below_lr = [], [], []
    for p in doc["points"]:
        r = p["rows"]
        cells = []
        for c in cols:
            if c not in r:
                cells.append("")
                continue
            text = f"{r[c]['psnr']:.2f} / {r[c]['ssim']:.4f}"
            best = max(r["classical-LR"]["psnr"], r["parametric"]["psnr"])
            cells.append(f"**{text}**" if c in ("classical-LR", "parametric") and r[c]["psnr"] == best else text)
        lines.append(f"| {p[name]:g} | {p['time']:g} | " + " | ".join(cells) + " |")
        if "point model" in r:
            gaps.append(r["point model"]["psnr"] - r["parametric"]["psnr"])
        if r["parametric"]["psnr"] <= r["classical-LR-10"]["psnr"]:
            below_lr10.append((p[name], p["time"]))
        if r["parametric"]["psnr"] <= r["classical-LR"]["psnr"]:
            below_lr.append((p[name], p["time"]))
    lines.append("")
    versus_points = (f"Parametric below the point model by {np.mean(gaps):.2f} dB on average over the "
                     f"{len(gaps)} points with one (at most {max(gaps):.2f} dB)" if gaps else "No point models")
    lines.append(f"{versus_points}; below classical-LR-10 at "
                 f"{len(below_lr10)} of {len(doc['points'])} points {below_lr10 or ''}; at or below "
                 f"converged classical-LR at {len(below_lr)}: {below_lr}.")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pde")
    ap.add_argument("model")
    ap.add_argument("images")
    ap.add_argument("--count", type=int, default=8)
    ap.add_argument("--points-dir", default="out/param/points")
    ap.add_argument("--train-images")
    ap.add_argument("--form", default="direct", help="the point models' form: direct (the PDE's recipe) or flux")
    ap.add_argument("--json")
    ap.add_argument("--plot", help="also draw the grid (PNG), as the report does")
    ap.add_argument("--table", action="store_true", help="print the Markdown table of MODEL (a --json file)")
    args = ap.parse_args()
    if args.table:
        doc = json.loads(Path(args.model).read_text())
        print(markdown(doc))
        if args.plot:
            from report import plot_parametric  # noqa: E402  (scripts/report.py, beside this file)
            plot_parametric(doc, Path(args.plot))
        return
    grid = GRIDS[args.pde]
    if args.train_images:
        if args.form == "flux" and "flux_recipe" not in grid:
            raise SystemExit(f"no flux recipe for {args.pde}")
        train_point_models(args.pde, grid, args.points_dir, args.train_images, args.form)
    blade.set_threads(1)
    model = blade.Model.load(args.model)
    base = dict(model.pde_params)
    name, values = next(iter(grid["params"].items()))
    images = []
    for f in files_of([args.images])[: args.count]:
        a = blade.read_image(str(f))
        a = blade.to_luma(a) if a.ndim == 3 else a
        h, w = a.shape
        images.append(np.ascontiguousarray(a[: h // 4 * 4, : w // 4 * 4]))
    results = []
    for value in values:
        for time in grid["times"]:
            full = {**base, name: value}
            pm_path = point_model_path(args.points_dir, args.pde, name, value, time)
            point_model = blade.Model.load(str(pm_path)) if pm_path.exists() else None
            rows = {k: [] for k in ("identity", "classical-LR-10", "classical-LR", "parametric", "point model")}
            for hr in images:
                blade.set_threads(0)  # the reference: all cores
                ref = area(blade.solve(hr, args.pde, time=time, dx=0.25, params=full))
                blade.set_threads(1)
                lr = area(hr)
                runs = {"identity": (lr, 0.0),
                        "classical-LR-10": timed(lambda: blade.solve(lr, args.pde, time=time, steps=10,
                                                                     params=full, force=True)),
                        "classical-LR": timed(lambda: blade.solve(lr, args.pde, time=time, params=full)),
                        "parametric": timed(lambda: model.run(lr, params={name: value}, time=time))}
                if point_model is not None:
                    runs["point model"] = timed(lambda: point_model.run(lr))
                for k, (u, seconds) in runs.items():
                    u = np.ascontiguousarray(u, dtype=np.float32)
                    ok = bool(np.all(np.isfinite(u)))
                    rows[k].append((blade.psnr(u, ref) if ok else float("nan"),
                                    blade.ssim(u, ref) if ok else float("nan"), seconds,
                                    float(u.min()) if ok else float("nan"), float(u.max()) if ok else float("nan")))
            summary = {k: {"psnr": float(np.mean([r[0] for r in v])), "ssim": float(np.mean([r[1] for r in v])),
                           "seconds": float(np.mean([r[2] for r in v])), "min": float(np.min([r[3] for r in v])),
                           "max": float(np.max([r[4] for r in v]))}
                       for k, v in rows.items() if v}
            results.append({"pde": args.pde, name: value, "time": time, "images": len(images), "rows": summary})
            cells = "  ".join(f"{k} {v['psnr']:6.2f}/{v['ssim']:.4f}" for k, v in summary.items())
            print(f"{args.pde} {name}={value:<6g} T={time:<5g} {cells}", flush=True)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"model": args.model, "pde": args.pde, "param": name,
                                               "images": len(images), "points": results}, indent=1))
    print(markdown({"param": name, "points": results}))
    if args.plot:
        from report import plot_parametric  # noqa: E402  (scripts/report.py, beside this file)
        plot_parametric({"pde": args.pde, "param": name, "images": len(images), "points": results},
                        Path(args.plot))


if __name__ == "__main__":
    main()
