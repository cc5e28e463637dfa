#!/usr/bin/env bash
# Evaluates every shipped model with the kodak4x protocol (plus a 50-step stability run) and the
# least-squares-only initialisation of each, for docs/RESULTS.md. Needs ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
blade=build/bin/blade
kodak=${KODAK:-../shared/data/kodak}
train=${TRAIN:-../shared/data/train/BSDS500}
mkdir -p out/eval
for model in models/*.blade; do
  name=$(basename "$model" .blade)
  case "$name" in resample*) continue ;; esac  # resampling models: blade eval-resample
  echo "== $name"
  "$blade" -q eval --model "$model" --images "$kodak" --long-steps 50 --json "out/eval/$name.json"
done
# Least squares alone, same data and selection as the shipped model (its training command with
# --epochs 0), to show what unrolled fine-tuning adds.
for name in "$@"; do
  cmd=$("$blade" info --json "models/$name.blade" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["provenance"]["command"])')
  args=$(echo "$cmd" | sed -e 's/^blade //' -e 's/ --out [^ ]*//' -e 's/ --epochs [^ ]*//' -e 's/^-q //')
  echo "== $name, least squares only"
  # shellcheck disable=SC2086
  "$blade" -q $args --epochs 0 --stability-steps 0 --out "out/eval/${name}_ls.blade" >/dev/null
  "$blade" -q eval --model "out/eval/${name}_ls.blade" --images "$kodak" --json "out/eval/${name}_ls.json"
done
