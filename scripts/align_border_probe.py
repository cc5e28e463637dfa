#!/usr/bin/env python3
"""Alignment on known translations, border strips included (docs/DESIGN.md §26): 256x256 crops
(rows 100-355, columns 150-405) of four selection photographs shifted by (3, 2), (-2, -3),
(7, -5) and (0.5, 1.5) px with cubic interpolation (scipy.ndimage.shift), aligned by blade.align;
per case the share of pixels whose flow is off by more than 0.1 px within the shift plus 2 px
of the border and inside it, and the largest and mean error of the bicubic-warped frame inside.

Usage: BLADE_MODULE_DIR=build/python/blade /usr/bin/python3 scripts/align_border_probe.py
"""

import sys
from pathlib import Path

import numpy as np
from scipy.ndimage import shift as nd_shift
from skimage import img_as_float, io

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import blade  # noqa: E402

DATA = Path("/usr/lib/python3/dist-packages/skimage/data")
SHIFTS = ((3, 2), (-2, -3), (7, -5), (0.5, 1.5))


def main() -> None:
    if len(sys.argv) > 1:
        sys.exit(__doc__)
    rows = []
    for name in ("astronaut.png", "coffee.png", "chelsea.png", "camera.png"):
        big = img_as_float(io.imread(DATA / name, as_gray=True)).astype(np.float32)
        for sx, sy in SHIFTS:
            ref = big[100:356, 150:406]
            # alt(x) = big(x - s), so ref(x) = alt(x + s): the flow is s everywhere.
            alt = nd_shift(big, (sy, sx), order=3)[100:356, 150:406].astype(np.float32)
            flow = blade.align(ref, alt)
            err = np.hypot(flow[..., 0] - sx, flow[..., 1] - sy)
            k = int(max(abs(sx), abs(sy))) + 2
            border = np.ones_like(err, bool)
            border[k:-k, k:-k] = False
            warp = np.abs(blade.resample(alt, flow, method="bicubic") - ref)[k:-k, k:-k]
            rows.append(((err[border] > 0.1).mean(), (err[~border] > 0.1).mean(), warp.max(), warp.mean()))
            print(f"{name:15s} ({sx:4}, {sy:4})  off > 0.1 px: border {rows[-1][0]:.3f}, inside "
                  f"{rows[-1][1]:.3f}; warped error max {rows[-1][2]:.3f}, mean {rows[-1][3]:.5f}")
    m = np.mean(rows, axis=0)
    print(f"mean of {len(rows)} cases: border {m[0]:.3f}, inside {m[1]:.3f}, warped max {m[2]:.3f}")


if __name__ == "__main__":
    main()
