"""tf.data pipeline, target encoding, loss, schedule and the trainer."""
