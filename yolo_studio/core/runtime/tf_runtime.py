"""The TensorFlow backend: the Keras model, decode and TF's combined NMS in one tf.function."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from yolo_studio.core.model import ModelSpec, decode_predictions, nms

from .base import Runtime


def decoded_function(model, spec: ModelSpec, input_size: int):
    """A tf.function: uint8 RGB letterboxed batch -> (B, N, 5+C) decoded rows (the exported graph)."""

    @tf.function(input_signature=[tf.TensorSpec([None, input_size, input_size, 3], tf.uint8,
                                                name="images")])
    def decoded(images):
        raw = model(tf.cast(images, tf.float32) / 255.0, training=False)
        return decode_predictions(raw, spec.anchors, spec.num_classes, spec.strides)

    return decoded


def make_detect_function(model, spec: ModelSpec, input_size: int, on_trace=None):
    """A tf.function: uint8 RGB letterboxed batch + thresholds -> NMS-ed detections."""
    if on_trace is not None:        # plain Python: autograph need not read its source
        on_trace = tf.autograph.experimental.do_not_convert(on_trace)

    @tf.function(input_signature=[tf.TensorSpec([None, input_size, input_size, 3], tf.uint8),
                                  tf.TensorSpec([], tf.float32), tf.TensorSpec([], tf.float32),
                                  tf.TensorSpec([], tf.int32)])
    def detect(images, score_threshold, iou_threshold, max_detections):
        if on_trace is not None:
            on_trace()              # Python side effect: runs only while tracing
        raw = model(tf.cast(images, tf.float32) / 255.0, training=False)
        decoded = decode_predictions(raw, spec.anchors, spec.num_classes, spec.strides)
        return nms(decoded, score_threshold, iou_threshold, max_detections)

    return detect


class TFRuntime(Runtime):
    """TensorFlow: always available; the reference the other backends must match."""

    name = "tensorflow"

    def __init__(self, detect_fn, decoded_fn=None):
        self._detect = detect_fn
        self._decoded = decoded_fn

    def decoded(self, images: np.ndarray) -> np.ndarray:
        if self._decoded is None:
            raise RuntimeError("this TensorFlow model has no decoded-output function")
        return self._decoded(tf.constant(images)).numpy()

    def detect(self, images, score_threshold, iou_threshold, max_detections):
        out = self._detect(tf.constant(images), tf.constant(float(score_threshold), tf.float32),
                           tf.constant(float(iou_threshold), tf.float32),
                           tf.constant(int(max_detections), tf.int32))
        return tuple(t.numpy() for t in out)
