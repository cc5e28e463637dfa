#!/usr/bin/env bash
# Accuracy against cost for Perona-Malik (least squares only, 200 BSDS images, ridge 1e-5 as the
# shipped model): footprint, bin counts and rho; each config trained, then scored with
# kodak4x on the 24 Kodak images. Writes out/cost/NAME.json; scripts/cost_study.py tabulates.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/cost}
mkdir -p "$out"
blade=build/bin/blade
configs=(
  "f3_24x8x3:--footprint 3 --bins 24 8 3"
  "f5_24x8x3:--footprint 5 --bins 24 8 3"
  "f7_24x8x3:--footprint 7 --bins 24 8 3"
  "f5_8x2x2:--footprint 5 --bins 8 2 2"
  "f5_24x3x3:--footprint 5 --bins 24 3 3"
  "f5_24x5x5:--footprint 5 --bins 24 5 5"
  "f5_24x8x3_rho2:--footprint 5 --bins 24 8 3 --rho 2"
)
for entry in "${configs[@]}"; do
  name=${entry%%:*} args=${entry#*:}
  [ -f "$out/$name.json" ] && continue
  # shellcheck disable=SC2086
  "$blade" -q train --seed 1 --pde pm --form direct --ridge 1e-5 --epochs 0 --stability-steps 0 $args \
    --images ../shared/data/train/BSDS500 --out "$out/$name.blade" > "$out/$name-train.txt"
  "$blade" -q eval --model "$out/$name.blade" --images ../shared/data/kodak --json "$out/$name.json" \
    > "$out/$name-eval.txt"
  echo "$name: $(grep '^blade' "$out/$name-eval.txt")"
done
