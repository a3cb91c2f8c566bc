"""YOLOv3: Darknet-53 + three detection heads (strides 8, 16, 32), as in yolov3.cfg."""
from __future__ import annotations

import keras
from keras import layers

from .darknet53 import darknet53
from .layers import ConvIndex, conv_bn_leaky, output_conv


def _head_block(x, filters: int, counter: ConvIndex):
    """The five alternating 1x1/3x3 convs before each yolo branch."""
    for k in range(5):
        x = conv_bn_leaky(x, filters if k % 2 == 0 else filters * 2, 1 if k % 2 == 0 else 3,
                          counter, "head")
    return x


def _branch(x, skip, filters: int, stride: int, num_anchors: int, num_classes: int, counter: ConvIndex):
    """One yolo branch: (1x1 conv, upsample and concat ``skip``, unless it is the first),
    the head block, a 3x3 conv and the output conv; returns (the block's output, the head)."""
    if skip is not None:
        x = conv_bn_leaky(x, filters, 1, counter, "head")
        x = layers.UpSampling2D(2, name=f"head_upsample_{stride}", **counter.kw)(x)
        x = layers.Concatenate(name=f"head_concat_{stride}", **counter.kw)([x, skip])
    x = _head_block(x, filters, counter)
    y = conv_bn_leaky(x, filters * 2, 3, counter, "head")
    return x, output_conv(y, num_anchors, num_classes, counter, stride)


def build_yolov3(num_classes: int, input_size: int | None = None, num_anchors: int = 3,
                 dtype: str | None = None) -> keras.Model:
    """The full YOLOv3; outputs stride-ascending raw heads (8, 16, 32)."""
    inputs = keras.Input((input_size, input_size, 3), name="image")
    counter = ConvIndex(dtype=dtype)
    c8, c16, c32 = darknet53(inputs, counter)          # convs 0..51

    # Built in cfg order (stride 32 head first) so conv indices follow the .weights file.
    x, out32 = _branch(c32, None, 512, 32, num_anchors, num_classes, counter)   # 52..58
    x, out16 = _branch(x, c16, 256, 16, num_anchors, num_classes, counter)      # 59..66
    _, out8 = _branch(x, c8, 128, 8, num_anchors, num_classes, counter)         # 67..74

    return keras.Model(inputs, [out8, out16, out32], name="yolov3")
