#!/usr/bin/env bash
# Retrains the shipped resampling models from the training photographs (never the Kodak images):
# models/resample.blade (paper eq. 5.5, first order in the displacement) and
# models/resample3.blade (third order, beyond the paper). See docs/RESULTS.md.
# Usage: scripts/train_resample.sh [TRAIN_DIR]   (default ../shared/data/train/BSDS500)
set -euo pipefail
cd "$(dirname "$0")/.."
blade=build/bin/blade
train=${1:-../shared/data/train/BSDS500}
[ -d "$train" ] || { echo "train_resample: '$train' not found" >&2; exit 1; }
"$blade" train-resample --images "$train" --order 1 --shifts 6 --seed 1 --out models/resample.blade
# Third order, 7x7 filters, 12x3x3 bins (the normal equations have 441 unknowns per filter).
"$blade" train-resample --images "$train" --order 3 --footprint 7 --bins 12 3 3 --shifts 6 --seed 1 \
  --out models/resample3.blade
