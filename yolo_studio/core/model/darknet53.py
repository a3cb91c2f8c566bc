"""Darknet-53, the YOLOv3 backbone (52 convolutions, 23 residual blocks)."""
from __future__ import annotations

from keras import layers

from .layers import ConvIndex, conv_bn_leaky

# (filters, residual blocks) of each stride-2 stage, as in darknet53.cfg.
STAGES = ((64, 1), (128, 2), (256, 8), (512, 8), (1024, 4))


def darknet53(x, counter: ConvIndex):
    """Return the stride 8, 16 and 32 feature maps of Darknet-53 applied to ``x``."""
    x = conv_bn_leaky(x, 32, 3, counter, "backbone")
    features = []
    for stage, (filters, blocks) in enumerate(STAGES):
        x = conv_bn_leaky(x, filters, 3, counter, "backbone", strides=2)
        for b in range(blocks):
            shortcut = x
            x = conv_bn_leaky(x, filters // 2, 1, counter, "backbone")
            x = conv_bn_leaky(x, filters, 3, counter, "backbone")
            x = layers.Add(name=f"backbone_add_s{stage}_{b}", **counter.kw)([shortcut, x])
        features.append(x)
    return features[2], features[3], features[4]
