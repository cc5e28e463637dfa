#!/usr/bin/env bash
# Retrains every shipped model in models/ from the training photographs (never the Kodak images).
# Usage: scripts/train_models.sh [TRAIN_DIR] [MODEL ...]   (default: ../shared/data/train/BSDS500, all)
set -euo pipefail
cd "$(dirname "$0")/.."
blade=build/bin/blade
train=${1:-../shared/data/train/BSDS500}
shift || true
mkdir -p models out/train
[ -d "$train" ] || { echo "train_models: '$train' not found" >&2; exit 1; }

# name | arguments. All use the PDE's preset (presets/presets.json), Euler steps, seed 1.
# CED uses 48 images (64 for the flux model): its reference (rho = 16 px at 4x) dominates the
# time budget; 48 keeps training under 15 minutes with a cold cache.
declare -A args=(
  [pm]="--pde pm --form direct --learning-rate 5e-4"
  [tv]="--pde tv --form direct --learning-rate 5e-4"
  [ced]="--pde ced --form direct --limit 48 --learning-rate 1e-4"
  [ch]="--pde ch --form direct --learning-rate 5e-4"
  [tv-flux]="--pde tv --form flux --learning-rate 5e-4"
  [ced-flux]="--pde ced --form flux --limit 64 --learning-rate 5e-4"
  [ch-flux]="--pde ch --form flux --learning-rate 5e-4"
)
common="--epochs 40 --crop 0 --patience 8 --seed 1"
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(pm tv ch ced tv-flux ch-flux ced-flux)
for name in "${names[@]}"; do
  start=$(date +%s)
  # shellcheck disable=SC2086
  "$blade" train $common ${args[$name]} --images "$train" --out "models/$name.blade" \
    | tee "out/train/$name.txt"
  echo "$name: $(( $(date +%s) - start )) s wall" | tee -a "out/train/$name.txt"
done
