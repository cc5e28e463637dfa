#!/usr/bin/python3
"""Writes OUT/index.html from a demo run (OUT/results.json, its pictures) and the recorded
Kodak evaluation and training logs (docs/data), with plots drawn by matplotlib.

Usage: scripts/report.py OUT_DIR [--data docs/data]
"""

import argparse
import html
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

from frontier import frontier_numbers, label as blade_point, plot as plot_frontier  # noqa: E402

PDES = ("tv", "pm", "ced", "ch")
NAMES = {"tv": "TV flow", "pm": "Perona-Malik", "ced": "CED", "ch": "Cahn-Hilliard"}


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _img(src: str, caption: str, css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return (f'<figure{cls}><img src="{html.escape(src)}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _panels(src: str, title: str, captions: list) -> str:
    """A side-by-side picture without text, its panels' captions set as HTML text below it
    (captions: one list of lines per panel, left to right)."""
    items = "; ".join(f"<b>{k + 1}</b> " + html.escape(", ".join(lines)) for k, lines in enumerate(captions))
    return (f'<figure><img src="{html.escape(src)}" alt="{html.escape(title)}">'
            f"<figcaption>{html.escape(title)}, left to right: {items}.</figcaption></figure>")


def _figure_json(out: Path, src: str, title: str) -> str:
    """_panels for a figure written with --figure-captions json (captions beside it)."""
    captions = json.loads((out / src).with_suffix(".json").read_text())
    return _panels(src, title, captions)


def _verdict(blade: float, other: float, unit: str = "dB") -> str:
    if blade > other:
        return f"BLADE better by {blade - other:.2f} {unit}"
    return f"BLADE worse by {other - blade:.2f} {unit}"


def _speed(blade_seconds: float, other_seconds: float) -> str:
    """"3.6x faster" or "3.6x slower": BLADE's time against the other's, a ratio above 1."""
    if blade_seconds <= 0 or other_seconds <= 0:
        return ""
    if other_seconds >= blade_seconds:
        return f"{other_seconds / blade_seconds:.1f}x faster"
    return f"{blade_seconds / other_seconds:.1f}x slower"


def summary(results: dict) -> str:
    """One table: each PDE and application, BLADE against the best classical alternative on
    this image, accuracy and time, with a plain verdict."""
    rows = []
    for pde in PDES:
        r = results["protocol"][pde]
        b, lr, x2 = r["blade"], r["classical_lr"], r["classical_2x"]
        best = max((lr, "classical, same grid"), (x2, "classical, 2x finer grid"), key=lambda t: t[0]["psnr"])
        verdict = _verdict(b["psnr"], best[0]["psnr"])
        if speed := _speed(b["seconds"], best[0]["seconds"]):
            verdict += f"; {speed}"
        rows.append([f"{NAMES[pde]} (kodak4x)", f"{b['psnr']:.2f} dB / {b['ssim']:.4f}, {b['seconds'] * 1e3:.1f} ms",
                     best[1], f"{best[0]['psnr']:.2f} dB / {best[0]['ssim']:.4f}, {best[0]['seconds'] * 1e3:.1f} ms",
                     verdict])
    apps = results["apps"]
    d = apps["deconv"]
    rows.append(["deconvolution", f"{d['blade']['psnr']:.2f} dB / {d['blade']['ssim']:.4f}", "classical, same formula",
                 f"{d['classical']['psnr']:.2f} dB / {d['classical']['ssim']:.4f}",
                 _verdict(d["blade"]["psnr"], d["classical"]["psnr"])])
    u = apps["upscale"]
    best = max(("area/bicubic", "area/lanczos"), key=lambda k: u[k]["psnr"])
    # The learned upscaler where the demo scored one (the shipped default), else eq. 4.6.
    ours = "area/learned" if "area/learned" in u else "area/blade"
    rows.append([f"x4 upscaling (area), {'learned upscaler' if ours == 'area/learned' else 'eq. 4.6'}",
                 f"{u[ours]['psnr']:.2f} dB / {u[ours]['ssim']:.4f}",
                 best.split("/")[1], f"{u[best]['psnr']:.2f} dB / {u[best]['ssim']:.4f}",
                 _verdict(u[ours]["psnr"], u[best]["psnr"])])
    s = apps["segment"]
    rows.append(["Chan–Vese segmentation", f"{100 * s['blade']['agreement']:.1f}% of pixels as the reference, "
                 f"{s['blade']['seconds']:.2f} s", "reference scheme", f"{s['reference']['seconds']:.2f} s",
                 _speed(s["blade"]["seconds"], s["reference"]["seconds"])])
    r = apps["resample"]
    rows.append(["resampling (stereo pair)", f"{r['blade']['psnr']:.2f} dB", "bicubic", f"{r['bicubic']['psnr']:.2f} dB",
                 _verdict(r["blade"]["psnr"], r["bicubic"]["psnr"])])
    if "denoise" in apps:
        n = apps["denoise"]
        # BLADE's time is the whole `blade denoise` process; scikit-image's the call alone.
        rows.append(["denoising (noise 20/255; BLADE: the learned denoiser)",
                     f"{n['blade']['psnr']:.2f} dB / {n['blade']['ssim']:.4f}, {n['blade']['seconds']:.2f} s",
                     "scikit-image TV, best weight",
                     f"{n['chambolle']['psnr']:.2f} dB / {n['chambolle']['ssim']:.4f}, "
                     f"{n['chambolle']['seconds']:.2f} s", _verdict(n["blade"]["psnr"], n["chambolle"]["psnr"])])
    return ("<h2 id='summary'>Summary: BLADE against the best classical alternative on this image</h2>"
            + _table(["PDE or application", "BLADE", "best alternative", "its result", "verdict"], rows)
            + "<p>One image, one run each (the protocol's times are medians of 5 runs of the solver "
              "alone). The tables in <code>docs/RESULTS.md</code> hold the means over Kodak and "
              "held-out photographs.</p>")


def plot_cost(protocol: dict, path: Path) -> None:
    """PSNR against seconds: BLADE vs. the classical scheme at 1x (10 steps, stable) and 2x."""
    fig, axes = plt.subplots(1, len(PDES), figsize=(4.2 * len(PDES), 3.6))
    for ax, pde in zip(axes, PDES):
        rows = protocol[pde]
        points = [("classical LR, 10 steps", "classical_lr_10", "s", "tab:gray"),
                  ("classical LR, stable", "classical_lr", "o", "tab:blue"),
                  ("classical 2x, stable", "classical_2x", "D", "tab:green"),
                  ("BLADE, 10 steps", "blade", "*", "tab:red")]
        for label, key, marker, color in points:
            r = rows[key]
            ax.scatter(r["seconds"], r["psnr"], marker=marker, s=90 if marker == "*" else 50,
                       color=color, label=label, zorder=3)
        ref = rows["reference_4x"]["seconds"]
        ax.axvline(ref, color="black", linestyle="--", linewidth=1, label="4x reference (target)")
        ax.set_xscale("log")
        ax.set_title(NAMES[pde])
        ax.set_xlabel("seconds (single image)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("PSNR vs. 4x reference (dB)")
    axes[-1].legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_kodak(evals: dict, path: Path) -> None:
    """PSNR per Kodak image for BLADE, identity and the classical scheme at LR, one panel per PDE
    in a grid of two columns."""
    rows = (len(evals) + 1) // 2
    fig, axes = plt.subplots(rows, 2, figsize=(14, 2.7 * rows), squeeze=False)
    for ax in axes.flat[len(evals):]:
        ax.set_visible(False)
    for ax, (pde, doc) in zip(axes.flat, evals.items()):
        names = [im["name"].split(".")[0].replace("kodim", "") for im in doc["images"]]
        x = range(len(names))
        for key, label, style in (("blade", "BLADE", "o-"), ("classical_lr", "classical LR", "s--"),
                                  ("classical_lr_10", "classical LR, 10 steps", "^:"),
                                  ("identity", "identity", "x:")):
            ax.plot(x, [im[key].get("psnr", float("nan")) for im in doc["images"]], style,
                    label=label, markersize=4)
        ax.set_xticks(list(x), names, fontsize=7)
        ax.set_ylabel("PSNR (dB)")
        ax.set_title(f"{NAMES.get(pde, pde)} ({doc['form']} model), kodak4x", fontsize=10)
        ax.grid(True, alpha=0.3)
    axes[0, 0].legend(fontsize=8, ncol=2)
    for ax in axes[-1]:
        ax.set_xlabel("Kodak image")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_parametric(doc: dict, path: Path) -> None:
    """A parametric model over its box (scripts/parametric_grid.py): PSNR against the parameter,
    one colour per stopping time, and against the time, one colour per parameter value; solid:
    the parametric model, dashed: the converged classical scheme at LR, stars: point models
    trained at exactly that point."""
    name, points = doc["param"], doc["points"]
    values = sorted({p[name] for p in points})
    times = sorted({p["time"] for p in points})
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
    for ax, (outer, inner, label) in zip(axes, ((times, name, "time"), (values, "time", name))):
        colours = plt.cm.viridis([i / max(1, len(outer) - 1) * 0.9 for i in range(len(outer))])
        key_outer = "time" if label == "time" else name
        for colour, o in zip(colours, outer):
            line = sorted((p for p in points if p[key_outer] == o), key=lambda p: p[inner])
            x = [p[inner] for p in line]
            ax.plot(x, [p["rows"]["parametric"]["psnr"] for p in line], "o-", color=colour,
                    label=f"{label} = {o:g}", markersize=4)
            ax.plot(x, [p["rows"]["classical-LR"]["psnr"] for p in line], "--", color=colour,
                    alpha=0.7)
            stars = [p for p in line if "point model" in p["rows"]]
            ax.plot([p[inner] for p in stars], [p["rows"]["point model"]["psnr"] for p in stars],
                    "*", color=colour, markersize=11, markeredgecolor="k")
        ax.set_xscale("log")
        ax.set_xlabel(inner if inner == "time" else f"{name} (log scale)")
        ax.set_ylabel("PSNR against the 4x reference (dB)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
    axes[0].set_title(f"{NAMES.get(doc['pde'], doc['pde'])}: solid parametric BLADE, dashed "
                      "classical LR (converged), stars point models", fontsize=9)
    axes[1].set_title(f"against the stopping time, {doc['images']} Kodak images per point", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_training(logs: dict, path: Path) -> None:
    """Training and validation loss per epoch (epoch 0: least squares)."""
    fig, axes = plt.subplots(1, len(logs), figsize=(4.5 * len(logs), 3.4), squeeze=False)
    for ax, (name, doc) in zip(axes[0], logs.items()):
        epochs = [c["epoch"] for c in doc["curve"]]
        ax.semilogy(epochs, [c["train"] for c in doc["curve"]], "o-", label="training", markersize=3)
        ax.semilogy(epochs, [c["validation"] for c in doc["curve"]], "s-", label="validation",
                    markersize=3)
        ax.axvline(doc["best_epoch"], color="gray", linestyle=":", label="kept (best validation)")
        ax.set_title(f"{name}: {doc['optimizer']}, {doc['images']} images", fontsize=10)
        ax.set_xlabel("epoch (0 = least squares)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0, 0].set_ylabel("10-step MSE")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_report(out: Path, data: Path) -> Path:
    if not (out / "results.json").is_file():
        sys.exit(f"report.py: error: {out / 'results.json'} not found: run scripts/demo.py --out {out} first "
                 "(or `make demo`, which writes out/demo)")
    results = json.loads((out / "results.json").read_text())
    plots = out / "plots"
    plots.mkdir(exist_ok=True)
    stem = Path(results["image"]).stem
    parts = [f"<h1>blade demo</h1><p>Input <code>{html.escape(results['image'])}</code>; the whole "
             f"demo took {results['seconds']:.0f} s. Times are wall-clock seconds on this machine.</p>",
             summary(results)]

    grid = results["grid"]
    parts.append("<h2>1. Each PDE on the image's own grid</h2><p>The classical reference solver "
                 "and the shipped BLADE model (10 steps) on the full image; times are whole "
                 "commands, image I/O included.</p>")
    parts.append(_table(["PDE", "reference s", "BLADE s", "BLADE vs. reference PSNR", "SSIM"],
                        [[NAMES[r["pde"]], f"{r['reference_seconds']:.2f}",
                          f"{r['blade_seconds']:.2f}", f"{r['psnr']:.2f} dB", f"{r['ssim']:.4f}"]
                         for r in grid]))
    parts.append(_panels("pdes_side_by_side.png", "top row: the classical references; bottom row: BLADE",
                         [[lab.replace("|", ", ")] for lab in results["grid_labels"]]))

    protocol = results["protocol"]
    parts.append("<h2>2. The kodak4x protocol on this image</h2><p>The reference runs on a 4x "
                 "finer grid and is area-downsampled; BLADE and the classical scheme run on the "
                 "coarse grid (the classical one also at 2x). PSNR dB / SSIM against the reference "
                 "(median seconds of 5 runs).</p>")
    keys = ("blade", "identity", "classical_lr_10", "classical_lr", "classical_2x")
    rows = [[NAMES[pde]] + [f"{protocol[pde][k]['psnr']:.2f} / {protocol[pde][k]['ssim']:.4f} "
                            f"({protocol[pde][k]['seconds'] * 1e3:.2f} ms)" for k in keys]
            + [f"{protocol[pde]['reference_4x']['seconds'] * 1e3:.1f} ms"] for pde in PDES]
    parts.append(_table(["PDE", "BLADE", "identity", "classical LR, 10 steps", "classical LR, stable",
                         "classical 2x", "4x reference (target)"], rows))
    plot_cost(protocol, plots / "accuracy_vs_cost.png")
    parts.append(_img("plots/accuracy_vs_cost.png", "accuracy against cost on this image"))
    parts.append("<div class='grid2'>" + "".join(
        _figure_json(out, f"figures/{stem}_{pde}.png", f"{NAMES[pde]}, kodak4x on this image")
        for pde in PDES) + "</div>")

    evals = {p: json.loads((data / f"kodak4x_{p}.json").read_text())
             for p in PDES if (data / f"kodak4x_{p}.json").is_file()}
    if evals:
        parts.append("<h2>3. Recorded Kodak evaluation (24 images, shipped models)</h2>"
                     "<p>From <code>docs/data/kodak4x_*.json</code> (made by "
                     "<code>scripts/eval_models.sh</code>); mean PSNR / SSIM.</p>")
        plot_kodak(evals, plots / "kodak_psnr.png")
        parts.append("<div class='grid2'>" + _table(
            ["PDE", "BLADE", "identity", "classical LR, 10 steps", "classical LR"],
            [[NAMES[p]] + [f"{d['rows'][k]['psnr']:.2f} / {d['rows'][k]['ssim']:.4f}"
                           for k in ("blade", "identity", "classical_lr_10", "classical_lr")]
             for p, d in evals.items()]) + _img("plots/kodak_psnr.png", "PSNR per Kodak image") + "</div>")

    logs = {f.stem.removeprefix("train_"): json.loads(f.read_text())
            for f in sorted(data.glob("train_*.json"))}
    if logs:
        parts.append("<h2>4. Training</h2><p>Loss per epoch from <code>blade train --log</code> "
                     "(docs/data/train_*.json).</p>")
        plot_training(logs, plots / "training.png")
        parts.append(_img("plots/training.png", "training and validation loss per epoch"))

    grids = {f.stem.removeprefix("parametric_grid_"): json.loads(f.read_text())
             for f in sorted(data.glob("parametric_grid_*.json"))}
    # One model per PDE, the one named after it (the most accurate shipped; CED's direct box,
    # models/ced-direct.blade, is in docs/RESULTS.md).
    grids = {pde: doc for pde, doc in grids.items() if pde in PDES}
    if grids:
        parts.append("<h2>4a. One model over a box of parameters and stopping times</h2><p>Parametric "
                     "models (docs/DESIGN.md §20) on a grid spanning their box, half of its values "
                     "between the knots: kodak4x PSNR at every point, from "
                     "<code>docs/data/parametric_grid_*.json</code> "
                     "(<code>scripts/parametric_grid.py</code>).</p>")
        for pde, doc in grids.items():
            plot_parametric(doc, plots / f"parametric_{pde}.png")
        # In one row, each linked to its full size: the page stays under 6,000 px at 1400 px wide.
        parts.append("<div class='grid4'>" + "".join(
            f'<a href="plots/parametric_{pde}.png">'
            + _img(f"plots/parametric_{pde}.png",
                   f"{NAMES[pde]}, {grids[pde]['model']}, over its box (click to enlarge)")
            + "</a>" for pde in grids) + "</div>")

    frontier_file = data / "frontier.json"
    if frontier_file.is_file():
        doc = json.loads(frontier_file.read_text())
        parts.append("<h2>4b. Accuracy for cost: BLADE against the classical scheme on finer grids</h2>"
                     "<p>BLADE at 5 to 40 steps; the classical scheme on the LR grid and 1.5, 2, 3 "
                     "times finer (open squares: converged); kodak4x PSNR, time per image on one "
                     f"thread ({html.escape(doc['cpu'])}; <code>docs/data/frontier.json</code>). N: the "
                     "finest grid whose converged run BLADE matches, M: BLADE's speed-up over it; "
                     "any-run M: over the cheapest classical run as accurate (below 1: slower).</p>")
        sets = list(doc["results"])
        rows = []
        for pde in NAMES:
            row = [NAMES[pde]]
            for set_name in sets:
                pts = doc["results"][set_name].get(pde)
                f = frontier_numbers(pts) if pts else {}
                if not f:
                    row.append("-")
                    continue
                b = f["blade_best"]
                n = f"N {f['N']:g}, M {f['M']:.2f}" if f["N"] else "N < 1"
                any_m = f", any-run M {f['M_any']:.2f}" if "M_any" in f else ""
                row.append(f"{b['psnr']:.2f} dB ({blade_point(b)}): {n}{any_m}")
            rows.append(row)
        first = sets[0]
        plot_frontier({first: doc["results"][first]}, plots / "frontier.png")
        parts.append(_img("plots/frontier.png", f"PSNR against time per PDE ({first})"))
        parts.append(_table(["PDE"] + [f"best BLADE on {s}: N, M" for s in sets], rows))

    parts.append("<h2>5. What was learned</h2>")
    parts.append(_img("features.png", "selection features: orientation (hue), strength, coherence", "tall"))
    parts.append(_img("filters_tv.png", "filter bank of models/tv.blade (one filter per orientation, "
                      "strength and coherence bin)", "tall"))
    others = ", ".join(f'<a href="filters_{n}.png">{n}</a>' for n in ("pm", "ced", "ch", "ced-direct", "resample3"))
    parts.append(f"<p>The other filter banks: {others}.</p>")

    apps = results["apps"]
    d, u, s, r = apps["deconv"], apps["upscale"], apps["segment"], apps["resample"]
    parts.append("<h2>6. Applications, without retraining</h2>")
    parts.append(_table(["application", "method", "PSNR dB", "SSIM", "seconds"],
                        [["deconvolution (CED, ced-restore)", k, f"{d[k]['psnr']:.2f}", f"{d[k]['ssim']:.4f}",
                          f"{d[k]['seconds']:.3f}" if "seconds" in d[k] else ""]
                         for k in ("input", "blade", "classical")] +
                        [["x4 upscaling, area-downsampled", k.split('/')[1],
                          f"{u[k]['psnr']:.2f}", f"{u[k]['ssim']:.4f}", f"{u[k]['seconds']:.3f}"]
                         for k in u if k.startswith("area/")] +
                        [["resampling (stereo pair)", k, f"{r[k]['psnr']:.2f}", f"{r[k]['ssim']:.4f}",
                          f"{r[k]['seconds']:.3f}"] for k in ("bicubic", "blade")]))
    parts.append("<p>Upscaling under the bicubic and the paper's corner:0.4 degradations: "
                 "<code>app_upscale.json</code>.</p>")
    parts.append(_table(["segmentation", "agreement", "IoU", "BLADE s", "reference s"],
                        [["BLADE TV vs. reference Chan-Vese", f"{s['blade']['agreement']:.4f}",
                          f"{s['blade']['iou']:.4f}", f"{s['blade']['seconds']:.2f}",
                          f"{s['reference']['seconds']:.2f}"]]))
    for app, caption in (("deconv", "deconvolution"), ("upscale", "x4 upscaling of the area-downsampled image"),
                         ("segment", "Chan-Vese segmentation")):
        parts.append(_figure_json(out, f"figures/{stem}_{app}.png", caption))
    parts.append(_panels("figures/motorcycle_resample.png", "resampling along an estimated flow",
                         [[lab.replace("|", ", ")] for lab in r["labels"]]))

    page = out / "index.html"
    style = ("body{font-family:sans-serif;max-width:1400px;margin:auto;padding:1em}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px}"
             "th{background:#eee}img{max-width:100%;max-height:300px}figure{margin:1em 0}"
             "figcaption{color:#333;font-size:100%}figcaption ol{margin:0.3em 0}"
             "figure.tall img{max-height:360px}"
             ".grid2{display:grid;grid-template-columns:1fr 1fr;gap:0 1.5em}"
             ".grid4{display:grid;grid-template-columns:repeat(4,1fr);gap:0 1em}")
    # On load, the page records how many pictures decoded (read back by the headless-browser test).
    script = ("<script>window.addEventListener('load',()=>{const i=[...document.images];"
              "document.body.dataset.imagesTotal=i.length;"
              "document.body.dataset.imagesLoaded=i.filter(x=>x.complete&&x.naturalWidth>0).length;"
              "document.body.dataset.pageHeight=document.documentElement.scrollHeight;});"
              "</script>")
    text = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>blade demo report</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}{script}</body></html>\n")
    tmp = page.with_suffix(".html.tmp")
    tmp.write_text(text)
    tmp.replace(page)
    return page


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("out", help="the demo run's folder (results.json, pictures); index.html goes there")
    parser.add_argument("--data", default=str(Path(__file__).resolve().parent.parent / "docs" / "data"),
                        help="the recorded Kodak evaluation and training logs (default: docs/data)")
    args = parser.parse_args()
    print(write_report(Path(args.out), Path(args.data)))


if __name__ == "__main__":
    main()
