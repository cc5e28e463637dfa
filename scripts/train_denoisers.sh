#!/usr/bin/env bash
# Retrains the shipped learned denoisers from the training photographs (never the Kodak images):
# models/denoise-gray.blade (all 200 photographs' luma) and models/denoise-color.blade (the first
# 100 in color: each adds three channels' samples), with DenoiseTrainOptions' defaults (noise
# sigma 2, 5, 10, 20, 30, 50, 75, 100; 2 stages of 24 x 3 x 3 filters, 9x9 taps, selection rho
# per level; 8 dihedral copies). See docs/RESULTS.md. About 30 minutes on 2 cores.
# Usage: scripts/train_denoisers.sh [TRAIN_DIR]   (default ../shared/data/train/BSDS500)
set -euo pipefail
cd "$(dirname "$0")/.."
blade=build/bin/blade
train=${1:-../shared/data/train/BSDS500}
[ -d "$train" ] || { echo "train_denoisers: '$train' not found" >&2; exit 1; }
"$blade" train-denoise --images "$train" --out models/denoise-gray.blade
"$blade" train-denoise --images "$train" --limit 100 --color --out models/denoise-color.blade
