#!/usr/bin/env bash
# Trains the BLADE models of the accuracy-for-cost frontier (issue 26, docs/RESULTS.md): for each
# PDE, its documented recipe (blade/train.h RecommendedTrainOptions, as the shipped models) for
# 5, 20 and 40 steps to the preset's stopping time (the shipped models take 10). Then
# scripts/frontier.py scores them beside the classical scheme on finer grids.
# Usage: scripts/frontier.sh [TRAIN_DIR] [PDE ...]   (models and logs in out/frontier/)
set -euo pipefail
cd "$(dirname "$0")/.."
blade=build/bin/blade
train=${1:-../shared/data/train/BSDS500}
shift || true
[ -d "$train" ] || { echo "frontier: '$train' not found" >&2; exit 1; }
pdes=("$@")
[ ${#pdes[@]} -gt 0 ] || pdes=(tv pm ch ced)
mkdir -p out/frontier
for pde in "${pdes[@]}"; do
  data=()
  [ "$pde" = ced ] && data=(--limit 64)  # as the shipped CED model (models/README.md)
  for steps in 5 20 40; do
    out="out/frontier/$pde-s$steps.blade"
    [ -s "$out" ] && { echo "$out exists"; continue; }
    start=$(date +%s)
    "$blade" train --pde "$pde" --steps "$steps" --seed 1 "${data[@]}" --images "$train" \
      --cache "out/train/cache-$pde" --out "$out" | tee "out/frontier/$pde-s$steps.txt"
    echo "$pde, $steps steps: $(( $(date +%s) - start )) s wall" | tee -a "out/frontier/$pde-s$steps.txt"
  done
done
