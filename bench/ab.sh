#!/bin/sh
# Alternates two blade_bench binaries (or two filters of one) N times, A then B, and prints each
# benchmark's real times sorted, per side: on a VM whose speed drifts for minutes at a time,
# alternation lets both sides see the same periods, and the sorted runs show the spread.
# Usage: bench/ab.sh N FILTER_A BINARY_A FILTER_B BINARY_B
set -eu
n=$1; fa=$2; ba=$3; fb=$4; bb=$5
i=0
while [ "$i" -lt "$n" ]; do
  "$ba" --benchmark_filter="$fa" --benchmark_min_time=0.2 2>/dev/null | grep '^BM_' | awk '{print "A", $1, $2}'
  "$bb" --benchmark_filter="$fb" --benchmark_min_time=0.2 2>/dev/null | grep '^BM_' | awk '{print "B", $1, $2}'
  i=$((i + 1))
done | sort -k1,1 -k2,2 -k3,3g | awk '
  { key = $1 " " $2; if (!(key in t)) order[++k] = key; t[key] = t[key] " " $3 }
  END { for (i = 1; i <= k; i++) print order[i], t[order[i]] }'
