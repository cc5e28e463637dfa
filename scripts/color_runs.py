"""Shipped PDE models on color photographs: `Model.run` on the color image against the same model
run on each channel alone and against the classical scheme on the coarse grid, all scored against
the kodak4x-style reference of the color image (the classical scheme on the full-resolution
photograph, 4x finer, area-downsampled 4x; its channels evolve on their own for TV, PM and CH,
and share CED's structure tensor). PSNR over the three channels.

usage: color_runs.py DIR_OR_FILES... [--models tv,pm,ced,ch,ch-flux]

Gray photographs are skipped. Each photograph is cropped to at most 512x512 (its top-left).
"""
import sys

import numpy as np

from heldout_common import ROOT, blade, files_of


def main(argv):
    models = "tv,pm,ced,ch,ch-flux,pm-monotone"
    if "--models" in argv:
        i = argv.index("--models")
        models = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    files = files_of(argv)
    presets = {p["name"]: p for p in blade.presets()}
    print(f"{'model':12} {'image':22} {'color run':>10} {'each channel':>13} {'classical LR':>13}")
    for name in models.split(","):
        m = blade.Model.load(str(ROOT / "models" / f"{name}.blade"))
        p = presets[m.preset]
        s, t = p["scale"], m.steps * m.dt
        rows = []
        for f in files:
            hr = blade.read_image(str(f))
            if hr.ndim != 3:
                continue
            h, w = (min(512, d) // s * s for d in hr.shape[:2])
            hr = np.ascontiguousarray(hr[:h, :w, :3])
            lr = blade.downscale(hr, s)
            ref = blade.downscale(blade.solve(hr, m.pde, time=t, steps=p["hr_steps"], dx=1 / s,
                                              params=m.pde_params), s)
            try:
                color = blade.psnr(m.run(lr), ref, 1.0)
            except blade.Error:
                color = float("nan")  # diverged
            each = np.stack([m.run(np.ascontiguousarray(lr[..., c])) for c in range(3)], -1)
            classical = blade.solve(lr, m.pde, time=t, params=m.pde_params)
            rows.append((color, blade.psnr(each, ref, 1.0), blade.psnr(classical, ref, 1.0)))
            print(f"{name:12} {f.name:22} {rows[-1][0]:10.2f} {rows[-1][1]:13.2f} {rows[-1][2]:13.2f}",
                  flush=True)
        if rows:
            mean = np.mean(rows, 0)
            print(f"{name:12} {'mean':22} {mean[0]:10.2f} {mean[1]:13.2f} {mean[2]:13.2f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
