"""ModelSpec: everything besides the weights needed to rebuild and use a model."""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

from yolo_studio.core import defaults
from yolo_studio.core.errors import ConfigError


@dataclass
class ModelSpec:
    """Architecture name, classes, input size and anchors of a trained model.

    ``anchors`` are (w, h) in network pixels at ``input_size``, per output
    scale, stride ascending. ``extra`` carries free-form run facts (epoch, mAP).
    """

    model: str
    num_classes: int
    input_size: int = 416
    anchors: list[list[tuple[float, float]]] | None = None
    class_names: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        # One check for every way a spec arrives (checkpoint .json, darknet cfg,
        # SavedModel spec, trainer): a value that cannot work is refused here,
        # in words, before it reaches OpenCV or a tf.function trace.
        if self.model not in defaults.MODEL_NAMES:
            raise ConfigError(f"model '{self.model}' is unknown; expected one of "
                              f"{', '.join(defaults.MODEL_NAMES)}")
        if not _whole(self.num_classes) or self.num_classes < 1:
            raise ConfigError(f"num_classes must be a whole number of at least 1, got {self.num_classes!r}")
        if not _whole(self.input_size) or self.input_size < 32 or self.input_size % 32:
            raise ConfigError(f"input_size must be a positive multiple of 32 (such as 416), "
                              f"got {self.input_size!r}")
        self.num_classes, self.input_size = int(self.num_classes), int(self.input_size)
        if self.anchors is None:
            self.anchors = defaults.default_anchors(self.model)
        self.anchors = _checked_anchors(self.anchors, self.model)
        if not self.class_names:
            self.class_names = [f"class{i}" for i in range(self.num_classes)]
        self.class_names = list(self.class_names)
        if len(self.class_names) != self.num_classes:
            raise ConfigError(f"{len(self.class_names)} class names given for a model "
                              f"with {self.num_classes} classes")

    @property
    def strides(self) -> list[int]:
        """Output strides, in the order of the model's outputs."""
        return defaults.strides(self.model)

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return {"model": self.model, "num_classes": self.num_classes,
                "input_size": self.input_size,
                "anchors": [[list(a) for a in s] for s in self.anchors],
                "class_names": self.class_names, "extra": self.extra}

    @classmethod
    def from_dict(cls, d: dict) -> "ModelSpec":
        """Inverse of :meth:`to_dict`; KeyError/TypeError/ValueError/ConfigError on a malformed dict."""
        return cls(model=d["model"], num_classes=_as_int(d["num_classes"], "num_classes"),
                   input_size=_as_int(d.get("input_size", 416), "input_size"),
                   anchors=[[tuple(a) for a in s] for s in d["anchors"]] if d.get("anchors") else None,
                   class_names=list(d.get("class_names") or []), extra=dict(d.get("extra") or {}))


def _whole(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _as_int(v, key: str) -> int:
    """A whole number from JSON (16.0 is fine; 16.5, "16", NaN and true are not)."""
    if isinstance(v, float) and math.isfinite(v) and v == int(v):
        return int(v)
    if not _whole(v):
        raise ConfigError(f"{key} must be a whole number, got {v!r}")
    return v


def _checked_anchors(anchors, model: str) -> list[list[tuple[float, float]]]:
    """Anchors as float (w, h) pairs, three per output scale, each finite and positive."""
    n_scales = len(defaults.strides(model))
    try:
        scales = [[(float(w), float(h)) for w, h in scale] for scale in anchors]
    except (TypeError, ValueError):
        raise ConfigError(f"anchors must be lists of (width, height) pairs per scale, got {anchors!r}") from None
    if len(scales) != n_scales:
        raise ConfigError(f"{model} needs anchors for {n_scales} scales, got {len(scales)}")
    for i, scale in enumerate(scales):
        if len(scale) != 3:
            raise ConfigError(f"{model} needs 3 anchors per scale (its heads predict 3 boxes per cell); "
                              f"scale {i + 1} has {len(scale)}")
        bad = [a for a in scale if not all(math.isfinite(v) and v > 0 for v in a)]
        if bad:
            raise ConfigError(f"anchors must be finite, positive (width, height) pairs; scale {i + 1} "
                              f"has {bad[0]}")
    return scales
