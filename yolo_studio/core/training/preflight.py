"""Checks that run before the first step, so bad settings fail in seconds with a clear message."""
from __future__ import annotations

import json
import math
from dataclasses import fields, replace
from pathlib import Path

import numpy as np

from yolo_studio.core.errors import ConfigError
from yolo_studio.core.model_family import MAX_INPUT_SIZE, MIN_TRAIN_INPUT_SIZE, check_input_size, family

from .events import TrainConfig
from .pipeline import Sample

START_FROM = ("scratch", "darknet", "last")
MAX_EPOCHS = 100_000      # a typo guard; darknet's longest schedules are a few thousand epochs


_TYPE_WORDS = {int: "a whole number", float: "a finite number", bool: "true or false", str: "a text",
               type(None): "null"}


def _field_types(annotation) -> tuple[type, ...]:
    """Python types a TrainConfig field accepts, from its annotation ('str | None' -> (str, None))."""
    names = str(annotation).replace("Optional[", "").replace("]", "").split("|")
    table = {"int": int, "float": float, "bool": bool, "str": str, "None": type(None)}
    return tuple(table[n.strip()] for n in names if n.strip() in table)


def _type_ok(value, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):            # bool is an int subclass: only where asked for
        return bool in types
    if isinstance(value, int) and float in types:
        return True
    if isinstance(value, float) and not math.isfinite(value):
        return False                       # NaN/inf never make a setting (JSON allows them)
    return isinstance(value, tuple(t for t in types if t is not bool))


def check_types(values: dict, where: str = "") -> None:
    """ConfigError naming ``where`` and the key of the first value of the wrong type.

    The types come from TrainConfig's own annotations, so a field added there
    is checked without a change here.
    """
    for f in fields(TrainConfig):
        if f.name not in values:
            continue
        types = _field_types(f.type)
        value = values[f.name]
        if types and not _type_ok(value, types):
            want = " or ".join(_TYPE_WORDS.get(t, t.__name__) for t in types)
            prefix = f"{where}: " if where else ""
            raise ConfigError(f"{prefix}training setting '{f.name}' is {_shown(value)}; it must be {want}")


def _shown(value) -> str:
    try:
        return json.dumps(value)       # as the user wrote it in the JSON file
    except (TypeError, ValueError):
        return repr(value)


def config_from_dict(values, where: str) -> TrainConfig:
    """A checked TrainConfig from stored settings (``where``: the file they come from).

    Unknown keys are ignored (older or newer files); wrong types and values out
    of range raise ConfigError naming ``where`` and the key.
    """
    if not isinstance(values, dict):
        raise ConfigError(f"{where}: the training settings must be a JSON object, "
                          f"not {type(values).__name__}")
    check_types(values, where)
    config = TrainConfig.from_dict(values)
    try:
        # Values only: whether a darknet weights file still exists is checked when a
        # run starts from it (the CLI resets start_from unless --weights is given).
        check_config(replace(config, start_from="scratch", darknet_weights=None)
                     if config.start_from == "darknet" else config)
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from None
    return config


def check_config(config: TrainConfig) -> None:
    """Raise ConfigError naming the first setting that cannot work."""
    check_types(config.to_dict())
    family(config.model)
    check_input_size(config.input_size, "input size", MIN_TRAIN_INPUT_SIZE, MAX_INPUT_SIZE)
    if config.batch_size < 1:
        raise ConfigError(f"batch size must be at least 1, got {config.batch_size}")
    if not 1 <= config.epochs <= MAX_EPOCHS:
        raise ConfigError(f"epochs must be from 1 to {MAX_EPOCHS}, got {config.epochs}")
    if not (config.lr_init > 0 and config.lr_end >= 0) or config.lr_init > 1 or config.lr_end > 1:
        raise ConfigError(f"learning rates must be positive numbers up to 1 (lr_init={config.lr_init}, "
                          f"lr_end={config.lr_end})")
    if config.warmup_epochs < 0 or config.weight_decay < 0:
        raise ConfigError(f"warmup_epochs ({config.warmup_epochs}) and weight_decay "
                          f"({config.weight_decay}) must not be negative")
    for name in ("score_threshold", "iou_threshold"):
        if not 0 <= getattr(config, name) <= 1:
            raise ConfigError(f"{name} must be between 0 and 1, got {getattr(config, name)}")
    if config.seed < 0:
        raise ConfigError(f"seed must be 0 or more, got {config.seed}")
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


def check_samples(project_root, class_names: list[str], train: list[Sample], batch_size: int,
                  awaiting: int = 0) -> None:
    """Raise ConfigError for an empty project, classes without boxes or a too-large batch.

    ``awaiting``: images left out because their pre-labels wait for review (named in the
    messages, since they are the likely reason a split or a class came out empty).
    """
    hint = (f" ({awaiting} image{'s' if awaiting != 1 else ''} with pre-labels nobody has accepted "
            "yet were left out: accept or correct them in the Label tab)") if awaiting else ""
    if not class_names:
        raise ConfigError(f"{project_root}: the project has no classes; add at least one class")
    if not train:
        raise ConfigError(f"{project_root}: no labelled images in the training split; "
                          f"label some images first{hint}")
    counts = np.zeros(len(class_names), dtype=np.int64)
    for s in train:
        np.add.at(counts, s.classes, 1)
    empty = [n for n, c in zip(class_names, counts) if c == 0]
    if empty:
        raise ConfigError(f"{project_root}: class{'es' if len(empty) > 1 else ''} "
                          f"{', '.join(repr(e) for e in empty)} ha{'ve' if len(empty) > 1 else 's'} "
                          f"no boxes in the training split; label some or remove the class{hint}")
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
