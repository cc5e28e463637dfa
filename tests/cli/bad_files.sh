#!/usr/bin/env bash
# Damaged and unusual image files through every image-reading command: truncated and corrupt
# files of each format fail with one "blade: error:" line, exit 1 and no output; tiny (1x1,
# 2x2), alpha, palette, 16-bit and float images either work (exit 0, a readable output) or are
# refused the same way; TIFF with NaN or Inf is refused. Never a crash.
set -u
blade="$1" models="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
/usr/bin/python3 - "$work" <<'PY'
import sys, numpy as np
from PIL import Image
w = sys.argv[1]
rng = np.random.default_rng(3)
g = (rng.random((40, 48)) * 255).astype(np.uint8)
rgb = np.stack([g, g[::-1], g[:, ::-1]], 2)
Image.fromarray(rgb).save(f"{w}/good.png")
Image.fromarray(rgb).save(f"{w}/good.jpg", quality=90)
Image.fromarray(g).save(f"{w}/good.tif")
np.save(f"{w}/good.npy", g.astype(np.float32) / 255)
for ext in ("png", "jpg", "tif", "npy"):
    data = open(f"{w}/good.{ext}", "rb").read()
    open(f"{w}/truncated.{ext}", "wb").write(data[: len(data) // 2])
    bad = bytearray(data)
    for i in range(len(bad) // 3, len(bad) // 3 + 64):  # overwrite a stretch past the header
        bad[i % len(bad)] ^= 0xA5
    open(f"{w}/corrupt.{ext}", "wb").write(bytes(bad))
Image.fromarray(np.full((1, 1), 128, np.uint8)).save(f"{w}/tiny1.png")
Image.fromarray(np.full((2, 2), 128, np.uint8)).save(f"{w}/tiny2.png")
Image.fromarray(np.dstack([rgb, g]), "RGBA").save(f"{w}/alpha.png")
Image.fromarray(g).convert("P").save(f"{w}/palette.png")
Image.fromarray(g.astype(np.uint16) * 257).save(f"{w}/gray16.png")
f = g.astype(np.float32) / 255
Image.fromarray(f).save(f"{w}/float.tif")
f2 = f.copy(); f2[3, 4] = np.nan
Image.fromarray(f2).save(f"{w}/nan.tif")
f3 = f.copy(); f3[5, 6] = np.inf
Image.fromarray(f3).save(f"{w}/inf.tif")
PY

# check NAME MODE -- COMMAND (MODE: refuse = must fail cleanly; either = success or clean failure)
check() {
  local name=$1 mode=$2
  shift 3
  rm -f "$work"/out.* "$work"/.out.*
  "$@" >"$work/stdout" 2>"$work/stderr"
  local rc=$? first
  first=$(head -n 1 "$work/stderr")
  if [ $rc -ge 128 ] || [ $rc -gt 2 ]; then
    echo "FAIL ($name): crashed or killed, exit $rc: $first"; fail=1
  elif [ $rc -ne 0 ] && [[ "$first" != "blade: error: "* ]]; then
    echo "FAIL ($name): exit $rc without a clear message: $first"; fail=1
  elif [ $rc -ne 0 ] && compgen -G "$work/out.*" >/dev/null; then
    echo "FAIL ($name): failed but left an output"; fail=1
  elif [ $rc -ne 0 ] && compgen -G "$work/.out.*" >/dev/null; then
    echo "FAIL ($name): left a temporary file"; fail=1
  elif [ $rc -eq 0 ] && [ "$mode" = refuse ]; then
    echo "FAIL ($name): accepted a bad input"; fail=1
  elif [ $rc -eq 0 ] && compgen -G "$work/out.png" >/dev/null && ! "$blade" -q montage "$work/out.png" "$work/readback.png" >/dev/null 2>&1; then
    echo "FAIL ($name): succeeded but its output does not read back"; fail=1
  else
    echo "ok   ($name): $([ $rc -eq 0 ] && echo "works" || echo "$first")"
  fi
}

out="$work/out.png"
for ext in png jpg tif npy; do
  for kind in truncated corrupt; do
    f="$work/$kind.$ext"
    # A corrupt stretch inside compressed data may still decode (JPEG resyncs); the tools must
    # then behave as on any image. Truncated files must be refused.
    mode=either
    [ $kind = truncated ] && mode=refuse
    check "solve: $kind $ext" $mode -- "$blade" -q solve --pde pm "$f" "$out"
    check "run: $kind $ext" $mode -- "$blade" -q run --model "$models/tv.blade" "$f" "$out"
    check "compare: $kind $ext" $mode -- "$blade" -q compare "$f" "$work/good.png"
  done
done
for f in tiny1.png tiny2.png alpha.png palette.png gray16.png float.tif; do
  img="$work/$f"
  check "solve pm: $f" either -- "$blade" -q solve --pde pm "$img" "$out"
  check "solve ced: $f" either -- "$blade" -q solve --pde ced "$img" "$out"
  check "solve ch: $f" either -- "$blade" -q solve --pde ch --luma "$img" "$out"
  check "run: $f" either -- "$blade" -q run --model "$models/tv.blade" "$img" "$out"
  check "run flux: $f" either -- "$blade" -q run --model "$models/ced.blade" "$img" "$out"
  check "segment: $f" either -- "$blade" -q segment --model "$models/tv.blade" --iters 5 "$img" "$out"
  check "deconv: $f" either -- "$blade" -q deconv --model "$models/ced-direct.blade" "$img" "$out"
  check "upscale: $f" either -- "$blade" -q upscale --model "$models/tv.blade" --factor 2 "$img" "$out"
  check "upscale --project: $f" either -- "$blade" -q upscale --model "$models/tv.blade" --factor 2 --project "$img" "$out"
  check "features: $f" either -- "$blade" -q features "$img" "$out"
  check "align: $f" either -- "$blade" -q align "$img" "$img" --flow "$work/out.flo"
  check "eval: $f" either -- "$blade" -q eval --model "$models/pm.blade" --images "$img"
done
for f in nan.tif inf.tif; do
  check "solve: $f" refuse -- "$blade" -q solve --pde pm "$work/$f" "$out"
  check "run: $f" refuse -- "$blade" -q run --model "$models/tv.blade" "$work/$f" "$out"
  check "deconv: $f" refuse -- "$blade" -q deconv --model "$models/ced-direct.blade" "$work/$f" "$out"
  check "segment: $f" refuse -- "$blade" -q segment --model "$models/tv.blade" --iters 5 "$work/$f" "$out"
done
# Nonsensical numbers for training and evaluation.
# A model with one changed digit in a filter tap is refused as damaged (its checksum).
/usr/bin/python3 - "$models/tv-monotone.blade" "$work/damaged.blade" <<'PY'  # a point model: taps as text
import sys
t = open(sys.argv[1]).read()
i = t.index(".", t.index('"taps"')) + 3
open(sys.argv[2], "w").write(t[:i] + ("1" if t[i] != "1" else "2") + t[i + 1:])
PY
check "run: model with one changed digit" refuse -- "$blade" -q run --model "$work/damaged.blade" "$work/good.png" "$work/out.png"
if "$blade" -q run --model "$work/damaged.blade" "$work/good.png" "$work/out.png" 2>&1 | grep -q "is damaged: checksum mismatch"; then
  echo "ok   (damaged model named as damaged)"
else
  echo "FAIL (damaged model: no checksum message)"; fail=1
fi
check "train: negative epochs" refuse -- "$blade" -q train --pde pm --images "$work/good.png" --epochs -1 --out "$work/out.blade"
check "train: zero batch" refuse -- "$blade" -q train --pde pm --images "$work/good.png" --batch 0 --out "$work/out.blade"
check "train: NaN learning rate" refuse -- "$blade" -q train --pde pm --images "$work/good.png" --learning-rate nan --out "$work/out.blade"
check "train: footprint 4" refuse -- "$blade" -q train --pde pm --images "$work/good.png" --footprint 4 --out "$work/out.blade"
check "train: 1000 orientation bins" refuse -- "$blade" -q train --pde pm --images "$work/good.png" --bins 1000 3 3 --out "$work/out.blade"
check "train: unknown optimizer" refuse -- "$blade" -q train --pde pm --images "$work/good.png" --optimizer sgd --out "$work/out.blade"
check "train: output not .blade" refuse -- "$blade" -q train --pde pm --images "$work/good.png" --out "$work/out.png"
check "eval: negative long steps" refuse -- "$blade" -q eval --model "$models/pm.blade" --images "$work/good.png" --long-steps -5
check "run: absurd steps" refuse -- "$blade" -q run --model "$models/tv.blade" --steps 2000000000 "$work/good.png" "$out"
check "baselines: missing folder" refuse -- "$blade" -q baselines --pde pm --images "$work/none"
check "baselines: unknown PDE" refuse -- "$blade" -q baselines --pde heat --images "$work/good.png"
check "train-resample: order 7" refuse -- "$blade" -q train-resample --images "$work" --order 7 --out "$work/out.blade"
check "train-resample: zero shifts" refuse -- "$blade" -q train-resample --images "$work" --shifts 0 --out "$work/out.blade"
check "train-resample: negative ridge" refuse -- "$blade" -q train-resample --images "$work" --ridge -1 --out "$work/out.blade"
check "eval-resample: tiny image" refuse -- "$blade" -q eval-resample --model "$models/resample.blade" --images "$work/tiny2.png"
check "presets: unexpected argument" refuse -- "$blade" -q presets extra
check "train --constraint: unknown" refuse -- "$blade" -q train --pde pm --images "$work/good.png" --constraint convex --out "$work/out.blade"
check "train --constraint monotone: flux form" refuse -- "$blade" -q train --pde pm --form flux --images "$work/good.png" --constraint monotone --out "$work/out.blade"
check "run: NaN dt" refuse -- "$blade" -q run --model "$models/tv.blade" --dt nan "$work/good.png" "$out"
exit $fail
