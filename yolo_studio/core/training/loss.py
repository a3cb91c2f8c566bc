"""The YOLOv3 loss in three reported parts, after the pylessons TensorFlow-2 trainer.

- box: (1 - GIoU) at responsible anchors, weighted by 2 - w*h/input_area so
  small boxes count more;
- objectness: binary cross-entropy; a prediction that is no box's responsible
  anchor but already overlaps some truth with IoU > 0.5 is ignored rather than
  pushed to "background"; like pylessons, each term is weighted by the squared
  error (respond - p), a focal factor that keeps the thousands of easy
  background cells from drowning the few positives;
- class: binary cross-entropy per class (multi-label, no softmax).

Every part is summed over cells and anchors, per image; callers average over
the (global) batch.
"""
from __future__ import annotations

import tensorflow as tf

from yolo_studio.core.model.decode import decode_boxes
from yolo_studio.core.model_family import AnchorSet

IGNORE_IOU = 0.5


def _xywh_to_xyxy(b):
    return tf.concat([b[..., :2] - b[..., 2:] / 2, b[..., :2] + b[..., 2:] / 2], axis=-1)


def _area(b):
    return tf.maximum(b[..., 2] - b[..., 0], 0.0) * tf.maximum(b[..., 3] - b[..., 1], 0.0)


def box_iou(a, b):
    """IoU of broadcastable xyxy boxes (last axis 4)."""
    lt = tf.maximum(a[..., :2], b[..., :2])
    rb = tf.minimum(a[..., 2:], b[..., 2:])
    inter = tf.reduce_prod(tf.maximum(rb - lt, 0.0), axis=-1)
    union = _area(a) + _area(b) - inter
    return tf.math.divide_no_nan(inter, union)


def box_giou(a, b):
    """Generalised IoU of broadcastable xyxy boxes: IoU minus the empty share of the hull."""
    lt = tf.maximum(a[..., :2], b[..., :2])
    rb = tf.minimum(a[..., 2:], b[..., 2:])
    inter = tf.reduce_prod(tf.maximum(rb - lt, 0.0), axis=-1)
    union = _area(a) + _area(b) - inter
    iou = tf.math.divide_no_nan(inter, union)
    hull = tf.reduce_prod(tf.maximum(tf.maximum(a[..., 2:], b[..., 2:]) -
                                     tf.minimum(a[..., :2], b[..., :2]), 0.0), axis=-1)
    return iou - tf.math.divide_no_nan(hull - union, hull)


def scale_loss(raw, target, truth, anchors, stride: int, input_size):
    """Per-image (box, obj, cls) losses of one output scale, each shape (B,)."""
    raw = tf.cast(raw, tf.float32)
    shape = tf.shape(target)
    raw = tf.reshape(raw, shape)          # (B, H, W, A, 5 + C)
    pred_box = decode_boxes(raw, anchors, stride)
    respond = target[..., 4:5]
    true_box = _xywh_to_xyxy(target[..., 0:4])

    area = tf.cast(input_size, tf.float32) ** 2
    weight = 2.0 - target[..., 2:3] * target[..., 3:4] / area
    giou = box_giou(pred_box, true_box)[..., None]
    box = respond * weight * (1.0 - giou)

    # Best IoU of each prediction with any truth box of its image (padding boxes
    # have zero area and so zero IoU).
    ious = box_iou(tf.stop_gradient(pred_box)[:, :, :, :, None, :], truth[:, None, None, None, :, :])
    best = tf.reduce_max(ious, axis=-1)[..., None]
    background = (1.0 - respond) * tf.cast(best < IGNORE_IOU, tf.float32)
    conf = tf.sigmoid(raw[..., 4:5])
    bce = tf.nn.sigmoid_cross_entropy_with_logits(labels=respond, logits=raw[..., 4:5])
    obj = tf.square(respond - conf) * (respond + background) * bce

    cls = respond * tf.nn.sigmoid_cross_entropy_with_logits(labels=target[..., 5:], logits=raw[..., 5:])
    return (tf.reduce_sum(box, axis=[1, 2, 3, 4]), tf.reduce_sum(obj, axis=[1, 2, 3, 4]),
            tf.reduce_sum(cls, axis=[1, 2, 3, 4]))


def yolo_loss(outputs, targets, truth, anchors_per_scale, strides, input_size):
    """Per-image (box, obj, cls) losses summed over scales, each shape (B,)."""
    box = obj = cls = 0.0
    for raw, target, anchors, stride in zip(outputs, targets, AnchorSet.parse(anchors_per_scale), strides):
        b, o, c = scale_loss(raw, target, truth, anchors, stride, input_size)
        box, obj, cls = box + b, obj + o, cls + c
    return box, obj, cls
