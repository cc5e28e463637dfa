#!/usr/bin/python3
"""Notebook-style tour of the Python module: train a Perona-Malik model, evaluate it with the
kodak4x protocol, run it, and plot with matplotlib.

Uses ../shared/data (training photographs, Kodak) when present, otherwise crops of
scikit-image's sample photographs, so it runs anywhere the package is built.
Run from the repository root: /usr/bin/python3 examples/train_evaluate_plot.py [OUT_DIR]
"""

# %% Setup
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from skimage import data, io  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import blade  # noqa: E402

out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "out" / "example")
out.mkdir(parents=True, exist_ok=True)
shared = ROOT.parent / "shared" / "data"


def files(folder: Path, limit: int) -> list[str]:
    return sorted(str(p) for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg"))[:limit]


if (shared / "train").is_dir() and (shared / "kodak").is_dir():
    train_images = files(next(p for p in (shared / "train").iterdir() if p.is_dir()), 24)
    test_images = files(shared / "kodak", 6)
else:  # crops of scikit-image's photographs (sizes divisible by the protocol's 4)
    tmp = Path(tempfile.mkdtemp())
    photos = [data.camera(), data.astronaut(), data.coffee(), data.chelsea(), data.rocket(),
              data.immunohistochemistry(), data.motorcycle_left(), data.motorcycle_right()]
    paths = []
    for i, img in enumerate(photos):
        p = tmp / f"photo{i}.png"
        io.imsave(p, img[:256, :256], check_contrast=False)
        paths.append(str(p))
    train_images, test_images = paths[:6], paths[6:]

# %% Train: least squares only (epochs=0) is quick; epochs > 0 adds unrolled fine-tuning.
model = blade.train("pm", train_images, footprint=5, bins=[24, 8, 3], epochs=0)
model.save(str(out / "pm_example.blade"))
print(f"trained {model.pde} {model.form} model on {len(train_images)} images, dt {model.dt}")

# %% Evaluate with the kodak4x protocol
rows = blade.evaluate(model, test_images)
for r in rows:
    print(f"{r['name']:14s} BLADE {r['blade']['psnr']:6.2f} dB  identity {r['identity']['psnr']:6.2f}"
          f"  classical LR {r['classical_lr']['psnr']:6.2f}")

# %% Plot PSNR per image
names = [r["name"].rsplit(".", 1)[0] for r in rows]
fig, ax = plt.subplots(figsize=(7, 3.5))
for key, label in (("blade", "BLADE"), ("classical_lr", "classical LR"), ("identity", "identity")):
    ax.plot(names, [r[key]["psnr"] for r in rows], "o-", label=label)
ax.set_ylabel("PSNR vs. 4x reference (dB)")
ax.set_title("Perona-Malik, kodak4x protocol")
ax.legend()
ax.grid(alpha=0.3)
fig.autofmt_xdate()
fig.tight_layout()
fig.savefig(out / "psnr_per_image.png", dpi=100)

# %% Run the model on a photograph and look at what it selected
u = blade.to_luma(blade.read_image(test_images[0]))
v = model.run(u)
sel = model.select(u)
fig, axes = plt.subplots(1, 3, figsize=(12, 4))
axes[0].imshow(u, cmap="gray", vmin=0, vmax=1)
axes[0].set_title("input")
axes[1].imshow(v, cmap="gray", vmin=0, vmax=1)
axes[1].set_title(f"BLADE, {model.steps} steps")
axes[2].imshow(sel % 24, cmap="hsv")
axes[2].set_title("selected orientation bin")
for a in axes:
    a.axis("off")
fig.tight_layout()
fig.savefig(out / "run.png", dpi=100)

# %% The learned filters of the strongest-edge bins, one per orientation
filters = model.filters()
strongest = filters[24 * 7: 24 * 8]  # strength bin 7, coherence bin 0
fig, axes = plt.subplots(2, 12, figsize=(12, 2.4))
lim = np.abs(strongest).max()
for k, a in enumerate(axes.flat):
    a.imshow(strongest[k], cmap="RdBu_r", vmin=-lim, vmax=lim)
    a.axis("off")
fig.suptitle("filters of strength bin 7 (coherence bin 0), orientation 0-180 deg")
fig.savefig(out / "filters.png", dpi=100)
print(f"wrote {out}/psnr_per_image.png, run.png, filters.png")
