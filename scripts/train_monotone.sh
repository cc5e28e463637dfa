#!/usr/bin/env bash
# Trains monotone (provably stable) TV, PM and CED models with the shipped models' settings,
# then scores them with kodak4x and 1,000-step runs. Usage: scripts/train_monotone.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/monotone}
mkdir -p "$out"
blade=build/bin/blade
train=../shared/data/train/BSDS500
kodak=../shared/data/kodak
newton="--optimizer newton --learning-rate 1 --patience 5"
declare -A args=(
  [pm]="--pde pm --form direct --footprint 7 --bins 24 16 3 --ridge 1e-5 --epochs 0"
  [tv]="--pde tv --form direct --footprint 7 --epochs 20 $newton"
  [ced]="--pde ced --form direct --limit 64 --footprint 7 --augment-ls --epochs 20 $newton"
)
for name in pm tv ced; do
  start=$(date +%s)
  # shellcheck disable=SC2086
  "$blade" -q train --seed 1 ${args[$name]} --constraint monotone --images "$train" \
    --out "$out/$name-monotone.blade" | tee "$out/$name-train.txt"
  echo "$name: $(( $(date +%s) - start )) s" | tee -a "$out/$name-train.txt"
  "$blade" -q eval --model "$out/$name-monotone.blade" --images "$kodak" --long-steps 1000 \
    --json "$out/$name-monotone.json" | tee "$out/$name-eval.txt"
  "$blade" -q eval --model "models/$name.blade" --images "$kodak" --long-steps 1000 \
    --json "$out/$name-unconstrained.json" | tee "$out/$name-eval-unconstrained.txt"
done
