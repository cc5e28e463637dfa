#!/usr/bin/python3
"""Tabulates the L2-against-SSIM training study (scripts/ssim_study.sh): kodak4x PSNR and SSIM of
each PDE's shipped (L2) model and its SSIM- and mix-trained variants. Writes
docs/data/ssim_study.json and prints a Markdown table. Usage: scripts/ssim_study.py"""
import json
from pathlib import Path

root = Path(__file__).resolve().parent.parent
out = root / "out" / "ssim"
variants = [("l2", "L2 (shipped model)"), ("l2-tuned", "L2, fine-tuned"), ("mix", "mix, w = 0.01"),
            ("ssim", "SSIM (w = 1)")]
rows = []
for pde in ("tv", "pm", "ced"):
    for key, label in variants:
        path = out / f"{pde}-{key}.json"
        if not path.exists():
            continue
        blade = json.loads(path.read_text())["rows"]["blade"]
        rows.append({"pde": pde, "loss": key, "label": label, "psnr": blade["psnr"], "ssim": blade["ssim"]})
print("| PDE | fine-tuning loss | kodak4x PSNR dB | kodak4x SSIM |")
print("|---|---|---|---|")
for r in rows:
    print(f"| {r['pde'].upper()} | {r['label']} | {r['psnr']:.2f} | {r['ssim']:.4f} |")
(root / "docs" / "data" / "ssim_study.json").write_text(json.dumps(rows, indent=2) + "\n")
