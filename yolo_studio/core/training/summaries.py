"""TensorBoard scalars without the tensorboard package.

``tf.summary.scalar`` lives in the tensorboard package, which is large and
only needed to *view* logs; we write the same event records (a float32
tensor tagged for the 'scalars' plugin) with TensorFlow's own writer.
"""
from __future__ import annotations

import tensorflow as tf
from tensorflow.core.framework import summary_pb2

_SCALAR_METADATA = summary_pb2.SummaryMetadata(
    plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"),
    data_class=summary_pb2.DATA_CLASS_SCALAR)


def write_scalars(writer, values: dict[str, float], step: int) -> None:
    """Write each ``name: value`` as a TensorBoard scalar at ``step`` (no flush)."""
    with writer.as_default():
        for name, value in values.items():
            tf.summary.write(name, tf.constant(float(value), tf.float32), step=step,
                             metadata=_SCALAR_METADATA)
