"""Inference backends under the Detector: TensorFlow, ONNX Runtime, OpenVINO.

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
BACKENDS = (TENSORFLOW, *OPTIONAL)
CHOICES = ("auto", *BACKENDS)
# Images per model call when a folder is run (detect, pre-labelling, eval):
# batches fill the cores better than one image at a time, and 8 letterboxed
# 416 px images are only 4 MB.
FOLDER_BATCH = 8
_MODULES = {"openvino": "openvino_runtime", "onnxruntime": "onnx_runtime"}


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
    """Backends whose libraries import here: TensorFlow always, then the optional ones."""
    found = [TENSORFLOW]
    for name in OPTIONAL:
        try:
            backend_module(name).version()
        except ImportError:
            continue
        found.append(name)
    return found
