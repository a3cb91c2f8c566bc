"""Which devices TensorFlow sees, GPU memory growth, and the mixed-precision policy."""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class DeviceInfo:
    """One device a run can use."""

    name: str
    kind: str               # 'GPU' | 'CPU'
    memory_mb: int | None   # None when unknown


def _system_memory_mb() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2 ** 20)
    except (ValueError, OSError, AttributeError):
        return None


def available_memory_mb() -> int | None:
    """Memory free for a new allocation on this machine (MemAvailable), None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return _system_memory_mb()


def describe_devices() -> list[DeviceInfo]:
    """GPUs first (with their memory where TensorFlow reports it), then the CPU."""
    import tensorflow as tf

    out = []
    limits = {}
    if tf.config.list_physical_devices("GPU"):
        # device_lib is the one public-ish place that reports a GPU's memory size.
        with contextlib.suppress(Exception):
            from tensorflow.python.client import device_lib
            limits = {d.name: (d.memory_limit, d.physical_device_desc)
                      for d in device_lib.list_local_devices() if d.device_type == "GPU"}
    for i, gpu in enumerate(tf.config.list_physical_devices("GPU")):
        limit, desc = limits.get(f"/device:GPU:{i}", (0, ""))
        name = desc.split("name: ")[1].split(",")[0] if "name: " in desc else gpu.name
        out.append(DeviceInfo(name, "GPU", int(limit // 2 ** 20) or None))
    out.append(DeviceInfo(f"CPU ({os.cpu_count()} cores)", "CPU", _system_memory_mb()))
    return out


def configure_gpus(memory_growth: bool = True) -> None:
    """Let TensorFlow grow GPU memory as needed, so the GUI process never grabs a whole card.

    Must run before TensorFlow touches a GPU; later calls are harmless no-ops.
    """
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        with contextlib.suppress(RuntimeError, ValueError):   # already initialised
            tf.config.experimental.set_memory_growth(gpu, memory_growth)


def has_gpu() -> bool:
    """True when TensorFlow sees at least one GPU."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


PRECISIONS = ("auto", "float32", "bfloat16", "float16")
# precision -> Keras dtype policy of the hidden layers (variables and outputs stay float32)
POLICIES = {"float32": None, "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}
CPUINFO = "/proc/cpuinfo"


def cpu_has_bfloat16(cpuinfo=None) -> bool:
    """True when the CPU does bfloat16 maths natively (AVX-512-BF16 or AMX).

    Elsewhere TensorFlow emulates bfloat16, slower than float32.
    """
    try:
        with open(cpuinfo or CPUINFO, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return False
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines()
                  if line.startswith("flags")), [])
    return "avx512_bf16" in flags or "amx_bf16" in flags


def training_precision(precision: str, gpu: bool | None = None) -> str:
    """The precision a run trains in: 'auto' is float16 (with loss scaling) on a GPU,
    bfloat16 on a CPU that has it natively, float32 elsewhere. ConfigError if unknown."""
    from yolo_studio.core.errors import ConfigError

    if precision not in PRECISIONS:
        raise ConfigError(f"precision '{precision}' is unknown; choose one of {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision
    if has_gpu() if gpu is None else gpu:
        return "float16"
    return "bfloat16" if cpu_has_bfloat16() else "float32"


def legacy_precision(mixed_precision: bool) -> str:
    """What the old ``mixed_precision`` flag meant: float16 on a GPU, bfloat16 on a CPU."""
    if not mixed_precision:
        return "float32"
    return "float16" if has_gpu() else "bfloat16"


@contextlib.contextmanager
def dtype_policy(name: str | None):
    """Set the Keras global dtype policy for the block, then restore the previous one.

    The GUI process hosts other models (the preview's detector), which must not
    inherit a training run's mixed policy.
    """
    import keras

    previous = keras.config.dtype_policy()
    if name:
        keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
