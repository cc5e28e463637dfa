"""TV flow's parametric model (models/tv.blade) at later stopping times: the library's run
(`Model.run(time=T, params={'eps': e})`: past max(20 eps, 0.1), more steps of the blend at
that time) against the route it replaced (the blend at T itself, 10 steps; past the box's last
time, TV's symmetry (eps, T) on u = (s eps, s T) on s u onto it) and the classical scheme at the
coarse grid, kodak4x-style: luma, the reference at dx = 1/4 area-downsampled 4x. Mean PSNR dB.

usage: tv_time_routes.py DIR_OR_FILES... [--limit N]

Each photograph is cropped to its central 256x256 (at most).
"""
import math
import sys

import numpy as np

from heldout_common import blade, files_of


def main(argv):
    limit = 0
    if "--limit" in argv:
        i = argv.index("--limit")
        limit = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    files = files_of(argv)[: limit or None]
    m = blade.Model.load("tv")
    top = max(m.axes["time"])
    images = []
    for f in files:
        hr = blade.to_luma(blade.read_image(str(f)))
        h, w = (min(256, d) // 4 * 4 for d in hr.shape)
        y, x = (hr.shape[0] - h) // 2, (hr.shape[1] - w) // 2
        hr = np.ascontiguousarray(hr[y:y + h, x:x + w])
        images.append((hr, blade.downscale(hr, 4)))
    print(f"{len(images)} images; eps, T, T/eps: library run, one blend at T (before), classical LR"
          " [library steps]")
    for eps in (0.002, 0.005, 0.01, 0.03, 0.05):
        for t in (0.1, 0.2, 0.4, 0.8):
            try:
                m.run(images[0][1], time=t, params={"eps": eps})
            except blade.Error:
                continue  # beyond the symmetry's reach
            s = min(1.0, top / t)
            before = m.at({"eps": eps * s, "time": t * s})
            rows = []
            for hr, lr in images:
                ref = blade.downscale(blade.solve(hr, "tv", time=t, dx=0.25, params={"eps": eps}), 4)
                now = m.run(lr, time=t, params={"eps": eps})
                old = before.run(lr * s) / s
                classical = blade.solve(lr, "tv", time=t, params={"eps": eps})
                rows.append([blade.psnr(v, ref, 1.0) for v in (now, old, classical)])
            blend = min(t, max(20 * eps, 0.1, min(m.axes["time"])), top)
            steps = math.ceil(t / (blend / m.steps) - 1e-9)
            r = np.mean(rows, 0)
            print(f"eps {eps:<6} T {t:<4} T/eps {t / eps:5.0f}: {r[0]:6.2f} {r[1]:6.2f} {r[2]:6.2f}"
                  f"  [{steps}]", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
