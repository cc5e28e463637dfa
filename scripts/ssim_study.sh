#!/usr/bin/env bash
# L2-trained against SSIM-trained models (issue 11): each shipped direct model's recipe
# (scripts/train_models.sh) with the fine-tuning loss changed, then kodak4x on the 24 Kodak
# images for the new and the shipped (L2) model. Writes out/ssim/NAME{.blade,.json};
# scripts/ssim_study.py tabulates. Usage: scripts/ssim_study.sh [NAME ...]
set -euo pipefail
cd "$(dirname "$0")/.."
out=out/ssim
mkdir -p "$out"
blade=build/bin/blade
train=../shared/data/train/BSDS500
newton="--optimizer newton --learning-rate 1 --patience 5 --epochs 20"
# PM ships least squares only; here it is fine-tuned (LS init, then the loss's newton steps).
declare -A args=(
  [tv-ssim]="--pde tv --footprint 7 $newton --loss ssim"
  [tv-mix]="--pde tv --footprint 7 $newton --loss mix --ssim-weight 0.01"
  [pm-ssim]="--pde pm --footprint 7 --bins 24 16 3 --ridge 1e-5 $newton --loss ssim"
  [pm-l2-tuned]="--pde pm --footprint 7 --bins 24 16 3 --ridge 1e-5 $newton"
  [ced-ssim]="--pde ced --limit 64 --footprint 7 --augment-ls $newton --loss ssim"
  [ced-mix]="--pde ced --limit 64 --footprint 7 --augment-ls $newton --loss mix --ssim-weight 0.01"
)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(tv-ssim tv-mix pm-ssim pm-l2-tuned ced-ssim ced-mix)
for name in "${names[@]}"; do
  if [ ! -f "$out/$name.blade" ]; then
    # shellcheck disable=SC2086
    "$blade" -q train --seed 1 --form direct ${args[$name]} --images "$train" \
      --out "$out/$name.blade" --log "$out/$name-log.json" > "$out/$name-train.txt"
  fi
  "$blade" -q eval --model "$out/$name.blade" --images ../shared/data/kodak --json "$out/$name.json" \
    > "$out/$name-eval.txt"
  echo "$name: $(grep '^blade' "$out/$name-eval.txt")"
done
for shipped in tv pm ced; do
  "$blade" -q eval --model "models/$shipped.blade" --images ../shared/data/kodak \
    --json "$out/$shipped-l2.json" > "$out/$shipped-l2-eval.txt"
  echo "$shipped (shipped, L2): $(grep '^blade' "$out/$shipped-l2-eval.txt")"
done
