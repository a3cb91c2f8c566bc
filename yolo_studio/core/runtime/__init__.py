"""Inference backends under the Detector: TensorFlow, ONNX Runtime, OpenVINO (float32 and bf16).

Every backend runs one graph: uint8 letterboxed RGB in, the TF decode
(core/model/decode.py) inside, (B, N, 5+C) rows out; NMS is TF's own for
TensorFlow and vectorised OpenCV/numpy (nms.py) for the others. The optional
backends are imported only when used, so a machine without onnxruntime or
openvino runs on TensorFlow alone. :mod:`.select` converts (cached beside the
weights), checks a backend against TensorFlow, measures and picks.
"""
from __future__ import annotations

import importlib
import os

TENSORFLOW = "tensorflow"
OPTIONAL = ("openvino", "onnxruntime")     # also the order they are converted in ('auto')
# Backends that round to bfloat16: offered only where the CPU has it natively and the
# user's precision is 'auto' or 'bfloat16' (never 'float32').
BF16 = ("openvino-bf16",)
BF16_PRECISIONS = ("auto", "bfloat16")
BACKENDS = (TENSORFLOW, *OPTIONAL, *BF16)
CHOICES = ("auto", *BACKENDS)
# Images per model call when a folder is run (detect, pre-labelling, eval):
# batches fill the cores better than one image at a time, and 8 letterboxed
# 416 px images are only 4 MB.
FOLDER_BATCH = 8
_MODULES = {"openvino": "openvino_runtime", "onnxruntime": "onnx_runtime",
            "openvino-bf16": "openvino_bf16_runtime"}


ENV_BACKEND = "YOLO_STUDIO_BACKEND"


def default_backend() -> str:
    """The backend used when none is named: $YOLO_STUDIO_BACKEND if valid, else 'auto'.

    'tensorflow' there turns conversions off everywhere (the tests do, except
    the backend tests, which name their backend).
    """
    value = os.environ.get(ENV_BACKEND, "auto").strip().lower()
    return value if value in CHOICES else "auto"


def backend_module(name: str):
    """The module of an optional backend (convert, version, runtime class)."""
    return importlib.import_module(f"{__name__}.{_MODULES[name]}")


def available_backends() -> list[str]:
    """Backends whose libraries import here: TensorFlow always, then the optional ones,
    then the bf16 ones where the CPU runs bf16 natively."""
    found = [TENSORFLOW]
    for name in OPTIONAL + BF16:
        try:
            module = backend_module(name)
            module.version()
        except ImportError:
            continue
        if name in BF16 and not module.cpu_has_bf16():
            continue
        found.append(name)
    return found


def offered_backends(precision: str = "float32") -> list[str]:
    """Backends 'auto' may try for a user's ``precision``: bf16 ones only for 'auto' / 'bfloat16'."""
    return [n for n in available_backends() if n not in BF16 or precision in BF16_PRECISIONS]


def is_bf16(name: str) -> bool:
    """True for a backend that rounds to bfloat16 (checked with the bf16 tolerance)."""
    return name in BF16
