"""The options every command that loads a model shares (detect, eval, export): one wording each."""
from __future__ import annotations

import argparse

from yolo_studio.core.defaults import DEFAULT_NMS_IOU

ANY_MODEL = "checkpoint (<name>.weights.h5 / .json), darknet .weights, or SavedModel folder"


def add_model_args(p: argparse.ArgumentParser, weights_help: str = ANY_MODEL, classes: bool = True,
                   size_help: str = "network input size, a multiple of 32 (default: the model's)") -> None:
    """--weights, --cfg, --classes (unless ``classes`` is False) and --size."""
    p.add_argument("--weights", required=True, help=weights_help)
    p.add_argument("--cfg", help="darknet .cfg for --weights (default: <weights>.cfg beside it)")
    if classes:
        p.add_argument("--classes", help="class names file (one per line) or just the class count")
    p.add_argument("--size", type=int, help=size_help)


def add_threshold_args(p: argparse.ArgumentParser, score: float, score_note: str = "") -> None:
    """--conf (default ``score``) and --iou (NMS)."""
    p.add_argument("--conf", type=float, default=score,
                   help=f"score threshold (default {score}{score_note})")
    p.add_argument("--iou", type=float, default=DEFAULT_NMS_IOU,
                   help=f"NMS IoU threshold (default {DEFAULT_NMS_IOU})")


def add_backend_argument(p: argparse.ArgumentParser) -> None:
    """--backend, shared by detect and eval."""
    from yolo_studio.core.runtime import CHOICES, ENV_BACKEND, default_backend

    p.add_argument("--backend", choices=CHOICES, default=default_backend(),
                   help="inference runtime: auto starts on TensorFlow, converts the model once in the "
                        "background (cached beside the weights) and switches to the fastest backend "
                        "that gives TensorFlow's boxes (with --precision auto/bfloat16 on a CPU with "
                        "native bf16 also openvino-bf16, checked with a bf16 score tolerance); or name "
                        f"one (default: auto, or ${ENV_BACKEND})")
