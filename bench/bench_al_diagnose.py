"""Why does choosing what to label save so little? Cheap diagnostics of bench_active_learning.py's output.

Reads an --out folder of bench_active_learning.py (its CSV, its picks.csv and
the pool's true boxes; trains nothing) and prints, per strategy:
- the mean curve's gain per round and the spread between seeds, against
  the gap to random (is the difference larger than the noise?);
- where random's final mean mAP falls (the last round only, or earlier):
  with k images a round, "labels to reach" is interpolated between rounds;
- the labels a strategy would need to save 30% (the issue's goal), and its
  mean mAP there against random's final;
- what the picks hold: objects per picked image and each class's share of
  the picked boxes, against the pool's (is the selection class-imbalanced,
  or does it favour crowded images?), and the boxes revealed: the labels
  a strategy needs to reach random's final mAP counted in boxes, not images.

Usage: python bench/bench_al_diagnose.py --out bench-al [--strategies random,combined:0.5:0.5:0]
"""
from __future__ import annotations

import argparse
import csv
import statistics
import sys
from collections import Counter
from pathlib import Path


def curve_table(rows, strategies):
    """Print per strategy: mean mAP per round, the seeds' sd, gain per round and gap to random."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_active_learning_report import curves, labels_to_reach

    cs = curves(rows, strategies)
    if "random" not in cs:
        print("no random rows")
        return
    rnd = cs["random"]
    target = rnd[-1][1]
    print(f"random's final mean mAP@0.5 {target:.4f} at {rnd[-1][0]} labels; "
          f"first reached at {labels_to_reach(rnd, target):.0f} labels (rounds at "
          f"{', '.join(str(n) for n, *_ in rnd)})")
    goal = 0.7 * rnd[-1][0]
    print(f"30% fewer = {goal:.0f} labels: the mean curve must be at {target:.4f} there\n")
    print("| strategy | labels | mean mAP | sd over seeds | gain on last round | minus random |")
    print("|---|---|---|---|---|---|")
    for name, c in cs.items():
        for i, (n, m, s, _) in enumerate(c):
            gain = m - c[i - 1][1] if i else float("nan")
            gap = m - rnd[i][1] if i < len(rnd) else float("nan")
            print(f"| {name} | {n} | {m:.4f} | {s:.4f} | {gain:+.4f} | {gap:+.4f} |")
        at_goal = _interp(c, goal)
        print(f"| {name} | at {goal:.0f} | {at_goal:.4f} | | | needs {target - at_goal:+.4f} more |")


def _interp(curve, n):
    for (n0, m0, *_), (n1, m1, *_) in zip(curve, curve[1:]):
        if n0 <= n <= n1:
            return m0 + (m1 - m0) * (n - n0) / max(n1 - n0, 1)
    return float("nan")


def read_picks(out: Path, seeds=None) -> list[dict]:
    """picks.csv's rows (of ``seeds`` only, when given)."""
    path = out / "picks.csv"
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return [p for p in csv.DictReader(f) if seeds is None or int(p["seed"]) in seeds]


def picks_table(out: Path, strategies, picks):
    """Objects per picked image and class shares of the picked boxes, against the whole pool."""
    from yolo_studio.core.project import Project

    pool = Project.open(out / "data" / "pool")
    anns, _ = pool.load_all()
    boxes = {Path(a.image_path).name: [b.label for b in a.boxes] for a in anns}
    classes = list(pool.classes)
    print("\n| picked by | images | objects per image | " + " | ".join(classes) + " | max/min class share |")
    print("|---|---|---|" + "---|" * len(classes) + "---|")
    _row("pool (all)", list(boxes), boxes, classes)
    for name in strategies:
        names = [p["image"] for p in picks if p["strategy"] == name]
        if names:
            _row(name, names, boxes, classes)
        for rnd in sorted({int(p["round"]) for p in picks if p["strategy"] == name}):
            names = [p["image"] for p in picks if p["strategy"] == name and int(p["round"]) == rnd]
            _row(f"{name}, round {rnd}", names, boxes, classes)


def boxes_table(out: Path, rows, strategies, picks, start_fraction: float):
    """Boxes revealed (start set + picks) per round, and the boxes each needed to reach random's final mAP.

    The issue counts images; a person's time goes more by boxes. A strategy
    that only picks crowded images saves images, not boxes.
    """
    import numpy as np

    from bench_active_learning_report import curves, labels_to_reach
    from yolo_studio.core.project import Project

    pool = Project.open(out / "data" / "pool")
    paths = pool.image_paths()
    anns, _ = pool.load_all()
    boxes = {Path(a.image_path).name: len(a.boxes) for a in anns}
    cs = curves(rows, strategies)
    target = cs["random"][-1][1]
    print("\n| strategy | mean boxes revealed per round | boxes to reach random's final mAP |")
    print("|---|---|---|")
    for name in strategies:
        seeds = sorted({int(p["seed"]) for p in picks if p["strategy"] == name})
        if not seeds:
            continue
        per_seed = []
        for seed in seeds:
            n0 = max(1, round(start_fraction * len(paths)))
            start = [paths[i].name for i in np.random.default_rng(seed).choice(len(paths), n0, False)]
            total = [sum(boxes[n] for n in start)]
            for rnd in range(1, max(int(p["round"]) for p in picks) + 1):
                total.append(total[-1] + sum(boxes[p["image"]] for p in picks if p["strategy"] == name
                                             and int(p["seed"]) == seed and int(p["round"]) == rnd))
            per_seed.append(total)
        mean_boxes = [statistics.mean(t[i] for t in per_seed) for i in range(len(per_seed[0]))]
        curve = [(b, m, 0, 0) for b, (_, m, *_) in zip(mean_boxes, cs[name])]
        reach = labels_to_reach(curve, target)
        print(f"| {name} (seeds {' '.join(map(str, seeds))}) | {' / '.join(f'{b:.0f}' for b in mean_boxes)} | "
              f"{'never' if reach is None else f'{reach:.0f}'} |")


def scenes_table(out: Path, strategies, picks, start_fraction: float):
    """On a video-like pool (bench_al_video.py): distinct scenes among each round's picks, and repeats.

    A pick "repeats" when its scene already had a labelled frame (the start
    set or an earlier pick) or another pick of the same round.
    """
    import numpy as np

    from yolo_studio.core.project import Project

    paths = Project.open(out / "data" / "pool").image_paths()
    if not paths or not paths[0].name.startswith("video_"):
        return

    def scene(name):
        return name.split("_")[1]

    print("\n| strategy | seed | distinct scenes picked per round (of k) | picks repeating a scene |")
    print("|---|---|---|---|")
    for name in strategies:
        for seed in sorted({int(p["seed"]) for p in picks if p["strategy"] == name}):
            n0 = max(1, round(start_fraction * len(paths)))
            seen = {scene(paths[i].name) for i in np.random.default_rng(seed).choice(len(paths), n0, False)}
            distinct, repeats, total = [], 0, 0
            for rnd in sorted({int(p["round"]) for p in picks if p["strategy"] == name}):
                batch = [scene(p["image"]) for p in picks
                         if p["strategy"] == name and int(p["seed"]) == seed and int(p["round"]) == rnd]
                distinct.append(f"{len(set(batch))}/{len(batch)}")
                repeats += len(batch) - len(set(batch) - seen)
                total += len(batch)
                seen |= set(batch)
            print(f"| {name} | {seed} | {' '.join(distinct)} | {repeats} of {total} |")


def _row(name, images, boxes, classes):
    counts = Counter(label for im in images for label in boxes[im])
    total = max(sum(counts.values()), 1)
    shares = [counts[c] / total for c in classes]
    per_image = statistics.mean(len(boxes[im]) for im in images)
    ratio = max(shares) / min(shares) if min(shares) else float("inf")
    print(f"| {name} | {len(images)} | {per_image:.2f} | " + " | ".join(f"{s:.2f}" for s in shares)
          + f" | {ratio:.2f} |")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="bench-al")
    p.add_argument("--strategies", default="random,combined:0.5:0.5:0")
    p.add_argument("--seeds", type=int, nargs="+", default=None)
    p.add_argument("--start", type=float, default=0.05, help="the bench's --start (rebuilds each seed's start set)")
    args = p.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_active_learning import read_rows

    out = Path(args.out)
    rows = read_rows(out / "active_learning.csv")
    if args.seeds is not None:
        rows = [r for r in rows if r["seed"] in args.seeds]
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    curve_table(rows, strategies)
    picks = read_picks(out, args.seeds)
    if not picks:
        print(f"{out / 'picks.csv'}: no picks recorded")
        return 0
    picks_table(out, strategies, picks)
    boxes_table(out, rows, strategies, picks, args.start)
    scenes_table(out, strategies, picks, args.start)
    return 0


if __name__ == "__main__":
    sys.exit(main())
