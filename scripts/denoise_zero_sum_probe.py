#!/usr/bin/python3
# Two versions of the learned denoisers side by side (e.g. before and after the zero-sum projection): mean PSNR / SSIM per noise level on a folder.
"""Usage (docs/RESULTS.md, "Level invariance"):

    git show aaa36a0:models/denoise-gray.blade > /tmp/orig-denoise-gray.blade   # and -color
    BLADE_MODULE_DIR=build/python/blade /usr/bin/python3 scripts/denoise_zero_sum_probe.py \\
        --before /tmp/orig-denoise-{}.blade DIR

Each photograph (PNG, JPEG or TIFF in DIR) gets Gaussian noise of sigma 10, 20 and 30 (0-255
units; seed = its index in sorted order); gray models see its luma, color models its RGB
(gray photographs skipped). PSNR and SSIM by blade.psnr / blade.ssim against the clean image.
"""
import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import blade  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    ap.add_argument("--before", required=True, help="the older models, {} standing for gray or color")
    ap.add_argument("--after", default=str(ROOT / "models" / "denoise-{}.blade"))
    a = ap.parse_args()
    files = sorted(p for p in Path(a.folder).iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".tif", ".tiff"))
    for kind in ("gray", "color"):
        before = blade.Model.load(a.before.format(kind))
        after = blade.Model.load(a.after.format(kind))
        for sigma in (10, 20, 30):
            rows = []
            for k, path in enumerate(files):
                clean = blade.read_image(str(path))
                if kind == "gray" and clean.ndim == 3:
                    clean = blade.to_luma(clean)
                if kind == "color" and clean.ndim == 2:
                    continue
                noisy = (clean + np.random.default_rng(k).normal(0, sigma / 255, clean.shape)).astype(np.float32)
                outs = [blade.denoise(noisy, sigma, m) for m in (before, after)]
                rows.append([f(o, clean) for o in outs for f in (blade.psnr, blade.ssim)])
            m = np.mean(rows, axis=0)
            print(f"{a.folder} {kind} sigma {sigma} ({len(rows)} images): before {m[0]:.3f} / {m[1]:.4f}"
                  f"  after {m[2]:.3f} / {m[3]:.4f}", flush=True)


if __name__ == "__main__":
    main()
