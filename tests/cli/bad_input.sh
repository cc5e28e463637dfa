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
"$blade" montage --scale 0.5 "$work/good.png" "$work/small.png" >/dev/null
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
np.save(sys.argv[1] + "/flat.npy", np.full((24, 24), 0.5, np.float32))
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

# Models: a valid one (every filter the 5-point Laplacian) and damaged copies.
/usr/bin/python3 - "$work" <<'PY'
import json, sys
lap = [0.0] * 25
lap[12] = -4.0
for i in (7, 11, 13, 17):
    lap[i] = 1.0
sel = {"orientations": 24, "strengths": 3, "coherences": 3, "intensities": 1, "rho": 1.0,
       "joint_color": False, "strength_thresholds": [0.01, 0.05],
       "coherence_thresholds": [0.25, 0.5], "intensity_thresholds": []}
model = {"format": "blade-model", "version": 1, "form": "direct", "pde": "heat", "preset": "",
         "pde_params": {}, "dt": 0.2, "steps": 10, "integrator": "euler", "constraint": "none",
         "provenance": {"note": "test model"},
         "banks": [{"selection": sel, "footprint": 5, "count": 216, "taps": lap * 216}]}
d = sys.argv[1]
text = json.dumps(model)
open(d + "/good.blade", "w").write(text)
open(d + "/truncated.blade", "w").write(text[: len(text) // 2])
open(d + "/v9.blade", "w").write(text.replace('"version": 1', '"version": 9'))
open(d + "/nan.blade", "w").write(text.replace('"taps": [0.0', '"taps": [NaN', 1))
short = dict(model, safe_steps=5, safe_range=[0.0, 1.0])
open(d + "/short.blade", "w").write(json.dumps(short))
# A Perona-Malik model at its preset (dt 0.4, 10 steps; the Laplacian / 4 is stable) whose
# measured horizon is 5 steps: `eval` refuses it unless --unsafe.
pm = dict(model, pde="pm", preset="pm", pde_params={"c": 0.1}, dt=0.4, safe_steps=5,
          safe_range=[0.0, 1.0])
pm["banks"] = [dict(model["banks"][0], taps=[t / 4 for t in lap] * 216)]
open(d + "/pm-short.blade", "w").write(json.dumps(pm))
model["form"] = "resample"
model["banks"] = model["banks"] * 2
open(d + "/resample.blade", "w").write(json.dumps(model))
PY
expect 1 "missing model" -- "$blade" run --model "$work/nope.blade" "$work/good.png" "$out"
expect 1 "truncated model" -- "$blade" run --model "$work/truncated.blade" "$work/good.png" "$out"
expect 1 "model of another version" -- "$blade" run --model "$work/v9.blade" "$work/good.png" "$out"
expect 1 "model with non-finite filters" -- "$blade" run --model "$work/nan.blade" "$work/good.png" "$out"
expect 1 "model of the wrong form" -- "$blade" run --model "$work/resample.blade" "$work/good.png" "$out"
expect 1 "an image as the model" -- "$blade" run --model "$work/good.png" "$work/good.png" "$out"
expect 1 "run: negative dt" -- "$blade" run --model "$work/good.blade" --dt -1 "$work/good.png" "$out"
expect 1 "run: unknown integrator" -- "$blade" run --model "$work/good.blade" --integrator rk4 "$work/good.png" "$out"
expect 1 "run: a step larger than the model's" -- "$blade" run --model "$work/good.blade" --dt 100 "$work/good.png" "$out"
grep -q "larger than the .* this model was trained" "$work/stderr" || { echo "FAIL (large dt message)"; fail=1; }
expect 1 "run: a model that never ends" -- timeout 20 "$blade" run --model /dev/zero "$work/good.png" "$out"
expect 1 "run: a folder as the model" -- "$blade" run --model "$work" "$work/good.png" "$out"
expect 2 "run: an option's value that looks like an option" -- "$blade" run --frames-dir -x "$work/good.png" "$out"
grep -q -- "--model is required" "$work/stderr" || { echo "FAIL (--frames-dir -x: $(cat "$work/stderr"))"; fail=1; }
expect 2 "run: a misspelt required option" -- "$blade" run --modle "$work/good.blade" "$work/good.png" "$out"
grep -q "unknown option --modle; did you mean '--model'? (usage: blade run --help)" "$work/stderr" \
  || { echo "FAIL (misspelt required option: $(cat "$work/stderr"))"; fail=1; }
expect 1 "run: past the measured stability horizon" -- "$blade" run --model "$work/short.blade" --steps 6 "$work/good.png" "$out"
expect 1 "run: past the horizon by a larger dt" -- "$blade" run --model "$work/short.blade" --steps 5 --dt 0.3 "$work/good.png" "$out"
expect 1 "run: diverging" -- "$blade" run --model "$work/good.blade" --dt 50 --steps 200 "$work/good.png" "$out"
expect 1 "info: truncated model" -- "$blade" info "$work/truncated.blade"
expect 1 "info: an image given as the model" -- "$blade" info "$work/good.png"
grep -q "is an image, not a blade model" "$work/stderr" || { echo "FAIL (image as a model: $(cat "$work/stderr"))"; fail=1; }
expect 2 "'blade help'" -- "$blade" help
/usr/bin/python3 -c "import numpy as np, sys; np.save(sys.argv[1], np.zeros((3, 20, 30), np.float32))" "$work/chw.npy"
expect 1 "a channels-first NPY" -- "$blade" run --model "$work/good.blade" "$work/chw.npy" "$out"
grep -q "channels first? use np.moveaxis" "$work/stderr" || { echo "FAIL (CHW hint: $(cat "$work/stderr"))"; fail=1; }
expect 1 "deconv: a data weight that grows every step" -- "$blade" deconv --model "$work/good.blade" --force-model --lambda 1e9 "$work/good.png" "$out"
grep -q "lambda 1e+09 is too large" "$work/stderr" || { echo "FAIL (deconv lambda: $(cat "$work/stderr"))"; fail=1; }
if "$blade" upscale --model "$work/good.blade" --force-model --project --steps 2 "$work/good.png" "$work/up.tiff" 2>/dev/null \
   && [ -s "$work/up.tiff" ]; then echo "ok   (upscale --project writes output)"; else echo "FAIL (upscale --project)"; fail=1; fi
if "$blade" run --model "$work/short.blade" --steps 6 --unsafe "$work/good.png" "$work/unsafe.tiff" 2>/dev/null \
   && [ -s "$work/unsafe.tiff" ]; then echo "ok   (run --unsafe goes past the horizon)"; else echo "FAIL (run --unsafe)"; fail=1; fi
mkdir -p "$work/evalset" && cp "$work/small.png" "$work/evalset/"
expect 1 "eval: past the measured stability horizon" -- "$blade" eval --model "$work/pm-short.blade" --images "$work/evalset" --cache "$work/cache"
if "$blade" -q eval --model "$work/pm-short.blade" --images "$work/evalset" --cache "$work/cache" --unsafe --json "$work/eval.json" >/dev/null 2>&1 \
   && [ -s "$work/eval.json" ]; then echo "ok   (eval --unsafe scores past the horizon)"; else echo "FAIL (eval --unsafe)"; fail=1; fi
if "$blade" run --model "$work/good.blade" --integrator midpoint "$work/good.png" "$work/run.tiff" 2>/dev/null \
   && [ -s "$work/run.tiff" ]; then echo "ok   (run writes output)"; else echo "FAIL (run)"; fail=1; fi
if "$blade" info --json "$work/good.blade" | /usr/bin/python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["form"] == "direct" and j["pde"] == "heat" and j["dt"] == 0.2, j
assert j["bins"][:3] == [24, 3, 3] and j["footprint"] == 5, j
'; then echo "ok   (info --json keys)"; else echo "FAIL (info --json)"; fail=1; fi

# Applications.
/usr/bin/python3 - "$work" <<'PY'
import sys
import numpy as np
np.save(sys.argv[1] + "/mask_small.npy", np.ones((8, 8), np.float32))
PY
expect 1 "deconv: PSF too large" -- "$blade" deconv --model "$work/good.blade" --sigma 3 "$work/good.png" "$out"
expect 1 "deconv: resampling model" -- "$blade" deconv --model "$work/resample.blade" "$work/good.png" "$out"
expect 1 "deconv: negative lambda" -- "$blade" deconv --model "$work/good.blade" --lambda -1 "$work/good.png" "$out"
expect 1 "restore: mask of the wrong size" -- "$blade" restore --model "$work/good.blade" --op "mask:$work/mask_small.npy" "$work/good.png" "$out"
expect 1 "restore: unknown operator" -- "$blade" restore --model "$work/good.blade" --op sharpen "$work/good.png" "$out"
expect 1 "restore: subsampling (upscale's)" -- "$blade" restore --model "$work/good.blade" --op "subsample:factor=2" "$work/good.png" "$out"
expect 1 "restore: a blur without its sigma" -- "$blade" restore --model "$work/good.blade" --op blur "$work/good.png" "$out"
expect 1 "restore: an unknown key" -- "$blade" restore --model "$work/good.blade" --op "blur:sigma=1,foo=3" "$work/good.png" "$out"
expect 1 "restore: a sigma that is not a number" -- "$blade" restore --model "$work/good.blade" --op "blur:sigma=1x" "$work/good.png" "$out"
expect 1 "segment: resampling model" -- "$blade" segment --model "$work/resample.blade" "$work/good.png" "$out"
expect 1 "segment: zero iterations" -- "$blade" segment --reference --iters 0 "$work/good.png" "$out"
expect 1 "segment: a constant image" -- "$blade" -q segment "$work/flat.npy" "$out"
expect 1 "segment --reference: a constant image" -- "$blade" segment --reference "$work/flat.npy" "$out"
expect 1 "segment: shipped model not found" -- env BLADE_MODELS_DIR="$work/nowhere" "$blade" segment --iters 5 "$work/good.png" "$out"
# Resampling and alignment.
printf 'XXXX\x02\x00\x00\x00' > "$work/bad.flo"
expect 1 "resample: missing flow" -- "$blade" resample --method bicubic --flow "$work/nope.flo" "$work/good.png" "$out"
expect 1 "resample: corrupt flow" -- "$blade" resample --method bicubic --flow "$work/bad.flo" "$work/good.png" "$out"
expect 1 "resample: bad flow (shipped model)" -- "$blade" -q resample --flow "$work/bad.flo" "$work/good.png" "$out"
expect 1 "resample: a direct model" -- "$blade" resample --model "$work/good.blade" --flow "$work/bad.flo" "$work/good.png" "$out"
expect 1 "resample: unknown method" -- "$blade" resample --method nearest --flow "$work/bad.flo" "$work/good.png" "$out"
expect 1 "align: frames of different sizes" -- "$blade" align "$work/good.png" "$work/small.png" --flow "$work/f.flo"
expect 1 "align: output not .flo" -- "$blade" align "$work/good.png" "$work/good.png" --flow "$work/f.png"
expect 1 "eval-resample: a direct model" -- "$blade" eval-resample --model "$work/good.blade" --images "$work/good.png"
if "$blade" align "$work/good.png" "$work/good.png" --flow "$work/f.flo" 2>/dev/null \
   && "$blade" resample --method lanczos --flow "$work/f.flo" "$work/good.png" "$work/rs.tiff" 2>/dev/null \
   && [ -s "$work/rs.tiff" ]; then echo "ok   (align then resample write outputs)"; else echo "FAIL (align/resample)"; fail=1; fi
expect 2 "denoise: --time with --stop sure" -- "$blade" denoise --sigma 20 --stop sure --time 0.05 "$work/good.png" "$out"
expect 2 "denoise: unknown stopping rule" -- "$blade" denoise --sigma 20 --stop discrepancy "$work/good.png" "$out"
models="$(cd "$(dirname "$0")/../.." && pwd)/models"
expect 1 "denoise: negative time (out of range: 1, as solve --time -1)" -- "$blade" denoise --sigma 20 --time -1 --model "$models/tv-plain.blade" "$work/good.png" "$out"
expect 1 "baselines: a preset of another PDE" -- "$blade" baselines --pde tv --preset pm --images "$work"
expect 1 "eval: an upscaler is not a PDE model" -- "$blade" eval --model "$models/upscale-x2-area.blade" --images "$work"
expect 1 "solve: negative time" -- "$blade" solve --pde tv --time -1 "$work/good.png" "$out"
expect 1 "denoise: a learned denoiser outside its levels" -- "$blade" denoise --sigma 1.5 --model "$models/denoise-gray.blade" "$work/good.png" "$out"
expect 1 "denoise: a color denoiser on a gray image" -- "$blade" denoise --sigma 20 --model "$models/denoise-color.blade" "$work/good.png" "$out"
expect 1 "denoise: SURE with a learned denoiser" -- "$blade" denoise --sigma 20 --stop sure --model "$models/denoise-gray.blade" "$work/good.png" "$out"
expect 1 "denoise: a time with a learned denoiser" -- "$blade" denoise --sigma 20 --time 0.05 --model "$models/denoise-gray.blade" "$work/good.png" "$out"
expect 1 "run: a learned denoiser" -- "$blade" run --model "$models/denoise-gray.blade" "$work/good.png" "$out"
mkdir -p "$work/photos" && cp "$work/good.png" "$work/photos/"
expect 1 "train-denoise: descending levels" -- "$blade" train-denoise --images "$work/photos" --sigmas 20,10 --out "$work/out.blade"
expect 1 "train-denoise: even footprint" -- "$blade" train-denoise --images "$work/photos" --footprint 4 --out "$work/out.blade"
expect 1 "train-refiner: not an upscaler" -- "$blade" train-refiner --model "$models/denoise-gray.blade" --images "$work/photos" --steps 5 --out "$work/out.blade"
expect 1 "train-refiner: already refined" -- "$blade" train-refiner --model "$models/upscale-x2-area.blade" --images "$work/photos" --steps 5 --out "$work/out.blade"
# (The options are checked first: the message names the option, not the model's refiner.)
expect 1 "train-refiner: one layer" -- "$blade" train-refiner --model "$models/upscale-x2-area.blade" --images "$work/photos" --layers 1 --out "$work/out.blade"
grep -q "layers must be 2..8" "$work/stderr" || { echo "FAIL (train-refiner: one layer): wrong message"; fail=1; }
expect 1 "train-refiner: zero rate" -- "$blade" train-refiner --model "$models/upscale-x2-area.blade" --images "$work/photos" --rate 0 --out "$work/out.blade"
grep -q "learning rate must be" "$work/stderr" || { echo "FAIL (train-refiner: zero rate): wrong message"; fail=1; }
expect 1 "train-refiner: context" -- "$blade" train-refiner --model "$models/upscale-x2-area.blade" --images "$work/photos" --context 17 --out "$work/out.blade"
grep -q "context must be -1" "$work/stderr" || { echo "FAIL (train-refiner: context): wrong message"; fail=1; }
expect 1 "upscale: zero factor" -- "$blade" upscale --model "$work/good.blade" --factor 0 "$work/good.png" "$out"
expect 1 "upscale: absurd factor" -- "$blade" upscale --model "$work/good.blade" --factor 100000 "$work/good.png" "$out"
expect 1 "upscale: unknown degradation" -- "$blade" upscale --model "$work/good.blade" --degradation box "$work/good.png" "$out"
expect 1 "upscale: gaussian without its sigma" -- "$blade" upscale --model "$work/good.blade" --degradation gaussian "$work/good.png" "$out"
expect 1 "upscale --project: not a corner degradation" -- "$blade" upscale --model "$work/good.blade" --project --degradation area "$work/good.png" "$out"
expect 1 "upscale --project: PSF wider than an LR pixel" -- "$blade" upscale --model "$work/good.blade" --project --degradation corner:8 "$work/good.png" "$out"
expect 1 "upscale --project: resampling model" -- "$blade" upscale --model "$work/resample.blade" --project "$work/good.png" "$out"
expect 1 "stability: missing model" -- "$blade" stability --model "$work/nope.blade" --images "$work/good.png"
expect 1 "stability: bad range" -- "$blade" stability --model "$work/good.blade" --images "$work/good.png" --range 1 0
expect 1 "eval-app: unknown application" -- "$blade" eval-app sharpen --model "$work/good.blade" --images "$work/good.png"
expect 1 "show-filters: missing model" -- "$blade" show-filters --model "$work/nope.blade" "$out"
expect 1 "show-filters: zero zoom" -- "$blade" show-filters --model "$work/good.blade" --zoom 0 "$out"
expect 1 "show-filters: NaN range" -- "$blade" show-filters --model "$work/good.blade" --range nan "$out"
expect 1 "show-filters: output not an image" -- "$blade" show-filters --model "$work/good.blade" "$work/out.txt"
expect 1 "features: missing image" -- "$blade" features "$work/nope.png" "$out"
expect 1 "features: zero orientation bins" -- "$blade" features --bins 0 3 3 "$work/good.png" "$out"
expect 2 "montage: labels do not match images" -- "$blade" montage --label a --label b "$work/good.png" "$out"

# A good run writes its output and nothing else.
if "$blade" solve --pde pm --time 0.5 "$work/good.png" "$work/ok.png" 2>/dev/null && [ -s "$work/ok.png" ]; then
  echo "ok   (good run writes output)"
else
  echo "FAIL (good run)"; fail=1
fi
# Frames: every 4th of 16 PM steps (and step 0) as float TIFFs that round-trip the state exactly.
mkdir -p "$work/frames"
"$blade" -q solve --pde pm --time 4 --dt 0.25 --frames-every 4 --frames-dir "$work/frames" --depth float \
  "$work/good.png" "$work/last.tiff"
n=$(ls "$work/frames" | wc -l)
if [ "$n" -eq 5 ] && "$blade" compare "$work/frames/frame_00016.tiff" "$work/last.tiff" | grep -q "PSNR inf"; then
  echo "ok   (frames: $n files, last frame equals the output)"
else
  echo "FAIL (frames: $n files)"; fail=1
fi
leftover=$(find "$work" -name '.*tmp*' | head -1)
[ -z "$leftover" ] || { echo "FAIL: temporary file left behind: $leftover"; fail=1; }
exit $fail
