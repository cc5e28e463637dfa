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
# expect CODE WHAT TEXT COMMAND...: the command exits with CODE, its first stderr line is one
# "blade: error:" line containing TEXT (so the test fails when an earlier check catches the input
# instead of the one named) and nothing else, and no output file is left behind.
expect() {
  local code=$1 what=$2 text=$3
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
  elif [[ "$first" != *"$text"* ]]; then
    echo "FAIL ($what): message does not say '$text': $first"; fail=1
  elif [ "$(wc -l <"$work/stderr")" -ne 1 ]; then
    echo "FAIL ($what): more than the one error line: $(cat "$work/stderr")"; fail=1
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
expect 1 "missing input" "cannot open" "$blade" solve --pde pm "$work/nope.png" "$out"
expect 1 "empty file" "is empty" "$blade" solve --pde pm "$work/empty.png" "$out"
expect 1 "truncated png" "file is truncated" "$blade" solve --pde pm "$work/truncated.png" "$out"
expect 1 "not an image" "unsupported image format (expected PN" "$blade" solve --pde pm "$work/text.png" "$out"
expect 1 "unsupported format" "unsupported image format (expected PN" "$blade" solve --pde pm "$work/image.bmp" "$out"
expect 2 "a PDE parameter typed as an option" "PDE parameters are given as --param sigma=VALUE" "$blade" solve --pde ced --sigma 1 "$work/good.png" "$out"
expect 2 "solve: a parameter given twice" "--param c is given twice" "$blade" solve --pde pm --param c=0.05 --param c=0.2 "$work/good.png" "$out"
expect 1 "solve: ch's c1 without split" "acts only with split=1" "$blade" solve --pde ch --param c1=50 "$work/good.png" "$out"
expect 1 "train: ch's c1 without split" "acts only with split=1" "$blade" train --pde ch --param c1=50 --images "$work" --out "$work/m.blade"
expect 1 "restore: a NaN parameter" "parameter eps must be finite (got nan)" "$blade" restore --op blur:sigma=1 --param eps=nan "$work/good.png" "$out"
expect 1 "train: an SSIM loss without epochs" "give --epochs N" "$blade" train --pde pm --loss ssim --images "$work" --out "$work/m.blade"
expect 1 "header claims 100000x100000" "exceeds the limit of" "$blade" solve --pde pm "$work/huge.png" "$out"
grep -q "limit" "$work/stderr" || { echo "FAIL (huge header): message does not name the pixel limit"; fail=1; }
expect 1 "zero-size image" "Invalid IHDR data" "$blade" solve --pde pm "$work/zero.png" "$out"
expect 1 "NaN in the input" "the initial image contains NaN or infini" "$blade" solve --pde pm "$work/nan.npy" "$out"
expect 1 "unknown PDE" "unknown PDE" "$blade" solve --pde heat "$work/good.png" "$out"
expect 1 "unknown parameter" "unknown parameter" "$blade" solve --pde pm --param kappa=3 "$work/good.png" "$out"
expect 1 "negative parameter" "pm parameter c must be positive (got -1)" "$blade" solve --pde pm --param c=-1 "$work/good.png" "$out"
expect 1 "NaN parameter" "pm parameter c must be a finite number (" "$blade" solve --pde pm --param c=nan "$work/good.png" "$out"
expect 2 "non-numeric parameter" "is not a number" "$blade" solve --pde pm --param c=abc "$work/good.png" "$out"
expect 1 "zero time (not 'the default')" "--time must be positive (got 0)" "$blade" solve --pde pm --time 0 "$work/good.png" "$out"
expect 1 "run: zero time" "--time must be positive (got 0)" "$blade" run --model "$work/good.blade" --time 0 "$work/good.png" "$out"
expect 1 "run: zero steps (not 'the model's')" "--steps must be 1.." "$blade" run --model "$work/good.blade" --steps 0 "$work/good.png" "$out"
expect 1 "negative time" "--time must be positive (got -1)" "$blade" solve --pde pm --time -1 "$work/good.png" "$out"
expect 1 "NaN time" "--time must be a finite number (got nan)" "$blade" solve --pde pm --time nan "$work/good.png" "$out"
expect 1 "infinite step" "--dt must be a finite number (got inf)" "$blade" solve --pde pm --dt inf "$work/good.png" "$out"
expect 1 "negative step" "--dt must be positive (got -0.1)" "$blade" solve --pde pm --dt -0.1 "$work/good.png" "$out"
expect 1 "unstable step" "time step 5 exceeds the stability limit" "$blade" solve --pde pm --dt 5 "$work/good.png" "$out"
expect 1 "absurd step count" "the run would take 4e+12 steps; refusing" "$blade" solve --pde pm --dt 1e-12 "$work/good.png" "$out"
expect 1 "zero dx" "--dx must be positive (got 0)" "$blade" solve --pde pm --dx 0 "$work/good.png" "$out"
expect 1 "diverging run" "10 steps to T = 1000 are steps of dt = 1" "$blade" solve --pde ch --time 1000 --steps 10 "$work/good.png" "$out"
expect 1 "unknown output format" "unsupported file extension '.xyz' (ex" "$blade" solve --pde pm "$work/good.png" "$work/out.xyz"
expect 1 "'-' as the output image" "not written to standard output" "$blade" solve --pde pm "$work/good.png" -
expect 1 "'-' as the input image" "not read from standard input" "$blade" solve --pde pm - "$out"
expect 1 "output directory missing" "does not exist" "$blade" solve --pde pm "$work/good.png" "$work/no/out.png"
expect 1 "unknown preset" "unknown preset" "$blade" solve --pde pm --preset nope "$work/good.png" "$out"
expect 2 "unknown option" "The following argument was not expected:" "$blade" solve --pde pm --bogus "$work/good.png" "$out"
expect 2 "missing argument" "output is required (usage: blade solve -" "$blade" solve --pde pm "$work/good.png"
expect 2 "no subcommand" "A subcommand is required (usage: blade -" "$blade"
expect 1 "compare: different sizes" "differ in size" "$blade" compare "$work/good.png" "$work/small.png"
expect 1 "compare: missing file" "cannot open" "$blade" compare "$work/good.png" "$work/nope.png"

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
expect 1 "missing model" "cannot open model" "$blade" run --model "$work/nope.blade" "$work/good.png" "$out"
expect 1 "truncated model" "is not a blade model (not valid JSON;" "$blade" run --model "$work/truncated.blade" "$work/good.png" "$out"
expect 1 "model of another version" "is a version 9 model; this blade reads" "$blade" run --model "$work/v9.blade" "$work/good.png" "$out"
expect 1 "model with non-finite filters" "is not a blade model (not valid JSON;" "$blade" run --model "$work/nan.blade" "$work/good.png" "$out"
expect 1 "model of the wrong form" "is a resampling model; \`blade run\` nee" "$blade" run --model "$work/resample.blade" "$work/good.png" "$out"
expect 1 "an image as the model" "is an image, not a blade model (.blade" "$blade" run --model "$work/good.png" "$work/good.png" "$out"
expect 1 "run: negative dt" "--dt must be positive (got -1)" "$blade" run --model "$work/good.blade" --dt -1 "$work/good.png" "$out"
expect 1 "run: unknown integrator" "unknown integrator" "$blade" run --model "$work/good.blade" --integrator rk4 "$work/good.png" "$out"
expect 1 "run: a step larger than the model's" "a step of dt 100 is larger than the 0.2" "$blade" run --model "$work/good.blade" --dt 100 "$work/good.png" "$out"
grep -q "larger than the .* this model was trained" "$work/stderr" || { echo "FAIL (large dt message)"; fail=1; }
expect 1 "run: a model that never ends" "model '/dev/zero' is larger than 256 MiB" timeout 20 "$blade" run --model /dev/zero "$work/good.png" "$out"
expect 1 "run: a folder as the model" "is a folder; give a .blade file" "$blade" run --model "$work" "$work/good.png" "$out"
expect 2 "run: an option's value that looks like an option" "--model is required (usage: blade run --" "$blade" run --frames-dir -x "$work/good.png" "$out"
grep -q -- "--model is required" "$work/stderr" || { echo "FAIL (--frames-dir -x: $(cat "$work/stderr"))"; fail=1; }
expect 2 "run: a misspelt required option" "unknown option --modle; did you mean" "$blade" run --modle "$work/good.blade" "$work/good.png" "$out"
grep -q "unknown option --modle; did you mean '--model'? (usage: blade run --help)" "$work/stderr" \
  || { echo "FAIL (misspelt required option: $(cat "$work/stderr"))"; fail=1; }
expect 1 "run: past the measured stability horizon" "the heat direct model was measured stabl" "$blade" run --model "$work/short.blade" --steps 6 "$work/good.png" "$out"
expect 1 "run: past the horizon by a larger dt" "a step of dt 0.3 is larger than the 0.2" "$blade" run --model "$work/short.blade" --steps 5 --dt 0.3 "$work/good.png" "$out"
expect 1 "run: diverging" "a step of dt 50 is larger than the 0.2 t" "$blade" run --model "$work/good.blade" --dt 50 --steps 200 "$work/good.png" "$out"
expect 1 "info: truncated model" "is not a blade model (not valid JSON;" "$blade" info "$work/truncated.blade"
expect 1 "info: an image given as the model" "is an image, not a blade model (.blade" "$blade" info "$work/good.png"
grep -q "is an image, not a blade model" "$work/stderr" || { echo "FAIL (image as a model: $(cat "$work/stderr"))"; fail=1; }
expect 2 "'blade help'" "there is no 'help' command" "$blade" help
/usr/bin/python3 -c "import numpy as np, sys; np.save(sys.argv[1], np.zeros((3, 20, 30), np.float32))" "$work/chw.npy"
expect 1 "a channels-first NPY" "channels first?" "$blade" run --model "$work/good.blade" "$work/chw.npy" "$out"
grep -q "channels first? use np.moveaxis" "$work/stderr" || { echo "FAIL (CHW hint: $(cat "$work/stderr"))"; fail=1; }
expect 1 "deconv: a data weight that grows every step" "lambda 1e+09 is too large for the step d" "$blade" deconv --model "$work/good.blade" --force-model --lambda 1e9 "$work/good.png" "$out"
grep -q "lambda 1e+09 is too large" "$work/stderr" || { echo "FAIL (deconv lambda: $(cat "$work/stderr"))"; fail=1; }
if "$blade" upscale --model "$work/good.blade" --force-model --project --steps 2 "$work/good.png" "$work/up.tiff" 2>/dev/null \
   && [ -s "$work/up.tiff" ]; then echo "ok   (upscale --project writes output)"; else echo "FAIL (upscale --project)"; fail=1; fi
if "$blade" run --model "$work/short.blade" --steps 6 --unsafe "$work/good.png" "$work/unsafe.tiff" 2>/dev/null \
   && [ -s "$work/unsafe.tiff" ]; then echo "ok   (run --unsafe goes past the horizon)"; else echo "FAIL (run --unsafe)"; fail=1; fi
mkdir -p "$work/evalset" && cp "$work/small.png" "$work/evalset/"
expect 1 "eval: past the measured stability horizon" "the pm direct model was measured stab" "$blade" eval --model "$work/pm-short.blade" --images "$work/evalset" --cache "$work/cache"
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
# A mask painted by erasing to transparency: white everywhere, its hole only in the alpha.
from PIL import Image
w, h = Image.open(sys.argv[1] + "/good.png").size
rgba = np.full((h, w, 4), 255, np.uint8)
rgba[h // 4:h // 2, w // 4:w // 2, 3] = 0
Image.fromarray(rgba, "RGBA").save(sys.argv[1] + "/mask_alpha.png")
PY
expect 1 "deconv: PSF too large" "at most 15x15" "$blade" deconv --model "$work/good.blade" --force-model --sigma 3 "$work/good.png" "$out"
expect 1 "deconv: resampling model" "deconv needs a PDE model; this is a resa" "$blade" deconv --model "$work/resample.blade" "$work/good.png" "$out"
expect 1 "deconv: negative lambda" "--lambda must not be negative (got -1)" "$blade" deconv --model "$work/good.blade" --lambda -1 "$work/good.png" "$out"
expect 1 "restore: mask of the wrong size" "the mask is 8x8 but the image is 512x512" "$blade" restore --model "$work/good.blade" --force-model --op "mask:$work/mask_small.npy" "$work/good.png" "$out"
expect 1 "restore: a mask whose holes are transparency" "has an alpha channel" "$blade" restore --model "$work/good.blade" --force-model --op "mask:$work/mask_alpha.png" "$work/good.png" "$out"
expect 1 "restore: unknown operator" "unknown operator" "$blade" restore --model "$work/good.blade" --force-model --op sharpen "$work/good.png" "$out"
expect 1 "restore: subsampling (upscale's)" "changes the image size" "$blade" restore --model "$work/good.blade" --force-model --op "subsample:factor=2" "$work/good.png" "$out"
expect 1 "restore: a blur without its sigma" "give the blur as blur:sigma=S" "$blade" restore --model "$work/good.blade" --force-model --op blur "$work/good.png" "$out"
expect 1 "restore: an unknown key" "is not a number (blur:sigma=S only)" "$blade" restore --model "$work/good.blade" --force-model --op "blur:sigma=1,foo=3" "$work/good.png" "$out"
expect 1 "restore: a sigma that is not a number" "sigma '1x' is not a number" "$blade" restore --model "$work/good.blade" --force-model --op "blur:sigma=1x" "$work/good.png" "$out"
expect 1 "segment: resampling model" "segment needs a PDE model; this is a res" "$blade" segment --model "$work/resample.blade" "$work/good.png" "$out"
expect 1 "segment: the mask over the input" "is the input image; give the mask another file" "$blade" segment "$work/good.png" "$work/good.png"
expect 1 "segment: the overlay over the input" "is the input image; give the overlay another file" "$blade" segment --overlay "$work/good.png" "$work/good.png" "$out"
expect 1 "segment: mask and overlay in one file" "give them different files" "$blade" segment --overlay "$out" "$work/good.png" "$out"
expect 1 "segment: a model with the reference scheme (it would be ignored)" "takes no model" "$blade" segment --reference --model "$work/nope.blade" "$work/good.png" "$out"
expect 1 "segment: zero iterations" "Chan-Vese iterations must be 1..1000000" "$blade" segment --reference --iters 0 "$work/good.png" "$out"
expect 1 "segment: a constant image" "the image to segment is constant: there" "$blade" -q segment "$work/flat.npy" "$out"
expect 1 "segment --reference: a constant image" "the image to segment is constant: there" "$blade" segment --reference "$work/flat.npy" "$out"
expect 1 "segment: shipped model not found" "the shipped model" env BLADE_MODELS_DIR="$work/nowhere" "$blade" segment --iters 5 "$work/good.png" "$out"
# Resampling and alignment.
printf 'XXXX\x02\x00\x00\x00' > "$work/bad.flo"
/usr/bin/python3 -c "
import sys, numpy as np
with open(sys.argv[1], 'wb') as f:
    f.write(b'PIEH' + np.array([512, 512], '<i4').tobytes() + np.zeros((512, 512, 2), '<f4').tobytes() + b'GARBAGE')" "$work/long.flo"
expect 1 "resample: missing flow" "cannot open flow" "$blade" resample --method bicubic --flow "$work/nope.flo" "$work/good.png" "$out"
expect 1 "resample: corrupt flow" "is not a .flo file (too short for its" "$blade" resample --method bicubic --flow "$work/bad.flo" "$work/good.png" "$out"
expect 1 "resample: bad flow (shipped model)" "is not a .flo file (too short for its" "$blade" resample --flow "$work/bad.flo" "$work/good.png" "$out"
expect 1 "resample: a direct model" "is a direct model; resampling needs a" "$blade" resample --model "$work/good.blade" --flow "$work/bad.flo" "$work/good.png" "$out"
expect 1 "resample: a model with a classical method (it would be ignored)" "takes none" "$blade" resample --method bicubic --model "$work/resample.blade" --flow "$work/bad.flo" "$work/good.png" "$out"
expect 1 "resample: a flow with bytes past its end" "bytes past its" "$blade" resample --flow "$work/long.flo" "$work/good.png" "$out"
expect 1 "resample: a folder as the flow" "is a directory" "$blade" resample --flow "$work" "$work/good.png" "$out"
expect 1 "resample: unknown method" "unknown resampling method" "$blade" resample --method nearest --flow "$work/bad.flo" "$work/good.png" "$out"
expect 1 "align: frames of different sizes" "the frames to align differ in size: 512x" "$blade" align "$work/good.png" "$work/small.png" --flow "$work/f.flo"
expect 1 "align: output not .flo" "flow output" "$blade" align "$work/good.png" "$work/good.png" --flow "$work/f.png"
expect 1 "eval-resample: a direct model" "is a direct model; resampling needs a" "$blade" eval-resample --model "$work/good.blade" --images "$work/good.png"
if "$blade" align "$work/good.png" "$work/good.png" --flow "$work/f.flo" 2>/dev/null \
   && "$blade" resample --method lanczos --flow "$work/f.flo" "$work/good.png" "$work/rs.tiff" 2>/dev/null \
   && [ -s "$work/rs.tiff" ]; then echo "ok   (align then resample write outputs)"; else echo "FAIL (align/resample)"; fail=1; fi
expect 2 "denoise: --time with --stop sure" "--time and --stop sure exclude each othe" "$blade" denoise --sigma 20 --stop sure --time 0.05 "$work/good.png" "$out"
expect 2 "denoise: unknown stopping rule" "--stop: discrepancy not in {rule,sure} (" "$blade" denoise --sigma 20 --stop discrepancy "$work/good.png" "$out"
models="$(cd "$(dirname "$0")/../.." && pwd)/models"
/usr/bin/python3 -c "import numpy as np; a = np.full((8, 8), 0.5, np.float32); a[2, 3] = np.nan; np.save('$work/nan.npy', a)"
expect 1 "write: NaN into an integer format" "samples are NaN or infinite, which integer samples cannot hold" "$blade" montage "$work/nan.npy" "$work/out.png"
mkdir -p "$work/tiny" && "$blade" montage --scale 0.03 "$work/good.png" "$work/tiny/t.png" >/dev/null
expect 1 "eval: a photograph too small for the protocol's SSIM" "the photograph must be at least 44x44" "$blade" eval --model "$models/tv.blade" --images "$work/tiny"
expect 1 "run: a time past a box without a symmetry for it" "time = 12 is outside this model's box: c in [0.03, 0.3], time in [1, 10]" "$blade" run --model "$models/pm.blade" --time 12 "$work/good.png" "$out"
expect 1 "eval: a classical row asked for twice" "is asked for twice (--cost adds it" "$blade" eval --model "$models/tv.blade" --images "$work" --cost --classical 2
expect 2 "run: a PDE parameter typed as an option" "PDE parameters are given as --param c=VALUE" "$blade" run --model "$models/tv.blade" --c 0.05 "$work/good.png" "$out"
expect 1 "denoise: negative time (out of range: 1, as solve --time -1)" "--time must be positive (got -1)" "$blade" denoise --sigma 20 --time -1 --model "$models/tv-plain.blade" "$work/good.png" "$out"
expect 1 "baselines: a preset of another PDE" "preset 'pm' is for pm, not tv" "$blade" baselines --pde tv --preset pm --images "$work"
expect 1 "eval: an upscaler is not a PDE model" "kodak4x needs a direct or flux model (th" "$blade" eval --model "$models/upscale-x2-area.blade" --images "$work"
expect 1 "solve: negative time" "--time must be positive (got -1)" "$blade" solve --pde tv --time -1 "$work/good.png" "$out"
expect 1 "denoise: a learned denoiser outside its levels" "this learned denoiser covers noise sigma" "$blade" denoise --sigma 1.5 --model "$models/denoise-gray.blade" "$work/good.png" "$out"
expect 1 "denoise: a color denoiser on a gray image" "this learned denoiser was trained on col" "$blade" denoise --sigma 20 --model "$models/denoise-color.blade" "$work/good.png" "$out"
expect 1 "denoise: SURE with a learned denoiser" "SURE stopping needs a PDE model" "$blade" denoise --sigma 20 --stop sure --model "$models/denoise-gray.blade" "$work/good.png" "$out"
expect 1 "denoise: a time with a learned denoiser" "a stopping time needs a PDE model" "$blade" denoise --sigma 20 --time 0.05 --model "$models/denoise-gray.blade" "$work/good.png" "$out"
expect 1 "run: a learned denoiser" "a learned denoiser does not estimate du" "$blade" run --model "$models/denoise-gray.blade" "$work/good.png" "$out"
mkdir -p "$work/photos" && cp "$work/good.png" "$work/photos/"
expect 1 "train-denoise: descending levels" "noise levels must ascend within (0, 100]" "$blade" train-denoise --images "$work/photos" --sigmas 20,10 --out "$work/out.blade"
expect 1 "train-denoise: even footprint" "footprint must be odd, 3..11 (got 4)" "$blade" train-denoise --images "$work/photos" --footprint 4 --out "$work/out.blade"
expect 1 "train-refiner: not an upscaler" "a refiner is trained for a learned upsca" "$blade" train-refiner --model "$models/denoise-gray.blade" --images "$work/photos" --steps 5 --out "$work/out.blade"
expect 1 "train-refiner: already refined" "this upscaler already has a refiner; tra" "$blade" train-refiner --model "$models/upscale-x2-area.blade" --images "$work/photos" --steps 5 --out "$work/out.blade"
# (The options are checked first: the message names the option, not the model's refiner.)
expect 1 "train-refiner: one layer" "refiner layers must be 2..8 (got 1)" "$blade" train-refiner --model "$models/upscale-x2-area.blade" --images "$work/photos" --layers 1 --out "$work/out.blade"
grep -q "layers must be 2..8" "$work/stderr" || { echo "FAIL (train-refiner: one layer): wrong message"; fail=1; }
expect 1 "train-refiner: zero rate" "refiner learning rate must be in (0, 1]" "$blade" train-refiner --model "$models/upscale-x2-area.blade" --images "$work/photos" --rate 0 --out "$work/out.blade"
grep -q "learning rate must be" "$work/stderr" || { echo "FAIL (train-refiner: zero rate): wrong message"; fail=1; }
expect 1 "train-refiner: context" "refiner context must be -1 (the net" "$blade" train-refiner --model "$models/upscale-x2-area.blade" --images "$work/photos" --context 17 --out "$work/out.blade"
grep -q "context must be -1" "$work/stderr" || { echo "FAIL (train-refiner: context): wrong message"; fail=1; }
expect 1 "upscale: --unsafe with a learned upscaler (nothing to run past)" "belong to the PDE-regularised forms" "$blade" upscale --factor 2 --unsafe "$work/small.png" "$out"
expect 1 "upscale: --steps with a learned upscaler, even its default" "belong to the PDE-regularised forms" "$blade" upscale --factor 2 --steps 10 "$work/small.png" "$out"
expect 1 "upscale: --fast with a PDE regulariser" "skips a learned upscaler's refiner" "$blade" upscale --factor 2 --fast --model "$work/good.blade" --force-model "$work/small.png" "$out"
expect 1 "upscale: zero factor" "the upscaling factor must be 2..16 (got" "$blade" upscale --model "$work/good.blade" --factor 0 "$work/good.png" "$out"
expect 1 "upscale: absurd factor" "the upscaling factor must be 2..16 (got" "$blade" upscale --model "$work/good.blade" --factor 100000 "$work/good.png" "$out"
expect 1 "upscale: unknown degradation" "unknown degradation" "$blade" upscale --model "$work/good.blade" --degradation box "$work/good.png" "$out"
expect 1 "upscale: gaussian without its sigma" "give the PSF sigma" "$blade" upscale --model "$work/good.blade" --degradation gaussian "$work/good.png" "$out"
expect 1 "upscale --project: not a corner degradation" "needs a corner:SIGMA degradation" "$blade" upscale --model "$work/good.blade" --force-model --project --degradation area "$work/good.png" "$out"
expect 1 "upscale --project: PSF wider than an LR pixel" "is above one LR pixel" "$blade" upscale --model "$work/good.blade" --force-model --project --degradation corner:8 "$work/good.png" "$out"
expect 1 "upscale --project: resampling model" "upscale needs a learned upscaler or a PD" "$blade" upscale --model "$work/resample.blade" --project "$work/good.png" "$out"
expect 1 "stability: missing model" "cannot open model" "$blade" stability --model "$work/nope.blade" --images "$work/good.png"
expect 1 "stability: bad range" "--range needs LO < HI" "$blade" stability --model "$work/good.blade" --images "$work/good.png" --range 1 0
expect 1 "eval-app: unknown application" "unknown application" "$blade" eval-app sharpen --model "$work/good.blade" --images "$work/good.png"
expect 1 "show-filters: missing model" "cannot open model" "$blade" show-filters --model "$work/nope.blade" "$out"
expect 1 "show-filters: zero zoom" "filter picture zoom must be 1..64 (got 0" "$blade" show-filters --model "$work/good.blade" --zoom 0 "$out"
expect 1 "show-filters: NaN range" "filter picture range must be >= 0 and fi" "$blade" show-filters --model "$work/good.blade" --range nan "$out"
expect 1 "show-filters: output not an image" "unsupported file extension '.txt' (ex" "$blade" show-filters --model "$work/good.blade" "$work/out.txt"
expect 1 "features: missing image" "cannot open" "$blade" features "$work/nope.png" "$out"
expect 1 "features: the picture over the input" "give the feature picture another file" "$blade" features "$work/good.png" "$work/good.png"
expect 1 "features: NaN in the image" "NaN or infinite" "$blade" features "$work/nan.npy" "$out"
expect 1 "features: zero orientation bins" "selection orientations must be 1..64" "$blade" features --bins 0 3 3 "$work/good.png" "$out"
expect 2 "montage: labels do not match images" "montage got 2 labels for 1 images" "$blade" montage --label a --label b "$work/good.png" "$out"

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
