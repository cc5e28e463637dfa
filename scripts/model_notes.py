#!/usr/bin/python3
"""Writes models/README.md: how each shipped model was made, from the provenance in the files."""
import json
import pathlib
import subprocess
import sys

root = pathlib.Path(__file__).resolve().parent.parent
blade = root / "build" / "bin" / "blade"


def level_note(path, p, horizons=True):
    """Whether the model keeps a flat image (docs/DESIGN.md section 25)."""
    if "zero_sum" in p:
        return ["- filters acting on u projected to zero sum (`scripts/project_zero_sum.py`, sixteenth"
                " session, 2026-12-07" + ("; every knot" if horizons else "; every stage")
                + "): keeps constants and commutes with adding one"
                + ("; horizons measured again (`blade stability --write`, the first 30 training"
                   " photographs)" if horizons else "")]
    if path.name.startswith("ch"):
        return ["- selects by the level (intensity bins), so its filter sums carry the nonlinearity and"
                " are not projected: a flat image does not stay exactly flat (docs/RESULTS.md,"
                " \"Level invariance\")"]
    return []


lines = [
    "# Pretrained models",
    "",
    "Each model was trained by `scripts/train_models.sh` from the 200 BSDS500 training",
    "photographs (`../shared/data/train/BSDS500`; never the Kodak evaluation images), with the",
    "PDE's preset in `presets/presets.json`. This page is generated from the provenance stored",
    "in each file (`scripts/model_notes.py`; `blade info MODEL` shows the same). Quality numbers",
    "are in `docs/RESULTS.md`. The `*-monotone` models are the provably stable family",
    "(`docs/MONOTONE.md`), trained by `scripts/train_monotone.sh` with the same settings as",
    "their unconstrained counterparts plus `--constraint monotone`, then copied here.",
    "",
    "Golden values: `tests/data/golden/golden.json` records, for every model here, the PSNR and",
    "SSIM of its output against the classical reference on a small committed synthetic input",
    "(and a fingerprint of the output, `fingerprints.npz`); `tests/python/test_golden.py` fails",
    "when a model's output moves (more than 0.01 dB, 1e-4 SSIM), and when a model has no entry.",
    "After an intended change (a retrained or new model, a deliberate change of a kernel),",
    "re-record with `/usr/bin/python3 scripts/make_golden.py` and commit the new data.",
    "",
    "Defaults: every application runs without `--model` on the shipped model chosen for it",
    "(`DefaultModelName` in `blade/apps.h`; Python `blade.Model.default_for(app)`), found in",
    "`$BLADE_MODELS_DIR`, the installed `share/blade/models`, or this folder:",
    "",
    "| application | default | why |",
    "|---|---|---|",
    "| `segment`, `eval-app segment` | `tv-plain` | Chan–Vese's curvature term is TV flow; the only PDE it takes. The TV model without the scheme term agrees better with the reference than `tv.blade` (96.57% against 95.67% of pixels on six held-out photographs) in a fifth of the time (`docs/RESULTS.md`) |",
    "| `upscale` (x2, x4; `--degradation area` or `bicubic`) | `upscale-x2-area`, `upscale-x2-bicubic`, `upscale-x4-area`, `upscale-x4-bicubic` (`DefaultUpscaleModelName`) | the learned upscaler for that factor and degradation: the most accurate of everything tried, on Kodak and held-out photographs (`docs/RESULTS.md`) |",
    "| `upscale` (other factors or degradations, `--project`), `eval-app upscale --model` | `tv-plain` | the only PDE and model eq. 4.6 and 4.7 were validated with; `eval-app upscale` scores the learned upscalers beside it (`--upscaler`) |",
    "| `restore` | `ced-restore` | best mean PSNR of the nine accepted models on six held-out scikit-image photographs (blur 1 + noise 5/255: 30.54 dB, `docs/RESULTS.md`) |",
    "| `deconv`, `eval-app deconv` | `ced-restore` | trained and selected for deconvolution (below) |",
    "| `denoise` (noise sigma 2 to 100, `--stop rule`, no `--time`) | `denoise-gray`, `denoise-color` (`DefaultDenoiseModelName`, by the image's channels) | the learned denoisers: above the TV model's rule and scikit-image's best-weight TV at every noise level, gray and color, on Kodak and held-out photographs (`docs/RESULTS.md`, \"Denoising\") |",
    "| `denoise` (other levels, `--stop sure`, `--time`, `--param`) | `tv-plain` | its rule (stopping time against the noise level) was fitted for this model on training photographs; `tv.blade`, which follows TV flow more closely, denoises worse even at its own refitted rule (0.1 to 0.7 dB on six held-out photographs, `docs/RESULTS.md`) |",
    "| `resample`, `eval-resample` | `resample3` | beats bicubic and Lanczos-3 on held-out photographs, which `resample` (first order) does not (`docs/RESULTS.md`) |",
    "",
]
for path in sorted((root / "models").glob("*.blade")):
    info = json.loads(subprocess.check_output([str(blade), "info", "--json", str(path)]))
    p = info["provenance"]
    bins = "x".join(str(b) for b in info["bins"])
    if info.get('safe_steps', -1) >= 0:
        lo, hi = info['safe_range']
        stability = (f"{info['safe_steps']} steps stay finite and within [{lo:.3g}, {hi:.3g}]"
                     f" ({p.get('stability', 'measured after training on the validation images')})")
    else:
        stability = "not measured"
    if info["form"] == "upscale":
        up = info["upscale"]
        lines += [
            f"## `{path.name}`",
            "",
            f"- learned upscaler (RAISR-style BLADE) for x{up['factor']} {up['degradation']} inputs:"
            f" {len(info['banks'])} stage(s), each followed by {up['back_projections']} back-projection(s)",
            f"- selection: {bins} bins (orientation x strength x coherence x intensity) x"
            f" {up['factor'] ** 2} pixel phases, rho {info['rho']:g}; {info['footprint']}x{info['footprint']} filters",
            f"- training: {p.get('training', '?')}",
            *level_note(path, p, horizons=False),
            f"- data: {p.get('data', '?')} ({p.get('images', '?')} images); time"
            f" {float(p.get('train_seconds', 'nan')):.0f} s",
            f"- trained {p.get('date', '?')} (from the working tree of the commit that added it, on"
            f" top of revision {p.get('revision', '?')})",
            f"- command: `{p.get('command', '?')}` (all: `scripts/train_upscalers.sh`)",
        ]
        if up.get("refiner_layers", 0):
            lines += [
                f"- refiner (trained on top of the stages above, which it leaves as they were):"
                f" {p.get('refiner_training', '?')}",
                f"- refiner data: {p.get('refiner_data', '?')} ({p.get('refiner_images', '?')} images);"
                f" time {float(p.get('refiner_train_seconds', 'nan')):.0f} s",
                f"- refiner command: `{p.get('refiner_command', '?')}` (its output then copied over"
                f" the stages-only file here; `scripts/train_upscalers.sh` does both steps)",
            ]
        lines.append("")
        continue
    if info["form"] == "denoise":
        d = info["denoise"]
        levels = ", ".join(f"{v:g}" for v in d["sigmas"])
        rhos = sorted({b["rho"] for b in info["banks"]})
        lines += [
            f"## `{path.name}`",
            "",
            f"- learned denoiser for {'gray' if d['channels'] == 1 else 'color'} images, Gaussian"
            f" noise sigma {levels} (0-255; a level between two is blended from them in log sigma):"
            f" {d['stages']} stage(s) per level",
            f"- selection: {bins} bins (orientation x strength x coherence x intensity), rho"
            f" {', '.join(f'{r:g}' for r in rhos)} by level; {info['footprint']}x{info['footprint']} filters",
            f"- training: {p.get('training', '?')}",
            *level_note(path, p, horizons=False),
            f"- data: {p.get('data', '?')} ({p.get('images', '?')} images); time"
            f" {float(p.get('train_seconds', 'nan')):.0f} s",
            f"- trained {p.get('date', '?')} (from the working tree of the commit that added it, on"
            f" top of revision {p.get('revision', '?')})",
            f"- command: `{p.get('command', '?')}` (both: `scripts/train_denoisers.sh`)",
            "- written to /tmp and copied here once measured against the TV model at the new levels"
            " (2, 75, 100; the other levels are bit for bit those of the first version, trained"
            " the same session); the code was revision 23e36c9's, and the revision field is the"
            " build's stamp from before that session's commits",
            "",
        ]
        continue
    if info["form"] == "resample":
        lines += [
            f"## `{path.name}`",
            "",
            f"- resampling model, {len(info['banks'])} banks: {p.get('training', '?')}",
            f"- selection: {bins} bins (orientation x strength x coherence x intensity),"
            f" rho {info['rho']:g}; {info['footprint']}x{info['footprint']} filters",
            f"- data: {p.get('data', '?')} ({p.get('images', '?')} images); time"
            f" {float(p.get('train_seconds', 'nan')):.0f} s",
            f"- trained {p.get('date', '?')} at revision {p.get('revision', '?')}, seed {p.get('seed', '?')}",
            f"- command: `{p.get('command', '?')}` (all: `scripts/train_resample.sh`)",
            "",
        ]
        continue
    scheme = ""
    if info.get("scheme_term"):
        f = info["banks"][1]["footprint"]
        scheme = (f", plus the scheme term: {f}x{f} filters of the classical scheme's right-hand"
                  " side (docs/DESIGN.md §21)")
    if info.get("axes"):
        box = ", ".join(f"{a['name']} in [{a['knots'][0]:g}, {a['knots'][-1]:g}]" for a in info["axes"])
        knots = "; ".join(f"{a['name']} " + ", ".join(f"{k:.3g}" for k in a["knots"]) for a in info["axes"])
        default = ", ".join(f"{k} = {v:g}" for k, v in info["pde_params"].items())
        lines += [
            f"## `{path.name}`",
            "",
            f"- {info['pde']} ({info['form']} form, {info['integrator']}), **parametric** over {box}"
            f" (docs/DESIGN.md §20): a point model at each knot ({knots}), blended at the run's"
            f" point; default {default}, T = {info['dt'] * info['steps']:g} ({info['steps']} steps)",
            f"- selection: {bins} bins (orientation x strength x coherence x intensity),"
            f" rho {info['rho']:g}; {info['footprint']}x{info['footprint']} filters" + scheme,
            f"- data: {p.get('data', '?')}; each knot's 10-step validation MSE"
            f" {p.get('knot_validation_mse', '?')}",
            f"- knots: {p.get('knots', '?')}"
            + (" (the given knot is the former point model at the preset, trained by its own"
               " command, `*-point` in `scripts/train_models.sh`)"
               if "given" in p.get("knots", "") and path.name not in ("tv.blade", "ced.blade", "ced-direct.blade")
               else ""),
            f"- time: {float(p.get('train_seconds', 'nan')):.0f} s for all knots, references included"
            " (computed, or read from the cache the command names)",
            f"- file: {path.stat().st_size / 1e6:.1f} MB, the knots' taps as base64 binary32"
            f" ({len(info['banks'])} bank(s) per knot; a knot per grid point of the box)",
            f"- stability horizon at the default point: {stability}",
            *level_note(path, p),
            f"- trained {p.get('date', '?')} at revision {p.get('revision', '?')}"
            + (" (with the working tree of the commit that added `--knot-model` on top)"
               if "given" in p.get("knots", "") and path.name not in ("tv.blade", "ced.blade", "ced-direct.blade")
               else "")
            + f", seed {p.get('seed', '?')}",
            f"- command: `{p.get('command', '?')}`",
        ]
        if path.name == "tv.blade":
            lines += [
                "- made in two steps (sixth session, 2026-12-06): `scripts/train_models.sh"
                " ../shared/data/train/BSDS500 tv` trained the 25 knots (1,189 s, at revision 97557cc;"
                " each knot's validation MSE 1.45e-05 to 1.39e-04); two knots, (eps 0.00447, T 0.1) and"
                " (eps 0.0224, T 0.2), overshot the measured range [-0.0845, 1.1] by up to 0.014 on one"
                " validation photograph within their first steps (horizons 0 and 13), so they were"
                " extracted (`Model.at`), re-measured against [-0.2, 1.2] (`blade stability --images"
                " ../shared/data/train/BSDS500 --limit 60 --range -0.2 1.2 --write`: 77 and 1000 steps)"
                " and the box reassembled from all 25 knots with `--knot-model` (the command above;"
                " the taps are bit for bit the trained ones, so the time above is"
                " the reassembly's, not the training's)",
                "- seventh session (2026-12-06): the knot (eps 0.00447, T 0.1) replaced by the same"
                " point trained with the stability term (`blade train --pde tv --param"
                " eps=0.004472135954999579 --time 0.1 --stability-weight 10 --stability-rollout 40"
                " --images ../shared/data/train/BSDS500`: the newton steps that overshot were refused,"
                " so it is the least-squares fit, horizon 1000 in the default range; Kodak 46.18 dB"
                " against the former knot's 45.51, docs/RESULTS.md), the other 24 knots extracted"
                " with `Model.at` at the exact knots (`Model.axes`) and the box reassembled by the"
                " command above (that knot is `/tmp/knots/tv-1-2-stability.blade`; the knot (eps 0.0224, T 0.2) keeps its horizon measured against [-0.2, 1.2])",
            ]
        if path.name == "ced.blade":
            lines += [
                "- named `ced-flux.blade` until the ninth session, when it became `ced.blade`: the"
                " most accurate CED model (the direct box is `ced-direct.blade`)",
                "- made in three steps: the seventh session trained the box with every knot"
                " selecting at the preset's scale (rho 4), its preset knot the point model then"
                " shipped as `models/ced-flux.blade` (`blade train --seed 1 --pde ced --form flux"
                " --limit 64 --images ../shared/data/train/BSDS500`, 106 s); the eighth session, once"
                " the recipe's selection scale followed the point's rho (docs/TRAINING.md), kept its"
                " four rho-4 knots (extracted bit for bit with `Model.at` at the exact knots into"
                " `/tmp/knots-ced/`) and trained the eight rho-2 and rho-6 knots anew with the"
                " recipe's 20 epochs; the ninth session trained those eight again with 40 (the"
                " command above; at rho 2, T 8 the validation loss was still falling at epoch 20 and"
                " the box was 0.09 dB below converged classical-LR on held-out photographs there),"
                " the same four rho-4 knots given. `scripts/train_models.sh DIR ced-point ced` makes"
                " it again (its eleven other knots with 40 epochs). On Kodak it is above the direct"
                " box `ced-direct.blade` on average over the box (docs/RESULTS.md)",
            ]
        if path.name == "ced-direct.blade":
            lines += [
                "- named `ced.blade` until the ninth session; kept because deconvolution absorbs"
                " the blur into a direct model's filters (`blade deconv`; its default is"
                " `ced-restore`). `scripts/train_models.sh DIR ced-direct-point ced-direct` makes"
                " it again",
                "- made in two steps: the third session trained the box with every knot selecting at"
                " the preset's scale (rho 4; `--knot-model models/ced.blade`, the point model then"
                " shipped, at the preset); the eighth session, once the recipe's selection scale"
                " followed the point's rho (docs/TRAINING.md), kept its four rho-4 knots (extracted"
                " bit for bit with `Model.at` into `/tmp/knots-ced-direct/`) and trained the eight"
                " rho-2 and rho-6 knots anew by the command above (374 s, references cached), from"
                " the working tree on top of revision aae79d6 (the revision field reads 803e3b5: the"
                " build's stamp was stale). On Kodak it is 0.66 dB above the former box on average"
                " over the grid (docs/RESULTS.md)",
            ]
        lines.append("")
        continue
    lines += [
        f"## `{path.name}`",
        "",
        f"- {info['pde']} ({info['form']} form, {info['integrator']}), preset `{info['preset']}`,"
        f" dt {info['dt']:g} x {info['steps']} steps (T = {info['dt'] * info['steps']:g})",
        f"- selection: {bins} bins (orientation x strength x coherence x intensity),"
        f" rho {info['rho']:g}; {info['footprint']}x{info['footprint']} filters" + scheme,
        f"- data: {p.get('data', '?')}; {p.get('train_images', '?')} for training,"
        f" {p.get('validation_images', '?')} for validation",
        (f"- {info['steps']}-step validation MSE: least squares {float(p['ls_validation_mse']):.4g},"
         f" after fine-tuning {float(p.get('validation_mse', 'nan')):.4g}; epochs {p.get('epochs', '?')}"
         if "ls_validation_mse" in p else
         # A model trained on another loss records that loss, not the MSE.
         f"- {info['steps']}-step validation loss ({p.get('loss', '?')}): least squares"
         f" {float(p.get('ls_validation_loss', 'nan')):.4g}, after fine-tuning"
         f" {float(p.get('validation_loss', 'nan')):.4g}; epochs {p.get('epochs', '?')}"),
        f"- time: {float(p.get('train_seconds', 'nan')):.0f} s in all, of which"
        f" {float(p.get('data_seconds', 'nan')):.0f} s reference data (0 when the cache was warm)",
        f"- stability horizon: {stability}",
        *level_note(path, p),
        *([f"- constraint: {info['constraint']} (discrete maximum principle; verified when the file is loaded)"]
          if info.get("constraint", "none") != "none" else []),
        f"- trained {p.get('date', '?')} at revision {p.get('revision', '?')}, seed {p.get('seed', '?')}",
        f"- command: `{p.get('command', '?')}`",
        *(["- trained when the flux recipe was Adam (before 2026-12-06, seventh session): today"
            " this command with `--optimizer adam` gives that recipe (scripts/train_models.sh)"]
          if path.name == "ch-long.blade" else []),
        "",
    ]
(root / "models" / "README.md").write_text("\n".join(lines))
print("wrote", root / "models" / "README.md", file=sys.stderr)
