#!/usr/bin/env bash
# Trains the BLADE models of the accuracy-for-cost frontier (issue 26, docs/RESULTS.md): for each
# PDE, its documented recipe (blade/train.h RecommendedTrainOptions, as the shipped models) for
# 5, 20 and 40 steps to the preset's stopping time (the shipped models take 10), and for 5
# steps with 3x3 and 5x5 filters instead of 7x7 and with smaller banks (docs/COST_STUDY.md's
# footprints and bank sizes). Then
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
  [ "$pde" = ced ] && data=(--limit 64)  # as the shipped models (models/README.md)
  [ "$pde" = ch ] && data=(--bins 8 16 1 16)
  # NAME:STEPS:FOOTPRINT (the recipe's footprint is 7; smaller ones for cheaper 5-step models)
  for spec in s5:5:7 s20:20:7 s40:40:7 s5-f3:5:3 s5-f5:5:5; do
    IFS=: read -r name steps footprint <<<"$spec"
    out="out/frontier/$pde-$name.blade"
    [ -s "$out" ] && { echo "$out exists"; continue; }
    start=$(date +%s)
    "$blade" train --pde "$pde" --steps "$steps" --footprint "$footprint" --seed 1 "${data[@]}" \
      --images "$train" --cache "out/train/cache-$pde" --out "$out" | tee "out/frontier/$pde-$name.txt"
    echo "$pde, $name: $(( $(date +%s) - start )) s wall" | tee -a "out/frontier/$pde-$name.txt"
  done
  # Smaller banks at 5 steps, 7x7 (docs/COST_STUDY.md's sizes; scripts/frontier.py BANKS).
  small=(8 2 2); mid=(24 3 3)
  [ "$pde" = ch ] && small=(8 2 1 2) && mid=(8 5 1 6)
  limit=()
  [ "$pde" = ced ] && limit=(--limit 64)
  for bank in small mid; do
    out="out/frontier/$pde-s5-$bank.blade"
    [ -s "$out" ] && { echo "$out exists"; continue; }
    [ "$bank" = small ] && bins=("${small[@]}") || bins=("${mid[@]}")
    start=$(date +%s)
    "$blade" train --pde "$pde" --steps 5 --seed 1 "${limit[@]}" --bins "${bins[@]}" \
      --images "$train" --cache "out/train/cache-$pde" --out "$out" | tee "out/frontier/$pde-s5-$bank.txt"
    echo "$pde, s5-$bank: $(( $(date +%s) - start )) s wall" | tee -a "out/frontier/$pde-s5-$bank.txt"
  done
done
