#!/usr/bin/env bash
# Retrains every shipped model in models/ from the training photographs (never the Kodak images).
# Usage: scripts/train_models.sh [TRAIN_DIR] [MODEL ...]   (default: ../shared/data/train/BSDS500, all)
# COLD=1 gives each model an empty reference cache of its own (out/train/cache-NAME), so the
# reported wall time includes generating its training data.
set -euo pipefail
cd "$(dirname "$0")/.."
blade=build/bin/blade
train=${1:-../shared/data/train/BSDS500}
shift || true
mkdir -p models out/train
[ -d "$train" ] || { echo "train_models: '$train' not found" >&2; exit 1; }

# name | arguments. All use the PDE's preset (presets/presets.json), Euler steps, seed 1.
# Direct models of tv, pm and ch carry the scheme term (3x3 filters of the classical scheme's
# right-hand side beside the 7x7 filters of u; the recipe's default, RecommendedTrainOptions).
# Direct models: least squares, then full-batch curvature-preconditioned steps (newton);
# PM is least squares only (ridge 1e-5): fine-tuning lowered its BSDS validation loss but
# scored 0.27 dB lower on Kodak (docs/RESULTS.md).
# Flux models: least squares by CG, then newton steps with the flux curvature (the recipe since
# 2026-12-06; ch-long keeps Adam on crops). CED uses 64 images: its reference (rho = 16 px at
# 4x) dominates the time budget. See docs/TRAINING.md and docs/RESULTS.md.
# ced-restore: the CED regulariser for restoration (deconvolution), selection rho 1 and the
# SSIM/MSE mix, chosen on held-out BSDS images by scripts/deconv_model_selection.sh.
newton="--optimizer newton --learning-rate 1 --patience 5"
# pm, tv, ced and ch are parametric (docs/DESIGN.md §20): a point model at each knot of a box,
# blended per run; pm 5 x 5 knots of c in [0.03, 0.3] and T in [1, 10], tv 5 x 5 of eps in
# [0.002, 0.05] and T in [0.025, 0.4], ced 3 x 4 of rho (2, 4, 6) and T (1, 2, 4, 8), its C
# moved by the intensity symmetry, ch 3 x 3 of gamma in [0.15, 0.5] and T in [2, 8]
# (log-spaced, the preset's point among them). ced, ced-direct and tv-plain are given the point
# model at their preset (ced-point, ced-direct-point, tv-plain-point: the former shipped recipes,
# saved under out/train) as that knot.
declare -A args=(
  [pm]="--pde pm --form direct --footprint 7 --bins 24 16 3 --ridge 1e-5 --epochs 0 --param c=0.03:0.3 --time 1:10 --knots 5"
  [tv]="--pde tv --form direct --footprint 7 --epochs 20 $newton --param eps=0.002:0.05 --time 0.025:0.4 --knots 5"
  # tv-plain: TV flow without the scheme term (the shipped tv.blade until 2026-12-06), the
  # default of denoise, segment and eq. 4.6 upscaling, where it scores better (models/README.md).
  [tv-plain-point]="--pde tv --form direct --footprint 7 --epochs 20 $newton --scheme-footprint 0"
  [tv-plain]="--pde tv --form direct --footprint 7 --epochs 20 $newton --scheme-footprint 0 --param eps=0.002:0.05 --time 0.025:0.4 --knots 5 --knot-model out/train/tv-plain-point.blade"
  # ced: the CED box in the flux form (seventh to ninth sessions: above converged classical-LR
  # at every grid point on Kodak and the held-out photographs; docs/RESULTS.md), its preset knot
  # the former point model (ced-point), the others with 40 epochs (20 had not converged at rho 2,
  # T 8). ced-direct: the same box in the direct form, which deconvolution needs (ced.blade
  # until the ninth session).
  [ced-point]="--pde ced --form flux --limit 64"
  [ced]="--pde ced --form flux --limit 64 --epochs 40 --param rho=2,4,6 --time 1,2,4,8 --knot-model out/train/ced-point.blade"
  [ced-direct-point]="--pde ced --form direct --limit 64 --footprint 7 --augment-ls --epochs 20 $newton"
  [ced-direct]="--pde ced --form direct --limit 64 --footprint 7 --augment-ls --epochs 20 $newton --param rho=2,4,6 --time 1,2,4,8 --knot-model out/train/ced-direct-point.blade"
  [ced-restore]="--pde ced --form direct --limit 64 --footprint 7 --augment-ls --epochs 20 $newton --rho 1 --loss mix --ssim-weight 0.01"
  [ch]="--pde ch --form direct --bins 8 16 1 16 --epochs 20 --stability-margin 0.5 $newton --param gamma=0.15:0.5 --time 2:8 --knots 3"
  # Cahn-Hilliard for long runs (issue 26): the flux form (mass conserved exactly), 100 steps of
  # the preset's dt to T = 40, least squares by CG with a 100x ridge, then 40 Adam epochs on
  # 64-px crops of all 200 photographs (on 48 it held 141 / 94 steps; docs/RESULTS.md).
  [ch-long]="--pde ch --form flux --time 40 --steps 100 --ridge 1e-1 --optimizer adam --epochs 40 --crop 64 --stability-margin 0.5"
  [tv-flux]="--pde tv --form flux"
  [ch-flux]="--pde ch --form flux --limit 150 --stability-margin 0.5"
)
common="--seed 1"
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(pm tv tv-plain-point tv-plain ch ced-point ced ced-direct-point ced-direct ced-restore ch-long tv-flux ch-flux)
# Cahn-Hilliard sharpens and overshoots [0, 1] even in the reference, so its horizon is
# measured against a range widened by 50% of the span instead of 10%.
for name in "${names[@]}"; do
  start=$(date +%s)
  cache=()
  if [ "${COLD:-0}" = 1 ]; then
    rm -rf "out/train/cache-$name"
    cache=(--cache "out/train/cache-$name")
  fi
  # shellcheck disable=SC2086
  out="models/$name.blade"
  [[ $name == *-point ]] && out="out/train/$name.blade"  # a knot of the box, not shipped alone
  "$blade" train $common ${args[$name]} "${cache[@]}" --images "$train" --out "$out" \
    | tee "out/train/$name.txt"
  echo "$name: $(( $(date +%s) - start )) s wall" | tee -a "out/train/$name.txt"
done
