"""Learning rate: linear warmup, then cosine decay to the end value (pylessons' schedule)."""
from __future__ import annotations

import math

import keras
import tensorflow as tf


def warmup_cosine(step: float, warmup_steps: float, total_steps: float,
                  lr_init: float, lr_end: float) -> float:
    """The learning rate at ``step`` (1-based, as the trainer counts), in plain Python."""
    if warmup_steps > 0 and step < warmup_steps:
        return step / warmup_steps * lr_init
    span = max(total_steps - warmup_steps, 1.0)
    progress = min(max((step - warmup_steps) / span, 0.0), 1.0)
    return lr_end + 0.5 * (lr_init - lr_end) * (1 + math.cos(math.pi * progress))


@keras.saving.register_keras_serializable(package="yolo_studio")
class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    """Keras schedule of :func:`warmup_cosine`; the optimizer's iteration count drives it."""

    def __init__(self, warmup_steps: float, total_steps: float, lr_init: float, lr_end: float):
        self.warmup_steps = float(warmup_steps)
        self.total_steps = float(total_steps)
        self.lr_init = float(lr_init)
        self.lr_end = float(lr_end)

    def __call__(self, step):
        # The optimizer passes its 0-based iteration count; the step it is
        # about to take is one more (so the very first step is not lr 0).
        step = tf.cast(step, tf.float32) + 1.0
        warm = step / max(self.warmup_steps, 1.0) * self.lr_init
        span = max(self.total_steps - self.warmup_steps, 1.0)
        progress = tf.clip_by_value((step - self.warmup_steps) / span, 0.0, 1.0)
        cos = self.lr_end + 0.5 * (self.lr_init - self.lr_end) * (1 + tf.cos(math.pi * progress))
        return tf.where(step < self.warmup_steps, warm, cos)

    def get_config(self) -> dict:
        return {"warmup_steps": self.warmup_steps, "total_steps": self.total_steps,
                "lr_init": self.lr_init, "lr_end": self.lr_end}


def scaled_rates(config) -> tuple[float, float]:
    """(lr_init, lr_end) a run uses: as given, or scaled linearly from ``lr_reference_batch``.

    With a reference batch the learning rate follows the batch size, so halving
    the batch (less memory) does not double each image's share of the step.
    """
    ref = int(getattr(config, "lr_reference_batch", 0) or 0)
    factor = config.batch_size / ref if ref > 0 else 1.0
    return config.lr_init * factor, config.lr_end * factor
