"""ModelSpec: everything besides the weights needed to rebuild and use a model."""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

from yolo_studio.core.errors import ConfigError
from yolo_studio.core.model_family import AnchorSet, check_input_size, family


@dataclass
class ModelSpec:
    """Architecture name, classes, input size and anchors of a trained model.

    ``anchors`` are (w, h) in network pixels at ``input_size``, per output
    scale, stride ascending. ``extra`` carries free-form run facts (epoch, mAP).
    """

    model: str
    num_classes: int
    input_size: int = 416
    anchors: AnchorSet | None = None
    class_names: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        # One check for every way a spec arrives (checkpoint .json, darknet cfg,
        # SavedModel spec, trainer): a value that cannot work is refused here,
        # in words, before it reaches OpenCV or a tf.function trace.
        fam = family(self.model)
        if not _whole(self.num_classes) or self.num_classes < 1:
            raise ConfigError(f"num_classes must be a whole number of at least 1, got {self.num_classes!r}")
        self.input_size = check_input_size(self.input_size, "input_size")
        self.num_classes = int(self.num_classes)
        self.anchors = fam.default_anchors if self.anchors is None else AnchorSet.parse(self.anchors, self.model)
        if not self.class_names:
            self.class_names = [f"class{i}" for i in range(self.num_classes)]
        self.class_names = list(self.class_names)
        if len(self.class_names) != self.num_classes:
            raise ConfigError(f"{len(self.class_names)} class names given for a model "
                              f"with {self.num_classes} classes")

    @property
    def strides(self) -> list[int]:
        """Output strides, in the order of the model's outputs."""
        return list(family(self.model).strides)

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return {"model": self.model, "num_classes": self.num_classes,
                "input_size": self.input_size,
                "anchors": self.anchors.to_json(),
                "class_names": self.class_names, "extra": self.extra}

    @classmethod
    def from_dict(cls, d: dict) -> "ModelSpec":
        """Inverse of :meth:`to_dict`; KeyError/TypeError/ValueError/ConfigError on a malformed dict."""
        return cls(model=d["model"], num_classes=_as_int(d["num_classes"], "num_classes"),
                   input_size=_as_int(d.get("input_size", 416), "input_size"),
                   anchors=d.get("anchors") or None,
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
