"""The summary of bench_active_learning.py: mean curves, labels needed to reach random's final mAP, a PNG."""
from __future__ import annotations

import statistics
from pathlib import Path


def curves(rows, strategies) -> dict[str, list[tuple[int, float, float, int]]]:
    """strategy -> [(labelled, mean mAP, stdev, seeds)] over seeds, each starting at the shared start."""
    latest = {(r["strategy"], r["seed"], r["round"]): r for r in rows}     # a rerun's row wins
    starts = {s: r for (name, s, _), r in latest.items() if name == "start"}
    out = {}
    for strategy in strategies:
        by_round: dict[int, list] = {}
        for (name, seed, rnd), r in latest.items():
            if name == strategy and seed in starts:
                by_round.setdefault(rnd, []).append(r)
        seeds = sorted({r["seed"] for rs in by_round.values() for r in rs})
        points = [(0, [starts[s] for s in seeds])] + sorted(by_round.items())
        out[strategy] = [(int(statistics.mean(r["labelled"] for r in rs)),
                          statistics.mean(r["map50"] for r in rs),
                          statistics.stdev([r["map50"] for r in rs]) if len(rs) > 1 else 0.0, len(rs))
                         for _, rs in points if rs]
    return out


def labels_to_reach(curve, target: float) -> float | None:
    """Images labelled when the mean curve first reaches ``target`` (linear between rounds), None if never."""
    prev = None
    for n, m, _, _ in curve:
        if m >= target:
            if prev is None or m == prev[1]:
                return float(n)
            n0, m0 = prev
            return n0 + (n - n0) * (target - m0) / (m - m0)
        prev = (n, m)
    return None


def report(rows, strategies, png: Path) -> dict:
    """Print the table and the savings against random; draw the PNG; returns the savings.

    The last column, the mean of the mean curve over the rounds after the
    start (an area under the curve), breaks ties between strategies that
    reach random's final mAP with the same labels, or never.
    """
    cs = curves(rows, strategies)
    if "random" not in cs or not cs["random"]:
        print("no random curve: nothing to compare against")
        return {}
    target = cs["random"][-1][1]
    n_random = labels_to_reach(cs["random"], target)
    print(f"\nmean held-out mAP@0.5 over seeds; random ends at {target:.4f} with {cs['random'][-1][0]} labelled")
    print("| strategy | " + " | ".join(f"{n}" for n, *_ in cs["random"])
          + " | labels to reach random's final | saving | mean mAP after the start |")
    savings = {}
    for name, c in cs.items():
        reach = labels_to_reach(c, target)
        saving = None if reach is None or not n_random else 1.0 - reach / n_random
        savings[name] = saving
        cells = " | ".join(f"{m:.3f}±{s:.3f}" for _, m, s, _ in c)
        area = statistics.mean(m for _, m, _, _ in c[1:]) if len(c) > 1 else float("nan")
        print(f"| {name} | {cells} | {'never' if reach is None else f'{reach:.0f}'} | "
              f"{'-' if saving is None else f'{100 * saving:+.0f}%'} | {area:.4f} |")
    _plot(cs, png)
    return savings


def _plot(cs, path: Path) -> None:
    """Mean mAP@0.5 against images labelled, one line per strategy, with +-1 sd whiskers (OpenCV)."""
    import cv2
    import numpy as np

    w, h, margin = 640, 440, 55
    canvas = np.full((h, w + 190, 3), 255, np.uint8)
    ymax = max(0.05, max(m + s for c in cs.values() for _, m, s, _ in c) * 1.1)
    xmin = min(n for c in cs.values() for n, *_ in c)
    xmax = max(n for c in cs.values() for n, *_ in c)
    left, top, right, bottom = margin, 20, w - 15, h - margin
    colours = [(127, 127, 127), (31, 119, 180), (44, 160, 44), (148, 103, 189), (214, 39, 40),
               (255, 127, 14), (0, 0, 0), (140, 86, 75), (227, 119, 194), (188, 189, 34), (23, 190, 207)]

    def px(x, y):
        return (int(left + (right - left) * (x - xmin) / max(xmax - xmin, 1)),
                int(bottom - (bottom - top) * y / ymax))

    cv2.rectangle(canvas, (left, top), (right, bottom), (0, 0, 0), 1)
    font = cv2.FONT_HERSHEY_SIMPLEX
    for k in range(5):
        y, x = ymax * k / 4, xmin + (xmax - xmin) * k / 4
        cv2.putText(canvas, f"{y:.2f}", (5, px(xmin, y)[1] + 4), font, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(canvas, f"{x:.0f}", (px(x, 0)[0] - 10, bottom + 16), font, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(canvas, "held-out mAP@0.5 (mean over seeds) vs images labelled", (left + 5, h - 12), font,
                0.45, (0, 0, 0), 1, cv2.LINE_AA)
    for i, (name, c) in enumerate(cs.items()):
        colour = colours[i % len(colours)][::-1]
        pts = np.array([px(n, m) for n, m, _, _ in c], np.int32)
        cv2.polylines(canvas, [pts], False, colour, 2, cv2.LINE_AA)
        for (n, m, s, _), p in zip(c, pts):
            cv2.line(canvas, px(n, max(m - s, 0)), px(n, m + s), colour, 1)
            cv2.circle(canvas, tuple(int(v) for v in p), 3, colour, -1)
        y = 30 + 20 * i
        cv2.line(canvas, (w + 5, y - 4), (w + 25, y - 4), colour, 2)
        cv2.putText(canvas, name, (w + 30, y), font, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.imwrite(str(path), canvas)
