#!/usr/bin/env bash
# Installs the Debian 12 packages that building, testing and the demo need (with `bench`, also
# the benchmark peers); skips those present.
set -euo pipefail
packages=(
  build-essential cmake pkg-config          # compiler, CMake, CTest
  clang-format                               # `make test` checks the C++ formatting
  libpng-dev libjpeg62-turbo-dev libtiff-dev # image I/O
  libfftw3-dev                               # DCT (Cahn-Hilliard, large Gaussians)
  libeigen3-dev                              # blocked normal-equation updates (resampling fit)
  libhwy-dev                                 # Highway SIMD with runtime dispatch
  nlohmann-json3-dev libcli11-dev            # presets/model JSON, command line
  libgtest-dev libbenchmark-dev              # tests, benchmarks
  python3 python3-numpy python3-skimage python3-pytest  # cross-checks; skimage's sample images
  python3-matplotlib                         # the report's plots
  python3-dev pybind11-dev                   # the Python module
  python3-distributed python3-pil            # Dask scale-out; test images in many formats
  chromium                                   # the test that renders the report headless
)
# `install-deps.sh bench`: also the peers that bench/peers.py times side by side with blade.
if [ "${1:-}" = bench ]; then
  packages+=(python3-opencv gmic)
fi
# `install-deps.sh fuzz`: clang with libFuzzer, and its OpenMP runtime.
if [ "${1:-}" = fuzz ]; then
  packages+=(clang libomp-dev)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing Debian packages: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
