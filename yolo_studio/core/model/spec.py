"""ModelSpec: everything besides the weights needed to rebuild and use a model."""
from __future__ import annotations

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
        if self.model not in defaults.MODEL_NAMES:
            raise ConfigError(f"model '{self.model}' is unknown; expected one of "
                              f"{', '.join(defaults.MODEL_NAMES)}")
        if self.anchors is None:
            self.anchors = defaults.default_anchors(self.model)
        self.anchors = [[(float(w), float(h)) for w, h in scale] for scale in self.anchors]
        if not self.class_names:
            self.class_names = [f"class{i}" for i in range(self.num_classes)]
        self.class_names = list(self.class_names)
        if len(self.class_names) != self.num_classes:
            raise ConfigError(f"{len(self.class_names)} class names given for a model "
                              f"with {self.num_classes} classes")
        n_scales = len(defaults.strides(self.model))
        if len(self.anchors) != n_scales:
            raise ConfigError(f"{self.model} needs anchors for {n_scales} scales, "
                              f"got {len(self.anchors)}")

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
        """Inverse of :meth:`to_dict`; KeyError/TypeError on a malformed dict."""
        return cls(model=d["model"], num_classes=int(d["num_classes"]),
                   input_size=int(d.get("input_size", 416)),
                   anchors=[[tuple(a) for a in s] for s in d["anchors"]] if d.get("anchors") else None,
                   class_names=list(d.get("class_names") or []), extra=dict(d.get("extra") or {}))
