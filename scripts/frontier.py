"""The accuracy-for-cost frontier per PDE (issue 26): BLADE at 5, 10, 20 and 40 steps (and 5 steps
with 3x3 and 5x5 filters) beside the classical scheme on the LR grid and on grids 1.5, 2 and 3
times finer, converged and at fewer steps, all scored by the kodak4x protocol against the 4x reference and timed in-process on one
thread (median of 5 runs). From it, per PDE: N, the finest classical grid whose converged run
BLADE matches in PSNR, and M, BLADE's speed-up over that run at equal accuracy.

Usage (after scripts/frontier.sh trained the 5-, 20- and 40-step and the 3x3 and 5x5 models):
  BLADE_MODULE_DIR=build/python/blade /usr/bin/python3 scripts/frontier.py \
      --set kodak=../shared/data/kodak --set sample=/tmp/heldout \
      --json docs/data/frontier.json --plot docs/images/frontier.png
The 10-step model is the shipped one (models/PDE.blade, at its preset point)."""

import argparse
import json
import math
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PDES = ["tv", "pm", "ced", "ch"]
NAMES = {"tv": "TV flow", "pm": "Perona-Malik", "ced": "CED", "ch": "Cahn-Hilliard"}
STEPS = [5, 10, 20, 40]
# (steps, footprint, bank) of every BLADE point: the recipe's 7x7 at each step count, and 5 steps
# with smaller footprints or smaller banks (docs/COST_STUDY.md's sizes: "small" 8x2x2 bins, "mid"
# 24x3x3, the paper's; Cahn-Hilliard 8x2x1x2 and 8x5x1x6, the paper's)
VARIANTS = [(s, 7, None) for s in STEPS] + [(5, 3, None), (5, 5, None), (5, 7, "small"), (5, 7, "mid")]
BANKS = {"small": {"ch": "8x2x1x2", "other": "8x2x2"}, "mid": {"ch": "8x5x1x6", "other": "24x3x3"}}
GRIDS = [1, 1.5, 2, 3]


def model_path(pde, steps, footprint=7, bank=None):
    if (steps, footprint, bank) == (10, 7, None):
        return ROOT / "models" / f"{pde}.blade"
    suffix = ("" if footprint == 7 else f"-f{footprint}") + (f"-{bank}" if bank else "")
    return ROOT / "out" / "frontier" / f"{pde}-s{steps}{suffix}.blade"


def label(p):
    """A BLADE point's name: its steps, and its footprint and bins when not the recipe's."""
    fp = p.get("footprint", 7)
    return (f"{p['steps']} steps" + (f", {fp}x{fp}" if fp != 7 else "")
            + (f", {p['bins']} bins" if p.get("bins") else ""))


def cropped_copies(folder, work):
    """The set's photographs cropped (centred) to a multiple of 8 pixels, so that the 1.5x grid
    has whole pixels (Kodak already is); lossless for 8-bit files."""
    out = Path(work) / Path(folder).name
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for p in sorted(Path(folder).iterdir()):
        if p.suffix.lower() not in (".png", ".jpg", ".jpeg", ".tif", ".tiff"):
            continue
        im = Image.open(p)
        w, h = im.size
        x, y = (w % 8) // 2, (h % 8) // 2
        q = out / (p.stem + ".png")
        im.crop((x, y, x + w - w % 8, y + h - h % 8)).save(q)
        files.append(str(q))
    return files


def classical_specs(pde, files, cache):
    """Converged runs on every grid, then each grid at 1/2 and 1/4 of its converged steps, and
    the LR grid at BLADE's step counts: the converged step counts come from one image (they
    depend on the grid and the PDE, not the picture)."""
    import blade
    probe = blade.evaluate_model(blade.Model.load(str(model_path(pde, 10))), files[:1], cache=cache,
                                 classical=[f"{g}" for g in GRIDS])
    specs = []
    for g in GRIDS:
        converged = int(round(probe["rows"][f"classical_{g}x"]["steps"]))
        fewer = {max(1, converged // 2), max(1, converged // 4)}
        if g == 1:
            fewer |= {s for s in STEPS if s < converged}
        specs += [f"{g}"] + [f"{g}:{s}" for s in sorted(fewer) if s < converged]
    return specs


def measure(pde, files, cache):
    """BLADE's points (one evaluation per step count) and the classical runs' points."""
    import blade
    specs = classical_specs(pde, files, cache)
    points = {"blade": [], "classical": []}
    for steps, footprint, bank in VARIANTS:
        path = model_path(pde, steps, footprint, bank)
        bins = BANKS[bank]["ch" if pde == "ch" else "other"] if bank else None
        if not path.exists():
            print(f"  {path} missing: run scripts/frontier.sh", file=sys.stderr)
            continue
        shipped = (steps, footprint, bank) == (10, 7, None)
        e = blade.evaluate_model(blade.Model.load(str(path)), files, cache=cache,
                                 classical=specs if shipped else [])
        r = e["rows"]["blade"]
        points["blade"].append({"steps": e["steps"], "footprint": footprint, "bins": bins, "psnr": r["psnr"],
                                "ssim": r["ssim"], "ms": 1e3 * r["seconds"],
                                "diverged": r["diverged"], "model": str(path.relative_to(ROOT))})
        print(f"  BLADE {e['steps']:3d} steps {footprint}x{footprint}{' ' + bins if bins else ''}: {r['psnr']:.2f} dB "
              f"{r['ssim']:.4f} {1e3 * r['seconds']:.3f} ms", flush=True)
        if not shipped:
            continue
        for spec in specs:
            g, _, s = spec.partition(":")
            name = f"classical_{g}x" + (f"_{s}" if s else "")
            c = e["rows"][name]
            points["classical"].append({"grid": float(g), "converged": not s,
                                        "steps": int(round(c["steps"])), "psnr": c["psnr"],
                                        "ssim": c["ssim"], "ms": 1e3 * c["seconds"],
                                        "diverged": c["diverged"]})
    return points


def frontier_numbers(points):
    """From the measured points (diverged runs left out), each BLADE point p compared with the
    converged classical runs, sorted by grid:
    - N: the finest grid whose converged run p reaches in PSNR (0: not even the LR grid's), and
      M: that run's time over p's (the issue's definition), for the p with the largest N and
      then the largest M;
    - N_equal: the grid at which the converged run would be exactly as accurate as p,
      interpolated between the measured grids (PSNR linear in log grid, log time linear in log
      grid), and M_equal: its interpolated time over p's, for the p with the largest M_equal;
    - M_any: the cheapest classical run of any grid and steps at least as accurate as p, its time
      over p's, for the p with the largest ratio (below 1 the classical scheme is faster)."""
    blade_pts = [p for p in points["blade"] if not p["diverged"]]
    ok = [c for c in points["classical"] if not c["diverged"]]
    converged = sorted((c for c in ok if c["converged"]), key=lambda c: c["grid"])
    if not blade_pts or not converged:
        return {}
    out = {"N": 0, "blade_best": max(blade_pts, key=lambda p: p["psnr"])}
    matches, equal, anys = [], [], []
    for p in blade_pts:
        below = [k for k, c in enumerate(converged) if c["psnr"] <= p["psnr"]]
        if below:
            k = below[-1]
            c = converged[k]
            matches.append((c["grid"], c["ms"] / p["ms"], p, c, k == len(converged) - 1))
            if k + 1 < len(converged) and converged[k + 1]["psnr"] > c["psnr"]:
                d = converged[k + 1]
                f = (p["psnr"] - c["psnr"]) / (d["psnr"] - c["psnr"])
                lerp = lambda a, b: math.exp(math.log(a) + f * (math.log(b) - math.log(a)))  # noqa: E731
                equal.append((lerp(c["ms"], d["ms"]) / p["ms"], lerp(c["grid"], d["grid"]), p))
        better = [c for c in ok if c["psnr"] >= p["psnr"]]
        if better:
            c = min(better, key=lambda c: c["ms"])
            anys.append((c["ms"] / p["ms"], p, c))
    if matches:
        n, m, p, c, last = max(matches, key=lambda r: (r[0], r[1]))
        out.update({"N": n, "M": m, "blade": p, "classical": c, "N_is_lower_bound": last})
    if equal:
        m, n, p = max(equal, key=lambda r: r[0])
        out.update({"N_equal": n, "M_equal": m, "equal_blade": p})
    if anys:
        m, p, c = max(anys, key=lambda r: r[0])
        out.update({"M_any": m, "M_any_blade": p, "M_any_classical": c})
    return out


def plot(results, path):
    """One panel per PDE and image set: PSNR against time, BLADE beside each classical grid
    (open squares: converged runs)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sets = list(results)
    pdes = [p for p in PDES if any(p in results[s] for s in sets)]
    fig, axes = plt.subplots(len(sets), len(pdes), figsize=(4.2 * len(pdes), 3.2 * len(sets)),
                             squeeze=False)
    colors = {1: "tab:red", 1.5: "tab:orange", 2: "tab:purple", 3: "tab:brown"}
    for i, s in enumerate(sets):
        for j, pde in enumerate(pdes):
            ax = axes[i][j]
            pts = results[s].get(pde)
            if not pts:
                ax.axis("off")
                continue
            for g in GRIDS:
                cs = sorted((c for c in pts["classical"] if c["grid"] == g and not c["diverged"]),
                            key=lambda c: c["ms"])
                if cs:
                    ax.plot([c["ms"] for c in cs], [c["psnr"] for c in cs], "s--", ms=4,
                            color=colors[g], label=f"classical {g}x grid")
                    conv = [c for c in cs if c["converged"]]
                    if conv:
                        ax.plot([conv[0]["ms"]], [conv[0]["psnr"]], "s", ms=8, mfc="none",
                                color=colors[g])
            ok = [p for p in pts["blade"] if not p["diverged"]]
            b = sorted((p for p in ok if p.get("footprint", 7) == 7 and not p.get("bins")),
                       key=lambda p: p["ms"])
            ax.plot([p["ms"] for p in b], [p["psnr"] for p in b], "o-", color="tab:blue", lw=2,
                    label="BLADE 7x7 (steps)")
            for p in b:
                ax.annotate(str(p["steps"]), (p["ms"], p["psnr"]), textcoords="offset points",
                            xytext=(4, -10), fontsize=8, color="tab:blue")
            small = [p for p in ok if p.get("footprint", 7) != 7]
            for p in small:
                ax.plot([p["ms"]], [p["psnr"]], "D", color="tab:cyan", ms=5,
                        label="BLADE 5 steps, 3x3 / 5x5" if p is small[0] else None)
                ax.annotate(f"{p['footprint']}x{p['footprint']}", (p["ms"], p["psnr"]),
                            textcoords="offset points", xytext=(4, 4), fontsize=7, color="tab:cyan")
            banks = [p for p in ok if p.get("bins")]
            for p in banks:
                ax.plot([p["ms"]], [p["psnr"]], "^", color="tab:purple", ms=5,
                        label="BLADE 5 steps, smaller banks" if p is banks[0] else None)
                ax.annotate(p["bins"], (p["ms"], p["psnr"]), textcoords="offset points",
                            xytext=(4, -10), fontsize=7, color="tab:purple")
            ax.set_xscale("log")
            ax.set_title(f"{NAMES[pde]} ({s})", fontsize=10)
            ax.set_xlabel("ms per image (one thread)")
            ax.set_ylabel("PSNR dB vs 4x reference")
            ax.grid(alpha=0.3)
            if i == 0 and j == 0:
                ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def cpu_name():
    try:
        return next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                    if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", action="append", default=[], metavar="NAME=FOLDER")
    ap.add_argument("--pde", action="append", choices=PDES)
    ap.add_argument("--cache", default="default", help="reference cache (blade.evaluate_model)")
    ap.add_argument("--json")
    ap.add_argument("--plot")
    ap.add_argument("--from-json", help="recompute the numbers and the plot from a saved --json")
    args = ap.parse_args()
    import blade
    blade.set_threads(1)
    results = {}
    if args.from_json:
        saved = json.loads(Path(args.from_json).read_text())
        results = saved["results"]
        for per in results.values():
            for pts in per.values():
                pts["frontier"] = frontier_numbers(pts)
    with tempfile.TemporaryDirectory() as work:
        for spec in [] if args.from_json else args.set:
            name, _, folder = spec.partition("=")
            files = cropped_copies(folder, work)
            results[name] = {}
            for pde in args.pde or PDES:
                print(f"{name}: {pde} on {len(files)} images", flush=True)
                pts = measure(pde, files, args.cache)
                pts["frontier"] = frontier_numbers(pts)
                results[name][pde] = pts
    doc = {"cpu": saved["cpu"] if args.from_json else cpu_name(), "threads": 1, "results": results}
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=1) + "\n")
    if args.plot:
        plot(results, args.plot)
    for name, per in results.items():
        print(f"\n{name}: | PDE | BLADE best: steps, PSNR / SSIM, ms | N (converged classical, PSNR / SSIM, ms) | M "
              "| N, M at equal accuracy | M, any classical run |")
        for pde, pts in per.items():
            f = pts["frontier"]
            if not f:
                continue
            b = f["blade_best"]
            row = [pde, f"{label(b)}, {b['psnr']:.2f} / {b['ssim']:.4f}, {b['ms']:.2f}"]
            if f["N"]:
                c, p = f["classical"], f["blade"]
                row += [f"{c['grid']:g}{'+' if f['N_is_lower_bound'] else ''} ({c['psnr']:.2f} / "
                        f"{c['ssim']:.4f}, {c['ms']:.2f})", f"{f['M']:.2f} (BLADE {label(p)})"]
            else:
                row += ["< 1", "-"]
            row.append(f"{f['N_equal']:.2f}, {f['M_equal']:.2f} (BLADE {label(f['equal_blade'])})"
                       if "N_equal" in f else "-")
            if "M_any" in f:
                c = f["M_any_classical"]
                row.append(f"{f['M_any']:.2f} (BLADE {label(f['M_any_blade'])} vs {c['grid']:g}x, "
                           f"{c['steps']} steps)")
            else:
                row.append("- (no classical run as accurate)")
            print("| " + " | ".join(row) + " |")

if __name__ == "__main__":
    main()
