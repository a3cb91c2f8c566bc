"""The ONNX Runtime backend: the TF graph (model + decode) converted with tf2onnx."""
from __future__ import annotations

import numpy as np

from .base import Runtime

NAME = "onnxruntime"
SUFFIXES = (".onnx",)
OPSET = 17


def version() -> str:
    """onnxruntime + tf2onnx versions (ImportError when either is missing)."""
    import onnxruntime
    import tf2onnx

    return f"{onnxruntime.__version__}+tf2onnx{tf2onnx.__version__}"


def convert(decoded_fn, onnx_path) -> None:
    """Convert the decoded tf.function to an ONNX file at ``onnx_path`` (written atomically)."""
    import tf2onnx

    from yolo_studio.core.atomic import atomic_write_bytes

    proto, _ = tf2onnx.convert.from_function(decoded_fn, input_signature=decoded_fn.input_signature,
                                             opset=OPSET)
    atomic_write_bytes(onnx_path, proto.SerializeToString())


class OnnxRuntime(Runtime):
    """An onnxruntime CPU session with every graph optimisation on."""

    name = NAME

    def __init__(self, onnx_path, note: str = ""):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self.note = note

    def decoded(self, images: np.ndarray) -> np.ndarray:
        return self._session.run(None, {self._input: np.ascontiguousarray(images, np.uint8)})[0]


RUNTIME = OnnxRuntime
