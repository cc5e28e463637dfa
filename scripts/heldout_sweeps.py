#!/usr/bin/env python3
"""How the applications' default data weights were chosen (issue 24), on six scikit-image sample
photographs that no model was trained on (luma):

  restore  blur sigma 1 + Gaussian noise 5/255 (seed 5), every shipped TV/PM/CED model, lambda =
           c / dt for c in 0.4, 0.7, 1.0 (the default became c = 0.7);
  upscale  x2 and x4, area and bicubic degradations, the TV model with lambda = c / (dt gain),
           c in 0.25, 0.5, 1.0 (1.0: one exact back-projection per step, the default), 5/10/20
           steps, beside Pillow's bicubic and Lanczos upscaling.

Usage: BLADE_MODULE_DIR=build/python/blade /usr/bin/python3 scripts/heldout_sweeps.py [restore|upscale] [DIR]
       [--models NAME,NAME...]
(DIR: other photographs instead of the six, e.g. Kodak to check a choice on images it was not
made on; --models: the restore sweep's models, by default every shipped TV/PM/CED model)
"""

import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import blade  # noqa: E402

DATA = Path("/usr/lib/python3/dist-packages/skimage/data")
NAMES = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "camera.png"]
MODELS = ROOT / "models"


FOLDER = None  # set from the command line


def photos():
    paths = sorted(FOLDER.glob("*.png")) if FOLDER else [DATA / name for name in NAMES]
    out = []
    for path in paths:
        a = blade.read_image(str(path))
        out.append(blade.to_luma(a) if a.ndim == 3 else a)
    return out


def mean(pairs):
    return round(float(np.mean([p for p, _ in pairs])), 2), round(float(np.mean([s for _, s in pairs])), 4)


RESTORE_MODELS = ["tv-plain", "tv", "tv-flux", "tv-monotone", "pm", "pm-monotone", "ced", "ced-direct",
                  "ced-restore", "ced-monotone"]


def restore_sweep():
    rng = np.random.default_rng(5)
    truth = photos()
    observed = [np.ascontiguousarray((blade.gaussian_blur(t, 1.0) + rng.normal(0, 5 / 255, t.shape))
                                     .astype(np.float32)) for t in truth]
    print("input", mean([(blade.psnr(f, t), blade.ssim(f, t)) for f, t in zip(observed, truth)]))
    for name in RESTORE_MODELS:
        model = blade.Model.load(str(MODELS / f"{name}.blade"))
        row = []
        for c in (0.4, 0.7, 1.0):
            scores = []
            for f, t in zip(observed, truth):
                u = blade.restore(model, f, "blur:sigma=1", lam=c / model.dt)
                scores.append((blade.psnr(u, t), blade.ssim(u, t)))
            row.append((c, *mean(scores)))
        print(name, "dt", model.dt, row, flush=True)


def pil_up(f, factor, method):
    return np.asarray(Image.fromarray(f, mode="F").resize((f.shape[1] * factor, f.shape[0] * factor), method))


def upscale_sweep():
    model = blade.Model.load(str(MODELS / "tv.blade"))
    truth_all = photos()
    for factor in (2, 4):
        gain = {"area": 1.0 / factor ** 2}
        for deg in ("area", "bicubic"):
            rows = {}
            for t in truth_all:
                h, w = t.shape
                t = np.ascontiguousarray(t[:h // factor * factor, :w // factor * factor])
                f = blade.downscale(t, factor, deg)
                for name, method in (("pil_bicubic", Image.BICUBIC), ("pil_lanczos", Image.LANCZOS)):
                    u = pil_up(f, factor, method)
                    rows.setdefault(name, []).append((blade.psnr(u, t), blade.ssim(u, t)))
                # lambda = c / (dt gain) with the exact gain; the default (lam=None) is c = 1.
                u = blade.upscale(model, f, factor=factor, degradation=deg)
                rows.setdefault("default (c=1, 10 steps)", []).append((blade.psnr(u, t), blade.ssim(u, t)))
                if deg in gain:
                    for c in (0.25, 0.5, 1.0):
                        for steps in (5, 10, 20):
                            u = blade.upscale(model, f, factor=factor, degradation=deg,
                                              lam=c / (model.dt * gain[deg]), steps=steps)
                            rows.setdefault((c, steps), []).append((blade.psnr(u, t), blade.ssim(u, t)))
            print(factor, deg, {k: mean(v) for k, v in rows.items()}, flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--models" in args:
        i = args.index("--models")
        RESTORE_MODELS = args[i + 1].split(",")
        del args[i:i + 2]
    if any(a in ("-h", "--help") for a in args):
        print(__doc__)
        sys.exit(0)
    which = [a for a in args if a in ("restore", "upscale")] or ["restore", "upscale"]
    folders = [a for a in args if a not in ("restore", "upscale")]
    FOLDER = Path(folders[0]) if folders else None
    if FOLDER is not None and not FOLDER.is_dir():
        sys.exit(f"heldout_sweeps.py: error: '{FOLDER}' is not a folder")
    if "restore" in which:
        restore_sweep()
    if "upscale" in which:
        upscale_sweep()
