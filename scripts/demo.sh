#!/usr/bin/env bash
# The main job: the four reference PDE solvers on the default image (or $1), results in out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
blade=build/bin/blade
image=${1:-/usr/lib/python3/dist-packages/skimage/data/astronaut.png}
out=out/demo
mkdir -p "$out"
[ -f "$image" ] || { echo "demo: image '$image' not found (install python3-skimage or pass an image)" >&2; exit 1; }

echo "demo: input $image"
for pde in tv pm ced; do
  "$blade" solve --pde "$pde" "$image" "$out/$pde.png"
done
# Cahn-Hilliard separates gray levels into 0/1 phases: run it on the luma.
"$blade" solve --pde ch --luma "$image" "$out/ch.png"
"$blade" montage --columns 5 "$image" "$out/tv.png" "$out/pm.png" "$out/ced.png" \
  "$out/ch.png" "$out/side_by_side.png"
echo "demo: side-by-side (input | TV flow | Perona-Malik | CED | Cahn-Hilliard on luma):"
echo "      $out/side_by_side.png"
