"""Everything a Trainer does before its first step: data, checks, model, optimizer, run folder."""
from __future__ import annotations

from pathlib import Path

from yolo_studio.core import defaults
from yolo_studio.core.errors import ConfigError

from . import device, runs
from .distribute import (choose_strategy, describe_strategy, is_chief, tf_config_workers,
                         worker_label)
from .pipeline import DataSource, load_samples
from .preflight import check_memory, check_samples, estimate_memory_mb
from .progress import Progress


def prepare_run(t) -> None:
    """Fill in the Trainer ``t``'s data sources, model, optimizer, counters and run folder."""
    import keras

    cfg = t.config
    _load_data(t)
    device.configure_gpus()
    t.strategy = choose_strategy()
    replicas = t.strategy.num_replicas_in_sync
    if cfg.batch_size % replicas:
        raise ConfigError(f"batch size {cfg.batch_size} must be a multiple of the {replicas} "
                          "devices training together")
    t._say(f"devices: {describe_strategy(t.strategy)}")
    keras.utils.set_random_seed(cfg.seed)
    t.precision = _choose_precision(t)
    policy = device.POLICIES[t.precision]
    with device.dtype_policy(policy), t.strategy.scope():
        _build(t, policy)
    _check_memory(t)
    if not t.resume:
        _start_weights(t)     # before the run folder exists, so a bad weights file leaves none
    _open_run_dir(t)
    if t.resume:
        _restore(t)
    _finish(t)


def _choose_precision(t) -> str:
    """The run's precision, said in the log; a resumed run keeps the one it started with,
    since its optimizer state (loss scale or not) is part of the checkpoint."""
    cfg = t.config
    chosen = device.training_precision(cfg.precision)
    if t.resume:
        used = runs.read_config(t.run_dir).get("precision_used")
        chosen = used if used in device.POLICIES else chosen
    how = {"float32": "float32", "bfloat16": "mixed bfloat16 (float32 weights)",
           "float16": "mixed float16 with dynamic loss scaling (float32 weights)"}[chosen]
    t._say(f"precision: {how}" + (" (auto)" if cfg.precision == "auto" and not t.resume else ""))
    return chosen


def _load_data(t) -> None:
    cfg, project = t.config, t.project
    t.class_names = list(project.classes)
    train_paths, val_paths = project.split()
    train, p_train = load_samples(project, train_paths, t.class_names)
    val, p_val = load_samples(project, val_paths, t.class_names)
    t.problems = p_train + p_val
    for p in t.problems[:20]:
        t._say(f"skipped: {p}")
    if len(t.problems) > 20:
        t._say(f"... and {len(t.problems) - 20} more problems")
    check_samples(project.root, t.class_names, train, cfg.batch_size)
    if not val:
        t._say("no labelled images in the validation split: validating on the training images, "
               "so val loss and mAP will look better than they are")
        val = train
    t.anchors = project.model_anchors(cfg.model, cfg.input_size)
    t.strides = defaults.strides(cfg.model)
    n = len(t.class_names)
    targets = {"assignment": cfg.assignment, "assign_iou": cfg.assign_iou,
               "label_smoothing": cfg.label_smoothing}
    t.train_source = DataSource(train, n, cfg.input_size, t.anchors, t.strides,
                                augment=cfg.augment, multiscale=cfg.multiscale, seed=cfg.seed,
                                hflip=cfg.hflip, target_options=targets)
    # Validation losses are measured against the same targets the training optimises.
    t.val_source = DataSource(val, n, cfg.input_size, t.anchors, t.strides, seed=cfg.seed,
                              target_options=targets)
    t.steps_per_epoch = t.train_source.steps_per_epoch(cfg.batch_size)


def _build(t, policy: str | None) -> None:
    import keras
    import tensorflow as tf

    from yolo_studio.core.model import build_model

    from .ema import WeightEMA
    from .schedule import WarmupCosine, scaled_rates

    cfg = t.config
    t.model = build_model(cfg.model, len(t.class_names), None if cfg.multiscale else cfg.input_size)
    _init_recipe(t)
    if t.strategy.num_replicas_in_sync > 1:
        synchronize_batchnorm(t.model)
    lr_init, lr_end = scaled_rates(cfg)
    schedule = WarmupCosine(cfg.warmup_epochs * t.steps_per_epoch, cfg.epochs * t.steps_per_epoch,
                            lr_init, lr_end)
    if cfg.weight_decay > 0:
        opt = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=cfg.weight_decay)
    else:
        opt = keras.optimizers.Adam(learning_rate=schedule)
    if policy == "mixed_float16":
        opt = keras.optimizers.LossScaleOptimizer(opt)
    # Built on every variable up front, so freezing the backbone later only
    # narrows which of them a step updates.
    opt.build(t.model.trainable_variables)
    t.optimizer = opt
    t.epoch_var = tf.Variable(0, dtype=tf.int64, trainable=False)
    t.batch_var = tf.Variable(0, dtype=tf.int64, trainable=False)
    t.step_var = tf.Variable(0, dtype=tf.int64, trainable=False)
    t.best_map = tf.Variable(-1.0, dtype=tf.float64, trainable=False)
    t.best_loss = tf.Variable(float("inf"), dtype=tf.float64, trainable=False)
    t.ema = WeightEMA(t.model, cfg.ema_decay) if cfg.ema_decay > 0 else None


def _init_recipe(t) -> None:
    """From-scratch initialisation: conv kernels, output biases, batch-norm momentum."""
    from .init_weights import init_conv_kernels, init_output_biases, set_batchnorm_momentum

    cfg = t.config
    init_conv_kernels(t.model, cfg.conv_init, cfg.seed)
    if cfg.prior_bias:
        samples = t.train_source.samples
        per_image = sum(len(s.classes) for s in samples) / max(len(samples), 1)
        init_output_biases(t.model, len(t.class_names), cfg.input_size, t.strides,
                           len(t.anchors[0]), per_image)
    set_batchnorm_momentum(t.model, cfg.bn_momentum, t.steps_per_epoch)


def synchronize_batchnorm(model) -> None:
    """Batch statistics over the global batch, not each replica's share of it.

    Unsynchronised, Keras 3 lets every replica write its own statistics into
    the moving mean/variance (MirroredVariables with aggregation 'none'), so
    the "mirrored" copies drift apart and each worker validates and saves
    different ones; synchronised, they match a one-device run of the same
    global batch, at the cost of one small all-reduce per layer and step.
    """
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.synchronized = True


def _check_memory(t) -> None:
    cfg = t.config
    needed = estimate_memory_mb(t.model, cfg.batch_size, t.precision != "float32")
    gpus = [d for d in device.describe_devices() if d.kind == "GPU"]
    if gpus:
        available = min((g.memory_mb for g in gpus if g.memory_mb), default=None)
        where = "GPU"
        needed /= len(gpus)
    else:
        available, where = device.available_memory_mb(), "system"
    check_memory(needed, available, where, cfg.batch_size, cfg.input_size)


def _open_run_dir(t) -> None:
    import tensorflow as tf

    from .trainer import write_run_config

    chief = is_chief(t.strategy)
    if t.run_dir is None and chief:
        t.run_dir = runs.new_run_dir(t.project, t.config.model)
    # Resume state comes from the run folder (a cluster's workers share it).
    t.resume_from = t.run_dir / runs.RESUME_DIR if t.run_dir else None
    if not chief:
        _use_scratch_dir(t)
    t.run_dir.mkdir(parents=True, exist_ok=True)
    # The shared run folder's state, not a non-chief worker's scratch copy (which has none).
    if t.resume and t.ema is not None and not _resume_state_has(t.resume_from, "ema"):
        # A run started before weight averaging existed: continue it as it was made.
        t.ema = None
        t._say("this run was started without a weight average (EMA); continuing without one")
    extra = {"ema": t.ema} if t.ema is not None else {}
    t.checkpoint = tf.train.Checkpoint(model=t.model, optimizer=t.optimizer, epoch=t.epoch_var,
                                       batch=t.batch_var, step=t.step_var,
                                       best_map=t.best_map, best_loss=t.best_loss, **extra)
    t.resume_manager = tf.train.CheckpointManager(t.checkpoint, str(t.run_dir / runs.RESUME_DIR),
                                                  max_to_keep=2)
    # A non-chief's scratch folder is new on every start, resumed or not: it gets its
    # own config.json too (the check for a run folder that has gone looks for it).
    if not t.resume or not chief:
        write_run_config(t.run_dir, t.config, {
            "classes": t.class_names, "anchors": [[list(a) for a in s] for s in t.anchors],
            "train_images": len(t.train_source), "val_images": len(t.val_source),
            "precision_used": t.precision, "workers": max(tf_config_workers(), 1)})


def _use_scratch_dir(t) -> None:
    """A non-chief worker writes its copies of everything into a temporary folder.

    Each worker must still save (TF's rule for multi-worker checkpoints: saving
    may need every worker), but only the chief's files may land in the run
    folder; the folder goes away with the trainer or at exit.
    """
    import tempfile

    who = worker_label(t.strategy)
    t._scratch = tempfile.TemporaryDirectory(prefix="yolo-studio-worker-")
    shared = t.run_dir
    t.run_dir = Path(t._scratch.name) / (shared.name if shared else "run")
    t._say(f"{who}: the chief writes the run folder; this worker keeps its copies in {t.run_dir}")


def _resume_state_has(resume_dir, name: str) -> bool:
    """True when the latest resume checkpoint in ``resume_dir`` holds the object ``name``."""
    import tensorflow as tf

    if resume_dir is None:
        return False
    latest = tf.train.latest_checkpoint(str(resume_dir))
    if latest is None:
        return False
    try:
        return any(key.split("/")[0] == name for key, _ in tf.train.list_variables(latest))
    except tf_errors():
        return False     # _restore reports the damaged file


def _restore(t) -> None:
    import tensorflow as tf

    cfg = t.config
    latest = tf.train.latest_checkpoint(str(t.resume_from))
    try:
        t.checkpoint.restore(latest).assert_existing_objects_matched()
    except (AssertionError, ValueError, tf_errors()) as e:
        raise ConfigError(f"{latest}: resume state does not fit this model ({e})") from e
    t.epoch, t.batch_in_epoch = int(t.epoch_var.numpy()), int(t.batch_var.numpy())
    t.step = int(t.step_var.numpy())
    if t.epoch >= cfg.epochs:
        raise ConfigError(f"{t.run_dir}: this run already finished its {t.epoch} epochs; "
                          "raise the number of epochs to train on")
    runs.truncate_history(t.run_dir, t.epoch)
    runs.remove_orphan_temps(t.run_dir)     # left by a save that a kill cut short
    t._say(f"resuming {t.resume_from.parent.name} at epoch {t.epoch + 1}, step {t.step}")


def tf_errors():
    """TensorFlow's error base class (for damaged checkpoint files)."""
    import tensorflow as tf
    return tf.errors.OpError


def _start_weights(t) -> None:
    from .init_weights import load_darknet, load_last

    cfg = t.config
    t.epoch = t.batch_in_epoch = t.step = 0
    if cfg.start_from == "darknet":
        t._say(load_darknet(t.model, cfg.darknet_weights))
    elif cfg.start_from == "last":
        t._say(load_last(t.project, t.model, cfg.model))
    if t.ema is not None:
        t.ema.reset()     # average from the weights training really starts with


def _finish(t) -> None:
    import tensorflow as tf

    from .steps import make_eval_step

    cfg = t.config
    t.writer = tf.summary.create_file_writer(str(Path(t.run_dir) / runs.TENSORBOARD_DIR))
    t.eval_steps = {m: make_eval_step(t.model, t.anchors, t.strides, len(t.class_names), m,
                                      cfg.score_threshold, cfg.iou_threshold)
                    for m in (False, True)}
    t.train_step = None
    t._frozen = None
    t.progress = Progress(cfg.batch_size)
    t.bad_images = {}
