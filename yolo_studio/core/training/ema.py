"""An exponential moving average of the model's weights, for evaluation and checkpoints.

The optimizer's weights jitter from batch to batch (most of all with a high
learning rate on a small set); their running average is smoother and usually
scores a better mAP, sooner. Training keeps stepping the raw weights; for
validation and for writing ``last``/``best`` the averaged ones are swapped
into the model, and the raw ones put back afterwards.

The decay ramps up as ``min(decay, (1 + n) / (10 + n))`` after n updates, so
the first few hundred steps (random weights) are forgotten quickly.
BatchNorm's moving statistics are averaged too: they belong to the weights
they were measured with.
"""
from __future__ import annotations

from contextlib import contextmanager

import tensorflow as tf


class WeightEMA(tf.Module):
    """Shadow copies of every model weight; ``update()`` inside the compiled step."""

    def __init__(self, model, decay: float):
        super().__init__(name="weight_ema")
        self.decay = float(decay)
        self._weights = list(model.weights)
        self.shadow = [tf.Variable(w.numpy(), trainable=False, name=f"ema_{i}")
                       for i, w in enumerate(self._weights)]
        self.updates = tf.Variable(0, dtype=tf.int64, trainable=False, name="ema_updates")

    def current_decay(self):
        """The decay the next update uses (a float32 tensor)."""
        n = tf.cast(self.updates, tf.float32)
        return tf.minimum(self.decay, (1.0 + n) / (10.0 + n))

    def update(self) -> None:
        """Move every shadow towards its weight; call in cross-replica context after a step."""
        d = self.current_decay()
        for s, w in zip(self.shadow, self._weights):
            value = tf.convert_to_tensor(w)
            s.assign(d * s + (1.0 - d) * tf.cast(value, s.dtype))
        self.updates.assign_add(1)

    def reset(self) -> None:
        """Start the average at the current weights (e.g. after loading weights)."""
        for s, w in zip(self.shadow, self._weights):
            s.assign(tf.convert_to_tensor(w))
        self.updates.assign(0)

    @contextmanager
    def applied(self):
        """Within the block the model holds the averaged weights; the raw ones come back after."""
        backup = [w.numpy() for w in self._weights]
        try:
            for s, w in zip(self.shadow, self._weights):
                w.assign(s.numpy())
            yield
        finally:
            for b, w in zip(backup, self._weights):
                w.assign(b)


@contextmanager
def no_swap():
    """The stand-in for :meth:`WeightEMA.applied` when there is no EMA."""
    yield
