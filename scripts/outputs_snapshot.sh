#!/usr/bin/env bash
# Every number a refactor must not change: the kodak4x table of each shipped model, the application
# evaluations and the resampling bursts on Kodak, as JSON. Usage: scripts/outputs_snapshot.sh BLADE OUTDIR
# (compare two snapshots with scripts/compare_snapshots.py).
set -u
B=$1; O=$2; root=$(cd "$(dirname "$0")/.." && pwd); K=${KODAK:-$root/../shared/data/kodak}; M=$root/models
mkdir -p $O
export OMP_WAIT_POLICY=PASSIVE
for m in tv pm ced ch tv-flux ced-direct ch-flux tv-monotone pm-monotone ced-monotone ced-restore; do
  $B -q eval --model $M/$m.blade --images $K --json $O/eval_$m.json > $O/eval_$m.txt 2>&1
done
$B -q eval-app deconv --model $M/ced-restore.blade --images $K --gray --json $O/deconv_gray.json > $O/deconv_gray.txt 2>&1
$B -q eval-app deconv --model $M/ced-restore.blade --images $K --color --json $O/deconv_color.json > $O/deconv_color.txt 2>&1
$B -q eval-app upscale --model $M/tv.blade --images $K --json $O/upscale_gray.json > $O/upscale_gray.txt 2>&1
$B -q eval-app segment --model $M/tv.blade --images $K --limit 8 --json $O/segment_gray.json > $O/segment_gray.txt 2>&1
$B -q eval-resample --model $M/resample.blade --images $K --json $O/resample.json > $O/resample.txt 2>&1
$B -q eval-resample --model $M/resample3.blade --images $K --json $O/resample3.json > $O/resample3.txt 2>&1
echo ALLDONE > $O/DONE
