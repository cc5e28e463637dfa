#!/usr/bin/env bash
# Aligns and resamples a real stereo pair nobody here made (scikit-image's motorcycle_left /
# motorcycle_right) and writes a side-by-side picture: left | right | right warped onto left
# with bicubic | with BLADE. Usage: scripts/resample_demo.sh [OUT_DIR] (default out/resample).
set -euo pipefail
cd "$(dirname "$0")/.."
blade=build/bin/blade
out=${1:-out/resample}
data=/usr/lib/python3/dist-packages/skimage/data
mkdir -p "$out"
left=$data/motorcycle_left.png
right=$data/motorcycle_right.png
"$blade" align "$left" "$right" --flow "$out/flow.flo" --warped "$out/warped_bicubic.png"
"$blade" resample --model models/resample3.blade --flow "$out/flow.flo" "$right" "$out/warped_blade.png"
"$blade" resample --method bicubic --flow "$out/flow.flo" "$right" "$out/warped_bicubic.png"
echo "right warped onto left (occlusions make these indicative only):"
for m in bicubic blade; do
  printf '  %-8s ' "$m"; "$blade" compare "$left" "$out/warped_$m.png"
done
"$blade" montage --columns 2 "$left" "$right" "$out/warped_bicubic.png" "$out/warped_blade.png" \
  "$out/side_by_side.png"
echo "wrote $out/side_by_side.png (left | right / bicubic-warped | BLADE-warped)"
