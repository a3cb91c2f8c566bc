"""Anchor fitting speed and fit: k=9 on 100,000 boxes, ours beside keras-yolo3's median k-means.

Prints measured figures only; run with ``python bench/bench_anchors.py``.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from yolo_studio.core.anchors import fit_anchors, fit_metrics


def synthetic_boxes(n: int, seed: int) -> np.ndarray:
    """Box sizes at 416 px from a mix of shapes (small parts, people, cars), log-normal spread."""
    rng = np.random.default_rng(seed)
    modes = np.array([[12, 14], [24, 60], [60, 30], [90, 180], [160, 110], [300, 280]], dtype=float)
    pick = rng.integers(len(modes), size=n)
    wh = modes[pick] * np.exp(rng.normal(0, 0.35, size=(n, 2)))
    return np.clip(wh, 2, 416).astype(np.float32)


def median_kmeans(wh: np.ndarray, k: int, seed: int) -> np.ndarray:
    """keras-yolo3's kmeans.py method: k random boxes as seeds, 1 - IoU, median updates."""
    rng = np.random.default_rng(seed)
    box = wh.astype(np.float64)
    clusters = box[rng.choice(len(box), k, replace=False)]
    last = np.full(len(box), -1)
    while True:
        inter = np.minimum(box[:, None, 0], clusters[None, :, 0]) * np.minimum(box[:, None, 1], clusters[None, :, 1])
        iou = inter / (box[:, 0:1] * box[:, 1:2] + (clusters[:, 0] * clusters[:, 1])[None] - inter)
        near = np.argmin(1 - iou, axis=1)
        if (last == near).all():
            break
        for c in range(k):
            members = box[near == c]
            if len(members):  # keras-yolo3 would produce NaN here; keep the old centre instead
                clusters[c] = np.median(members, axis=0)
        last = near
    return clusters


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("-n", type=int, default=100_000)
    p.add_argument("-k", type=int, default=9)
    p.add_argument("--seeds", type=int, default=3, help="datasets / seeds to compare on")
    args = p.parse_args()
    print(f"k={args.k}, {args.n} boxes, {args.seeds} data sets")
    print(f"{'seed':>4} {'ours s':>8} {'median s':>9} {'ours IoU':>9} {'median IoU':>11} {'BPR ours':>9}")
    for seed in range(args.seeds):
        wh = synthetic_boxes(args.n, seed)
        ours, t_ours = timed(fit_anchors, wh, args.k, seed=seed)
        base, t_base = timed(median_kmeans, wh, args.k, seed)
        m_ours, m_base = fit_metrics(wh, ours), fit_metrics(wh, base)
        print(f"{seed:>4} {t_ours:>8.3f} {t_base:>9.3f} {m_ours.mean_iou:>9.4f} {m_base.mean_iou:>11.4f}"
              f" {m_ours.bpr:>9.4f}   time ratio ours/median {t_ours / t_base:.2f},"
              f" IoU ours-median {m_ours.mean_iou - m_base.mean_iou:+.4f}")


if __name__ == "__main__":
    main()
