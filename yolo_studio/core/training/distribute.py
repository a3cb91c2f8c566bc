"""Pick TensorFlow's distribution strategy for the devices at hand."""
from __future__ import annotations

import json
import os


def tf_config_workers() -> int:
    """Number of workers named in the TF_CONFIG environment variable (0 when unset)."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return 0
    try:
        cluster = json.loads(raw).get("cluster", {})
    except (ValueError, AttributeError):
        return 0
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def choose_strategy(devices: list[str] | None = None):
    """MultiWorkerMirrored when TF_CONFIG names several workers, Mirrored for >1 GPU
    (or for the explicit ``devices`` given), else the default one-device strategy."""
    import tensorflow as tf

    if tf_config_workers() > 1:
        return tf.distribute.MultiWorkerMirroredStrategy()
    if devices and len(devices) > 1:
        return tf.distribute.MirroredStrategy(devices)
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy([g.name for g in gpus])
    return tf.distribute.get_strategy()


def describe_strategy(strategy) -> str:
    """A log line: which strategy and how many replicas."""
    n = strategy.num_replicas_in_sync
    kind = type(strategy).__name__
    if kind.startswith("_Default"):
        return "one device (no distribution)"
    return f"{kind} with {n} replicas"


def is_chief(strategy) -> bool:
    """True where this process owns the run folder: a one-process run, or a cluster's chief.

    (MultiWorkerMirrored's chief is the 'chief' task, else worker 0.)
    """
    return bool(getattr(strategy.extended, "should_checkpoint", True))


def worker_label(strategy) -> str:
    """'worker 1 of 2' for a cluster task ('' outside a cluster), for log lines."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return ""
    return f"{resolver.task_type} {resolver.task_id} of {tf_config_workers()}"


def barrier(strategy) -> None:
    """Wait until every worker of a cluster gets here (a one-number all-reduce); no-op otherwise.

    Without it the chief, which hosts TF's coordination service, can exit while
    another worker still validates or saves, and that worker's next call to the
    cluster fails (tensorflow/tensorflow#58434). A worker lost at this point
    changes nothing: every epoch is saved already.
    """
    import tensorflow as tf

    if tf_config_workers() < 2:
        return

    @tf.function
    def all_here():
        one = strategy.run(lambda: tf.constant(1.0))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, one, axis=None)

    try:
        all_here()
    except (tf.errors.UnavailableError, tf.errors.DeadlineExceededError):
        pass
