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


def build_yolov3(num_classes: int, input_size: int | None = None, num_anchors: int = 3,
                 dtype: str | None = None) -> keras.Model:
    """The full YOLOv3; outputs stride-ascending raw heads (8, 16, 32)."""
    inputs = keras.Input((input_size, input_size, 3), name="image")
    counter = ConvIndex(dtype=dtype)
    c8, c16, c32 = darknet53(inputs, counter)          # convs 0..51

    # Built in cfg order (stride 32 head first) so conv indices follow the .weights file.
    x = _head_block(c32, 512, counter)                  # 52..56
    y = conv_bn_leaky(x, 1024, 3, counter, "head")      # 57
    out32 = output_conv(y, num_anchors, num_classes, counter, 32)   # 58

    x = conv_bn_leaky(x, 256, 1, counter, "head")       # 59
    x = layers.UpSampling2D(2, name="head_upsample_16", **counter.kw)(x)
    x = layers.Concatenate(name="head_concat_16", **counter.kw)([x, c16])
    x = _head_block(x, 256, counter)                    # 60..64
    y = conv_bn_leaky(x, 512, 3, counter, "head")       # 65
    out16 = output_conv(y, num_anchors, num_classes, counter, 16)   # 66

    x = conv_bn_leaky(x, 128, 1, counter, "head")       # 67
    x = layers.UpSampling2D(2, name="head_upsample_8", **counter.kw)(x)
    x = layers.Concatenate(name="head_concat_8", **counter.kw)([x, c8])
    x = _head_block(x, 128, counter)                    # 68..72
    y = conv_bn_leaky(x, 256, 3, counter, "head")       # 73
    out8 = output_conv(y, num_anchors, num_classes, counter, 8)     # 74

    return keras.Model(inputs, [out8, out16, out32], name="yolov3")
