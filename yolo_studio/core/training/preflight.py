"""Checks that run before the first step, so bad settings fail in seconds with a clear message."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from yolo_studio.core import defaults
from yolo_studio.core.errors import ConfigError

from .events import TrainConfig
from .pipeline import Sample

START_FROM = ("scratch", "darknet", "last")


def check_config(config: TrainConfig) -> None:
    """Raise ConfigError naming the first setting that cannot work."""
    if config.model not in defaults.MODEL_NAMES:
        raise ConfigError(f"model '{config.model}' is unknown; choose one of "
                          f"{', '.join(defaults.MODEL_NAMES)}")
    if config.input_size < 64 or config.input_size % 32:
        raise ConfigError(f"input size {config.input_size} must be a multiple of 32, at least 64 "
                          "(e.g. 320, 416, 608)")
    if config.batch_size < 1:
        raise ConfigError(f"batch size must be at least 1, got {config.batch_size}")
    if config.epochs < 1:
        raise ConfigError(f"epochs must be at least 1, got {config.epochs}")
    if not (config.lr_init > 0 and config.lr_end >= 0):
        raise ConfigError(f"learning rates must be positive (lr_init={config.lr_init}, "
                          f"lr_end={config.lr_end})")
    if config.start_from not in START_FROM:
        raise ConfigError(f"start_from '{config.start_from}' is unknown; choose one of "
                          f"{', '.join(START_FROM)}")
    if config.start_from == "darknet":
        if not config.darknet_weights:
            raise ConfigError("start from darknet weights needs a .weights file (--weights)")
        if not Path(config.darknet_weights).is_file():
            raise ConfigError(f"{config.darknet_weights}: darknet weights file not found")
    if config.freeze_backbone_epochs < 0 or config.map_every < 1:
        raise ConfigError("freeze_backbone_epochs must be >= 0 and map_every >= 1")
    _check_recipe(config)


def _check_recipe(config: TrainConfig) -> None:
    """The recipe fields (assignment, smoothing, init, EMA...): names a bad one."""
    from .init_weights import CONV_INITS
    from .targets import ASSIGNMENTS

    if config.assignment not in ASSIGNMENTS:
        raise ConfigError(f"assignment '{config.assignment}' is unknown; choose one of "
                          f"{', '.join(ASSIGNMENTS)}")
    if config.conv_init not in CONV_INITS:
        raise ConfigError(f"conv_init '{config.conv_init}' is unknown; choose one of "
                          f"{', '.join(CONV_INITS)}")
    for name, lo, hi in (("assign_iou", 0.0, 1.0), ("label_smoothing", 0.0, 1.0),
                         ("ema_decay", 0.0, 1.0), ("bn_momentum", 0.0, 1.0)):
        value = getattr(config, name)
        if not lo <= value < hi:
            raise ConfigError(f"{name} must be in [{lo:g}, {hi:g}), got {value}")
    if config.lr_reference_batch < 0:
        raise ConfigError(f"lr_reference_batch must be >= 0 (0: off), got {config.lr_reference_batch}")


def check_samples(project_root, class_names: list[str], train: list[Sample], batch_size: int) -> None:
    """Raise ConfigError for an empty project, classes without boxes or a too-large batch."""
    if not class_names:
        raise ConfigError(f"{project_root}: the project has no classes; add at least one class")
    if not train:
        raise ConfigError(f"{project_root}: no labelled images in the training split; "
                          "label some images first")
    counts = np.zeros(len(class_names), dtype=np.int64)
    for s in train:
        np.add.at(counts, s.classes, 1)
    empty = [n for n, c in zip(class_names, counts) if c == 0]
    if empty:
        raise ConfigError(f"{project_root}: class{'es' if len(empty) > 1 else ''} "
                          f"{', '.join(repr(e) for e in empty)} ha{'ve' if len(empty) > 1 else 's'} "
                          "no boxes in the training split; label some or remove the class")
    if batch_size > len(train):
        raise ConfigError(f"batch size {batch_size} is larger than the {len(train)} labelled "
                          f"training images; lower the batch size to at most {len(train)}")


def estimate_memory_mb(model, batch_size: int, mixed_precision: bool) -> float:
    """Rough peak training memory: weights + Adam state + kept activations (x3 for backprop)."""
    params = model.count_params()
    activations = 0
    for layer in model.layers:
        for out in (layer.output if isinstance(layer.output, (list, tuple)) else [layer.output]):
            shape = [d for d in out.shape[1:]]
            if None in shape:
                return 0.0     # any input size: cannot know in advance
            activations += int(np.prod(shape))
    act_bytes = 2 if mixed_precision else 4
    total = params * 4 * 4 + activations * batch_size * act_bytes * 3
    return total / 2 ** 20


def check_memory(needed_mb: float, available_mb: float | None, where: str,
                 batch_size: int, input_size: int) -> None:
    """Raise ConfigError when the estimate clearly exceeds what is free."""
    if available_mb is None or needed_mb <= 0:
        return
    if needed_mb > available_mb:
        raise ConfigError(f"training needs about {needed_mb / 1024:.1f} GiB but only "
                          f"{available_mb / 1024:.1f} GiB of {where} memory is free: lower the batch "
                          f"size (now {batch_size}) or the input size (now {input_size})")
