"""Constants shared by the model, the trainer and the anchors view."""
from __future__ import annotations

# Anchors in network-input pixels, sorted by area, grouped per output scale in
# stride-ascending order (the order of the Keras model's outputs).
YOLOV3_ANCHORS = [[(10, 13), (16, 30), (33, 23)],
                  [(30, 61), (62, 45), (59, 119)],
                  [(116, 90), (156, 198), (373, 326)]]
YOLOV3_STRIDES = [8, 16, 32]

# darknet's yolov3-tiny.cfg lists 6 anchors but uses masks 1,2,3 and 3,4,5;
# for our own training we split the 6 anchors evenly (0,1,2 / 3,4,5).
YOLOV3_TINY_ANCHORS = [[(10, 14), (23, 27), (37, 58)],
                       [(81, 82), (135, 169), (344, 319)]]
YOLOV3_TINY_STRIDES = [16, 32]

MODEL_NAMES = ("yolov3", "yolov3-tiny")


def default_anchors(model: str) -> list[list[tuple[int, int]]]:
    """COCO anchors for ``model`` ('yolov3' or 'yolov3-tiny'), per scale."""
    return [list(s) for s in (YOLOV3_TINY_ANCHORS if model == "yolov3-tiny" else YOLOV3_ANCHORS)]


def strides(model: str) -> list[int]:
    """Output strides of ``model`` in the order of its outputs."""
    return list(YOLOV3_TINY_STRIDES if model == "yolov3-tiny" else YOLOV3_STRIDES)


# Thresholds, one home each. What a person looks at (preview, detect, pre-labels)
# starts at score 0.25; mAP is scored at 0.001, as darknet's -map and ultralytics'
# val do, so the trainer, `yolo-studio eval` and the Train panel agree on a checkpoint.
DEFAULT_SCORE_THRESHOLD = 0.25
DEFAULT_NMS_IOU = 0.45
EVAL_SCORE_THRESHOLD = 0.001
