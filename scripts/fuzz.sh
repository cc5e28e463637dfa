#!/usr/bin/env bash
# Builds the libFuzzer targets (preset fuzz: clang, ASan, UBSan) and runs each for RUNS inputs
# (default 200000) from a copy of its seed corpus (fuzz/corpus/TARGET); a crash leaves its
# input as build-fuzz/crash-* and fails. Usage: scripts/fuzz.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200000}
scripts/install-deps.sh fuzz
cmake --preset fuzz >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target image_reader_fuzz model_loader_fuzz
for target in image_reader model_loader; do
  corpus=$(mktemp -d)
  cp fuzz/corpus/$target/* "$corpus"/
  echo "fuzz: $target, $runs inputs"
  start=$(date +%s)
  # -max_len: whole small models and images; -rss_limit_mb: the pixel limit keeps decoding small.
  log=build-fuzz/$target.log
  rc=0
  (cd build-fuzz && ASAN_OPTIONS=detect_leaks=1 OMP_NUM_THREADS=1 ./bin/${target}_fuzz \
     -runs="$runs" -max_len=16384 -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 "$corpus") \
     >"$log" 2>&1 || rc=$?
  grep -E "^(Done|stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added|stat::peak_rss_mb|SUMMARY|==[0-9]+==ERROR)" "$log" || true
  echo "fuzz: $target finished in $(( $(date +%s) - start )) s, exit $rc (log: $log)"
  rm -rf "$corpus"
  if [ "$rc" -ne 0 ] || compgen -G "build-fuzz/crash-*" >/dev/null || \
     compgen -G "build-fuzz/timeout-*" >/dev/null || compgen -G "build-fuzz/oom-*" >/dev/null; then
    echo "fuzz: $target found a failing input (build-fuzz/crash-*, timeout-*, oom-*)" >&2
    exit 1
  fi
done
