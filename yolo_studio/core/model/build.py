"""Build a model of the family and find its layers (backbone, outputs, darknet order)."""
from __future__ import annotations

import keras

from yolo_studio.core.errors import ConfigError
from yolo_studio.core.model_family import check_input_size, family

from .layers import conv_index, is_output_conv
from .tiny import build_yolov3_tiny
from .yolov3 import build_yolov3


def build_model(name: str, num_classes: int, input_size: int | None = None,
                dtype: str | None = None) -> keras.Model:
    """A fresh 'yolov3' or 'yolov3-tiny' for ``num_classes``; ``input_size`` None = any multiple of 32.

    ``dtype`` is a Keras dtype policy for the hidden layers (e.g. 'mixed_bfloat16');
    None follows the global policy. Outputs are float32 either way.
    """
    builder = _BUILDERS[family(name).name]
    if int(num_classes) < 1:
        raise ConfigError(f"number of classes must be at least 1, got {num_classes}")
    size = None if input_size is None else check_input_size(int(input_size))
    return builder(int(num_classes), size, dtype=dtype)


_BUILDERS = {"yolov3": build_yolov3, "yolov3-tiny": build_yolov3_tiny}


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
