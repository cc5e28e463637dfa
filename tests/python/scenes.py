"""Small synthetic photographs the Python tests share (no files needed)."""

import numpy as np


def scene(seed, h=64, w=96):
    """A small photograph-like image: smooth shading, a disk and a bar with sharp edges, grain."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    u = 0.3 + 0.4 * (x / w) * (0.5 + 0.5 * np.sin(y / (5 + seed)))
    cx, cy, r = rng.uniform(20, w - 20), rng.uniform(16, h - 16), rng.uniform(8, 14)
    u[(x - cx) ** 2 + (y - cy) ** 2 < r * r] = 0.9
    u[int(h * 0.7):int(h * 0.7) + 4, 8:w - 8] = 0.1
    u += rng.normal(0, 0.02, u.shape).astype(np.float32)
    return np.clip(u, 0, 1).astype(np.float32)
