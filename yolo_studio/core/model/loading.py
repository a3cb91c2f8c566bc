"""Open any weights the app produces or accepts as a Keras model + ModelSpec."""
from __future__ import annotations

from pathlib import Path

from yolo_studio.core.errors import ConfigError

from yolo_studio.core.checkpoint_files import WEIGHTS_SUFFIX, checkpoint_files, checkpoint_stem, is_checkpoint

from .checkpoint import load_checkpoint
from .darknet import load_darknet_model, resolve_class_names

SAVEDMODEL_SPEC = "yolo_studio_spec.json"


def model_kind(path: str | Path) -> str:
    """'checkpoint', 'darknet' or 'savedmodel' for ``path``; ConfigError naming it otherwise."""
    p = Path(path)
    if p.is_dir() and (p / "saved_model.pb").is_file():
        return "savedmodel"
    if p.suffix == ".weights" and not p.name.endswith(WEIGHTS_SUFFIX):
        if not p.is_file():
            raise ConfigError(f"{p}: darknet weights file not found")
        return "darknet"
    if is_checkpoint(p):
        return "checkpoint"
    stem = checkpoint_stem(p)
    if any(h.is_file() for h in checkpoint_files(p)):
        raise ConfigError(f"{stem}: checkpoint incomplete: needs both {stem.name}{WEIGHTS_SUFFIX} "
                          f"and {stem.name}.json")
    if not p.exists():
        raise ConfigError(f"{p}: no such file or folder")
    raise ConfigError(f"{p}: not a model: expected a checkpoint (<name>{WEIGHTS_SUFFIX} + "
                      f"<name>.json), darknet .weights (with its .cfg) or a SavedModel folder")


def load_keras_model(path, classes=None, cfg=None, input_size: int | None = None,
                     build_size: int | None = None, dtype: str | None = None):
    """(keras.Model, ModelSpec, message) from a checkpoint or darknet weights.

    ``classes`` (names list, names file or count) is checked against the model;
    ``input_size`` overrides the spec's; ``build_size`` fixes the Keras input;
    ``dtype`` is the layers' dtype policy (None: the global one).
    """
    kind = model_kind(path)
    if kind == "savedmodel":
        raise ConfigError(f"{path}: a SavedModel cannot be re-exported or trained; "
                          f"use the checkpoint it was exported from")
    if kind == "darknet":
        model, spec, report = load_darknet_model(path, cfg, classes, input_size, build_size, dtype)
        return model, spec, report.message
    model, spec = load_checkpoint(path, build_size, dtype)
    if classes is not None:
        spec.class_names = resolve_class_names(classes, spec.num_classes, Path(path).name,
                                               spec.class_names)
    if input_size:
        spec.input_size = int(input_size)
    return model, spec, f"{checkpoint_stem(path).name}: {spec.model} checkpoint, {spec.num_classes} classes"
