#!/usr/bin/env bash
# Retrains the shipped learned upscalers from the training photographs (never the Kodak images):
# models/upscale-x{2,4}-{area,bicubic}.blade: the stages with the recipe
# RecommendedUpscaleTrainOptions (src/train/upscale_train.cc), then the refiner network on top
# (`blade train-refiner`, RefinerTrainOptions' defaults). See docs/RESULTS.md. About 40 minutes
# on 2 cores.
# Usage: scripts/train_upscalers.sh [TRAIN_DIR]   (default ../shared/data/train/BSDS500)
set -euo pipefail
cd "$(dirname "$0")/.."
blade=build/bin/blade
train=${1:-../shared/data/train/BSDS500}
[ -d "$train" ] || { echo "train_upscalers: '$train' not found" >&2; exit 1; }
scratch=$(mktemp -d)  # the stages-only models, kept out of models/ (its *.blade are shipped)
trap 'rm -rf "$scratch"' EXIT
for factor in 2 4; do
  for degradation in area bicubic; do
    model="models/upscale-x$factor-$degradation.blade" stages="$scratch/upscale-x$factor-$degradation.blade"
    "$blade" train-upscale --images "$train" --factor "$factor" --degradation "$degradation" \
      --out "$stages"
    "$blade" train-refiner --model "$stages" --images "$train" --out "$model"
  done
done
