#!/usr/bin/env bash
# End to end: a tiny `blade train`, then `blade eval --json`, `blade info --json` and `blade run` on its model.
set -euo pipefail
blade="$1"
work=$(mktemp -d)
trap "rm -rf $work" EXIT
export BLADE_CACHE="$work/cache"
mkdir -p "$work/images"
/usr/bin/python3 - "$work/images" <<'PY'
import sys
import numpy as np
from skimage import data, io, transform
# Crops of real photographs shipped with scikit-image, 96x80 (divisible by 4).
cam = data.camera().astype(np.float64) / 255
for i, (y, x) in enumerate([(40, 60), (200, 300), (300, 100), (100, 380), (380, 380)]):
    io.imsave(f"{sys.argv[1]}/img{i}.png", (cam[y:y + 80, x:x + 96] * 255).astype(np.uint8),
              check_contrast=False)
PY
"$blade" -q train --pde pm --images "$work/images" --epochs 3 --crop 0 --bins 8 2 2 \
  --out "$work/pm.blade" >"$work/train.txt"
grep -q "trained pm direct model" "$work/train.txt"
"$blade" -q eval --model "$work/pm.blade" --images "$work/images" --json "$work/eval.json" >"$work/eval.txt"
"$blade" info --json "$work/pm.blade" >"$work/info.json"
"$blade" -q run --model "$work/pm.blade" "$work/images/img0.png" "$work/out.tiff"
/usr/bin/python3 - "$work" <<'PY'
import json, math, sys
w = sys.argv[1]
e = json.load(open(w + "/eval.json"))
assert e["protocol"] == "kodak4x" and e["pde"] == "pm" and e["steps"] == 10, e
for row in ("blade", "identity", "classical_lr_10", "classical_lr"):
    r = e["rows"][row]
    assert all(k in r for k in ("psnr", "ssim", "seconds")), r
    assert math.isfinite(r["psnr"]) and 0 < r["ssim"] <= 1, r
assert len(e["images"]) == 5 and all("name" in i and "blade" in i for i in e["images"])
# The means in "rows" are the means of the per-image entries.
mean = sum(i["blade"]["psnr"] for i in e["images"]) / 5
assert abs(mean - e["rows"]["blade"]["psnr"]) < 1e-9, (mean, e["rows"]["blade"])
# A trained model must beat doing nothing.
assert e["rows"]["blade"]["psnr"] > e["rows"]["identity"]["psnr"] + 1, e["rows"]
info = json.load(open(w + "/info.json"))
assert info["form"] == "direct" and info["pde"] == "pm" and info["bins"][:3] == [8, 2, 2], info
assert info["footprint"] == 7 and abs(info["dt"] - 0.4) < 1e-12, info  # the recipe's 7x7
assert " train --pde pm" in info["provenance"]["command"], info["provenance"]
print("train/eval end to end: blade %.2f dB, identity %.2f dB" %
      (e["rows"]["blade"]["psnr"], e["rows"]["identity"]["psnr"]))
PY
[ -s "$work/out.tiff" ]
ls "$work/cache"/pm-*.frames >/dev/null
