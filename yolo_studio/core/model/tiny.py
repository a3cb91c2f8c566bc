"""YOLOv3-tiny: 7-conv backbone with max-pooling, two heads (strides 16, 32)."""
from __future__ import annotations

import keras
from keras import layers

from .layers import ConvIndex, conv_bn_leaky, output_conv


def build_yolov3_tiny(num_classes: int, input_size: int | None = None,
                      num_anchors: int = 3,
                 dtype: str | None = None) -> keras.Model:
    """YOLOv3-tiny as in yolov3-tiny.cfg; outputs stride-ascending raw heads (16, 32)."""
    inputs = keras.Input((input_size, input_size, 3), name="image")
    counter = ConvIndex(dtype=dtype)
    x = inputs
    for k, filters in enumerate((16, 32, 64, 128, 256)):
        x = conv_bn_leaky(x, filters, 3, counter, "backbone")
        if k == 4:
            c16 = x                                      # cfg layer 8, routed later
        x = layers.MaxPooling2D(2, 2, name=f"backbone_pool_{k}", **counter.kw)(x)
    x = conv_bn_leaky(x, 512, 3, counter, "backbone")
    # darknet's size-2 stride-1 maxpool pads only bottom/right and ignores the
    # pad, which is what TF's 'same' pooling does.
    x = layers.MaxPooling2D(2, 1, padding="same", name="backbone_pool_5", **counter.kw)(x)
    x = conv_bn_leaky(x, 1024, 3, counter, "backbone")   # conv 6

    x = conv_bn_leaky(x, 256, 1, counter, "head")        # 7
    y = conv_bn_leaky(x, 512, 3, counter, "head")        # 8
    out32 = output_conv(y, num_anchors, num_classes, counter, 32)   # 9

    x = conv_bn_leaky(x, 128, 1, counter, "head")        # 10
    x = layers.UpSampling2D(2, name="head_upsample_16", **counter.kw)(x)
    x = layers.Concatenate(name="head_concat_16", **counter.kw)([x, c16])
    y = conv_bn_leaky(x, 256, 3, counter, "head")        # 11
    out16 = output_conv(y, num_anchors, num_classes, counter, 16)   # 12

    return keras.Model(inputs, [out16, out32], name="yolov3_tiny")
