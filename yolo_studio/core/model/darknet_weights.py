"""Read and write darknet .weights files into / out of our Keras models.

Layout: a header (major, minor, revision as int32, then 'seen' as int64 when
major*10+minor >= 2, else int32), then float32s per convolution in cfg order:
with batch norm beta, gamma, mean, variance, else the bias; then the kernel
in (out, in, h, w) order.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from yolo_studio.core.atomic import atomic_write_bytes
from yolo_studio.core.model_family import ANCHORS_PER_SCALE, FAMILIES, MODEL_NAMES

from .darknet_cfg import DarknetFileError
from .layers import DARKNET_BN_EPSILON, conv_index, is_output_conv

# Floats in a .weights file = BASE + PER_CLASS * classes (equal to Keras'
# count_params(); the tests check these against the built models).
FLOATS_BASE = {f.name: f.darknet_floats_base for f in FAMILIES.values()}
FLOATS_PER_CLASS = {f.name: f.darknet_floats_per_class for f in FAMILIES.values()}


@dataclass(frozen=True)
class WeightsHeader:
    """The darknet .weights header."""

    major: int
    minor: int
    revision: int
    seen: int
    nbytes: int


@dataclass
class LoadReport:
    """What a load did: classes found in the file, skipped output layers, a message for the user."""

    file_classes: int
    skipped: list[str]
    message: str


def read_header(path: Path, data: bytes) -> WeightsHeader:
    """Parse the header at the start of ``data``."""
    if len(data) < 16:
        raise DarknetFileError(path, f"only {len(data)} bytes: too short to hold a darknet "
                                     f"weights header (16-20 bytes)")
    major, minor, revision = np.frombuffer(data[:12], "<i4")
    if major * 10 + minor >= 2 and major < 1000 and minor < 1000:
        if len(data) < 20:
            raise DarknetFileError(path, "header ends before its 64-bit 'seen' counter")
        return WeightsHeader(int(major), int(minor), int(revision),
                             int(np.frombuffer(data[12:20], "<i8")[0]), 20)
    return WeightsHeader(int(major), int(minor), int(revision),
                         int(np.frombuffer(data[12:16], "<i4")[0]), 16)


def conv_float_count(conv, bn, in_channels: int, filters: int) -> int:
    """How many floats darknet stores for one conv of the given shape."""
    k = conv.kernel_size
    return filters * (4 if bn is not None else 1) + filters * in_channels * k[0] * k[1]


def layer_float_counts(pairs, num_classes: int | None = None) -> list[int]:
    """Floats per conv in file order; output convs sized for ``num_classes`` when given."""
    counts = []
    for conv, bn in pairs:
        filters = conv.filters
        if num_classes is not None and is_output_conv(conv):
            filters = ANCHORS_PER_SCALE * (5 + num_classes)
        counts.append(conv_float_count(conv, bn, conv.kernel.shape[2], filters))
    return counts


def infer_file_classes(pairs, n_floats: int) -> int | None:
    """The class count that makes the file size fit this topology exactly, or None."""
    base = sum(layer_float_counts(pairs, num_classes=0))
    per_class = sum(layer_float_counts(pairs, 1)) - base
    extra = n_floats - base
    if extra <= 0 or extra % per_class:
        return None
    return extra // per_class


def topology_for_size(n_floats: int) -> tuple[str, int] | None:
    """(model, classes) whose darknet float count is exactly ``n_floats``, if any."""
    for model in MODEL_NAMES:
        extra = n_floats - FLOATS_BASE[model]
        if extra > 0 and extra % FLOATS_PER_CLASS[model] == 0:
            return model, extra // FLOATS_PER_CLASS[model]
    return None


def _describe_mismatch(path, pairs, counts, n_floats, model_desc) -> str:
    fit = topology_for_size(n_floats)
    hint = f" (the size fits {fit[0]} with {fit[1]} classes)" if fit else ""
    return _mismatch_text(pairs, counts, n_floats, model_desc) + hint


def _mismatch_text(pairs, counts, n_floats, model_desc) -> str:
    total = sum(counts)
    if n_floats > total:
        return (f"{n_floats - total} floats left over after the last layer: expected "
                f"{total} floats for {model_desc}, found {n_floats} (oversized or another model)")
    pos = 0
    for (conv, _), c in zip(pairs, counts):
        if pos + c > n_floats:
            return (f"file ends inside conv layer {conv.name.rsplit('_', 1)[1]} ({conv.name}): "
                    f"{pos + c - n_floats} floats missing there; expected {total} floats for "
                    f"{model_desc}, found {n_floats} (truncated download?)")
        pos += c
    return f"expected {total} floats for {model_desc}, found {n_floats}"


def model_classes(pairs) -> int:
    """Class count of a model from its output convs."""
    out = next(conv for conv, _ in pairs if is_output_conv(conv))
    return out.filters // ANCHORS_PER_SCALE - 5


def read_floats(path: str | Path) -> tuple[WeightsHeader, np.ndarray]:
    """Header and float32 body of a .weights file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DarknetFileError(path, f"cannot read weights ({e.strerror or e})") from e
    header = read_header(path, data)
    body = memoryview(data)[header.nbytes:]
    if len(body) % 4:
        raise DarknetFileError(path, f"body of {len(body)} bytes is not a whole number of "
                                     f"float32 values (truncated?)")
    return header, np.frombuffer(body, "<f4")


def load_darknet_weights(model, path: str | Path, file_classes: int | None = None) -> LoadReport:
    """Load a .weights file into ``model``; checks the file is consumed exactly.

    ``file_classes`` is the class count the file was trained with (from its
    cfg); when None it is inferred from the file size. When it differs from
    the model's, every layer but the output convs is loaded and those are
    re-initialised (fine-tuning COCO weights on a project's classes).
    """
    from .build import darknet_conv_layers

    path = Path(path)
    _, floats = read_floats(path)
    pairs = darknet_conv_layers(model)
    own = model_classes(pairs)
    name = next((f.name for f in FAMILIES.values() if f.darknet_convs == len(pairs)), "yolov3")
    if file_classes is None:
        fits_own = len(floats) == sum(layer_float_counts(pairs))
        file_classes = own if fits_own else (infer_file_classes(pairs, len(floats)) or own)
    counts = layer_float_counts(pairs, file_classes)
    if sum(counts) != len(floats):
        raise DarknetFileError(path, _describe_mismatch(path, pairs, counts, len(floats),
                                                        f"{name} with {file_classes} classes"))
    skipped, pos = [], 0
    for (conv, bn), count in zip(pairs, counts):
        chunk, pos = floats[pos:pos + count], pos + count
        if is_output_conv(conv) and file_classes != own:
            _reinit(conv)
            skipped.append(conv.name)
            continue
        _set_conv(conv, bn, chunk, path, name)
    if skipped:
        message = (f"{path.name}: weights are for {file_classes} classes, the model has {own}: "
                   f"loaded all layers except the {len(skipped)} output convolutions "
                   f"({', '.join(skipped)}), which were re-initialised")
    else:
        message = f"{path.name}: loaded {len(pairs)} convolutions ({len(floats):,} floats)"
    return LoadReport(file_classes, skipped, message)


def _set_conv(conv, bn, chunk: np.ndarray, path: Path, name: str) -> None:
    f = conv.filters
    kh, kw = conv.kernel_size
    in_ch = conv.kernel.shape[2]
    head = 4 * f if bn is not None else f
    kernel = chunk[head:].reshape(f, in_ch, kh, kw).transpose(2, 3, 1, 0)
    if bn is None:
        conv.set_weights([kernel, chunk[:f]])
        return
    beta, gamma, mean, var = chunk[:head].reshape(4, f)
    if (var < 0).any() or not np.isfinite(chunk[:head]).all():
        # A layout slip (wrong model or class count) shows up as nonsense variances.
        raise DarknetFileError(path, f"conv layer {conv_index(conv)}: batch-norm variances are "
                                     f"negative or not finite; the file does not hold {name} "
                                     f"weights in darknet order")
    bn.set_weights([gamma, beta, mean, model_variance(var, bn.epsilon)])
    conv.set_weights([kernel])


def darknet_variance(var: np.ndarray, epsilon: float) -> np.ndarray:
    """The variance a darknet reader needs to normalise as a batch norm with ``epsilon`` does.

    sqrt(v + 1e-6) == sqrt(var + epsilon) for v = var + epsilon - 1e-6 (float64 sum).
    """
    return (np.asarray(var, np.float64) + (epsilon - DARKNET_BN_EPSILON)).astype(np.float32)


def model_variance(var: np.ndarray, epsilon: float) -> np.ndarray:
    """Inverse of :func:`darknet_variance` (clipped at 0 for a model with a larger epsilon)."""
    if epsilon == DARKNET_BN_EPSILON:
        return np.asarray(var, np.float32)
    return np.maximum(np.asarray(var, np.float64) - (epsilon - DARKNET_BN_EPSILON), 0).astype(np.float32)


def _reinit(conv) -> None:
    conv.kernel.assign(conv.kernel_initializer(tuple(conv.kernel.shape)))
    conv.bias.assign(np.zeros(tuple(conv.bias.shape), np.float32))


def darknet_weights_bytes(model, seen: int = 0) -> bytes:
    """The .weights content for ``model`` (header 0.2.0, 64-bit 'seen')."""
    from .build import darknet_conv_layers

    buf = io.BytesIO()
    buf.write(np.array([0, 2, 0], "<i4").tobytes())
    buf.write(np.array([seen], "<i8").tobytes())
    for conv, bn in darknet_conv_layers(model):
        weights = conv.get_weights()
        if bn is not None:
            gamma, beta, mean, var = bn.get_weights()
            var = darknet_variance(var, bn.epsilon)
            buf.write(np.concatenate([beta, gamma, mean, var]).astype("<f4").tobytes())
        else:
            buf.write(np.asarray(weights[1], "<f4").tobytes())
        buf.write(np.ascontiguousarray(weights[0].transpose(3, 2, 0, 1), "<f4").tobytes())
    return buf.getvalue()


def write_darknet_weights(model, path: str | Path, seen: int = 0) -> Path:
    """Write ``model`` as a darknet .weights file, atomically."""
    path = Path(path)
    atomic_write_bytes(path, darknet_weights_bytes(model, seen))
    return path
