"""Compiled train and validation steps (tf.function, optionally XLA), distribution-aware."""
from __future__ import annotations

import tensorflow as tf

from .loss import yolo_loss


def make_train_step(strategy, model, optimizer, variables, anchors, strides,
                    global_batch: int, jit_compile: bool = False, ema=None):
    """A compiled step: (images, targets, truth) -> mean (box, obj, cls) over the global batch.

    With ``ema`` (a WeightEMA) the weight average moves after every step, in
    cross-replica context so each replica's copy gets the same update.
    """

    def replica_step(images, targets, truth):
        size = tf.shape(images)[1]
        with tf.GradientTape() as tape:
            outputs = model(images, training=True)
            box, obj, cls = yolo_loss(outputs, targets, truth, anchors, strides, size)
            parts = [tf.nn.compute_average_loss(p, global_batch_size=global_batch)
                     for p in (box, obj, cls)]
            loss = parts[0] + parts[1] + parts[2]
            # A LossScaleOptimizer (float16) scales; other optimizers return loss as is.
            scaled = optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, variables)
        optimizer.apply_gradients(zip(grads, variables))
        return tf.stack(parts)

    inner = tf.function(replica_step, jit_compile=jit_compile) if jit_compile else replica_step

    @tf.function
    def step(images, targets, truth):
        per_replica = strategy.run(inner, args=(images, targets, truth))
        parts = strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)
        if ema is not None:
            ema.update()
        return parts

    return step


def make_eval_step(model, anchors, strides, num_classes: int, with_detections: bool,
                   score_threshold: float, iou_threshold: float, max_detections: int = 100):
    """A compiled validation step: per-image (box, obj, cls) and, if asked, NMS'd detections."""
    from yolo_studio.core.model import decode_predictions, nms

    @tf.function
    def step(images, targets, truth):
        outputs = model(images, training=False)
        outputs = [tf.cast(o, tf.float32) for o in outputs]
        box, obj, cls = yolo_loss(outputs, targets, truth, anchors, strides, tf.shape(images)[1])
        losses = tf.stack([box, obj, cls], axis=1)
        if not with_detections:
            return losses, ()
        decoded = decode_predictions(outputs, anchors, num_classes, strides)
        return losses, nms(decoded, score_threshold, iou_threshold, max_detections)

    return step
