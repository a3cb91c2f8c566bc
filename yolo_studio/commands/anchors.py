"""``yolo-studio anchors PROJECT``: fit anchors to the project's boxes and compare them with the current ones."""
from __future__ import annotations

import argparse
import sys

import numpy as np

from yolo_studio.core.errors import ConfigError
from yolo_studio.core.model_family import MODEL_NAMES, check_input_size, family

MAX_PROBLEMS_SHOWN = 5


def add_parser(sub, name: str) -> argparse.ArgumentParser:
    """Register the ``anchors`` subcommand."""
    p = sub.add_parser(name, help="fit YOLO anchors to a project's boxes (IoU k-means) and show the fit")
    p.add_argument("project", help="project folder (or a folder of labelled images)")
    p.add_argument("-k", type=int, default=None,
                   help="number of anchors (default: 9 for yolov3, 6 for yolov3-tiny)")
    p.add_argument("--size", type=int, default=416, help="network input size in pixels (default 416)")
    p.add_argument("--model", choices=MODEL_NAMES, default="yolov3",
                   help="model the anchors are for (default yolov3)")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same anchors")
    p.add_argument("--no-genetic", action="store_true", help="skip the genetic refinement step")
    p.add_argument("--apply", action="store_true",
                   help="write the fitted anchors into the project so training uses them")
    return p


def run(args) -> int:
    """Load the boxes, fit, print anchors and metrics side by side, optionally apply."""
    from yolo_studio.core import anchors as A
    from yolo_studio.core.anchor_fit import FitRequest, fit_and_measure, load_boxes
    from yolo_studio.core.project import Project
    from yolo_studio.core.project_checks import project_warnings

    size = _checked_size(args.size)
    need = family(args.model).n_anchors
    k = need if args.k is None else args.k
    if args.apply and k != need:
        raise ConfigError(f"--apply needs -k {need} for {args.model} (3 anchors per output scale), not -k {k}")
    project = Project.open(args.project)
    for note in project_warnings(project, args.model):
        print(f"warning: {note}", file=sys.stderr)
    request = FitRequest(args.model, size, k, seed=args.seed, genetic=not args.no_genetic)
    result = load_boxes(project, request)
    _warn(result.labels.problems + result.skipped)      # before a "no usable boxes" error
    fit_and_measure(project, result)
    fitted = result.sets[A.FITTED]
    print(f"{project.root}: {len(result.wh)} boxes in "
          f"{result.labels.images_with_boxes()} images, "
          f"at {size}x{size} px, {args.model}, k={k}")
    _print_anchors(result.sets, k == need)
    _print_metrics(result.metrics)
    print(f"\nfor a darknet .cfg ([yolo] sections): {A.darknet_line(fitted)}")
    if args.apply:
        A.apply_to_project(project, fitted, args.model, size)
        print(f"anchors written to {project.project_file} (fitted at {size} px)")
    elif k == need:
        print("run again with --apply to use the fitted anchors for training")
    return 0


def _checked_size(size: int) -> int:
    return check_input_size(size, "--size")


def _warn(problems) -> None:
    for p in problems[:MAX_PROBLEMS_SHOWN]:
        print(f"warning: {p}", file=sys.stderr)
    if len(problems) > MAX_PROBLEMS_SHOWN:
        print(f"warning: ... and {len(problems) - MAX_PROBLEMS_SHOWN} more problems", file=sys.stderr)


def _fmt(a) -> str:
    return f"{round(float(a[0]), 1):g}x{round(float(a[1]), 1):g}"


def _print_anchors(sets: dict[str, np.ndarray], grouped: bool) -> None:
    """One row per output scale (or one row of all anchors when k does not fit the model)."""
    names = list(sets)
    rows = max(len(a) for a in sets.values())
    per_row = 3 if grouped else rows
    cells = {n: [" ".join(_fmt(a) for a in sets[n][i:i + per_row]) for i in range(0, rows, per_row)]
             for n in names}
    width = {n: max(len(n), *(len(c) for c in cells[n])) for n in names}
    print("\nanchors (w x h, network pixels)" + ("" if grouped else " — k does not match the model"))
    print("  scale  " + "   ".join(n.ljust(width[n]) for n in names))
    for i in range((rows + per_row - 1) // per_row):
        label = str(i) if grouped else "all"
        print(f"  {label:<5}  " + "   ".join((cells[n][i] if i < len(cells[n]) else "").ljust(width[n])
                                           for n in names))


def _print_metrics(metrics: dict) -> None:
    sets = list(metrics)
    rows = [("mean best IoU (darknet avg IoU)", "mean_iou", "{:.3f}"),
            ("best possible recall (ratio < 4)", "bpr", "{:.3f}"),
            ("anchors within ratio 4 per box", "anchors_above", "{:.2f}"),
            ("boxes with best IoU > 0.5", "iou_above_half", "{:.3f}")]
    width = {n: max(len(n), 6) for n in sets}
    print("\n" + "fit".ljust(34) + "   ".join(n.rjust(width[n]) for n in sets))
    for title, field, fmt in rows:
        print(f"  {title:<32}" + "   ".join(fmt.format(getattr(metrics[n], field)).rjust(width[n])
                                          for n in sets))
