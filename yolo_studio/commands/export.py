"""``yolo-studio export --weights W --format F --out PATH``: SavedModel, TFLite, ONNX or darknet."""
from __future__ import annotations

import argparse

from yolo_studio.commands.model_args import add_model_args

# Same list as core.export.FORMATS, repeated so building the parser does not import TensorFlow.
FORMATS = ("savedmodel", "tflite", "tflite16", "onnx", "darknet")


def add_parser(sub, name: str) -> argparse.ArgumentParser:
    """Register the ``export`` subcommand."""
    p = sub.add_parser(name, help="export a trained model (SavedModel, TFLite, ONNX, darknet .weights)",
                       description="SavedModel includes decode + NMS; TFLite and ONNX give decoded "
                                   "boxes (batch 1) for your own NMS; darknet writes .weights, "
                                   ".cfg and .names that darknet and OpenCV DNN read.")
    add_model_args(p, "checkpoint (<name>.weights.h5 / .json) or darknet .weights",
                   size_help="input size baked into the export (default: the model's)")
    p.add_argument("--format", required=True, choices=FORMATS, help="what to write")
    p.add_argument("--out", required=True,
                   help="output path (a new folder for savedmodel; a file for the others)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an earlier export at --out (a folder is replaced only if it holds "
                        "a SavedModel export and nothing else)")
    return p


def run(args) -> int:
    """Load, convert, report the files written."""
    from yolo_studio.core.export import export_model

    result = export_model(args.weights, args.format, args.out, classes=args.classes, cfg=args.cfg,
                          input_size=args.size, overwrite=args.overwrite)
    print(result.message)
    return 0
