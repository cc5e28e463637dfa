#!/usr/bin/env bash
# Bad input to the `blade` tool: one "blade: error:" line, exit 1 (2 for usage), and no output file.
set -u
blade="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
sample=/usr/lib/python3/dist-packages/skimage/data/camera.png

# expect CODE DESCRIPTION -- COMMAND...: runs the command, checks the exit code, the message
# format, and that $work/out.* does not exist afterwards.
expect() {
  local code=$1 what=$2
  shift 3
  rm -f "$work"/out.*
  "$@" >"$work/stdout" 2>"$work/stderr"
  local got=$?
  local first
  first=$(head -n 1 "$work/stderr")
  if [ "$got" -ne "$code" ]; then
    echo "FAIL ($what): exit $got, expected $code; stderr: $first"; fail=1
  elif [[ "$first" != "blade: error: "* ]]; then
    echo "FAIL ($what): message does not start with 'blade: error:': $first"; fail=1
  elif compgen -G "$work/out.*" >/dev/null || compgen -G "$work/.out.*" >/dev/null; then
    echo "FAIL ($what): an output file was left behind"; fail=1
  else
    echo "ok   ($what): $first"
  fi
}

cp "$sample" "$work/good.png"
head -c 2000 "$sample" >"$work/truncated.png"
: >"$work/empty.png"
echo "this is not an image" >"$work/text.png"
printf 'BM\x36\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00' >"$work/image.bmp"
/usr/bin/python3 - "$work" <<'PY'
import struct, sys, zlib
def png(path, w, h):
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    def chunk(kind, payload):
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))
    open(path, "wb").write(data)
png(sys.argv[1] + "/huge.png", 100000, 100000)
png(sys.argv[1] + "/zero.png", 0, 16)
import numpy as np
a = np.full((16, 16), 0.5, np.float32); a[3, 3] = np.nan
np.save(sys.argv[1] + "/nan.npy", a)
PY

out="$work/out.png"
expect 1 "missing input" -- "$blade" solve --pde pm "$work/nope.png" "$out"
expect 1 "empty file" -- "$blade" solve --pde pm "$work/empty.png" "$out"
expect 1 "truncated png" -- "$blade" solve --pde pm "$work/truncated.png" "$out"
expect 1 "not an image" -- "$blade" solve --pde pm "$work/text.png" "$out"
expect 1 "unsupported format" -- "$blade" solve --pde pm "$work/image.bmp" "$out"
expect 1 "header claims 100000x100000" -- "$blade" solve --pde pm "$work/huge.png" "$out"
grep -q "limit" "$work/stderr" || { echo "FAIL (huge header): message does not name the pixel limit"; fail=1; }
expect 1 "zero-size image" -- "$blade" solve --pde pm "$work/zero.png" "$out"
expect 1 "NaN in the input" -- "$blade" solve --pde pm "$work/nan.npy" "$out"
expect 1 "unknown PDE" -- "$blade" solve --pde heat "$work/good.png" "$out"
expect 1 "unknown parameter" -- "$blade" solve --pde pm --param kappa=3 "$work/good.png" "$out"
expect 1 "negative parameter" -- "$blade" solve --pde pm --param c=-1 "$work/good.png" "$out"
expect 1 "NaN parameter" -- "$blade" solve --pde pm --param c=nan "$work/good.png" "$out"
expect 2 "non-numeric parameter" -- "$blade" solve --pde pm --param c=abc "$work/good.png" "$out"
expect 1 "negative time" -- "$blade" solve --pde pm --time -1 "$work/good.png" "$out"
expect 1 "NaN time" -- "$blade" solve --pde pm --time nan "$work/good.png" "$out"
expect 1 "infinite step" -- "$blade" solve --pde pm --dt inf "$work/good.png" "$out"
expect 1 "negative step" -- "$blade" solve --pde pm --dt -0.1 "$work/good.png" "$out"
expect 1 "unstable step" -- "$blade" solve --pde pm --dt 5 "$work/good.png" "$out"
expect 1 "absurd step count" -- "$blade" solve --pde pm --dt 1e-12 "$work/good.png" "$out"
expect 1 "zero dx" -- "$blade" solve --pde pm --dx 0 "$work/good.png" "$out"
expect 1 "diverging run" -- "$blade" solve --pde ch --time 1000 --steps 10 "$work/good.png" "$out"
expect 1 "unknown output format" -- "$blade" solve --pde pm "$work/good.png" "$work/out.xyz"
expect 1 "output directory missing" -- "$blade" solve --pde pm "$work/good.png" "$work/no/out.png"
expect 1 "unknown preset" -- "$blade" solve --pde pm --preset nope "$work/good.png" "$out"
expect 2 "unknown option" -- "$blade" solve --pde pm --bogus "$work/good.png" "$out"
expect 2 "missing argument" -- "$blade" solve --pde pm "$work/good.png"
expect 2 "no subcommand" -- "$blade"
expect 1 "compare: different sizes" -- "$blade" compare "$work/good.png" "$work/huge.png"
expect 1 "compare: missing file" -- "$blade" compare "$work/good.png" "$work/nope.png"

# A good run writes its output and nothing else.
if "$blade" solve --pde pm --time 0.5 "$work/good.png" "$work/ok.png" 2>/dev/null && [ -s "$work/ok.png" ]; then
  echo "ok   (good run writes output)"
else
  echo "FAIL (good run)"; fail=1
fi
leftover=$(find "$work" -name '.*tmp*' | head -1)
[ -z "$leftover" ] || { echo "FAIL: temporary file left behind: $leftover"; fail=1; }
exit $fail
