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


def load_darknet(model, path):
    """Load a darknet .weights file (all but the output convs if the class count differs).

    Returns the loader's report: its ``message`` and the ``skipped`` layers,
    which the caller gives the from-scratch initialisation.
    """
    from yolo_studio.core.model.darknet_weights import load_darknet_weights

    return load_darknet_weights(model, path)


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


# --- from-scratch initialisation (the recipe) -------------------------------------

CONV_INITS = ("normal", "keras")
NORMAL_STD = 0.01


def init_conv_kernels(model, scheme: str, seed: int, only=None) -> None:
    """Re-draw every conv kernel (or those of the layers named in ``only``): ``normal`` is
    N(0, 0.01) (the pylessons trainer); ``keras`` keeps glorot.

    A small init keeps the untrained heads near zero, so the first steps see
    bounded losses instead of the large, random logits glorot gives a
    1x1 conv over 256-1024 channels.
    """
    import keras
    import numpy as np

    if scheme not in CONV_INITS:
        raise ConfigError(f"conv init '{scheme}' is unknown; choose one of {', '.join(CONV_INITS)}")
    if scheme == "keras":
        return
    rng = np.random.default_rng([seed, 11])
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D) and (only is None or layer.name in only):
            kernel = layer.kernel
            layer.kernel.assign(rng.normal(0.0, NORMAL_STD, tuple(kernel.shape)).astype("float32"))
            if layer.use_bias:
                layer.bias.assign(np.zeros(tuple(layer.bias.shape), "float32"))


def prior_logit(p: float) -> float:
    """log(p / (1 - p)), with p kept inside (1e-6, 1 - 1e-6)."""
    import math

    p = min(max(float(p), 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def init_output_biases(model, num_classes: int, input_size: int, strides, num_anchors: int,
                       objects_per_image: float) -> None:
    """Objectness and class biases from a prior, so the first predictions match the data's base rates.

    Objectness: ``objects_per_image`` boxes among a scale's cells (the probability
    a cell-anchor holds an object); classes: 1 / classes each. Without this,
    sigmoid(0) = 0.5 says "object" on every one of thousands of background
    cells and the first epochs go into unlearning it.
    """
    from yolo_studio.core.model import output_layers

    for layer, stride in zip(output_layers(model), strides):
        bias = layer.bias.numpy().reshape(num_anchors, 5 + num_classes)
        cells = max((input_size // stride) ** 2, 1)
        bias[:, 4] = prior_logit(max(objects_per_image, 1.0) / cells)
        bias[:, 5:] = prior_logit(1.0 / (num_classes + 0.01)) if num_classes > 1 else 0.0
        layer.bias.assign(bias.reshape(-1))


def set_batchnorm_momentum(model, momentum: float, steps_per_epoch: int) -> float:
    """Set every BatchNorm's momentum; 0 means fit it to the epoch length. Returns the value used.

    Keras' default momentum (0.99) averages over ~100 steps; a small project
    has 10-30 steps an epoch, so validation would run on statistics still far
    from the data for the first several epochs and mAP would lag training.
    """
    import keras

    if momentum <= 0:
        momentum = min(0.99, max(0.9, 1.0 - 3.0 / max(steps_per_epoch, 1)))
    if not 0 < momentum < 1:
        raise ConfigError(f"batch-norm momentum must be between 0 and 1, got {momentum}")
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = momentum
    return momentum
