"""The OpenVINO backend: the TF graph (model + decode) converted by OpenVINO's TF frontend.

Converted from the frozen tf.function (no ONNX step: ~30 s for the full
YOLOv3 against tf2onnx's 80-150 s here) and saved as IR (.xml + .bin) in the cache.
Float32 inference is forced, so a CPU with bf16/AMX does not silently round.
"""
from __future__ import annotations

import numpy as np

from .base import Runtime

NAME = "openvino"
SUFFIXES = (".xml", ".bin")


def version() -> str:
    """OpenVINO's version (ImportError when it is not installed)."""
    import openvino

    return openvino.get_version()


def convert(decoded_fn, xml_path) -> None:
    """Convert the decoded tf.function and save it as IR at ``xml_path`` (+ .bin beside it)."""
    import openvino as ov
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    # Frozen first: converting the function with its captured variables peaked
    # at ~11 GB for the full YOLOv3 (killed on the shared 23 GB machine); the
    # frozen GraphDef peaks at ~3.5 GB.
    frozen = convert_variables_to_constants_v2(decoded_fn.get_concrete_function())
    model = ov.convert_model(frozen.graph.as_graph_def())
    ov.save_model(model, str(xml_path), compress_to_fp16=False)


class OpenVINORuntime(Runtime):
    """A compiled OpenVINO model on the CPU, float32, tuned for latency."""

    name = NAME
    PRECISION_HINT = "f32"      # the bf16 backend (openvino_bf16_runtime.py) overrides this

    def __init__(self, xml_path, note: str = ""):
        import openvino as ov

        core = ov.Core()
        self._compiled = core.compile_model(str(xml_path), "CPU", {
            "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": self.PRECISION_HINT})
        self._request = self._compiled.create_infer_request()
        self.note = note

    def conv_precisions(self) -> set[str]:
        """The precisions OpenVINO really runs the convolutions in ({'f32'} here, even on a bf16 CPU)."""
        found = set()
        for op in self._compiled.get_runtime_model().get_ordered_ops():
            info = op.get_rt_info()
            if "layerType" in info and info["layerType"].astype(str) == "Convolution":
                found.add(info["runtimePrecision"].astype(str))
        return found

    def decoded(self, images: np.ndarray) -> np.ndarray:
        out = self._request.infer([np.ascontiguousarray(images, np.uint8)])
        return np.asarray(out[self._compiled.output(0)])


RUNTIME = OpenVINORuntime
