#!/usr/bin/python3
"""Runs the demo on a small crop of its default image, then renders the report in headless
Chromium: the page must load every picture, hold the expected tables and sections, and the
screenshot must show more than a blank page.

Usage: tests/report_render.py   (BLADE_SOURCE_DIR may name the repository)
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from skimage import data, io

ROOT = Path(os.environ.get("BLADE_SOURCE_DIR", Path(__file__).resolve().parent.parent))


def chromium(*args: str) -> subprocess.CompletedProcess:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("report_render: chromium is not installed (scripts/install-deps.sh installs it)")
    # --no-sandbox: the test may run as root (CI containers), where the sandbox refuses to start.
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--virtual-time-budget=10000", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        image = tmp / "astronaut_crop.png"
        io.imsave(image, data.astronaut()[96:224, 160:288], check_contrast=False)
        out = tmp / "report"
        env = {**os.environ, "BLADE_CACHE": str(tmp / "cache"),
               "XDG_CONFIG_HOME": str(tmp / "config"), "HOME": str(tmp)}
        subprocess.run([sys.executable, str(ROOT / "scripts" / "demo.py"), str(image), "--out", str(out)],
                       check=True, env=env, stdout=subprocess.DEVNULL)
        page = out / "index.html"
        assert page.is_file(), "the demo wrote no index.html"

        dom = chromium("--window-size=1400,1000", "--dump-dom", page.as_uri()).stdout
        total = re.search(r'data-images-total="(\d+)"', dom)
        loaded = re.search(r'data-images-loaded="(\d+)"', dom)
        assert total and loaded, "the page's load script did not run"
        # Demo pictures: side by side, 4 protocol figures, 3 plots, features, one filter bank (the
        # others linked), 3 application figures and the resampling figure.
        assert int(total.group(1)) >= 14, f"only {total.group(1)} pictures on the page"
        assert loaded.group(1) == total.group(1), f"{loaded.group(1)} of {total.group(1)} pictures loaded"
        assert dom.count("<table") >= 5, "expected the PDE, protocol, Kodak and application tables"
        for heading in ("Summary", "Each PDE", "kodak4x", "Training", "What was learned", "Applications"):
            assert heading in dom, f"section '{heading}' is missing"
        # The summary table comes first, with a verdict per PDE and application.
        summary = dom.index('id="summary"')
        assert summary < dom.index("<h2>1."), "the summary is not at the top"
        assert dom.count("BLADE better by") + dom.count("BLADE worse by") >= 6, "summary verdicts missing"
        # Speeds read as a ratio above 1, "faster" or "slower" (never "0.3x faster").
        assert not re.search(r"\b0\.\d+x (faster|slower)", dom), "a speed ratio below 1"
        # The report of a folder the demo never wrote is one line and exit 1, not a traceback.
        bad = subprocess.run([sys.executable, str(ROOT / "scripts" / "report.py"), str(tmp / "none")],
                             capture_output=True, text=True)
        assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "results.json" in bad.stderr, bad.stderr
        # At most 6,000 px tall at 1400 px wide.
        height = re.search(r'data-page-height="(\d+)"', dom)
        assert height and int(height.group(1)) < 6000, f"page height {height and height.group(1)}"
        # No caption is an image: every figure has its caption as text, and every captioned
        # figure picture was written without text (its captions are in the .json beside it).
        figures = re.findall(r"<figure.*?</figure>", dom, flags=re.S)
        for fig in figures:
            caption = re.search(r"<figcaption>(.*?)</figcaption>", fig, flags=re.S)
            assert caption and len(re.sub(r"<[^>]+>", "", caption.group(1)).strip()) > 10, fig[:200]
        pictures = sorted((out / "figures").glob("*.png"))
        assert pictures, "no figures"
        for picture in pictures:
            if picture.name != "motorcycle_resample.png":  # a montage with HTML captions
                assert picture.with_suffix(".json").is_file(), f"{picture.name} has its captions drawn in"
        for name in ("plots/accuracy_vs_cost.png", "plots/kodak_psnr.png", "plots/training.png",
                     "filters_tv.png", "filters_ced-direct.png", "features.png",
                     "figures/astronaut_crop_deconv.png"):
            assert name in dom, f"picture {name} is missing"

        shot = tmp / "shot.png"
        chromium(f"--screenshot={shot}", "--window-size=1280,2400", page.as_uri())
        assert shot.is_file(), "chromium wrote no screenshot"
        pixels = io.imread(shot)[..., :3].astype(np.float64) / 255
        assert pixels.shape[0] >= 2000 and pixels.shape[1] >= 1200, pixels.shape
        # A rendered page has text, tables and pictures: many distinct colors, not one.
        distinct = len(np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0))
        assert distinct > 500 and pixels.std() > 0.1, (distinct, pixels.std())
        print(f"report_render: {loaded.group(1)} pictures loaded, {dom.count('<table')} tables, "
              f"screenshot {pixels.shape[1]}x{pixels.shape[0]} with {distinct} colors")


if __name__ == "__main__":
    main()
