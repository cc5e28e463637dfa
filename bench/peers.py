#!/usr/bin/python3
"""Times blade side by side with its peers on one gray 768x512 image, one thread, in the same
run, and prints megapixel-iterations per second and the ratios.

Peers (Debian packages): OpenCV ximgproc.anisotropicDiffusion (python3-opencv), a plain NumPy
Perona-Malik, G'MIC tv_flow / peronamalik_flow / smooth (gmic), scikit-image chan_vese
(python3-skimage). Ours: Google Benchmark (build/bin/blade_bench) for the kernels, and the
whole `blade segment` command for Chan-Vese. A missing peer is reported and skipped.
Usage: bench/peers.py [IMAGE] [--json OUT]   (default: kodim23 if ../shared is there, else a
scikit-image photograph cropped to 768x512)
"""

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from skimage import color, data, io

ROOT = Path(__file__).resolve().parent.parent
os.environ["OMP_NUM_THREADS"] = "1"  # every peer and ours on one thread


def load_gray(path: str | None) -> np.ndarray:
    if path is None:
        kodak = ROOT.parent / "shared" / "data" / "kodak" / "kodim23.png"
        img = io.imread(kodak) if kodak.is_file() else data.chelsea()
    else:
        img = io.imread(path)
    gray = color.rgb2gray(img[..., :3]) if img.ndim == 3 else img / 255.0
    gray = np.pad(gray, ((0, max(0, 512 - gray.shape[0])), (0, max(0, 768 - gray.shape[1]))), mode="reflect")
    return np.ascontiguousarray(gray[:512, :768], dtype=np.float32)


def best_of(fn, repeat: int = 3) -> float:
    """Smallest wall time of `repeat` runs (the least disturbed one)."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def numpy_perona_malik(u: np.ndarray, iters: int, k: float = 0.05, dt: float = 0.2) -> np.ndarray:
    """Explicit Perona-Malik, g = 1 / (1 + |grad|^2 / K^2) on the four neighbour differences."""
    u = u.copy()
    for _ in range(iters):
        p = np.pad(u, 1, mode="edge")
        dn, ds = p[:-2, 1:-1] - u, p[2:, 1:-1] - u
        dw, de = p[1:-1, :-2] - u, p[1:-1, 2:] - u
        u += dt * sum(d / (1 + (d / k) ** 2) for d in (dn, ds, dw, de))
    return u


def ours(filters: str) -> dict[str, float]:
    """Mpix/s of blade_bench rows (768x512, 1 thread) whose names match `filters`."""
    out = subprocess.run([str(ROOT / "build" / "bin" / "blade_bench"), f"--benchmark_filter={filters}",
                          "--benchmark_format=json", "--benchmark_min_time=0.5"],
                         capture_output=True, text=True, check=True)
    rows = json.loads(out.stdout)["benchmarks"]
    return {r["name"]: r["items_per_second"] / 1e6 for r in rows}


def gmic_rate(cmd: list[str], pixels: int, iters: int, image: Path) -> float | None:
    """G'MIC Mpix-iterations/s: time with `iters` iterations minus time with 0 (startup, I/O)."""
    gmic = shutil.which("gmic")
    if gmic is None:
        return None
    def run(n: int) -> float:
        args = [a.replace("{N}", str(n)) for a in cmd]
        return best_of(lambda: subprocess.run([gmic, "-v", "-1", str(image), *args], check=True,
                                              capture_output=True))
    t = run(iters) - run(0)
    return pixels * iters / t / 1e6 if t > 0 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", nargs="?")
    parser.add_argument("--json")
    args = parser.parse_args()
    u = load_gray(args.image)
    h, w = u.shape
    mp = w * h / 1e6
    rows = []  # (what, peer name, peer Mpix-it/s, ours name, ours Mpix-it/s)

    bench = ours("BM_PdeStep<[0-2]>/1/1|BM_BladeSteps<0>/1/1")
    pm, tv, ced = (bench[f"BM_PdeStep<{i}>/1/1/real_time"] for i in (1, 0, 2))
    blade_step = bench["BM_BladeSteps<0>/1/1/real_time"]

    iters = 50
    t = best_of(lambda: numpy_perona_malik(u, iters))
    rows.append(("Perona-Malik", "NumPy explicit", mp * iters / t, "blade PM step", pm))

    try:
        import cv2
        rgb8 = np.repeat((u * 255).astype(np.uint8)[..., None], 3, axis=2)
        cv2.setNumThreads(1)
        t = best_of(lambda: cv2.ximgproc.anisotropicDiffusion(rgb8, 0.1, 10.0, iters))
        rows.append(("Perona-Malik", "OpenCV ximgproc (8-bit RGB)", mp * iters / t, "blade PM step", pm))
    except (ImportError, AttributeError) as e:
        print(f"peers: OpenCV ximgproc unavailable ({e}); install python3-opencv")

    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / "gray.png"
        io.imsave(image, (u * 255).round().astype(np.uint8), check_contrast=False)
        for what, cmd, ours_name, ours_rate, n in (
                ("TV flow", ["-tv_flow", "{N},30"], "blade TV step", tv, 20),
                ("Perona-Malik", ["-peronamalik_flow", "20,{N},5"], "blade PM step", pm, 5),
                ("tensor smoothing", ["-repeat", "{N}", "-smooth", "60,0.7,0.3,0.6,1.1", "-done"],
                 "blade CED step", ced, 5)):
            rate = gmic_rate(cmd, w * h, n, image)
            if rate is None:
                print(f"peers: G'MIC {cmd[0]} unavailable; install gmic")
            else:
                peer = f"G'MIC {cmd[0]}" if cmd[0] != "-repeat" else "G'MIC -smooth (whole call)"
                rows.append((what, peer, rate, ours_name, ours_rate))
        # Intel's RAISR (11x11 filters) is not packaged; its published figure is quoted.
        rows.append(("adaptive filtering", "RAISR, published 13-31 (not run)", 31.0,
                     "blade BLADE step (216 filters, 5x5)", blade_step))

        # Chan-Vese, 300 iterations: scikit-image against the whole `blade segment` command.
        cv_iters = 300
        from skimage.segmentation import chan_vese
        t_sk = best_of(lambda: chan_vese(u.astype(np.float64), mu=0.2, lambda1=1, lambda2=1, tol=0,
                                         max_num_iter=cv_iters, dt=0.5, init_level_set="checkerboard"),
                       repeat=1)
        npy = Path(tmp) / "gray.npy"
        np.save(npy, u)
        for name, extra in (("blade Chan-Vese reference (whole command)", ["--reference"]),
                            ("blade Chan-Vese BLADE TV (whole command)", ["--model", str(ROOT / "models" / "tv.blade")])):
            t_ours = best_of(lambda: subprocess.run(
                [str(ROOT / "build" / "bin" / "blade"), "-q", "--threads", "1", "segment", *extra,
                 "--iters", str(cv_iters), str(npy), str(Path(tmp) / "mask.png")], check=True), repeat=1)
            rows.append(("Chan-Vese", "scikit-image chan_vese", mp * cv_iters / t_sk, name, mp * cv_iters / t_ours))

    print(f"{w}x{h} gray, 1 thread; megapixel-iterations per second (higher is faster)")
    print(f"{'task':20s} {'peer':32s} {'peer':>9s}  {'ours':44s} {'ours':>9s} {'ratio':>7s}")
    for what, peer, pr, name, orate in rows:
        ratio = orate / pr if pr == pr else float("nan")
        print(f"{what:20s} {peer:32s} {pr:9.1f}  {name:44s} {orate:9.1f} {ratio:7.1f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(
            [{"task": a, "peer": b, "peer_mpix_per_s": c, "ours": d, "ours_mpix_per_s": e}
             for a, b, c, d, e in rows], indent=2) + "\n")


if __name__ == "__main__":
    main()
