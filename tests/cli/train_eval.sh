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
# The training curve to standard output (--log -), the summary line moved to stderr.
"$blade" -q train --pde pm --images "$work/images" --epochs 2 --crop 0 --bins 8 2 2 --log - \
  --out "$work/pm2.blade" >"$work/log.json" 2>"$work/log.err"
/usr/bin/python3 -c "import json, sys; d = json.load(open(sys.argv[1])); assert len(d['curve']) == 3, d  # epoch 0 (least squares) and two" \
  "$work/log.json"
grep -q "trained pm direct model" "$work/log.err"
"$blade" -q eval --model "$work/pm.blade" --images "$work/images" --json "$work/eval.json" >"$work/eval.txt"
# Trained for 5 larger steps (--steps), scored at its own steps, with the frontier's classical runs.
# Without the recipe's scheme term (--scheme-footprint 0): a plain direct model.
"$blade" -q train --pde pm --images "$work/images" --epochs 0 --bins 8 2 2 --steps 5 \
  --scheme-footprint 0 --out "$work/pm5.blade" >/dev/null
"$blade" info --json "$work/pm5.blade" >"$work/info5.json"
if "$blade" -q train --pde ced --images "$work/images" --scheme-footprint 3 \
  --out "$work/ced.blade" >/dev/null 2>"$work/err.txt"; then
  echo "a scheme term for CED was accepted" >&2; exit 1; fi
grep -q "tv, pm, ch" "$work/err.txt"
[ ! -e "$work/ced.blade" ]
ls "$work/cache"/ced-*.frames >/dev/null 2>&1 && { echo "CED references computed before the refusal" >&2; exit 1; }
"$blade" -q eval --model "$work/pm5.blade" --images "$work/images" --json "$work/eval5.json" \
  --classical 1 --classical 1.5 --classical 2 --classical 2:40 >"$work/eval5.txt"
grep -q "classical_1.5x" "$work/eval5.txt"
if "$blade" -q eval --model "$work/pm5.blade" --images "$work/images" --classical 1.3 \
  >/dev/null 2>"$work/err.txt"; then echo "a grid that splits pixels was accepted" >&2; exit 1; fi
grep -q "whole pixels" "$work/err.txt"
if "$blade" -q eval --model "$work/pm5.blade" --images "$work/images" --classical 2:x \
  >/dev/null 2>"$work/err.txt"; then echo "a bad classical run was accepted" >&2; exit 1; fi
grep -q "GRID:STEPS" "$work/err.txt"
"$blade" info --json "$work/pm.blade" >"$work/info.json"
"$blade" -q baselines --pde pm --images "$work/images" --json "$work/baselines.json" >/dev/null
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
e5 = json.load(open(w + "/eval5.json"))
assert e5["steps"] == 5 and e5["rows"]["blade"]["steps"] == 5, e5["rows"]["blade"]
r5 = e5["rows"]
# The identity and the reference do not depend on BLADE's steps; equal cost follows them.
assert r5["identity"]["psnr"] == e["rows"]["identity"]["psnr"]
assert r5["classical_lr_10"]["steps"] == 5 and r5["classical_2x_40"]["steps"] == 40
# The converged run at the LR grid is classical-LR itself.
assert r5["classical_1x"]["psnr"] == r5["classical_lr"]["psnr"], r5
# Converged on finer grids: closer to the 4x reference.
assert r5["classical_lr"]["psnr"] < r5["classical_1.5x"]["psnr"] < r5["classical_2x"]["psnr"], r5
# `blade baselines` gives the same rows under the same keys as `blade eval`, without BLADE's.
b = json.load(open(w + "/baselines.json"))
assert "blade" not in b["rows"] and "form" not in b and b["steps"] == 10, b
for row in ("identity", "classical_lr_10", "classical_lr"):
    assert b["rows"][row]["psnr"] == e["rows"][row]["psnr"], (row, b["rows"][row], e["rows"][row])
    assert [i[row]["ssim"] for i in b["images"]] == [i[row]["ssim"] for i in e["images"]], row
assert [i["name"] for i in b["images"]] == [i["name"] for i in e["images"]]
info = json.load(open(w + "/info.json"))
assert info["form"] == "direct" and info["pde"] == "pm" and info["bins"][:3] == [8, 2, 2], info
assert info["footprint"] == 7 and abs(info["dt"] - 0.4) < 1e-12, info  # the recipe's 7x7
assert " train --pde pm" in info["provenance"]["command"], info["provenance"]
# The recipe's scheme term for Perona-Malik: a second bank, 3x3, filtering F(u).
assert info["scheme_term"] is True and len(info["banks"]) == 2, info["banks"]
assert info["banks"][1]["footprint"] == 3 and info["banks"][0]["footprint"] == 7, info["banks"]
assert json.load(open(w + "/info5.json"))["scheme_term"] is False
print("train/eval end to end: blade %.2f dB, identity %.2f dB" %
      (e["rows"]["blade"]["psnr"], e["rows"]["identity"]["psnr"]))
PY
[ -s "$work/out.tiff" ]
ls "$work/cache"/pm-*.frames >/dev/null
