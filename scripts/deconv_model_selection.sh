#!/usr/bin/env bash
# Chooses the CED model for restoration on held-out BSDS images, never on Kodak: trains CED
# models that differ in the selection scale rho (and the loss), then scores each in the paper's
# deconvolution setting (blur sigma 1, noise 5/255, lambda 2, 10 steps) on 24 BSDS500 training
# photographs that no shipped CED model was trained on (sorted positions 101-124; the CED
# models use the first 64), gray and color. The winner is trained into models/ by
# `scripts/train_models.sh TRAIN_DIR ced-restore`; docs/RESULTS.md has the outcome.
# Usage: scripts/deconv_model_selection.sh [TRAIN_DIR]   (default ../shared/data/train/BSDS500)
set -euo pipefail
cd "$(dirname "$0")/.."
blade=build/bin/blade
train=${1:-../shared/data/train/BSDS500}
out=out/deconv_select
[ -d "$train" ] || { echo "deconv_model_selection: '$train' not found" >&2; exit 1; }
mkdir -p "$out/heldout"
rm -f "$out/heldout"/*
find "$train" -maxdepth 1 -type f \( -name '*.jpg' -o -name '*.png' \) | sort | sed -n 101,124p |
  while read -r f; do ln -s "$(realpath "$f")" "$out/heldout/"; done
base="--seed 1 --pde ced --form direct --limit 64 --footprint 7 --augment-ls --epochs 20"
base="$base --optimizer newton --learning-rate 1 --patience 5"
declare -A variants=(
  [rho0.7]="--rho 0.7" [rho1]="--rho 1" [rho1.5]="--rho 1.5" [rho2]="--rho 2" [rho3]="--rho 3"
  [rho4]="--rho 4" [rho6]="--rho 6" [rho1-mix]="--rho 1 --loss mix --ssim-weight 0.01"
)
printf '%-10s %22s %22s\n' variant "gray PSNR / SSIM" "color PSNR / SSIM"
for name in rho0.7 rho1 rho1.5 rho2 rho3 rho4 rho6 rho1-mix; do
  # shellcheck disable=SC2086
  "$blade" -q train $base ${variants[$name]} --images "$train" --out "$out/$name.blade" >/dev/null
  row=()
  for mode in gray color; do
    "$blade" -q eval-app deconv --model "$out/$name.blade" --images "$out/heldout" --$mode \
      --json "$out/$name-$mode.json" >/dev/null
    row+=("$(/usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['rows']; \
print(f\"{r['blade']['psnr']:.3f} / {r['blade']['ssim']:.4f}\")" "$out/$name-$mode.json")")
  done
  printf '%-10s %22s %22s\n' "$name" "${row[0]}" "${row[1]}"
done
