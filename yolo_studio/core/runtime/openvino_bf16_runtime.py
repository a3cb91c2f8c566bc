"""OpenVINO in bfloat16: the same converted IR (and cache) as the float32 backend, compiled with
the bf16 inference precision hint. Offered only where OpenVINO's CPU plugin reports BF16
(AVX-512-BF16 / AMX), and only when the user's precision allows bfloat16 ('auto' or 'bfloat16').

bf16 keeps 8 bits of mantissa, so it is checked against TensorFlow's float32
boxes with its own score tolerance (select.BF16_SCORE_TOL), not the float32 one.
"""
from __future__ import annotations

from . import openvino_runtime
from .openvino_runtime import OpenVINORuntime

NAME = "openvino-bf16"
LABEL = "OpenVINO bf16"
SUFFIXES = openvino_runtime.SUFFIXES
CONVERTED_AS = openvino_runtime.NAME     # shares the float32 backend's converted IR and its cache key
convert = openvino_runtime.convert
version = openvino_runtime.version


def cpu_has_bf16() -> bool:
    """True when OpenVINO's CPU plugin lists BF16 among its optimization capabilities."""
    try:
        import openvino as ov

        return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except Exception:  # noqa: BLE001 - no openvino, or a plugin that cannot be asked: not offered
        return False


class OpenVINOBF16Runtime(OpenVINORuntime):
    """A compiled OpenVINO model on the CPU in bfloat16 (AMX / AVX-512-BF16), tuned for latency."""

    name = NAME
    PRECISION_HINT = "bf16"


RUNTIME = OpenVINOBF16Runtime
