"""Training recipe ablation: YOLOv3-tiny from scratch on the digits demo, one row per variant.

Every variant trains the same model on the same digits project (10 classes
that look alike, ``yolo-studio demo --kind digits``) for the same number of
epochs, and records val mAP@0.5 after every epoch with the wall time and the
process CPU time spent so far (CPU time is the fairer clock on a shared
machine). Variants: our old defaults, the new defaults, the pylessons
tutorial's recipe as described in its code (batch 4, lr 1e-4, IoU>0.3
multi-anchor assignment, label smoothing 0.01, N(0, 0.01) kernels, Keras'
batch-norm momentum, horizontal flip), and the new defaults with one
difference switched at a time.

Writes ``recipe.csv`` (one row per variant, seed and epoch), ``recipe.png``
(mAP@0.5 against epoch and against CPU minutes) and prints a table of
medians over seeds. Rows already in the CSV are kept and skipped, so an
interrupted bench continues where it stopped.

Usage (the README's table, on a shared 2-core machine: one process per seed,
one TensorFlow thread each, then --plot-only on a folder holding both CSVs' rows):
  python bench/bench_recipe.py --out bench-s0 --images 480 --size 192 --glyph-px 12 80 \
      --epochs 8 --seeds 0 --ablation-seeds 0 --threads 1
The pylessons train.py details beyond TrainConfig (bench/pylessons_details.py) are rows
"tutorial + DETAIL" and "tutorial, all details"; pick them with --only.
Transfer (--weights: darknet .weights of the same model, any class count): from scratch,
from the weights with the scratch defaults, with the transfer defaults, one change at a time:
  python bench/bench_recipe.py --out bench-transfer --images 480 --size 192 --glyph-px 12 80 \
      --epochs 8 --seeds 0 1 --ablation-seeds 0 --threads 1 --weights pretrained.weights
Full size (the founders' comparison):
  python bench/bench_recipe.py --out bench-full --images 1250 --size 416 --image-size 416 \
      --epochs 8 --seeds 0 1 --ablation-seeds 0 1
"""
from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Our defaults before issue 11 (the recipe fields as they behaved then).
OLD = dict(lr_init=1e-4, lr_end=1e-6, batch_size=8, assignment="best", label_smoothing=0.0,
           conv_init="keras", bn_momentum=0.0, prior_bias=False, ema_decay=0.0,
           lr_reference_batch=0, hflip=True)
# pylessons TensorFlow-2.x-YOLOv3 (configs.py / yolov3.py / dataset.py), in our terms.
TUTORIAL = dict(lr_init=1e-4, lr_end=1e-6, batch_size=4, assignment="multi", assign_iou=0.3,
                label_smoothing=0.01, conv_init="normal", bn_momentum=0.99, prior_bias=False,
                ema_decay=0.0, lr_reference_batch=0, hflip=True)


def variants(new: dict, extra: bool = False) -> list[tuple[str, dict]]:
    """(name, TrainConfig overrides) in the order they run: the most telling first.

    The main rows switch one difference at a time against the new defaults; ``extra``
    adds lr-scaling and "old + one tutorial difference" rows.
    """
    def flip(key, a, b):
        return a if new[key] == b else b

    main = [
        ("new defaults", {}),
        ("ours old defaults", OLD),
        ("tutorial recipe", TUTORIAL),
        (f"new, assignment {flip('assignment', 'multi', 'best')}",
         {"assignment": flip("assignment", "multi", "best")}),
        (f"new, EMA {'off' if new['ema_decay'] else '0.999'}",
         {"ema_decay": 0.0 if new["ema_decay"] else 0.999}),
        (f"new, prior bias {'off' if new['prior_bias'] else 'on'}",
         {"prior_bias": not new["prior_bias"]}),
        (f"new, conv init {flip('conv_init', 'normal', 'keras')}",
         {"conv_init": flip("conv_init", "normal", "keras")}),
        (f"new, hflip {'off' if new['hflip'] else 'on'}", {"hflip": not new["hflip"]}),
        (f"new, label smoothing {flip('label_smoothing', 0.01, 0.0):g}",
         {"label_smoothing": flip("label_smoothing", 0.01, 0.0)}),
        (f"new, BN momentum {'auto' if new['bn_momentum'] else '0.99'}",
         {"bn_momentum": 0.0 if new["bn_momentum"] else 0.99}),
        ("new, batch 4 same lr", {"batch_size": 4, "lr_reference_batch": 0}),
        ("new, lr 1e-4", {"lr_init": 1e-4, "lr_end": 1e-6}),
        # Keras' BN epsilon, the one pylessons detail that moved the reproduction most
        ("new, BN epsilon 1e-3", {"pylessons": ("bn_eps",)}),
        # 'auto' is bfloat16 on a CPU with AVX-512 BF16 / AMX: the mAP must not suffer for it
        (f"new, precision {flip('precision', 'float32', 'auto')}",
         {"precision": flip("precision", "float32", "auto")}),
    ]
    # The real train.py's details beyond TrainConfig (bench/pylessons_details.py): "tutorial
    # recipe" has all of them (the faithful reproduction); the TrainConfig-only one (0.004 in
    # the README's main table) is kept, with each detail alone on top of it.
    from pylessons_details import DETAILS
    tutorial = [("tutorial, TrainConfig only", TUTORIAL)] + \
        [(f"tutorial + {d}", {**TUTORIAL, "pylessons": (d,)}) for d in DETAILS]
    main[2] = ("tutorial recipe", {**TUTORIAL, "pylessons": DETAILS})
    main = main[:3] + tutorial + main[3:]
    return main if not extra else main + [
        ("old defaults, lr 1e-3", {**OLD, "lr_init": 1e-3, "lr_end": 1e-5}),
        ("new, batch 4 lr scaled", {"batch_size": 4, "lr_reference_batch": 8}),
        # The other direction: which tutorial difference closes the gap at lr 1e-4 (the
        # founders' 0.084 vs 0.789). Too step-starved to tell apart in the small bench.
        ("old + multi", {**OLD, "assignment": "multi"}),
        ("old + N(0, 0.01) init", {**OLD, "conv_init": "normal"}),
        ("old + BN 0.99", {**OLD, "bn_momentum": 0.99}),
        ("old + smoothing 0.01", {**OLD, "label_smoothing": 0.01}),
        ("old + batch 4", {**OLD, "batch_size": 4}),
    ]


def transfer_variants(weights: str) -> list[tuple[str, dict]]:
    """Rows for ``--weights``: from scratch, and from darknet weights with the scratch
    defaults, with the transfer defaults (start_defaults.TRANSFER), and one change at a time."""
    from yolo_studio.core.training.start_defaults import TRANSFER

    dark = {"start_from": "darknet", "darknet_weights": str(weights)}
    return [("new defaults", {}),
            ("darknet, scratch defaults", dark),
            ("darknet, transfer defaults", {**dark, **TRANSFER}),
            ("darknet, lr 1e-4", {**dark, "lr_init": 1e-4, "lr_end": 1e-6}),
            ("darknet, freeze 2", {**dark, "freeze_backbone_epochs": 2}),
            ("darknet, BN momentum 0.99", {**dark, "bn_momentum": 0.99}),
            ("darknet, warmup 1", {**dark, "warmup_epochs": 1.0})]


# rows that run with every --seeds (the others with --ablation-seeds)
MAIN_ROWS = ("new defaults", "ours old defaults", "darknet, transfer defaults")

FIELDS = ["variant", "seed", "epoch", "map50", "map50_95", "wall_s", "cpu_s", "train_loss",
          "val_cls_loss"]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="bench-recipe", help="folder for the project, CSV and PNG")
    p.add_argument("--images", type=int, default=250, help="digits images (80%% train, 20%% val)")
    p.add_argument("--image-size", type=int, default=None, help="side of the generated images "
                   "(default: --size)")
    p.add_argument("--size", type=int, default=128, help="network input size")
    p.add_argument("--glyph-px", type=int, nargs=2, metavar=("MIN", "MAX"), default=None,
                   help="digit heights in image pixels (default: the demo's 14-120 px at 416, "
                        "scaled with the image)")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--warmup", type=float, default=None, help="warmup epochs (default epochs/4)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1],
                   help="seeds for old and new defaults")
    p.add_argument("--ablation-seeds", type=int, nargs="+", default=[0],
                   help="seeds for every other variant")
    p.add_argument("--extra", action="store_true",
                   help="also the lr-scaling and 'old + one tutorial difference' rows")
    p.add_argument("--threads", type=int, default=0,
                   help="TensorFlow threads per op pool (0: TF's choice); 1 lets two bench "
                        "processes share two cores without fighting")
    p.add_argument("--weights", help="darknet .weights (the same model, any class count): run the "
                   "transfer rows instead (scratch vs darknet start, transfer defaults, one change "
                   "at a time)")
    p.add_argument("--only", nargs="*", help="run only variants whose name contains one of these")
    p.add_argument("--max-minutes", type=float, default=None,
                   help="stop starting new runs after this much wall time")
    p.add_argument("--plot-only", action="store_true", help="redraw the table and PNG from the CSV")
    args = p.parse_args()

    if args.threads:
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "recipe.csv"
    from pylessons_details import applied, config_overrides

    from yolo_studio.core.training.events import TrainConfig

    project = None if args.plot_only else _project(out, args)
    # "New defaults" is what Start gives on this project: TrainConfig's defaults plus the
    # project's own settings (the digits demo turns horizontal flip off).
    new = {**TrainConfig().to_dict(), **(project.train_settings if project else {})}
    plan = []
    rows = transfer_variants(args.weights) if args.weights else variants(new, args.extra)
    for name, overrides in rows:
        if args.only and not any(k in name for k in args.only):
            continue
        seeds = args.seeds if name in MAIN_ROWS else args.ablation_seeds
        plan += [(name, overrides, s) for s in seeds]
    # seed 0 of everything first, then the extra seeds, so a cut-short bench still has every row
    first = args.seeds[0]
    plan.sort(key=lambda item: item[2] != first)

    if not args.plot_only:
        t_start = time.monotonic()
        for name, overrides, seed in plan:
            if _done(csv_path, name, seed):
                continue
            if args.max_minutes and time.monotonic() - t_start > args.max_minutes * 60:
                print(f"time budget of {args.max_minutes} min spent; not starting {name} seed {seed}")
                break
            warmup = args.warmup if args.warmup is not None else max(args.epochs / 4, 0.5)
            overrides = dict(overrides)
            details = overrides.pop("pylessons", ())
            overrides.update(config_overrides(details))
            base = {**new, "model": "yolov3-tiny", "input_size": args.size, "epochs": args.epochs,
                    "warmup_epochs": warmup, "start_from": "scratch", "augment": True,
                    "score_threshold": 0.001}
            config = TrainConfig.from_dict({**base, **overrides, "seed": seed})
            with applied(details):
                _train(project, config, name, seed, csv_path)
    rows = _read(csv_path)
    if not rows:
        print("no results yet")
        return 1
    _print_table(rows)
    _print_time_to_reach(rows)
    _plot(rows, out / "recipe.png")
    print(f"wrote {csv_path} and {out / 'recipe.png'}")
    return 0


def _project(out: Path, args):
    from yolo_studio.core.demo import generate_demo_project
    from yolo_studio.core.project import Project

    root = out / "digits"
    if not (root / "yolo_studio.json").is_file():
        side = args.image_size or args.size
        if args.glyph_px:
            # Small bench images would shrink the smallest digits to a few unreadable
            # pixels; this keeps glyph sizes in pixels instead (bench only).
            from yolo_studio.core import demo_digits
            demo_digits.REFERENCE_SIDE = side
            demo_digits.GLYPH_HEIGHT = tuple(args.glyph_px)
        generate_demo_project(root, n_images=args.images, seed=0, min_size=side, max_size=side,
                              kind="digits")
    project = Project.open(root)
    train, val = project.split()
    print(f"digits project {root}: {len(train)} train / {len(val)} val images")
    return project


def _train(project, config, name: str, seed: int, csv_path: Path) -> None:
    import keras

    from yolo_studio.core.training.trainer import Trainer

    keras.backend.clear_session()
    t0, c0 = time.monotonic(), time.process_time()
    rows = []

    class Listener:
        def on_message(self, text):
            pass

        def on_batch(self, r):
            pass

        def on_epoch(self, r):
            row = {"variant": name, "seed": seed, "epoch": r.epoch + 1,
                   "map50": round(r.map50 or 0.0, 4), "map50_95": round(r.map50_95 or 0.0, 4),
                   "wall_s": round(time.monotonic() - t0, 1),
                   "cpu_s": round(time.process_time() - c0, 1),
                   "train_loss": round(r.train_loss, 3), "val_cls_loss": round(r.val_cls_loss, 3)}
            rows.append(row)
            print(f"  {name:34s} seed {seed} epoch {row['epoch']}: mAP@0.5 {row['map50']:.4f} "
                  f"wall {row['wall_s']:.0f}s cpu {row['cpu_s']:.0f}s", flush=True)

        def on_end(self, r):
            if r.reason != "finished":
                print(f"  {name}: {r.reason}: {r.message}")

    print(f"{name} (seed {seed}): batch {config.batch_size}, lr {config.lr_init:g}, "
          f"{config.assignment}, smoothing {config.label_smoothing:g}, init {config.conv_init}, "
          f"bn {config.bn_momentum or 'auto'}, prior {config.prior_bias}, ema {config.ema_decay:g}, "
          f"hflip {config.hflip}, {config.precision}, warmup {config.warmup_epochs:g}, "
          f"freeze {config.freeze_backbone_epochs}, from {config.start_from}", flush=True)
    Trainer(project, config, Listener()).run(threading.Event())
    new_file = not csv_path.exists()
    with open(csv_path, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        if new_file:
            w.writeheader()
        w.writerows(rows)


def _read(csv_path: Path) -> list[dict]:
    if not csv_path.exists():
        return []
    with open(csv_path, newline="") as f:
        return [{**r, "seed": int(r["seed"]), "epoch": int(r["epoch"]),
                 **{k: float(r[k]) for k in FIELDS[3:]}} for r in csv.DictReader(f)]


def _done(csv_path: Path, name: str, seed: int) -> bool:
    return any(r["variant"] == name and r["seed"] == seed for r in _read(csv_path))


def _curves(rows) -> dict[str, list[dict]]:
    """Per variant, per epoch: the median over seeds of mAP, wall and CPU time."""
    out: dict[str, list[dict]] = {}
    for name in dict.fromkeys(r["variant"] for r in rows):
        mine = [r for r in rows if r["variant"] == name]
        epochs = sorted({r["epoch"] for r in mine})
        out[name] = [{"epoch": e, "seeds": len([r for r in mine if r["epoch"] == e]),
                      **{k: statistics.median(r[k] for r in mine if r["epoch"] == e)
                         for k in ("map50", "wall_s", "cpu_s")}} for e in epochs]
    return out


def _print_table(rows) -> None:
    curves = _curves(rows)
    n = max(len(c) for c in curves.values())
    head = "| variant | seeds | " + " | ".join(f"ep {e + 1}" for e in range(n)) + \
        " | CPU min | mAP per CPU min |"
    print(head)
    print("|" + "---|" * (n + 4))
    for name, c in curves.items():
        maps = [f"{p['map50']:.3f}" for p in c] + [""] * (n - len(c))
        cpu = c[-1]["cpu_s"] / 60
        print(f"| {name} | {c[-1]['seeds']} | " + " | ".join(maps) +
              f" | {cpu:.1f} | {c[-1]['map50'] / max(cpu, 1e-9):.4f} |")


def _reach(curve: list[dict], target: float, key: str) -> float | None:
    """Time (``key``) at which a median curve first reaches ``target``, linear between epochs."""
    prev = {"map50": 0.0, key: 0.0}
    for p in curve:
        if p["map50"] >= target:
            frac = (target - prev["map50"]) / max(p["map50"] - prev["map50"], 1e-12)
            return prev[key] + frac * (p[key] - prev[key])
        prev = p
    return None


def _print_time_to_reach(rows, ref: str = "tutorial recipe") -> None:
    """Per variant: when it reaches the reference's last-epoch mAP, as a share of its time."""
    curves = _curves(rows)
    if ref not in curves:
        return
    goal = curves[ref][-1]
    print(f"\ntime to reach the {ref}'s epoch-{goal['epoch']} mAP@0.5 {goal['map50']:.3f} "
          f"({goal['cpu_s'] / 60:.1f} CPU min, {goal['wall_s'] / 60:.1f} wall min):")
    for name, c in curves.items():
        cpu, wall = _reach(c, goal["map50"], "cpu_s"), _reach(c, goal["map50"], "wall_s")
        if cpu is None:
            print(f"  {name}: not reached (best {max(p['map50'] for p in c):.3f})")
        else:
            print(f"  {name}: {cpu / 60:.1f} CPU min = {cpu / goal['cpu_s']:.2f}x; "
                  f"{wall / 60:.1f} wall min = {wall / goal['wall_s']:.2f}x")


def _plot(rows, path: Path) -> None:
    """Two panels, mAP@0.5 against epoch and against CPU minutes, drawn with OpenCV."""
    import cv2
    import numpy as np

    curves = _curves(rows)
    w, h, margin = 560, 420, 50
    canvas = np.full((h + 40, 2 * w + 260, 3), 255, np.uint8)
    ymax = max(0.05, max(p["map50"] for c in curves.values() for p in c) * 1.1)
    colours = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
               (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
               (0, 0, 0), (100, 100, 255), (0, 128, 128), (128, 0, 128)]
    for panel, (key, label, scale) in enumerate((("epoch", "epoch", 1.0),
                                                  ("cpu_s", "CPU minutes", 1 / 60))):
        x0 = panel * w
        xmax = max(p[key] * scale for c in curves.values() for p in c) or 1.0
        left, top, right, bottom = x0 + margin, 20, x0 + w - 15, h - margin

        def px(x, y, left=left, top=top, right=right, bottom=bottom, xmax=xmax):
            return (int(left + (right - left) * x / xmax), int(bottom - (bottom - top) * y / ymax))

        cv2.rectangle(canvas, (left, top), (right, bottom), (0, 0, 0), 1)
        for k in range(5):
            y = ymax * k / 4
            cv2.putText(canvas, f"{y:.2f}", (x0 + 5, px(0, y)[1] + 4), cv2.FONT_HERSHEY_SIMPLEX,
                        0.35, (0, 0, 0), 1, cv2.LINE_AA)
            xv = xmax * k / 4
            cv2.putText(canvas, f"{xv:.1f}", (px(xv, 0)[0] - 8, bottom + 15), cv2.FONT_HERSHEY_SIMPLEX,
                        0.35, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(canvas, f"mAP@0.5 vs {label}", (left + 10, h - 10), cv2.FONT_HERSHEY_SIMPLEX,
                    0.5, (0, 0, 0), 1, cv2.LINE_AA)
        for i, c in enumerate(curves.values()):
            colour = colours[i % len(colours)][::-1]
            pts = [px(0, 0)] + [px(p[key] * scale, p["map50"]) for p in c]
            cv2.polylines(canvas, [np.array(pts, np.int32)], False, colour, 2, cv2.LINE_AA)
    for i, name in enumerate(curves):
        y = 30 + 18 * i
        colour = colours[i % len(colours)][::-1]
        cv2.line(canvas, (2 * w + 5, y - 4), (2 * w + 25, y - 4), colour, 2)
        cv2.putText(canvas, name, (2 * w + 30, y), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 0), 1,
                    cv2.LINE_AA)
    cv2.imwrite(str(path), canvas)


if __name__ == "__main__":
    sys.exit(main())
