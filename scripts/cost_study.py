#!/usr/bin/python3
"""Tabulates and plots the accuracy-against-cost study (scripts/cost_study.sh): kodak4x PSNR
against time per BLADE step and parameter count. Usage: scripts/cost_study.py [pm|tv] [REPEATS]

The time per step is the fastest of REPEATS (default 3) fresh kodak4x runs of each model,
one after another, so that a study trained while other jobs ran is still timed fairly."""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

root = Path(__file__).resolve().parent.parent
pde = sys.argv[1] if len(sys.argv) > 1 else "pm"
title = {"pm": "Perona-Malik, least squares only", "tv": "TV flow, least squares + fine-tuning"}[pde]
out = root / "out" / f"cost-{pde}"
suffix = "" if pde == "pm" else f"_{pde}"  # the PM study's files keep their first names
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3


def step_seconds(model, steps):
    """Fastest of `repeats` in-process times of BLADE's 10 steps (mean over the Kodak images)."""
    best = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            subprocess.run([str(root / "build/bin/blade"), "-q", "eval", "--model", str(model), "--images",
                            str(root.parent / "shared/data/kodak"), "--json", f"{tmp}/t.json"],
                           check=True, stdout=subprocess.DEVNULL)
            best = min(best, json.loads(Path(f"{tmp}/t.json").read_text())["rows"]["blade"]["seconds"])
    return best / steps
rows = []
for path in sorted(out.glob("*.json")):
    doc = json.loads(path.read_text())
    info = json.loads(subprocess.check_output([str(root / "build/bin/blade"), "info", "--json",
                                               str(path.with_suffix(".blade"))]))
    filters = 1
    for b in info["bins"]:
        filters *= b
    if "rows" not in doc:
        continue  # a training log, not an evaluation
    rows.append({"name": path.stem, "psnr": doc["rows"]["blade"]["psnr"], "ssim": doc["rows"]["blade"]["ssim"],
                 "step_ms": 1000 * step_seconds(path.with_suffix(".blade"), doc["steps"]),
                 "parameters": filters * info["footprint"] ** 2})
rows.sort(key=lambda r: r["step_ms"])
print("| config | PSNR dB | SSIM | ms per step (192x128, 2 threads) | parameters |")
print("|---|---|---|---|---|")
for r in rows:
    print(f"| {r['name']} | {r['psnr']:.2f} | {r['ssim']:.4f} | {r['step_ms']:.3f} | {r['parameters']:,} |")
(root / "docs" / "data" / f"cost_study{suffix}.json").write_text(json.dumps(rows, indent=2) + "\n")
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
for ax, key, label in ((axes[0], "step_ms", "ms per BLADE step (192x128 LR, 2 threads)"),
                       (axes[1], "parameters", "parameters (filters x taps)")):
    ax.scatter([r[key] for r in rows], [r["psnr"] for r in rows])
    for r in rows:
        ax.annotate(r["name"], (r[key], r["psnr"]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel(label)
    ax.set_xscale("log")
    ax.grid(alpha=0.3)
axes[0].set_ylabel(f"kodak4x PSNR, {pde.upper()} (dB)")
fig.suptitle(f"{title}: accuracy against cost")
fig.tight_layout()
fig.savefig(root / "docs" / "images" / f"cost_study{suffix}.png", dpi=90)
