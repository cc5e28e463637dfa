#!/usr/bin/env bash
# SIGINT during training: exit 130, no output model and no temporary files; the checkpoint it
# left resumes to a finished model. SIGINT during a large solve: no output either.
set -u
blade="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
/usr/bin/python3 - "$work" <<'PY'
import sys
from skimage import data, io
for i, img in enumerate([data.camera(), data.astronaut(), data.coffee(), data.chelsea()]):
    io.imsave(f"{sys.argv[1]}/i{i}.png", img[:128, :128], check_contrast=False)
PY
common=(--pde pm --images "$work" --optimizer adam --crop 0 --batch 1 --learning-rate 1e-4
        --patience 1000 --stability-steps 0 --cache "$work/cache")
"$blade" -q train "${common[@]}" --epochs 100000 --checkpoint "$work/ck.blade" --out "$work/model.blade" &
pid=$!
for _ in $(seq 600); do [ -f "$work/ck.blade" ] && break; sleep 0.1; done
sleep 0.3
kill -INT $pid
wait $pid
rc=$?
leftover=$(find "$work" -maxdepth 1 -name '.*tmp*' | head -1)
if [ $rc -ne 130 ]; then echo "FAIL (train SIGINT): exit $rc, expected 130"; fail=1
elif [ -e "$work/model.blade" ]; then echo "FAIL (train SIGINT): the output model exists"; fail=1
elif [ -n "$leftover" ]; then echo "FAIL (train SIGINT): temporary file left: $leftover"; fail=1
elif [ ! -f "$work/ck.blade" ] || [ ! -f "$work/ck.best.blade" ]; then echo "FAIL (train SIGINT): no checkpoint"; fail=1
else echo "ok   (train SIGINT): exit 130, no output, checkpoint kept"; fi

epoch=$("$blade" info "$work/ck.blade" | awk '$1 == "checkpoint_epoch" {print $2}')
"$blade" -q train "${common[@]}" --epochs $((epoch + 2)) --resume "$work/ck.blade" --out "$work/model.blade" \
  >"$work/resume.txt" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ -f "$work/model.blade" ] && grep -q "$((epoch + 2)) epochs" "$work/resume.txt"; then
  echo "ok   (resume): continued after epoch $epoch to $((epoch + 2))"
else
  echo "FAIL (resume): exit $rc: $(cat "$work/resume.txt")"; fail=1
fi
"$blade" -q train "${common[@]}" --epochs 3 --resume "$work/i0.png" --out "$work/other.blade" >/dev/null 2>"$work/err.txt"
if [ $? -eq 1 ] && grep -q "blade: error" "$work/err.txt" && [ ! -e "$work/other.blade" ]; then
  echo "ok   (resume from a non-model): $(head -1 "$work/err.txt")"
else
  echo "FAIL (resume from a non-model)"; fail=1
fi

# A long reference solve (50,000 CED steps: minutes), stopped after a second by SIGNAL: exit
# 128 + its number, as a shell reports a process the signal ended; no output, no temporary file.
interrupt_solve() {
  local signal=$1 code=$2
  "$blade" -q solve --pde ced --steps 50000 --force "$work/i1.png" "$work/big.png" &
  local pid=$!
  sleep 1
  kill -"$signal" $pid
  wait $pid
  local rc=$?
  if [ $rc -eq "$code" ] && [ ! -e "$work/big.png" ] && [ -z "$(find "$work" -maxdepth 1 -name '.*tmp*')" ]; then
    echo "ok   (solve SIG$signal): exit $code, no output"
  else
    echo "FAIL (solve SIG$signal): exit $rc, expected $code"; fail=1
  fi
}
interrupt_solve INT 130
interrupt_solve TERM 143
exit $fail
