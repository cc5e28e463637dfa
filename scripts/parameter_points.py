#!/usr/bin/env python3
"""A shipped model at other parameter points and stopping times through its PDE's exact symmetry
(blade.Model.run(params=, time=), `blade run --param --time`; issue 25's first part), on the
kodak4x protocol: each image's luma is the HR start, the classical reference runs on it at 4x
(dx = 1/4, stable step) to the point's time and is area-downsampled 4x; BLADE and the classical
scheme run on the LR image. Rows: identity, classical-LR-10 (10 steps, forced), classical-LR
(stable step), BLADE at the point. Mean PSNR dB / SSIM over the images.

Usage: BLADE_MODULE_DIR=build/python/blade /usr/bin/python3 scripts/parameter_points.py DIR [COUNT]
"""

import sys

import numpy as np

from heldout_common import ROOT, blade, files_of

POINTS = {
    "pm": [({"c": c}, 4.0) for c in (0.034, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3)] + [({}, 2.0), ({}, 6.0)],
    "ced": [({"C": C}, 4.0) for C in (3e-11, 1e-10, 2.4e-10, 6e-10, 2.4e-9)] + [({}, 2.0), ({}, 6.0)],
    "tv": [({"eps": e}, 0.1) for e in (0.0034, 0.005, 0.01, 0.02, 0.03)],
}


def area(u, f=4):
    h, w = u.shape
    return u.reshape(h // f, f, w // f, f).mean(axis=(1, 3)).astype(np.float32)


def main():
    files = files_of([sys.argv[1]])[: int(sys.argv[2]) if len(sys.argv) > 2 else 8]
    images = []
    for f in files:
        a = blade.read_image(str(f))
        a = blade.to_luma(a) if a.ndim == 3 else a
        h, w = a.shape
        images.append(np.ascontiguousarray(a[: h // 4 * 4, : w // 4 * 4]))
    for pde, points in POINTS.items():
        model = blade.Model.load(str(ROOT / "models" / f"{pde}.blade"))
        base = dict(model.pde_params)
        for params, time in points:
            full = {**base, **params}
            rows = {"identity": [], "classical-LR-10": [], "classical-LR": [], "BLADE": []}
            for hr in images:
                ref = area(blade.solve(hr, pde, time=time, dx=0.25, params=full))
                lr = area(hr)
                outs = {"identity": lr,
                        "classical-LR-10": blade.solve(lr, pde, time=time, steps=10, params=full, force=True),
                        "classical-LR": blade.solve(lr, pde, time=time, params=full),
                        "BLADE": model.run(lr, params=params, time=time, unsafe=True)}
                for k, u in outs.items():
                    u = np.ascontiguousarray(u, dtype=np.float32)
                    ok = np.all(np.isfinite(u))
                    rows[k].append((blade.psnr(u, ref) if ok else np.nan, blade.ssim(u, ref) if ok else np.nan))
            label = ", ".join(f"{k}={v:g}" for k, v in params.items()) or "preset parameters"
            cells = "  ".join(f"{k} {np.mean([a for a, _ in v]):6.2f}/{np.mean([b for _, b in v]):.4f}"
                              for k, v in rows.items())
            print(f"{pde} {label:18s} T={time:g}: {cells}", flush=True)


if __name__ == "__main__":
    main()
