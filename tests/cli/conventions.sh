#!/usr/bin/env bash
# Command-line conventions (issue 23): output depth like the input's (--depth overrides), alpha
# and clipping warnings, global options before or after the command, suggestions for typos, the
# usage line and every help's example. Usage: conventions.sh BLADE MODELS_DIR
set -uo pipefail
blade=$1 models=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
ok() { echo "ok   ($1)"; }
bad() { echo "FAIL ($1)"; fail=1; }
/usr/bin/python3 - "$work" <<'PY'
import sys
import numpy as np
from PIL import Image
w = sys.argv[1]
rng = np.random.default_rng(1)
a = (rng.random((48, 64)) * 65535).astype(np.uint16)
Image.fromarray(a).save(f"{w}/g16.png")
Image.fromarray((a >> 8).astype(np.uint8)).save(f"{w}/g8.png")
Image.fromarray((rng.random((48, 64, 4)) * 255).astype(np.uint8), "RGBA").save(f"{w}/rgba.png")
np.save(f"{w}/f.npy", rng.random((48, 64)).astype(np.float32))
np.save(f"{w}/f255.npy", (rng.random((48, 64)) * 255).astype(np.float32))
flat = np.full((48, 64), 0.5, np.float32)
over = flat.copy(); over[10, 10:13] = 1.8  # three pixels far outside [0, 1]
ring = flat.copy(); ring[:, 30] = 1.02     # an edge's overshoot: a column 0.02 above 1
np.save(f"{w}/over.npy", over)
np.save(f"{w}/ring.npy", ring)
PY
# Sample depth of the written file, as PIL / NumPy read it.
depth() {
  /usr/bin/python3 -c "
import sys, numpy as np
from PIL import Image
p = sys.argv[1]
if p.endswith('.npy'):
    print(np.load(p).dtype)
else:
    im = Image.open(p); a = np.asarray(im)
    print('float' if a.dtype.kind == 'f' else 8 * a.dtype.itemsize if im.mode != 'I' else 16)
" "$1"
}
tv="$models/tv.blade"
"$blade" -q run --model "$tv" "$work/g16.png" "$work/o16.png" && [ "$(depth "$work/o16.png")" = 16 ] \
  && ok "16-bit PNG in, 16-bit PNG out" || bad "16-bit PNG in: $(depth "$work/o16.png")"
"$blade" -q run --model "$tv" "$work/g8.png" "$work/o8.png" && [ "$(depth "$work/o8.png")" = 8 ] \
  && ok "8-bit in, 8-bit out" || bad "8-bit in"
"$blade" -q run --model "$tv" "$work/g16.png" "$work/o16.tiff" && [ "$(depth "$work/o16.tiff")" = 16 ] \
  && ok "16-bit in, 16-bit TIFF out" || bad "16-bit TIFF out: $(depth "$work/o16.tiff")"
"$blade" -q run --model "$tv" "$work/f.npy" "$work/of.tiff" && [ "$(depth "$work/of.tiff")" = float ] \
  && ok "float in, float TIFF out" || bad "float TIFF out"
"$blade" -q run --model "$tv" "$work/g8.png" "$work/o8to16.png" --depth 16 \
  && [ "$(depth "$work/o8to16.png")" = 16 ] && ok "--depth 16 after the command" || bad "--depth 16"
"$blade" -q --depth float solve --pde pm --time 1 "$work/g8.png" "$work/sf.tiff" \
  && [ "$(depth "$work/sf.tiff")" = float ] && ok "--depth float before the command" || bad "--depth float"
# A default the help shows can be typed back: --lambda auto is the default's rule.
"$blade" -q restore --op blur:sigma=1 --lambda auto "$work/g8.png" "$work/ra.png" \
  && "$blade" -q restore --op blur:sigma=1 "$work/g8.png" "$work/rd.png" && cmp -s "$work/ra.png" "$work/rd.png" \
  && "$blade" -q upscale --factor 3 --lambda auto "$work/g8.png" "$work/ua.png" \
  && ok "--lambda auto as the default" || bad "--lambda auto"
# info on a resampling model describes a resampler, not a PDE's step and horizon.
"$blade" info "$models/resample3.blade" >"$work/info" && grep -q "^resamples " "$work/info" \
  && ! grep -q "^pde \|^dt \|^stable " "$work/info" && ok "info: a resampler" || bad "info: $(head -5 "$work/info")"
# Drawn pictures are 8-bit whatever they were drawn from (a float TIFF shows badly).
"$blade" -q features "$work/g16.png" "$work/feat.tiff" && [ "$(depth "$work/feat.tiff")" = 8 ] \
  && "$blade" -q show-filters --model "$tv" "$work/bank.tiff" && [ "$(depth "$work/bank.tiff")" = 8 ] \
  && ok "pictures: 8-bit TIFF" || bad "pictures: $(depth "$work/feat.tiff") $(depth "$work/bank.tiff")"
if "$blade" run --model "$tv" --depth float "$work/g8.png" "$work/bad.png" 2>"$work/err"; then
  bad "--depth float to PNG accepted"
else
  grep -q "PNG holds 8- or 16-bit" "$work/err" && [ ! -e "$work/bad.png" ] \
    && ok "--depth float to PNG refused before any work" || bad "--depth float message"
fi
"$blade" run --model "$tv" "$work/rgba.png" "$work/orgba.png" 2>"$work/err" \
  && grep -q "warning: .*alpha channel" "$work/err" && ok "alpha dropped with a warning" || bad "alpha warning"
# A float image in 0-255 (intensities are in [0, 1]): one warning line, and the run goes on.
"$blade" run --model "$tv" "$work/f255.npy" "$work/o255.npy" 2>"$work/err" \
  && [ "$(grep -c "warning: .*f255.npy' has values from .* divided by 255" "$work/err")" = 1 ] \
  && ok "a float image in 0-255 warned about" || bad "0-255 float warning: $(cat "$work/err")"
"$blade" run --model "$tv" "$work/f.npy" "$work/o1.npy" 2>"$work/err" && ! grep -q "warning" "$work/err" \
  && ok "a float image in [0, 1]: no warning" || bad "warning on an in-range image: $(cat "$work/err")"
# A multi-page TIFF: the first page is read, with one warning naming the page count.
/usr/bin/python3 -c "
import sys, numpy as np
from PIL import Image
pages = [Image.fromarray((np.full((16, 20), v)).astype(np.uint8)) for v in (10, 200, 90)]
pages[0].save(sys.argv[1], save_all=True, append_images=pages[1:])" "$work/stack.tif"
"$blade" run --model "$tv" --steps 1 "$work/stack.tif" "$work/stack.png" 2>"$work/err" \
  && grep -q "warning: .*stack.tif' has 3 pages .* only the first was read" "$work/err" \
  && ok "a multi-page TIFF warned about" || bad "multi-page TIFF: $(cat "$work/err")"
# Images under SSIM's 11x11 window still get their PSNR (SSIM n/a, null in the JSON).
/usr/bin/python3 -c "
import sys, numpy as np
from PIL import Image
Image.fromarray(np.full((3, 3), 100, np.uint8)).save(sys.argv[1])
Image.fromarray(np.full((3, 3), 110, np.uint8)).save(sys.argv[2])" "$work/t3a.png" "$work/t3b.png"
"$blade" compare "$work/t3a.png" "$work/t3b.png" --json - 2>"$work/err" >"$work/json" \
  && /usr/bin/python3 -c "import json, sys; d = json.load(open(sys.argv[1])); assert d['ssim'] is None and 28 < d['psnr'] < 29, d" "$work/json" \
  && grep -q "SSIM n/a" "$work/err" && ok "a 3x3 pair gets its PSNR" || bad "3x3 compare: $(cat "$work/err")"
# An image-to-image command may write over its input, as ImageMagick's convert a.png a.png: the
# result equals the one written elsewhere.
cp "$work/g8.png" "$work/inplace.png"
"$blade" -q run --model "$tv" "$work/inplace.png" "$work/inplace.png" \
  && cmp -s "$work/inplace.png" "$work/o8.png" && ! cmp -s "$work/inplace.png" "$work/g8.png" \
  && ok "run writes over its input" || bad "run in place"
# A peak of 255 on files read into [0, 1] is warned about (48.1 dB too high), as in Python.
"$blade" compare "$work/t3a.png" "$work/t3b.png" --peak 255 2>"$work/err" >/dev/null \
  && grep -q "warning: --peak 255 but both images lie in \[0, 1\].*48.1 dB too high" "$work/err" \
  && ok "--peak 255 on 8-bit files warned about" || bad "--peak 255: $(cat "$work/err")"
# --quality sets JPEG's quality, as ImageMagick's -quality: a smaller file at 30 than at 95.
"$blade" -q --quality 30 run --model "$tv" --steps 1 "$work/g8.png" "$work/q30.jpg" \
  && "$blade" -q run --model "$tv" --steps 1 "$work/g8.png" "$work/q95.jpg" \
  && [ "$(stat -c %s "$work/q30.jpg")" -lt "$(stat -c %s "$work/q95.jpg")" ] \
  && ok "--quality sets JPEG quality" || bad "--quality"
# "--json -" writes the JSON to standard output and the table to stderr.
"$blade" compare "$work/g8.png" "$work/g8.png" --json - 2>"$work/err" >"$work/json" \
  && /usr/bin/python3 -c "import json, sys; assert json.load(open(sys.argv[1]))['identical']" "$work/json" \
  && grep -q PSNR "$work/err" && [ ! -e ./- ] && ok "--json - on standard output" \
  || bad "--json -: $(cat "$work/err")"
# Clipping to an integer format is warned about when it changes the picture (three pixels at
# 1.8), not for an edge's small overshoot (a column at 1.02), which every tool clamps silently.
"$blade" run --model "$tv" --steps 1 "$work/over.npy" "$work/over.png" 2>"$work/err" \
  && grep -Eq "warning: [0-9]+ of 3072 pixels lie outside \[0, 1\] \(by up to 0\.[0-9]+\) and were clipped" "$work/err" \
  && ok "clipping warned with a count" || bad "clipping warning: $(cat "$work/err")"
"$blade" run --model "$tv" --steps 1 "$work/ring.npy" "$work/ring.png" 2>"$work/err" \
  && ! grep -q "warning" "$work/err" && ok "an edge's overshoot clamped silently" \
  || bad "overshoot warning: $(cat "$work/err")"
"$blade" -q run --model "$models/ch.blade" --steps 15 "$work/g8.png" "$work/och2.png" 2>"$work/err" \
  && [ ! -s "$work/err" ] && ok "-q silences warnings" || bad "-q"
"$blade" run --model "$tv" "$work/g8.png" "$work/q.png" -q --threads 1 2>"$work/err" && [ ! -s "$work/err" ] \
  && ok "-q and --threads after the command" || bad "global options after the command"
# A global option's error points at blade's help, which lists it (a command's help does not).
"$blade" run --model "$tv" "$work/g8.png" "$work/q.png" --threads 5000 2>"$work/err"; rc=$?
[ $rc = 2 ] && grep -q "Value 5000 not in range 0 to 4096 (usage: blade --help)$" "$work/err" \
  && ok "a global option's error names blade --help" || bad "global option error: $(cat "$work/err")"
"$blade" rn x y 2>"$work/err"; rc=$?
[ $rc = 2 ] && grep -q "unknown command 'rn'; did you mean 'run'?" "$work/err" \
  && ok "unknown command suggests the nearest" || bad "command suggestion: $(cat "$work/err")"
"$blade" run --stpes 3 --model "$tv" "$work/g8.png" "$work/s.png" 2>"$work/err"; rc=$?
[ $rc = 2 ] && grep -q "did you mean '--steps'" "$work/err" && ok "unknown option suggests the nearest" \
  || bad "option suggestion: $(cat "$work/err")"
"$blade" run --help | head -3 | grep -q "^Usage: blade run" && ok "usage line says blade" || bad "usage line"
for c in $("$blade" --help | sed -n '/^Subcommands:/,/^$/p' | awk 'NR > 1 && NF {print $1}'); do
  "$blade" "$c" --help | tail -2 | grep -q "^  blade $c" || { bad "no example in '$c --help'"; continue; }
done
ok "every command's help ends with an example"
"$blade" solve --help | grep -q -- "--dx FLOAT=1" && ok "help shows defaults" || bad "help defaults"
# ... but no "=0" for a value that cannot be typed (0 is refused; the text says the default).
"$blade" solve --help | grep -q -- "--time FLOAT " && ! "$blade" run --help | grep -q -- "--steps INT=0" \
  && ok "no '=0' shown for --time and --steps" || bad "help shows =0 for a refused value"
"$blade" solve --pde tv --steps 20 "$work/g8.png" "$work/s.tiff" 2>"$work/err"; rc=$?
[ $rc = 1 ] && grep -q "the fewest stable steps are 40" "$work/err" && [ ! -e "$work/s.tiff" ] \
  && ok "solve --steps above the limit refused with the fewest stable" || bad "solve --steps: $(cat "$work/err")"
"$blade" -q solve --pde tv --steps 20 --force "$work/g8.png" "$work/s.tiff" && ok "solve --steps --force runs" \
  || bad "solve --force"
"$blade" solve --pde tv --steps 0 "$work/g8.png" "$work/s0.tiff" 2>"$work/err"; rc=$?
[ $rc = 1 ] && grep -q -- "--steps must be 1..1000000" "$work/err" && ok "solve --steps 0 refused" \
  || bad "solve --steps 0: $(cat "$work/err")"
"$blade" solve --pde tv --steps 2000000 "$work/g8.png" "$work/s0.tiff" 2>/dev/null \
  && bad "solve --steps beyond run's bound accepted" || ok "solve --steps bounded as run's"
# A model that does not fit the command is refused, saying what it needs; --force-model runs it.
"$blade" segment --model "$models/ced.blade" "$work/g8.png" "$work/m.png" 2>"$work/err"; rc=$?
[ $rc = 1 ] && grep -q "segment needs a tv model" "$work/err" && ok "segment refuses a CED model" \
  || bad "segment with CED: $(cat "$work/err")"
"$blade" deconv --model "$models/ch.blade" "$work/g8.png" "$work/d.png" 2>"$work/err"; rc=$?
[ $rc = 1 ] && grep -q "deconv needs a ced model" "$work/err" && ok "deconv refuses a CH model" \
  || bad "deconv with CH: $(cat "$work/err")"
"$blade" upscale --model "$models/ch.blade" "$work/g8.png" "$work/u.png" 2>/dev/null \
  && bad "upscale took a CH model" || ok "upscale refuses a CH model"
"$blade" restore --model "$models/ch.blade" --op blur:sigma=1 "$work/g8.png" "$work/r.png" 2>/dev/null \
  && bad "restore took a CH model" || ok "restore refuses a CH model"
"$blade" -q segment --model "$models/ced.blade" --force-model --iters 5 "$work/g8.png" "$work/m.png" \
  && ok "--force-model overrides" || bad "--force-model"
# The help says what happens to alpha (dropped, with a warning) and where the conventions live.
"$blade" --help | grep -q "alpha channel is dropped, with a one-line warning" \
  && ok "help says alpha is dropped with a warning" || bad "help does not say what happens to alpha"
# Every application runs without --model, on its shipped default, and says which (issue 24).
for case in "segment --iters 5=tv-plain" "upscale --factor 2=upscale-x2-area" \
            "upscale --factor 3 --steps 2=tv-plain" "restore --op blur:sigma=1 --steps 2=ced-restore" \
            "deconv --steps 2=ced-restore" "denoise --sigma 20=denoise-gray" \
            "denoise --sigma 1.5=tv-plain"; do
  cmd=${case%=*} want=${case##*=}
  name=${cmd%% *}
  # shellcheck disable=SC2086
  "$blade" $cmd "$work/g8.png" "$work/default_$name.png" 2>"$work/err" \
    && grep -q "using the shipped model .*/$want.blade" "$work/err" \
    && [ -s "$work/default_$name.png" ] && ok "$name without --model uses its shipped model" \
    || bad "$name without --model: $(cat "$work/err")"
done
# Output folders: one rule (created if missing; refused if the path is a file).
"$blade" -q run --model "$tv" --steps 2 --frames-dir "$work/new/frames" "$work/g8.png" "$work/f.png" \
  && [ -e "$work/new/frames/frame_00002.tiff" ] && ok "--frames-dir created" || bad "--frames-dir not created"
touch "$work/afile"
"$blade" run --model "$tv" --frames-dir "$work/afile" "$work/g8.png" "$work/f2.png" 2>"$work/err"; rc=$?
[ $rc = 1 ] && grep -q "exists and is not a folder" "$work/err" && ok "--frames-dir on a file refused" \
  || bad "--frames-dir on a file: $(cat "$work/err")"
# --model takes a shipped model's bare name where no such file exists here; a name that is
# neither is reported as a missing file.
(cd "$work" && "$blade" -q denoise --sigma 20 --model tv-plain g8.png named.png 2>"$work/err") \
  && [ -s "$work/named.png" ] && ok "--model tv-plain names the shipped model" \
  || bad "--model tv-plain: $(cat "$work/err")"
(cd "$work" && "$blade" info denoise-color.blade >"$work/info" 2>"$work/err") \
  && grep -q "denoises    color images" "$work/info" && ok "info denoise-color.blade finds the shipped model" \
  || bad "info denoise-color.blade: $(cat "$work/err")"
(cd "$work" && "$blade" info no-such-model 2>"$work/err"); rc=$?
[ $rc = 1 ] && grep -q "cannot open model 'no-such-model'" "$work/err" && ok "an unknown model name is a missing file" \
  || bad "unknown model name: rc $rc, $(cat "$work/err")"
# Writing goes through a symbolic link (the link stays), keeps an existing file's permissions,
# refuses a file the user may not write (not as root, which may write anything), and names a
# folder given as the output.
cp "$work/g8.png" "$work/target.png" && ln -s target.png "$work/link.png"
"$blade" -q run --model "$tv" "$work/g8.png" "$work/link.png" 2>"$work/err" && [ -L "$work/link.png" ] \
  && ! cmp -s "$work/g8.png" "$work/target.png" && ok "written through a symbolic link" \
  || bad "symbolic link: $(cat "$work/err")"
cp "$work/g8.png" "$work/private.png" && chmod 600 "$work/private.png"
"$blade" -q run --model "$tv" "$work/g8.png" "$work/private.png" 2>"$work/err" \
  && [ "$(stat -c %a "$work/private.png")" = 600 ] && ok "an existing file keeps its permissions" \
  || bad "permissions: $(stat -c %a "$work/private.png") $(cat "$work/err")"
if [ "$(id -u)" != 0 ]; then
  cp "$work/g8.png" "$work/ro.png" && chmod 444 "$work/ro.png"
  "$blade" -q run --model "$tv" "$work/g8.png" "$work/ro.png" 2>"$work/err"; rc=$?
  [ $rc = 1 ] && grep -q "cannot write '.*ro.png': Permission denied" "$work/err" && cmp -s "$work/g8.png" "$work/ro.png" \
    && ok "a read-only file is not replaced" || bad "read-only file: rc $rc, $(cat "$work/err")"
fi
# A link whose target's name says another format (out.png -> t.tif) is refused.
cp "$work/g8.png" "$work/t.tif" && ln -s t.tif "$work/totif.png"
"$blade" -q run --model "$tv" "$work/g8.png" "$work/totif.png" 2>"$work/err"; rc=$?
[ $rc = 1 ] && grep -q "whose name says another format" "$work/err" && cmp -s "$work/g8.png" "$work/t.tif" \
  && ok "a link to a file of another format is refused" || bad "link to another format: rc $rc, $(cat "$work/err")"
# A link to something that is not a regular file (a FIFO) is refused, not replaced; a loop of
# links gets one clear line.
mkfifo "$work/fifo" && ln -s fifo "$work/tofifo.png" && ln -s loop2.png "$work/loop1.png" && ln -s loop1.png "$work/loop2.png"
"$blade" -q run --model "$tv" "$work/g8.png" "$work/tofifo.png" 2>"$work/err"; rc=$?
[ $rc = 1 ] && grep -q "is not a regular file" "$work/err" && [ -p "$work/fifo" ] && ok "a link to a FIFO is refused" \
  || bad "link to a FIFO: rc $rc, $(cat "$work/err")"
"$blade" -q run --model "$tv" "$work/g8.png" "$work/loop1.png" 2>"$work/err"; rc=$?
[ $rc = 1 ] && [ "$(wc -l < "$work/err")" = 1 ] && ! grep -q "internal error" "$work/err" && ok "a loop of links is one clear error" \
  || bad "loop of links: rc $rc, $(cat "$work/err")"
mkdir -p "$work/folder"
"$blade" -q run --model "$tv" "$work/g8.png" "$work/folder/" 2>"$work/err"; rc=$?
[ $rc = 1 ] && grep -q "is a directory" "$work/err" && ok "a folder as the output is named as one" \
  || bad "folder output: rc $rc, $(cat "$work/err")"
exit $fail
