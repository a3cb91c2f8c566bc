"""Where a run's first weights come from: darknet COCO weights or an earlier run."""
from __future__ import annotations

from yolo_studio.core.errors import ConfigError

from . import runs


def copy_matching_weights(src, dst) -> list[str]:
    """Copy weights layer by layer (by name) where every shape matches; returns skipped names."""
    by_name = {layer.name: layer for layer in src.layers}
    skipped = []
    for layer in dst.layers:
        if not layer.weights:
            continue
        other = by_name.get(layer.name)
        w = other.get_weights() if other is not None else None
        if w is None or [a.shape for a in w] != [tuple(v.shape) for v in layer.weights]:
            skipped.append(layer.name)
            continue
        layer.set_weights(w)
    return skipped


def load_darknet(model, path) -> str:
    """Load a darknet .weights file (all but the output convs if the class count differs)."""
    from yolo_studio.core.model.darknet_weights import load_darknet_weights

    report = load_darknet_weights(model, path)
    return report.message


def load_last(project, model, model_name: str) -> str:
    """Load the project's newest 'last' (else 'best') weights into ``model`` (retraining)."""
    from yolo_studio.core.model import load_checkpoint, read_spec

    stem = runs.latest_checkpoint(project, "last")
    if stem is None:
        raise ConfigError(f"{runs.runs_dir(project)}: no earlier run with weights to continue from; "
                          "train from scratch or from darknet weights first")
    spec = read_spec(stem)
    if spec.model != model_name:
        raise ConfigError(f"{stem}.weights.h5 holds {spec.model} weights but this run trains "
                          f"{model_name}; pick {spec.model} or start from scratch")
    src, _ = load_checkpoint(stem)
    skipped = copy_matching_weights(src, model)
    msg = f"continuing from {stem}.weights.h5"
    if skipped:
        msg += f" (classes changed: {len(skipped)} output layers start fresh)"
    return msg
