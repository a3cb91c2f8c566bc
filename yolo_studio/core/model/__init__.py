"""YOLOv3 and YOLOv3-tiny in Keras 3, checkpoints, decode + NMS.

Model input: ``(B, S, S, 3)`` float32 RGB in [0, 1], letterboxed (grey pad),
as darknet feeds its network. Outputs: raw heads, stride ascending, each
``(B, H, W, 3 * (5 + C))`` float32, per anchor ``[tx, ty, tw, th, obj, cls...]``.
"""
from __future__ import annotations

from .build import backbone_layers, build_model, darknet_conv_layers, output_layers
from .checkpoint import load_checkpoint, read_spec, save_checkpoint
from .decode import decode_predictions, nms
from .spec import ModelSpec

__all__ = ["build_model", "backbone_layers", "output_layers", "darknet_conv_layers",
           "ModelSpec", "save_checkpoint", "load_checkpoint", "read_spec",
           "decode_predictions", "nms"]
