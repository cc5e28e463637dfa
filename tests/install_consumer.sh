#!/usr/bin/env bash
# Installs the build into a temporary prefix, then builds and runs tests/consumer against it
# with find_package(blade); also imports the installed Python package.
set -euo pipefail
build=$1 source=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake --install "$build" --prefix "$work/prefix" --component python >/dev/null
test -x "$work/prefix/bin/blade"
test -f "$work/prefix/include/blade/blade.h"
cmake -S "$source/tests/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/consumer" >/dev/null
out=$("$work/consumer/consumer" "$source/models/tv.blade")
echo "$out"
[[ "$out" == "consumer ok: tv model"* ]]
"$work/prefix/bin/blade" info "$source/models/tv.blade" | grep -q "form        direct"
# The installed Python package, away from the source tree.
(cd "$work" && PYTHONPATH="$work/prefix/lib/python3/dist-packages" /usr/bin/python3 -c \
  "import blade, numpy as np; print('python ok', blade.psnr(np.zeros((4, 4)), np.full((4, 4), 0.5)))")
