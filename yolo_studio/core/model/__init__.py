"""YOLOv3 and YOLOv3-tiny in Keras 3, checkpoints, decode + NMS.

Model input: ``(B, S, S, 3)`` float32 RGB in [0, 1], letterboxed (grey pad),
as darknet feeds its network. Outputs: raw heads, stride ascending, each
``(B, H, W, 3 * (5 + C))`` float32, per anchor ``[tx, ty, tw, th, obj, cls...]``.
"""
from __future__ import annotations

import keras

from yolo_studio.core import defaults
from yolo_studio.core.errors import ConfigError

from .checkpoint import load_checkpoint, read_spec, save_checkpoint
from .decode import decode_predictions, nms
from .layers import conv_index, is_output_conv
from .spec import ModelSpec
from .tiny import build_yolov3_tiny
from .yolov3 import build_yolov3

__all__ = ["build_model", "backbone_layers", "output_layers", "darknet_conv_layers",
           "ModelSpec", "save_checkpoint", "load_checkpoint", "read_spec",
           "decode_predictions", "nms"]


def build_model(name: str, num_classes: int, input_size: int | None = None,
                dtype: str | None = None) -> keras.Model:
    """A fresh 'yolov3' or 'yolov3-tiny' for ``num_classes``; ``input_size`` None = any multiple of 32.

    ``dtype`` is a Keras dtype policy for the hidden layers (e.g. 'mixed_bfloat16');
    None follows the global policy. Outputs are float32 either way.
    """
    if name not in defaults.MODEL_NAMES:
        raise ConfigError(f"model '{name}' is unknown; expected one of {', '.join(defaults.MODEL_NAMES)}")
    if int(num_classes) < 1:
        raise ConfigError(f"number of classes must be at least 1, got {num_classes}")
    if input_size is not None and (int(input_size) <= 0 or int(input_size) % 32):
        raise ConfigError(f"input size must be a positive multiple of 32, got {input_size}")
    builder = build_yolov3_tiny if name == "yolov3-tiny" else build_yolov3
    return builder(int(num_classes), None if input_size is None else int(input_size), dtype=dtype)


def backbone_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The backbone's layers (Darknet-53, or tiny's first 7 convs), e.g. to freeze them."""
    return [layer for layer in model.layers if layer.name.startswith("backbone_")]


def output_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The class-dependent output convs, in the order of the model's outputs."""
    outs = [layer for layer in model.layers if is_output_conv(layer)]
    return sorted(outs, key=lambda layer: int(layer.name.split("_")[1][1:]))


def darknet_conv_layers(model: keras.Model) -> list[tuple[keras.layers.Layer, keras.layers.Layer | None]]:
    """(conv, batch norm or None) pairs in darknet .cfg / .weights order."""
    by_name = {layer.name: layer for layer in model.layers}
    convs = sorted((layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)),
                   key=conv_index)
    return [(c, by_name.get(c.name.replace("_conv_", "_bn_"))) for c in convs]
