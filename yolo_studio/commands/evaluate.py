"""``yolo-studio eval PROJECT --weights W``: mAP@0.5, mAP@[.5:.95] and per-class AP of a model."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from yolo_studio.commands.model_args import add_backend_argument, add_model_args, add_threshold_args
from yolo_studio.core.defaults import EVAL_SCORE_THRESHOLD


def add_parser(sub, name: str) -> argparse.ArgumentParser:
    """Register the ``eval`` subcommand."""
    p = sub.add_parser(name, help="evaluate a model on a project's validation images",
                       description="Run a model over the labelled images of a split and print "
                                   "VOC mAP@0.5, COCO mAP@[.5:.95] and the AP of each class.")
    p.add_argument("project", help="project folder, image folder, or pylessons list (.txt)")
    add_model_args(p, classes=False)
    p.add_argument("--val", help="pylessons validation list (with a .txt PROJECT)")
    p.add_argument("--names", help="class names file (with a .txt PROJECT)")
    p.add_argument("--split", choices=("val", "train", "all"), default="val",
                   help="which images to evaluate on (default val)")
    add_threshold_args(p, EVAL_SCORE_THRESHOLD, ", as the trainer's mAP")
    p.add_argument("--save-detections", metavar="JSON",
                   help="write the detections as a COCO results file (a new file)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --save-detections file")
    add_backend_argument(p)
    return p


def run(args) -> int:
    """Detect on every labelled image of the split, then print the metrics."""
    from yolo_studio.core.checkpoint_eval import evaluate_checkpoint
    from yolo_studio.core.output_guard import check_new_files
    from yolo_studio.core.training.list_project import open_training_source

    if args.save_detections:       # checked before minutes of detection, not after
        check_new_files([Path(args.save_detections)], "eval", args.overwrite)
    project = open_training_source(args.project, args.names, args.val)
    found = evaluate_checkpoint(project, args.weights, args.split, args.conf, args.iou,
                                cfg=args.cfg, input_size=args.size, backend=args.backend,
                                on_message=lambda m: print(m, file=sys.stderr))
    for p in found.problems[:20]:
        print(f"warning: {p}", file=sys.stderr)
    _print(found.result, len(found.annotations), args)
    if args.save_detections:
        _save_coco(Path(args.save_detections), found.annotations, found.detections,
                   list(project.classes))
        print(f"detections written to {args.save_detections}")
    return 0


def _print(result, n_images: int, args) -> None:
    print(f"{n_images} images ({args.split} split), weights {args.weights}")
    print(f"mAP@0.5       {result.map50:.4f}")
    print(f"mAP@[.5:.95]  {result.map50_95:.4f}")
    width = max((len(n) for n in result.num_ground_truth), default=5)
    print(f"{'class':<{width}}  {'boxes':>6}  {'AP@0.5':>7}  {'AP@[.5:.95]':>11}")
    for name, n in result.num_ground_truth.items():
        if name in result.per_class_ap50:
            print(f"{name:<{width}}  {n:>6}  {result.per_class_ap50[name]:>7.4f}  "
                  f"{result.per_class_ap[name]:>11.4f}")
        else:
            print(f"{name:<{width}}  {n:>6}  {'-':>7}  {'-':>11}")


def _save_coco(path: Path, anns, detections, classes) -> None:
    """A COCO results list; image ids count from 1 in the order printed, with the file name."""
    from yolo_studio.core.atomic import atomic_write_text

    results = []
    for image_id, (ann, dets) in enumerate(zip(anns, detections), start=1):
        for d in dets:
            results.append({"image_id": image_id, "file_name": str(ann.image_path),
                            "category_id": classes.index(d.label) + 1,
                            "bbox": [round(d.x1, 2), round(d.y1, 2), round(d.x2 - d.x1, 2),
                                     round(d.y2 - d.y1, 2)],
                            "score": round(d.score, 5)})
    atomic_write_text(path, json.dumps(results))
