#!/usr/bin/python3
# Generates tests/data/golden/ (synthetic input, classical references, recorded PSNR/SSIM of every models/*.blade) for tests/python/test_golden.py.
"""Golden data for the shipped models.

Run from a source checkout with the Python module built (build/python/blade, or name another
build's module folder with BLADE_MODULE_DIR):

    /usr/bin/python3 scripts/make_golden.py

Everything is deterministic: the HR image is drawn from a seeded NumPy generator, the references
come from the library's own solvers, and the recorded values are measured with blade.psnr and
blade.ssim exactly as the test measures them. Re-record only when a change of a model's output
is intended (a retrained model, a deliberate change of a kernel), and say so in the commit.

Protocol (the training/evaluation protocol of presets/presets.json, on one small image):
- PDE models (direct and flux form): the HR image (384x256) is solved by the preset's classical
  reference at 4x resolution (dx = 1/4, the preset's hr_steps to its time T) and
  area-downsampled by 4: reference_<pde>.npy. The model runs its own steps on input_lr.npy,
  the area-downsampled HR image (96x64). One reference per PDE, shared by its models.
- Resampling models: as `blade eval-resample` (EvaluateBurst in src/apps/resample.cc, without
  its noise): the input is the HR image observed with a Gaussian PSF (sigma 0.5 LR px, factor 4,
  ObserveShifted) at the LR lattice, the reference the same observation at the lattice moved by
  a smooth flow (flow_resample.npy), and the model resamples the input with that flow. Scores
  are on the interior (4 px border dropped), as in EvaluateBurst.
- Learned upscalers: the HR image shrunk by the model's factor and degradation
  (input_upscale_x<F>_<degradation>.npy, blade.downscale) is upscaled by the model and scored
  against the HR image itself (hr.npy).
- Learned denoisers: a 192x128 crop of the HR image (gray; in color, three crops at different
  offsets as R, G, B: clean_gray.npy, clean_color.npy) with seeded Gaussian noise of sigma
  DENOISE_SIGMA (between two of their levels, so the blend is checked too), clipped to [0, 1]
  (input_denoise_gray.npy, input_denoise_color.npy), denoised by the model and scored against
  the clean crop.
"""
import json
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import blade  # noqa: E402

OUT = ROOT / "tests" / "data" / "golden"
SEED = 20261204
LR_W, LR_H = 96, 64
FACTOR = 4
RESAMPLE_PSF = 0.5  # LR px, as EvaluateBurst
RESAMPLE_CROP = 4  # border dropped from resampling scores, as EvaluateBurst
DENOISE_SIGMA = 25  # 0-255; between the shipped denoisers' levels 20 and 30
FINGERPRINT_BLOCK = 4  # the outputs' tile means, a compact record of where the output lies


def synthetic_hr(rng):
    """A photograph-like gray scene in [0, 1]: gradients, sharp disks and bars, texture, grain."""
    h, w = LR_H * FACTOR, LR_W * FACTOR
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    xn, yn = x / w, y / h
    img = 0.25 + 0.35 * xn + 0.15 * yn + 0.08 * np.sin(2 * np.pi * (0.7 * xn + 0.4 * yn) + 0.5)
    # Disks with sharp edges (a bright one, a dark one, a faint one).
    for cx, cy, r, value in [(70, 80, 38, 0.92), (300, 170, 46, 0.08), (205, 60, 22, 0.62)]:
        img[(x - cx) ** 2 + (y - cy) ** 2 <= r * r] = value
    # A ring.
    d = np.hypot(x - 120, y - 200)
    img[(d >= 24) & (d <= 31)] = 0.15
    # Bars: axis-aligned and one slanted, of several widths.
    for x0, width, value in [(150, 6, 0.05), (166, 3, 0.95), (176, 10, 0.3)]:
        img[150:240, x0:x0 + width] = value
    slant = np.abs((x - 250) * np.cos(0.5) - (y - 100) * np.sin(0.5))
    img[(slant <= 4) & (np.abs((x - 250) * np.sin(0.5) + (y - 100) * np.cos(0.5)) <= 70)] = 0.85
    # A textured patch: oriented stripes plus band-limited noise.
    patch = (slice(20, 120), slice(250, 370))
    py, px = y[patch], x[patch]
    stripes = 0.5 + 0.22 * np.sin(2 * np.pi * (px * np.cos(1.1) + py * np.sin(1.1)) / 16.0)
    noise = blade.gaussian_blur(rng.random(stripes.shape, dtype=np.float32), 2.0).astype(np.float64)
    img[patch] = stripes + 1.5 * (noise - noise.mean())
    # Mild optical blur, then fine sensor grain.
    img = blade.gaussian_blur(np.clip(img, 0, 1).astype(np.float32), 0.8).astype(np.float64)
    img += rng.normal(0.0, 0.01, img.shape)
    return np.clip(img, 0.0, 1.0).astype(np.float32)


def area_downsample(image, factor):
    """AreaDownsample (src/ops/resample.cc): mean of each factor x factor block, in double."""
    h, w = image.shape
    blocks = image.astype(np.float64).reshape(h // factor, factor, w // factor, factor)
    return blocks.mean(axis=(1, 3)).astype(np.float32)


def observe_shifted(hr, factor, psf_sigma, flow=None):
    """ObserveShifted (src/apps/resample.cc) in NumPy: the HR image blurred by a Gaussian PSF of
    psf_sigma LR px, sampled at LR pixel x + flow(x) (HR position factor * (x + u) + (factor-1)/2),
    separable normalised weights over 2 radius + 2 taps, replicated borders."""
    H, W = hr.shape
    h, w = H // factor, W // factor
    s = psf_sigma * factor
    offset = (factor - 1) / 2.0
    radius = int(np.ceil(3 * s)) + 1
    n = 2 * radius + 2
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    u = np.zeros((h, w)) if flow is None else flow[..., 0].astype(np.float64)
    v = np.zeros((h, w)) if flow is None else flow[..., 1].astype(np.float64)
    px = factor * (xx + u) + offset
    py = factor * (yy + v) + offset
    x0 = np.floor(px).astype(int) - radius
    y0 = np.floor(py).astype(int) - radius
    taps = np.arange(n)
    cols = x0[..., None] + taps  # (h, w, n)
    rows = y0[..., None] + taps
    wx = np.exp(-((cols - px[..., None]) ** 2) / (2 * s * s))
    wy = np.exp(-((rows - py[..., None]) ** 2) / (2 * s * s))
    img = hr.astype(np.float64)
    patches = img[np.clip(rows, 0, H - 1)[..., :, None], np.clip(cols, 0, W - 1)[..., None, :]]
    acc = np.einsum("hwj,hwi,hwji->hw", wy, wx, patches)
    return (acc / (wx.sum(-1) * wy.sum(-1))).astype(np.float32)


def resample_flow():
    """A smooth displacement (LR px): a constant sub-pixel shift plus gentle gradients."""
    yy, xx = np.mgrid[0:LR_H, 0:LR_W].astype(np.float64)
    u = 0.31 + 0.5 * (xx / (LR_W - 1) - 0.5) + 0.15 * np.sin(2 * np.pi * yy / LR_H)
    v = -0.22 + 0.4 * (yy / (LR_H - 1) - 0.5) + 0.1 * np.cos(2 * np.pi * xx / LR_W)
    return np.stack([u, v], axis=-1).astype(np.float32)


def interior(image):
    c = RESAMPLE_CROP
    return np.ascontiguousarray(image[c:-c, c:-c])


def block_means(image, block=4):
    """The output's fingerprint: means of block x block tiles (float64 sums, stored as float32)."""
    h, w = image.shape[:2]  # color: per channel
    tiles = image.astype(np.float64).reshape(h // block, block, w // block, block, *image.shape[2:])
    return tiles.mean(axis=(1, 3)).astype(np.float32)


def stats(out):
    o = out.astype(np.float64)
    return {"mean": float(o.mean()), "std": float(o.std()), "min": float(o.min()),
            "max": float(o.max())}


def reference_key(model, preset):
    """The preset's name for a model at its preset's stopping time, else NAME_T<time>."""
    time = model.dt * model.steps
    return preset["name"] if abs(time - preset["time"]) <= 1e-9 * preset["time"] else f"{preset['name']}_T{time:g}"


def main():
    blade.set_threads(0)  # results are bit-identical for every thread count
    rng = np.random.default_rng(SEED)
    hr = synthetic_hr(rng)
    OUT.mkdir(parents=True, exist_ok=True)
    lr = area_downsample(hr, FACTOR)
    np.save(OUT / "input_lr.npy", lr)

    presets = {p["name"]: p for p in blade.presets()}
    references, ref_info = {}, {}
    models = sorted((ROOT / "models").glob("*.blade"))
    needed = {}
    for path in models:
        m = blade.Model.load(str(path))
        if m.form not in ("resample", "upscale", "denoise"):
            key = reference_key(m, presets[m.preset])
            needed[key] = (presets[m.preset], m)
    for key in sorted(needed):
        p, m = needed[key]
        if p["scale"] != FACTOR:
            sys.exit(f"preset {p['name']} has scale {p['scale']}, the golden protocol assumes {FACTOR}")
        # A model trained at another stopping time (models/ch-long.blade) gets the reference at
        # its own: the preset's steps per unit time, a multiple of the model's steps.
        time = m.dt * m.steps
        hr_steps = p["hr_steps"]
        if key != p["name"]:
            hr_steps = -(-round(p["hr_steps"] * time / p["time"]) // m.steps) * m.steps
        params = {**p["params"], **m.pde_params}
        u = blade.solve(hr, p["pde"], time=time, steps=hr_steps, dx=1.0 / p["scale"], params=params)
        references[key] = area_downsample(u, p["scale"])
        np.save(OUT / f"reference_{key}.npy", references[key])
        ref_info[key] = {"file": f"reference_{key}.npy", "pde": p["pde"], "time": time,
                         "hr_steps": hr_steps, "dx": 1.0 / p["scale"], "params": params}
        print(f"reference {key}: identity PSNR {blade.psnr(lr, references[key]):.3f} dB",
              file=sys.stderr)

    flow = resample_flow()
    rs_input = observe_shifted(hr, FACTOR, RESAMPLE_PSF)
    rs_reference = observe_shifted(hr, FACTOR, RESAMPLE_PSF, flow)
    np.save(OUT / "flow_resample.npy", flow)
    np.save(OUT / "input_resample.npy", rs_input)
    np.save(OUT / "reference_resample.npy", rs_reference)
    for method in ("bilinear", "bicubic", "lanczos"):
        out = blade.resample(rs_input, flow, None, method)
        print(f"resample {method}: PSNR {blade.psnr(interior(out), interior(rs_reference)):.3f} dB",
              file=sys.stderr)

    np.save(OUT / "hr.npy", hr)
    clean = {"gray": np.ascontiguousarray(hr[:128, :192]),
             "color": np.ascontiguousarray(np.stack([hr[:128, :192], hr[64:192, 96:288], hr[128:256, 192:384]], axis=-1))}
    denoise_rng = np.random.default_rng(SEED + 1)
    for mode in ("gray", "color"):
        f = np.clip(clean[mode] + denoise_rng.normal(0, DENOISE_SIGMA / 255, clean[mode].shape), 0, 1)
        np.save(OUT / f"clean_{mode}.npy", clean[mode].astype(np.float32))
        np.save(OUT / f"input_denoise_{mode}.npy", f.astype(np.float32))
    entries, fingerprints = {}, {}
    for path in models:
        m = blade.Model.load(str(path))
        if m.form == "upscale":
            factor, degradation = m.upscale["factor"], m.upscale["degradation"]
            name = f"input_upscale_x{factor}_{degradation}.npy"
            small = blade.downscale(hr, factor, degradation)
            np.save(OUT / name, small)
            out = blade.upscale(m, small, factor=factor, degradation=degradation)
            a, b = out, hr
            entry = {"form": m.form, "input": name, "reference": "hr.npy", "crop": 0, "steps": 1,
                     "factor": factor, "degradation": degradation}
        elif m.form == "denoise":
            mode = "gray" if m.denoise["channels"] == 1 else "color"
            out = blade.denoise(np.load(OUT / f"input_denoise_{mode}.npy"), DENOISE_SIGMA, m)
            a, b = out, np.load(OUT / f"clean_{mode}.npy")
            entry = {"form": m.form, "input": f"input_denoise_{mode}.npy", "reference": f"clean_{mode}.npy",
                     "crop": 0, "steps": 1, "sigma": DENOISE_SIGMA}
        elif m.form == "resample":
            out = blade.resample(rs_input, flow, m)
            a, b = interior(out), interior(rs_reference)
            entry = {"form": m.form, "input": "input_resample.npy", "flow": "flow_resample.npy",
                     "reference": "reference_resample.npy", "crop": RESAMPLE_CROP, "steps": 1}
        else:
            if 0 <= m.safe_steps < m.steps:
                sys.exit(f"{path.name}: {m.steps} steps exceed its stability horizon {m.safe_steps}")
            out = m.run(lr)
            key = reference_key(m, presets[m.preset])
            a, b = out, references[key]
            entry = {"form": m.form, "pde": m.pde, "preset": m.preset, "input": "input_lr.npy",
                     "reference": ref_info[key]["file"], "crop": 0, "steps": m.steps,
                     "dt": m.dt, "integrator": m.integrator, "safe_steps": m.safe_steps}
        entry["psnr"] = blade.psnr(a, b)
        entry["ssim"] = blade.ssim(a, b)
        entry["output"] = stats(out)
        fingerprints[path.name] = block_means(out, FINGERPRINT_BLOCK)
        entries[path.name] = entry
        print(f"{path.name:20s} PSNR {entry['psnr']:8.4f} dB  SSIM {entry['ssim']:.6f}",
              file=sys.stderr)

    doc = {
        "_comment": "Written by scripts/make_golden.py; checked by tests/python/test_golden.py. "
                    "Re-record with /usr/bin/python3 scripts/make_golden.py only when a change of "
                    "a model's output is intended.",
        "seed": SEED,
        "hr_size": [LR_W * FACTOR, LR_H * FACTOR],
        "lr_size": [LR_W, LR_H],
        "references": ref_info,
        "resample": {"input": "input_resample.npy", "reference": "reference_resample.npy",
                     "flow": "flow_resample.npy", "psf_sigma": RESAMPLE_PSF, "factor": FACTOR,
                     "crop": RESAMPLE_CROP},
        "fingerprints": {"file": "fingerprints.npz", "block": FINGERPRINT_BLOCK,
                         "what": "per model: means of the output's 4x4 tiles (whole image)"},
        "models": entries,
    }
    np.savez_compressed(OUT / "fingerprints.npz", **fingerprints)
    (OUT / "golden.json").write_text(json.dumps(doc, indent=2) + "\n")
    total = sum(f.stat().st_size for f in OUT.iterdir())
    print(f"wrote {OUT} ({total / 1024:.0f} KiB)", file=sys.stderr)


if __name__ == "__main__":
    main()
