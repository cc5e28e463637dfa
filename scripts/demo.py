#!/usr/bin/python3
"""The main job: every capability of blade on one image, timed, then an HTML report.

Runs, on the default image (scikit-image's astronaut) or the one given:
  1. each PDE by its classical solver and by the shipped BLADE model on the image's own grid;
  2. the kodak4x protocol on the image (4x reference, BLADE, classical at 1x and 2x, timed);
  3. pictures of what was learned: filter banks and the selection features;
  4. the applications: deconvolution, x4 upscaling, Chan-Vese segmentation, resampling of a
     real stereo pair along an estimated flow, and denoising;
  5. the report: OUT/index.html with every picture, table and plot (scripts/report.py).
Usage: scripts/demo.py [IMAGE] [--out DIR]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLADE = ROOT / "build" / "bin" / "blade"
SKIMAGE_DATA = Path("/usr/lib/python3/dist-packages/skimage/data")
PDES = {"tv": "TV flow", "pm": "Perona-Malik", "ced": "coherence-enhancing diffusion",
        "ch": "Cahn-Hilliard"}

sys.path.insert(0, str(Path(__file__).resolve().parent))
import report  # noqa: E402  (scripts/report.py)


class Demo:
    def __init__(self, out: Path):
        self.out = out
        self.results = {"steps": []}

    def say(self, text: str) -> None:
        print(f"demo: {text}", flush=True)

    def blade(self, *args: str, capture: bool = False) -> tuple[float, str]:
        """Runs the blade tool; returns (wall seconds of the whole process, its stdout)."""
        cmd = [str(BLADE), "--quiet", *map(str, args)]
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=ROOT, text=True, capture_output=True)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            sys.stderr.write(done.stderr)
            raise SystemExit(f"demo: step failed: {' '.join(cmd)}")
        return seconds, done.stdout

    def json_of(self, path: Path) -> dict:
        return json.loads(path.read_text())

    def pdes_on_grid(self, image: Path) -> None:
        self.say("1. each PDE on the image's own grid: classical reference solver vs. BLADE (10 steps)")
        rows, files, labels = [], [], []
        for pde, title in PDES.items():
            luma = ["--luma"] if pde == "ch" else []  # Cahn-Hilliard separates gray levels
            ref, bl = self.out / f"reference_{pde}.png", self.out / f"blade_{pde}.png"
            t_ref, _ = self.blade("solve", "--pde", pde, *luma, image, ref)
            t_bl, _ = self.blade("run", "--model", f"models/{pde}.blade", *luma, image, bl)
            cmp_json = self.out / f"compare_{pde}.json"
            self.blade("compare", ref, bl, "--json", cmp_json)
            score = self.json_of(cmp_json)
            rows.append({"pde": pde, "title": title, "reference_seconds": t_ref,
                         "blade_seconds": t_bl, "psnr": score["psnr"], "ssim": score["ssim"]})
            files += [ref, bl]
            labels += [f"{pde.upper()} reference|{t_ref:.2f} s (whole command)",
                       f"{pde.upper()} BLADE|{t_bl:.2f} s, {score['psnr']:.2f} dB vs. ref."]
            self.say(f"   {pde:4s} reference {t_ref:6.2f} s, BLADE {t_bl:6.2f} s, "
                     f"BLADE vs. reference {score['psnr']:.2f} dB / SSIM {score['ssim']:.4f}")
        # Top row the four references, bottom row the four BLADE results; the captions go to the
        # page as text, not into the picture.
        self.blade("montage", "--columns", "4", *files[0::2], *files[1::2],
                   self.out / "pdes_side_by_side.png")
        self.results["grid"] = rows
        self.results["grid_labels"] = labels[0::2] + labels[1::2]

    def protocol(self, image: Path) -> None:
        self.say("2. kodak4x on this image: 4x reference vs. BLADE and the classical scheme at 1x and 2x")
        rows = {}
        for pde in PDES:
            path = self.out / f"eval_{pde}.json"
            self.blade("eval", "--model", f"models/{pde}.blade", "--images", image, "--cost",
                       "--figures", self.out / "figures", "--figure-captions", "json", "--json", path)
            rows[pde] = self.json_of(path)["rows"]
            r = rows[pde]
            self.say(f"   {pde:4s} BLADE {r['blade']['psnr']:6.2f} dB in {r['blade']['seconds']:.4f} s; "
                     f"classical LR {r['classical_lr']['psnr']:6.2f} dB, 2x {r['classical_2x']['psnr']:6.2f} dB "
                     f"in {r['classical_2x']['seconds']:.3f} s; 4x reference {r['reference_4x']['seconds']:.2f} s")
        self.results["protocol"] = rows

    def pictures(self, image: Path) -> None:
        self.say("3. what was learned: filter banks and selection features")
        for name in ("tv", "pm", "ced", "ch", "ced-direct", "resample3"):
            self.blade("show-filters", "--model", f"models/{name}.blade", "--zoom", "4",
                       self.out / f"filters_{name}.png")
        self.blade("features", "--model", "models/tv.blade", image, self.out / "features.png")

    def applications(self, image: Path) -> None:
        self.say("4. applications (no retraining): deconvolution, upscaling, segmentation, resampling, "
                 "denoising")
        apps = {}
        for app, model in (("deconv", "ced-restore"), ("upscale", "tv"), ("segment", "tv")):
            path = self.out / f"app_{app}.json"
            self.blade("eval-app", app, "--model", f"models/{model}.blade", "--images", image,
                       "--figures", self.out / "figures", "--figure-captions", "json", "--json", path)
            apps[app] = self.json_of(path)["rows"]
        d, u, s = apps["deconv"], apps["upscale"], apps["segment"]
        self.say(f"   deconvolution (blur 1, noise 5/255, models/ced-restore.blade): input {d['input']['psnr']:.2f} dB -> "
                 f"BLADE {d['blade']['psnr']:.2f} dB (classical {d['classical']['psnr']:.2f})")
        self.say(f"   x4 upscaling of an area-downsampled image: bicubic {u['area/bicubic']['psnr']:.2f}, "
                 f"Lanczos {u['area/lanczos']['psnr']:.2f}, BLADE learned upscaler {u['area/learned']['psnr']:.2f}, "
                 f"BLADE eq. 4.6 {u['area/blade']['psnr']:.2f} dB; "
                 f"the paper's corner:0.4 setting, eq. 4.7: {u['corner:0.4/blade_project']['psnr']:.2f} dB")
        self.say(f"   segmentation: BLADE agrees with the reference on {100 * s['blade']['agreement']:.2f}% "
                 f"of pixels ({s['blade']['seconds']:.2f} s vs. {s['reference']['seconds']:.2f} s)")
        # Resampling: a real stereo pair nobody here made, aligned, then warped two ways.
        left, right = SKIMAGE_DATA / "motorcycle_left.png", SKIMAGE_DATA / "motorcycle_right.png"
        flow = self.out / "flow.flo"
        t_align, _ = self.blade("align", left, right, "--flow", flow)
        warped = {}
        for method, extra in (("bicubic", ["--method", "bicubic"]),
                              ("blade", ["--model", "models/resample3.blade"])):
            path = self.out / f"warped_{method}.png"
            t, _ = self.blade("resample", *extra, "--flow", flow, right, path)
            cmp_json = self.out / f"compare_warped_{method}.json"
            self.blade("compare", left, path, "--json", cmp_json)
            warped[method] = {**self.json_of(cmp_json), "seconds": t}
        self.blade("montage", "--columns", "4", "--scale", "0.5",
                   left, right, self.out / "warped_bicubic.png", self.out / "warped_blade.png",
                   self.out / "figures" / "motorcycle_resample.png")
        labels = ["left view", "right view",
                  f"right warped, bicubic|{warped['bicubic']['psnr']:.2f} dB vs. left",
                  f"right warped, BLADE|{warped['blade']['psnr']:.2f} dB vs. left"]
        apps["resample"] = {"align_seconds": t_align, **warped, "labels": labels}
        self.say(f"   resampling (motorcycle stereo pair, occlusions make it indicative): bicubic "
                 f"{warped['bicubic']['psnr']:.2f} dB, BLADE {warped['blade']['psnr']:.2f} dB")
        apps["denoise"] = self.denoise(image)
        self.results["apps"] = apps

    def denoise(self, image: Path) -> dict:
        """The image with Gaussian noise 20/255 (seeded): `blade denoise` (no model given: the
        shipped learned denoiser for the image's channels; and the TV model stopped per image by
        SURE, --stop sure) against scikit-image's TV denoising
        at its best weight for this very image (an oracle a user does not have); gray or color
        as the image is, PSNR/SSIM against it."""
        import numpy as np
        from skimage import io, util
        from skimage.metrics import peak_signal_noise_ratio as psnr, structural_similarity as ssim
        from skimage.restoration import denoise_tv_chambolle

        pixels = io.imread(image)
        if pixels.ndim == 3:
            pixels = pixels[..., :3]  # alpha dropped, as the blade tool does
        clean = util.img_as_float32(pixels)  # by dtype: 8- and 16-bit alike, as scikit-image reads them
        noisy = np.clip(clean + np.random.default_rng(20).normal(0, 20 / 255, clean.shape), 0, 1)
        np.save(self.out / "noisy.npy", noisy.astype(np.float32))
        t, _ = self.blade("denoise", "--sigma", "20", self.out / "noisy.npy", self.out / "denoised.npy")
        ours = np.load(self.out / "denoised.npy")
        t_sure, _ = self.blade("denoise", "--sigma", "20", "--stop", "sure", self.out / "noisy.npy",
                               self.out / "denoised_sure.npy")
        ours_sure = np.load(self.out / "denoised_sure.npy")
        kw = {"channel_axis": -1} if clean.ndim == 3 else {}
        weights = (0.03, 0.05, 0.08, 0.1, 0.12, 0.15, 0.2)
        best = max(weights, key=lambda w: psnr(clean, denoise_tv_chambolle(noisy, weight=w, **kw), data_range=1))
        start = time.perf_counter()
        theirs = denoise_tv_chambolle(noisy, weight=best, **kw)
        t_theirs = time.perf_counter() - start
        score = lambda u: {"psnr": float(psnr(clean, u, data_range=1)),
                           "ssim": float(ssim(clean, u, data_range=1, **kw))}
        out = {"noisy": score(noisy), "blade": {**score(ours), "seconds": t},
               "blade_sure": {**score(ours_sure), "seconds": t_sure},
               "chambolle": {**score(theirs), "seconds": t_theirs, "weight": best}}
        self.say(f"   denoising (noise 20/255): noisy {out['noisy']['psnr']:.2f} dB -> BLADE (learned "
                 f"denoiser) {out['blade']['psnr']:.2f} dB in {t:.2f} s (whole process; TV, --stop sure "
                 f"{out['blade_sure']['psnr']:.2f} dB in {t_sure:.2f} s); scikit-image TV at its best "
                 f"weight {best} {out['chambolle']['psnr']:.2f} dB in {t_theirs:.2f} s")
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", nargs="?", default=str(SKIMAGE_DATA / "astronaut.png"))
    parser.add_argument("--out", default=str(ROOT / "out" / "demo"))
    args = parser.parse_args()
    image = Path(args.image).resolve()
    if not image.is_file():
        raise SystemExit(f"demo: image '{image}' not found (install python3-skimage or pass an image)")
    if not BLADE.is_file():
        raise SystemExit(f"demo: {BLADE} is missing; run `make build` first")
    out = Path(args.out).resolve()
    (out / "figures").mkdir(parents=True, exist_ok=True)
    demo = Demo(out)
    start = time.perf_counter()
    demo.say(f"input {image}")
    demo.results["image"] = str(image)
    demo.pdes_on_grid(image)
    demo.protocol(image)
    demo.pictures(image)
    demo.applications(image)
    demo.results["seconds"] = time.perf_counter() - start
    (out / "results.json").write_text(json.dumps(demo.results, indent=2) + "\n")
    demo.say("5. report: plots (matplotlib) and the HTML page")
    page = report.write_report(out, ROOT / "docs" / "data")
    demo.say(f"done in {time.perf_counter() - start:.0f} s; open {page}")


if __name__ == "__main__":
    main()
