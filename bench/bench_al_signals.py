"""Which per-image aggregation of the uncertainty signal tracks the model's real mistakes?

A diagnostic beside bench_active_learning.py, on the same data and the same
start model (pre-trained, then a seed's 5% start set): every pool image is
scored, and each aggregation of the per-candidate uncertainty (sum, mean,
max, score-weighted sum, ...) is rank-correlated (Spearman) with the
model's errors on that image at the display threshold (false positives +
missed objects, IoU 0.5, against the pool's true boxes, which the simulated
person has not revealed yet) and with the number of candidates (what an
image of clutter has many of). Held-out images are not used.

Usage: the bench's data arguments, e.g.
  nice -n 19 python bench/bench_al_signals.py --out bench-al --pool 320 --heldout 100 \\
      --image-size 128 160 --size 128 --first-epochs 10 --pretrain 320 --pretrain-epochs 24 --seeds 0 1
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def image_rows(learner, pool_paths, images, truth):
    """Per pool image: candidate count, errors at the threshold, and each aggregation of uncertainty."""
    from yolo_studio.core.active import signals
    from yolo_studio.core.defaults import DEFAULT_SCORE_THRESHOLD as T

    rows = []
    for i in range(0, len(pool_paths), 32):
        chunk = pool_paths[i:i + 32]
        ims = [images[p] for p in chunk]
        plain, _, lbs = learner.probe.run(ims, learner.size)
        for j, p in enumerate(chunk):
            c = signals.candidates(plain[j], lbs[j], ims[j].shape[1], ims[j].shape[0])
            s = c.scores
            per = np.array([signals.uncertainty(signals.Candidates(c.boxes[[k]], s[[k]], c.classes[[k]],
                                                                   c.probs[[k]])) / max(s[k], 1e-9)
                            for k in range(len(s))])            # each candidate's own (entropy + closeness) / 2
            rows.append({"candidates": len(s), "errors": _errors(c, s >= T, truth[p], learner.classes),
                         "sum (v1)": per.sum(), "mean": per.mean() if len(s) else 0.0,
                         "max": per.max() if len(s) else 0.0, "score-weighted sum (v2)": (s * per).sum(),
                         "score^2-weighted sum": (s * s * per).sum()})
    return rows


def _errors(c, keep, ann, classes) -> int:
    from yolo_studio.core.boxes import iou

    gt = np.array([[b.x1, b.y1, b.x2, b.y2] for b in ann.boxes]).reshape(-1, 4)
    gtc = np.array([classes.index(b.label) for b in ann.boxes], int)
    db, dc = c.boxes[keep], c.classes[keep]
    hit = (iou(db, gt) * (dc[:, None] == gtc[None, :]) >= 0.5) if len(db) and len(gt) else \
        np.zeros((len(db), len(gt)), bool)
    return int((~hit.any(1)).sum() + (~hit.any(0)).sum())


def spearman(a, b) -> float:
    """Rank correlation (ties share their mean rank)."""
    from yolo_studio.core.active.select import rank01

    return float(np.corrcoef(rank01(np.asarray(a, float)), rank01(np.asarray(b, float)))[0, 1])


def main(argv=None) -> int:
    import bench_active_learning as bal
    from bench_al_learner import Learner

    args = bal.parse_args(sys.argv[1:] if argv is None else argv)
    pool, pool_paths, images, _, _ = bal.load_data(Path(args.out), args)
    truth = {a.image_path: a for a in pool.load_all()[0]}
    n0 = max(1, round(args.start * len(pool_paths)))
    for seed in args.seeds:
        start = [pool_paths[i] for i in sorted(np.random.default_rng(seed).choice(len(pool_paths), n0, False))]
        learner = Learner(pool, args.size, args.batch, seed)
        if args.pretrain:
            learner.set_weights(bal.pretrained(args, pool))
            learner.rounds = 1
        learner.train(start, args.first_epochs)         # the bench's start model of this seed
        rows = image_rows(learner, pool_paths, images, truth)
        print(f"seed {seed}: {len(rows)} pool images, {np.mean([r['candidates'] for r in rows]):.0f} "
              f"candidates per image on average; Spearman correlation with")
        print("| aggregation | the image's errors | its candidate count |")
        for name in [k for k in rows[0] if k not in ("candidates", "errors")]:
            v = [r[name] for r in rows]
            print(f"| {name} | {spearman(v, [r['errors'] for r in rows]):+.2f} | "
                  f"{spearman(v, [r['candidates'] for r in rows]):+.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
