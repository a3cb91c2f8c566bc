"""Raw YOLO heads -> boxes and scores, and per-class NMS, in TensorFlow ops."""
from __future__ import annotations

import tensorflow as tf

from yolo_studio.core.defaults import DEFAULT_NMS_IOU, DEFAULT_SCORE_THRESHOLD
from yolo_studio.core.errors import ConfigError
from yolo_studio.core.model_family import AnchorSet, family_with_scales

# exp(tw) of an untrained head can overflow to inf and poison NMS (and make
# the loss's GIoU NaN); e^12 times an anchor is already far larger than any input.
_MAX_LOG_WH = 12.0


def decode_boxes(raw, anchors, stride: int):
    """Raw head (B, H, W, A, 5+C) float32 -> xyxy boxes in network pixels (B, H, W, A, 4).

    The one box decode, for the loss and for prediction alike: sigmoid on x, y
    plus the cell, times the stride; exp on w, h (clamped) times the anchor.
    """
    shape = tf.shape(raw)
    gx, gy = tf.meshgrid(tf.range(shape[2]), tf.range(shape[1]))
    grid = tf.cast(tf.stack([gx, gy], axis=-1), tf.float32)[None, :, :, None, :]
    xy = (tf.sigmoid(raw[..., 0:2]) + grid) * float(stride)
    wh = tf.exp(tf.minimum(raw[..., 2:4], _MAX_LOG_WH)) * tf.constant(anchors, tf.float32)
    return tf.concat([xy - wh / 2, xy + wh / 2], axis=-1)


def decode_scale(raw, anchors, num_classes: int, stride: int):
    """One head (B, H, W, A*(5+C)) -> (B, H*W*A, 5+C) with xyxy network pixels."""
    raw = tf.cast(raw, tf.float32)
    shape = tf.shape(raw)
    b, h, w = shape[0], shape[1], shape[2]
    na = len(anchors)
    raw = tf.reshape(raw, [b, h, w, na, 5 + num_classes])
    out = tf.concat([decode_boxes(raw, anchors, stride), tf.sigmoid(raw[..., 4:])], axis=-1)
    return tf.reshape(out, [b, h * w * na, 5 + num_classes])


def decode_predictions(raw_outputs, anchors_per_scale, num_classes: int, strides=None):
    """Raw heads (stride ascending) -> (B, N, 5+C): xyxy network pixels, objectness, class probs.

    Sigmoid on x, y, objectness and every class (multi-label, as darknet);
    exp on w, h times the anchor. ``strides`` default to those of the model
    family with as many outputs (8/16/32 or 16/32).
    """
    anchors_per_scale = AnchorSet.parse(anchors_per_scale)
    if len(raw_outputs) != len(anchors_per_scale):
        raise ConfigError(f"{len(raw_outputs)} model outputs but anchors for "
                          f"{len(anchors_per_scale)} scales")
    strides = list(strides) if strides is not None else list(family_with_scales(len(raw_outputs)).strides)
    parts = []
    for raw, anchors, stride in zip(raw_outputs, anchors_per_scale, strides):
        channels = raw.shape[-1]
        expected = len(anchors) * (5 + num_classes)
        if channels is not None and channels != expected:
            raise ConfigError(f"a model output has {channels} channels, but {len(anchors)} "
                              f"anchors and {num_classes} classes need {expected}")
        parts.append(decode_scale(raw, anchors, num_classes, stride))
    return tf.concat(parts, axis=1)


def nms(decoded, score_threshold: float = DEFAULT_SCORE_THRESHOLD, iou_threshold: float = DEFAULT_NMS_IOU,
        max_detections: int = 100):
    """Per-class NMS on decoded (B, N, 5+C); score = objectness x class probability.

    Returns boxes (B, K, 4) xyxy, scores (B, K), classes (B, K) int32 and
    valid (B,) int32: the first ``valid[i]`` rows of image i are real.
    """
    decoded = tf.convert_to_tensor(decoded, tf.float32)
    boxes = decoded[..., :4]
    scores = decoded[..., 4:5] * decoded[..., 5:]
    # combined NMS treats a box as two opposite corners, so xyxy works as-is;
    # clipping is off because coordinates are pixels, not [0, 1].
    res = tf.image.combined_non_max_suppression(
        boxes[:, :, None, :], scores, max_output_size_per_class=max_detections,
        max_total_size=max_detections, iou_threshold=iou_threshold,
        score_threshold=score_threshold, pad_per_class=False, clip_boxes=False)
    return (res.nmsed_boxes, res.nmsed_scores, tf.cast(res.nmsed_classes, tf.int32),
            res.valid_detections)
