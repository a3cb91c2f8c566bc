"""The OpenVINO backend: the TF graph (model + decode) converted by OpenVINO's TF frontend.

Converted from the frozen tf.function (no ONNX step: ~30 s for the full
YOLOv3 against tf2onnx's 80-150 s here) and saved as IR (.xml + .bin) in the cache.
Float32 inference is forced, so a CPU with bf16/AMX does not silently round.
"""
from __future__ import annotations

from pathlib import Path

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
    """A compiled OpenVINO model on the CPU, float32, tuned for latency.

    Batch 1 (the preview, single images) runs the graph reshaped to a static
    (1, S, S, 3) input: with every shape known OpenVINO folds the decode's
    shape arithmetic and fuses more (measured 2-5% faster than the dynamic-batch
    graph). Other batch sizes (folders) compile the dynamic graph on first use.
    """

    name = NAME
    PRECISION_HINT = "f32"      # the bf16 backend (openvino_bf16_runtime.py) overrides this
    # LATENCY: one stream using every core for one request. Measured and not kept (README):
    # pinning off, an explicit INFERENCE_NUM_THREADS (2 is what LATENCY picks), denormals-as-zero.
    CONFIG = {"PERFORMANCE_HINT": "LATENCY"}

    def __init__(self, xml_path, note: str = ""):
        import openvino as ov

        self._core = ov.Core()
        self._config = {**self.CONFIG, "INFERENCE_PRECISION_HINT": self.PRECISION_HINT}
        model = self._core.read_model(str(xml_path))
        dims = list(model.input(0).get_partial_shape())[1:]
        static = [1] + [d.get_length() if d.is_static else -1 for d in dims]
        self._static_shape = tuple(static)
        self._dynamic = None
        self._xml = Path(xml_path)      # read again only if a folder batch comes (not kept: memory)
        if all(d > 0 for d in static):
            model.reshape(static)
            self._compiled = self._core.compile_model(model, "CPU", self._config)
        else:                          # a graph without a fixed image size: keep it dynamic
            self._compiled = self._dynamic = self._core.compile_model(model, "CPU", self._config)
        self._request = self._compiled.create_infer_request()
        self._dynamic_request = None
        self.note = note

    def conv_precisions(self) -> set[str]:
        """The precisions OpenVINO really runs the convolutions in ({'f32'} here, even on a bf16 CPU),
        in the batch-1 graph and, once a folder batch has compiled it, the dynamic one."""
        found = set()
        for compiled in {id(c): c for c in (self._compiled, self._dynamic) if c is not None}.values():
            for op in compiled.get_runtime_model().get_ordered_ops():
                info = op.get_rt_info()
                if "layerType" in info and info["layerType"].astype(str) == "Convolution":
                    found.add(info["runtimePrecision"].astype(str))
        return found

    def decoded(self, images: np.ndarray) -> np.ndarray:
        images = np.ascontiguousarray(images, np.uint8)
        if images.shape == self._static_shape:
            out = self._request.infer([images])
            return np.asarray(out[self._compiled.output(0)])
        if self._dynamic_request is None:
            if (self._dynamic is None and not self._xml.is_file()
                    and images.shape[1:] == self._static_shape[1:]):
                # an uncached conversion's file is gone once this runtime is made
                # (select.make_runtime): one image at a time through the batch-1 graph
                return np.concatenate([self.decoded(image[None]) for image in images])
            if self._dynamic is None:
                self._dynamic = self._core.compile_model(str(self._xml), "CPU", self._config)
            self._dynamic_request = self._dynamic.create_infer_request()
        out = self._dynamic_request.infer([images])
        return np.asarray(out[self._dynamic.output(0)])


RUNTIME = OpenVINORuntime
