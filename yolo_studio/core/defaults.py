"""Default thresholds, one home each.

The model family's facts (names, strides, default anchors, the input-size
rule) live in :mod:`yolo_studio.core.model_family`.
"""
from __future__ import annotations

# What a person looks at (preview, detect, pre-labels) starts at score 0.25;
# mAP is scored at 0.001, as darknet's -map and ultralytics' val do, so the
# trainer, `yolo-studio eval` and the Train panel agree on a checkpoint.
DEFAULT_SCORE_THRESHOLD = 0.25
DEFAULT_NMS_IOU = 0.45
EVAL_SCORE_THRESHOLD = 0.001
