#!/usr/bin/env bash
# Accuracy against cost (issue 11): footprint, bin counts, rho and Euler vs. midpoint; each
# config trained on the 200 BSDS images, then scored with kodak4x on the 24 Kodak images.
# Usage: scripts/cost_study.sh [pm|tv]   (writes out/cost-PDE/NAME.json; cost_study.py tabulates)
#   pm: least squares only, ridge 1e-5 (the shipped PM model's recipe).
#   tv: least squares, then 20 newton fine-tuning epochs (the shipped TV model's recipe); the
#       only way to compare integrators, since least squares fits the one-step Euler problem.
set -euo pipefail
cd "$(dirname "$0")/.."
pde=${1:-pm}
out=out/cost-$pde
mkdir -p "$out"
blade=build/bin/blade
case "$pde" in
  pm)
    recipe="--ridge 1e-5 --epochs 0"
    configs=(
      "f3_24x8x3:--footprint 3 --bins 24 8 3"
      "f5_24x8x3:--footprint 5 --bins 24 8 3"
      "f7_24x8x3:--footprint 7 --bins 24 8 3"
      "f5_8x2x2:--footprint 5 --bins 8 2 2"
      "f5_24x3x3:--footprint 5 --bins 24 3 3"
      "f5_24x5x5:--footprint 5 --bins 24 5 5"
      "f5_24x8x3_rho2:--footprint 5 --bins 24 8 3 --rho 2"
    ) ;;
  tv)
    recipe="--optimizer newton --learning-rate 1 --patience 5 --epochs 20"
    configs=(
      "f3_24x8x3:--footprint 3 --bins 24 8 3"
      "f5_24x8x3:--footprint 5 --bins 24 8 3"
      "f7_24x8x3:--footprint 7 --bins 24 8 3"
      "f5_24x3x3:--footprint 5 --bins 24 3 3"
      "f5_8x2x2:--footprint 5 --bins 8 2 2"
      "f5_24x8x3_midpoint:--footprint 5 --bins 24 8 3 --integrator midpoint"
      "f3_24x8x3_midpoint:--footprint 3 --bins 24 8 3 --integrator midpoint"
    ) ;;
  *) echo "cost_study: unknown PDE '$pde' (pm or tv)" >&2; exit 1 ;;
esac
for entry in "${configs[@]}"; do
  name=${entry%%:*} args=${entry#*:}
  [ -f "$out/$name.json" ] && continue
  # shellcheck disable=SC2086
  "$blade" -q train --seed 1 --pde "$pde" --form direct --stability-steps 0 $recipe $args \
    --images ../shared/data/train/BSDS500 --out "$out/$name.blade" > "$out/$name-train.txt"
  "$blade" -q eval --model "$out/$name.blade" --images ../shared/data/kodak --json "$out/$name.json" \
    > "$out/$name-eval.txt"
  echo "$name: $(grep '^blade' "$out/$name-eval.txt")"
done
