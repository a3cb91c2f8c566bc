"""Everything a run needs before its first step: data, checks, model, optimizer, run folder.

``prepare_run`` returns it all as one :class:`PreparedRun` value; the Trainer
stores that value and owns only the loop and the endings.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from yolo_studio.core.annotations import awaiting_review_note
from yolo_studio.core.errors import ConfigError
from yolo_studio.core.model_family import AnchorSet, family
from yolo_studio.core.training_data import TrainingData

from . import device, runs
from .distribute import (choose_strategy, describe_strategy, is_chief, tf_config_workers,
                         worker_label)
from .events import TrainConfig
from .pipeline import DataSource, load_samples
from .preflight import check_memory, check_samples, estimate_memory_mb

MAX_PROBLEM_LINES = 20     # skipped-file lines said in the log before "... and N more"


@dataclass
class RunData:
    """The run's samples as data sources, with the classes, anchors and strides they use."""

    class_names: list[str]
    problems: list
    anchors: AnchorSet
    strides: list[int]
    train_source: DataSource
    val_source: DataSource
    steps_per_epoch: int


@dataclass
class RunState:
    """The variables a resume checkpoint holds besides the model and the optimizer."""

    epoch: Any          # tf.Variable int64: epochs done
    batch: Any          # tf.Variable int64: batches done in the current epoch
    step: Any           # tf.Variable int64: global step
    best_map: Any       # tf.Variable float64: best val mAP@0.5, -1 before the first
    best_loss: Any      # tf.Variable float64: best val loss while there is no mAP yet


@dataclass
class PreparedRun:
    """A run ready for its first step (or its next one, when resumed)."""

    data: RunData
    strategy: Any
    precision: str
    model: Any
    optimizer: Any
    ema: Any                   # WeightEMA or None
    state: RunState
    run_dir: Path
    resume_from: Path | None   # the shared run folder's resume state
    scratch: Any               # a non-chief worker's TemporaryDirectory, else None
    checkpoint: Any
    resume_manager: Any
    writer: Any
    eval_steps: dict           # with_map (bool) -> compiled eval step
    start: tuple[int, int, int] = (0, 0, 0)   # (epoch, batch in epoch, step) to continue from


Say = Callable[[str], None]


def prepare_run(project: TrainingData, cfg: TrainConfig, run_dir: Path | None, resume: bool, say: Say) -> PreparedRun:
    """Load and check the data, build model and optimizer, open (or resume) the run folder."""
    import keras

    data = _load_data(project, cfg, say)
    device.configure_gpus()
    strategy = choose_strategy()
    replicas = strategy.num_replicas_in_sync
    if cfg.batch_size % replicas:
        raise ConfigError(f"batch size {cfg.batch_size} must be a multiple of the {replicas} "
                          "devices training together")
    say(f"devices: {describe_strategy(strategy)}")
    keras.utils.set_random_seed(cfg.seed)
    precision = _choose_precision(cfg, run_dir if resume else None, say)
    policy = device.POLICIES[precision]
    with device.dtype_policy(policy), strategy.scope():
        model, optimizer, state, ema = _build(cfg, data, strategy, policy)
    _check_memory(cfg, model, precision)
    if not resume:
        _start_weights(project, cfg, data, model, ema, say)   # before the run folder exists: a bad file leaves none
    run_dir, resume_from, scratch = _open_run_dir(project, cfg, run_dir, strategy, say)
    # The shared run folder's state, not a non-chief worker's scratch copy (which has none).
    if resume and ema is not None and not _resume_state_has(resume_from, "ema"):
        # A run started before weight averaging existed: continue it as it was made.
        ema = None
        say("this run was started without a weight average (EMA); continuing without one")
    checkpoint, manager = _checkpointing(model, optimizer, state, ema, run_dir)
    # A non-chief's scratch folder is new on every start, resumed or not: it gets its
    # own config.json too (the check for a run folder that has gone looks for it).
    if not resume or not is_chief(strategy):
        runs.write_run_config(run_dir, cfg, {
            "classes": data.class_names, "anchors": data.anchors.to_json(),
            "train_images": len(data.train_source), "val_images": len(data.val_source),
            "precision_used": precision, "workers": max(tf_config_workers(), 1)})
    start = _restore(checkpoint, state, resume_from, run_dir, cfg, say) if resume else (0, 0, 0)
    writer, eval_steps = _reporting(cfg, model, data, run_dir)
    return PreparedRun(data, strategy, precision, model, optimizer, ema, state, run_dir, resume_from,
                       scratch, checkpoint, manager, writer, eval_steps, start)


def _choose_precision(cfg: TrainConfig, resumed_dir: Path | None, say: Say) -> str:
    """The run's precision, said in the log; a resumed run keeps the one it started with,
    since its optimizer state (loss scale or not) is part of the checkpoint."""
    chosen = device.training_precision(cfg.precision)
    if resumed_dir is not None:
        used = runs.read_config(resumed_dir).get("precision_used")
        chosen = used if used in device.POLICIES else chosen
    how = {"float32": "float32", "bfloat16": "mixed bfloat16 (float32 weights)",
           "float16": "mixed float16 with dynamic loss scaling (float32 weights)"}[chosen]
    say(f"precision: {how}" + (" (auto)" if cfg.precision == "auto" and resumed_dir is None else ""))
    return chosen


def _load_data(project: TrainingData, cfg: TrainConfig, say: Say) -> RunData:
    class_names = list(project.classes)
    train_paths, val_paths = project.split()
    awaiting, awaiting_val = [], []
    train, p_train = load_samples(project, train_paths, class_names, awaiting)
    val, p_val = load_samples(project, val_paths, class_names, awaiting_val)
    problems = p_train + p_val
    for p in problems[:MAX_PROBLEM_LINES]:
        say(f"skipped: {p}")
    if len(problems) > MAX_PROBLEM_LINES:
        say(f"... and {len(problems) - MAX_PROBLEM_LINES} more problems")
    if awaiting or awaiting_val:
        say(awaiting_review_note(awaiting + awaiting_val))
    check_samples(project.root, class_names, train, cfg.batch_size, len(awaiting))
    if not val:
        say("no labelled images in the validation split"
            + (f" ({len(awaiting_val)} with pre-labels nobody has accepted yet were left out)"
               if awaiting_val else "")
            + ": validating on the training images, so val loss and mAP will look better than they are")
        val = train
    anchors = project.model_anchors(cfg.model, cfg.input_size)
    strides = list(family(cfg.model).strides)
    n = len(class_names)
    targets = {"assignment": cfg.assignment, "assign_iou": cfg.assign_iou,
               "label_smoothing": cfg.label_smoothing}
    train_source = DataSource(train, n, cfg.input_size, anchors, strides,
                              augment=cfg.augment, multiscale=cfg.multiscale, seed=cfg.seed,
                              hflip=cfg.hflip, target_options=targets)
    # Validation losses are measured against the same targets the training optimises.
    val_source = DataSource(val, n, cfg.input_size, anchors, strides, seed=cfg.seed,
                            target_options=targets)
    return RunData(class_names, problems, train_source.anchors, strides, train_source, val_source,
                   train_source.steps_per_epoch(cfg.batch_size))


def _build(cfg: TrainConfig, data: RunData, strategy, policy: str | None):
    """(model, optimizer, state variables, EMA or None), built in the strategy's scope."""
    import keras
    import tensorflow as tf

    from yolo_studio.core.model import build_model

    from .ema import WeightEMA
    from .schedule import WarmupCosine, scaled_rates

    model = build_model(cfg.model, len(data.class_names), None if cfg.multiscale else cfg.input_size)
    _init_recipe(cfg, data, model)
    if strategy.num_replicas_in_sync > 1:
        synchronize_batchnorm(model)
    lr_init, lr_end = scaled_rates(cfg)
    schedule = WarmupCosine(cfg.warmup_epochs * data.steps_per_epoch, cfg.epochs * data.steps_per_epoch,
                            lr_init, lr_end)
    if cfg.weight_decay > 0:
        opt = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=cfg.weight_decay)
    else:
        opt = keras.optimizers.Adam(learning_rate=schedule)
    if policy == "mixed_float16":
        opt = keras.optimizers.LossScaleOptimizer(opt)
    # Built on every variable up front, so freezing the backbone later only
    # narrows which of them a step updates.
    opt.build(model.trainable_variables)
    state = RunState(epoch=tf.Variable(0, dtype=tf.int64, trainable=False),
                     batch=tf.Variable(0, dtype=tf.int64, trainable=False),
                     step=tf.Variable(0, dtype=tf.int64, trainable=False),
                     best_map=tf.Variable(-1.0, dtype=tf.float64, trainable=False),
                     best_loss=tf.Variable(float("inf"), dtype=tf.float64, trainable=False))
    ema = WeightEMA(model, cfg.ema_decay) if cfg.ema_decay > 0 else None
    return model, opt, state, ema


def _init_recipe(cfg: TrainConfig, data: RunData, model) -> None:
    """From-scratch initialisation: conv kernels, output biases, batch-norm momentum."""
    from .init_weights import init_conv_kernels, set_batchnorm_momentum

    init_conv_kernels(model, cfg.conv_init, cfg.seed)
    if cfg.prior_bias:
        _prior_biases(cfg, data, model)
    set_batchnorm_momentum(model, cfg.bn_momentum, data.steps_per_epoch)


def _prior_biases(cfg: TrainConfig, data: RunData, model) -> None:
    """Output biases from the training split's base rates (init_output_biases)."""
    from .init_weights import init_output_biases

    samples = data.train_source.samples
    per_image = sum(len(s.classes) for s in samples) / max(len(samples), 1)
    init_output_biases(model, len(data.class_names), cfg.input_size, data.strides,
                       len(data.anchors[0]), per_image)


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


def _check_memory(cfg: TrainConfig, model, precision: str) -> None:
    needed = estimate_memory_mb(model, cfg.batch_size, precision != "float32")
    gpus = [d for d in device.describe_devices() if d.kind == "GPU"]
    if gpus:
        available = min((g.memory_mb for g in gpus if g.memory_mb), default=None)
        where = "GPU"
        needed /= len(gpus)
    else:
        available, where = device.available_memory_mb(), "system"
    check_memory(needed, available, where, cfg.batch_size, cfg.input_size)


def _open_run_dir(project, cfg: TrainConfig, run_dir: Path | None, strategy, say: Say):
    """(the folder this process writes, the shared resume state, a scratch TemporaryDirectory or None)."""
    chief = is_chief(strategy)
    if run_dir is None and chief:
        run_dir = runs.new_run_dir(project, cfg.model)
    # Resume state comes from the run folder (a cluster's workers share it).
    resume_from = run_dir / runs.RESUME_DIR if run_dir else None
    scratch = None
    if not chief:
        scratch, run_dir = _scratch_dir(run_dir, strategy, say)
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir, resume_from, scratch


def _scratch_dir(shared: Path | None, strategy, say: Say):
    """A non-chief worker writes its copies of everything into a temporary folder.

    Each worker must still save (TF's rule for multi-worker checkpoints: saving
    may need every worker), but only the chief's files may land in the run
    folder; the folder goes away with the trainer or at exit.
    """
    scratch = tempfile.TemporaryDirectory(prefix="yolo-studio-worker-")
    run_dir = Path(scratch.name) / (shared.name if shared else "run")
    say(f"{worker_label(strategy)}: the chief writes the run folder; this worker keeps its copies in {run_dir}")
    return scratch, run_dir


def _checkpointing(model, optimizer, state: RunState, ema, run_dir: Path):
    """The resume checkpoint and its manager (two kept) in ``run_dir``."""
    import tensorflow as tf

    extra = {"ema": ema} if ema is not None else {}
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, epoch=state.epoch,
                                     batch=state.batch, step=state.step,
                                     best_map=state.best_map, best_loss=state.best_loss, **extra)
    manager = tf.train.CheckpointManager(checkpoint, str(run_dir / runs.RESUME_DIR), max_to_keep=2)
    return checkpoint, manager


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


def _restore(checkpoint, state: RunState, resume_from: Path, run_dir: Path, cfg: TrainConfig,
             say: Say) -> tuple[int, int, int]:
    """Load the resume state; (epoch, batch in epoch, step) to continue from."""
    import tensorflow as tf

    latest = tf.train.latest_checkpoint(str(resume_from))
    try:
        checkpoint.restore(latest).assert_existing_objects_matched()
    except (AssertionError, ValueError, tf_errors()) as e:
        raise ConfigError(f"{latest}: resume state does not fit this model ({e})") from e
    epoch, batch, step = int(state.epoch.numpy()), int(state.batch.numpy()), int(state.step.numpy())
    if epoch >= cfg.epochs:
        raise ConfigError(f"{run_dir}: this run already finished its {epoch} epochs; "
                          "raise the number of epochs to train on")
    runs.truncate_history(run_dir, epoch)
    runs.remove_orphan_temps(run_dir)     # left by a save that a kill cut short
    say(f"resuming {resume_from.parent.name} at epoch {epoch + 1}, step {step}")
    return epoch, batch, step


def tf_errors():
    """TensorFlow's error base class (for damaged checkpoint files)."""
    import tensorflow as tf
    return tf.errors.OpError


def _start_weights(project, cfg: TrainConfig, data: RunData, model, ema, say: Say) -> None:
    from .init_weights import init_conv_kernels, load_darknet, load_last

    if cfg.start_from == "darknet":
        report = load_darknet(model, cfg.darknet_weights)
        say(report.message)
        if report.skipped:
            # The output convs the file could not fill (another class count) start as they
            # would from scratch: small kernels and prior biases, not glorot and zeros,
            # which would say "object" at sigmoid(0) = 0.5 on every cell of every image.
            init_conv_kernels(model, cfg.conv_init, cfg.seed, only=set(report.skipped))
            if cfg.prior_bias:
                _prior_biases(cfg, data, model)
    elif cfg.start_from == "last":
        say(load_last(project, model, cfg.model))
    if ema is not None:
        ema.reset()     # average from the weights training really starts with


def _reporting(cfg: TrainConfig, model, data: RunData, run_dir: Path):
    """The TensorBoard writer and the two compiled eval steps (without and with detections)."""
    import tensorflow as tf

    from .steps import make_eval_step

    writer = tf.summary.create_file_writer(str(Path(run_dir) / runs.TENSORBOARD_DIR))
    eval_steps = {m: make_eval_step(model, data.anchors, data.strides, len(data.class_names), m,
                                    cfg.score_threshold, cfg.iou_threshold)
                  for m in (False, True)}
    return writer, eval_steps
