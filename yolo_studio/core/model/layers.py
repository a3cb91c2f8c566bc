"""Darknet building blocks as Keras 3 layers, named so darknet's order can be recovered.

Every convolution is named ``<role>_conv_<NN>`` where NN is its index in the
darknet .cfg (and so in the .weights file); its batch norm is ``<role>_bn_<NN>``.
Roles: ``backbone`` (frozen when fine-tuning), ``head``, ``output`` (the
class-dependent 1x1 convs that feed a [yolo] layer).
"""
from __future__ import annotations

import keras
from keras import layers

# Models built here train with Keras' usual 1e-5. darknet files mean something
# else: OpenCV's darknet importer normalises with sqrt(var + 1e-6) (pjreddie's
# darknet adds .000001f to sqrt(var), AlexeyAB's 1e-5 under the root). Trained
# nets have channels with variances near 1e-4, where 1e-5 vs 1e-6 moves the
# output by several percent, so a darknet-loaded model uses DARKNET_BN_EPSILON
# and .weights files are written / read for it (darknet_weights.py converts).
BN_EPSILON = 1e-5
DARKNET_BN_EPSILON = 1e-6
LEAKY_SLOPE = 0.1


class ConvIndex:
    """Hands out darknet conv indices in creation order (the cfg order).

    Also carries the dtype policy for every layer it helps build (None = the
    global policy), so a bfloat16 model can be built without touching global state.
    """

    def __init__(self, start: int = 0, dtype: str | None = None):
        self.next = start
        self.kw = {"dtype": dtype} if dtype else {}

    def take(self) -> int:
        i = self.next
        self.next += 1
        return i


def conv_bn_leaky(x, filters: int, size: int, counter: ConvIndex, role: str, strides: int = 1):
    """Conv (no bias) + BatchNorm + LeakyReLU(0.1), padded exactly as darknet pads."""
    i = counter.take()
    if strides == 2:
        # darknet pads size//2 on every side but a stride-2 window never reaches
        # the bottom/right pad, so only top/left padding matters.
        x = layers.ZeroPadding2D(((1, 0), (1, 0)), name=f"{role}_pad_{i:02d}", **counter.kw)(x)
        padding = "valid"
    else:
        padding = "same"
    x = layers.Conv2D(filters, size, strides=strides, padding=padding, use_bias=False,
                      name=f"{role}_conv_{i:02d}", **counter.kw)(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{role}_bn_{i:02d}", **counter.kw)(x)
    return layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=f"{role}_leaky_{i:02d}", **counter.kw)(x)


def output_conv(x, num_anchors: int, num_classes: int, counter: ConvIndex, stride: int):
    """The linear 1x1 conv feeding a [yolo] layer; float32 even under mixed precision."""
    i = counter.take()
    return layers.Conv2D(num_anchors * (5 + num_classes), 1, padding="same", use_bias=True,
                         dtype="float32", name=f"output_s{stride}_conv_{i:02d}")(x)


def conv_index(layer: keras.layers.Layer) -> int:
    """Darknet index of one of our conv layers (from its name)."""
    return int(layer.name.rsplit("_", 1)[1])


def is_output_conv(layer: keras.layers.Layer) -> bool:
    """True for the class-dependent convs right before a [yolo] layer."""
    return layer.name.startswith("output_")


def set_bn_epsilon(model: keras.Model, epsilon: float) -> None:
    """Give every batch norm of ``model`` this epsilon (before the model is first traced)."""
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.epsilon = float(epsilon)
