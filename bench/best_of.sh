#!/bin/sh
# Runs blade_bench N times (default 8) on the given filter and prints, per benchmark, the best
# (minimum) and the median real time over the runs: on a shared VM whose clock and memory
# bandwidth swing between runs, the best run shows what the code does on an undisturbed core,
# and the median what a user of that VM saw. Usage: bench/best_of.sh FILTER [N] [BINARY]
set -eu
filter=$1
n=${2:-8}
bin=${3:-build/bin/blade_bench}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
i=0
while [ "$i" -lt "$n" ]; do
  "$bin" --benchmark_filter="$filter" --benchmark_min_time=0.2 2>/dev/null | grep '^BM_' >>"$tmp"
  i=$((i + 1))
done
# Columns: name, real time, unit. Sort each benchmark's times; print min and median.
awk '{print $1, $2, $3}' "$tmp" | sort -k1,1 -k2,2g | awk '
  { name[NR] = $1; t[NR] = $2; u[NR] = $3 }
  END {
    i = 1
    while (i <= NR) {
      j = i; while (j + 1 <= NR && name[j + 1] == name[i]) j++
      m = i + int((j - i) / 2)
      printf "%-36s best %8.3f %s   median %8.3f %s   (%d runs)\n", name[i], t[i], u[i], t[m], u[m], j - i + 1
      i = j + 1
    }
  }'
