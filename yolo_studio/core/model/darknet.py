"""Load a darknet model (cfg + weights + names) as a Keras model with its ModelSpec."""
from __future__ import annotations

from pathlib import Path

from yolo_studio.core.model_family import family

from .darknet_cfg import DarknetFileError, parse_cfg
from .darknet_weights import (FLOATS_BASE, FLOATS_PER_CLASS, LoadReport, load_darknet_weights,
                              read_floats, topology_for_size)
from .layers import DARKNET_BN_EPSILON, set_bn_epsilon
from .spec import ModelSpec

# darknet's own yolov3-tiny.cfg uses masks 3,4,5 and 1,2,3 of its six anchors;
# COCO tiny weights without a cfg are read with that layout.
DARKNET_TINY_ANCHORS = [[(23, 27), (37, 58), (81, 82)], [(81, 82), (135, 169), (344, 319)]]


def read_names(path: str | Path) -> list[str]:
    """Class names of a darknet .names / classes.txt file, one per non-empty line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DarknetFileError(path, f"cannot read class names ({e})") from e
    names = [line.strip() for line in lines if line.strip()]
    if not names:
        raise DarknetFileError(path, "holds no class names (expected one per line)")
    return names


def guess_topology(weights: Path, n_floats: int) -> tuple[str, int]:
    """(model, classes) whose darknet float count equals the file's, or an error."""
    fit = topology_for_size(n_floats)
    if fit is not None:
        return fit
    raise DarknetFileError(weights, f"{n_floats} floats fit neither yolov3 "
                                    f"({FLOATS_BASE['yolov3']} + {FLOATS_PER_CLASS['yolov3']} "
                                    f"per class) nor yolov3-tiny ({FLOATS_BASE['yolov3-tiny']} + "
                                    f"{FLOATS_PER_CLASS['yolov3-tiny']} per class); pass its "
                                    f"--cfg to see which layer differs")


def resolve_class_names(classes, num_classes: int, source: str,
                        default: list[str] | None = None) -> list[str]:
    """Class names from a list, a names-file path, a count or None; checked against ``num_classes``.

    A bare count (or None) keeps ``default`` (the model's own names) when given.
    """
    fallback = list(default) if default else [f"class{i}" for i in range(num_classes)]
    if classes is None:
        return fallback
    if isinstance(classes, int) or (isinstance(classes, str) and classes.strip().isdigit()):
        n, names, where = int(classes), None, "--classes"
    elif isinstance(classes, (list, tuple)):
        names, where = [str(c) for c in classes], "the class list"
        n = len(names)
    else:
        names, where = read_names(classes), str(classes)
        n = len(names)
    if n != num_classes:
        raise DarknetFileError(where, f"gives {n} classes but {source} has {num_classes}")
    return names or fallback


def load_darknet_model(weights, cfg=None, classes=None, input_size: int | None = None,
                       build_size: int | None = None, dtype: str | None = None):
    """Build and load a darknet model: returns (keras.Model, ModelSpec, LoadReport).

    Without ``cfg``, a ``<weights stem>.cfg`` beside the weights is used, else
    the topology and class count are inferred from the file size with default
    anchors. ``input_size`` overrides the cfg's; ``build_size`` fixes the
    Keras input shape (None = any multiple of 32).
    """
    from .build import build_model

    weights = Path(weights)
    if not weights.is_file():
        raise DarknetFileError(weights, "weights file not found")
    if cfg is None and weights.with_suffix(".cfg").is_file():
        cfg = weights.with_suffix(".cfg")
    if cfg is not None:
        parsed = parse_cfg(cfg)
        model, num_classes, anchors, size = (parsed.model, parsed.num_classes, parsed.anchors,
                                             parsed.input_size)
        source = f"{Path(cfg).name} ([yolo] classes)"
    else:
        _, floats = read_floats(weights)
        model, num_classes = guess_topology(weights, len(floats))
        anchors = DARKNET_TINY_ANCHORS if model == "yolov3-tiny" else family(model).default_anchors
        size = 416
        source = f"{weights.name} (by its size)"
    names = resolve_class_names(classes, num_classes, source)
    size = int(input_size or size)
    keras_model = build_model(model, num_classes, build_size, dtype)
    set_bn_epsilon(keras_model, DARKNET_BN_EPSILON)     # normalise exactly as darknet readers do
    report: LoadReport = load_darknet_weights(keras_model, weights, file_classes=num_classes)
    spec = ModelSpec(model, num_classes, size, anchors, names,
                     extra={"source": "darknet", "weights": weights.name})
    return keras_model, spec, report
