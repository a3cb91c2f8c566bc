"""The model family and its rules, one home each: names, strides, anchors, the input-size rule.

Plain Python (no TensorFlow, no numpy), so the project file, the anchors fit,
the GUI and the model code all ask here. Every other module that needs to know
how many scales a model has, which strides its outputs use, how anchors are
grouped and scaled, or which input sizes it takes imports this module instead
of writing the fact again.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from yolo_studio.core.errors import ConfigError

# Each head predicts this many boxes per cell, for every model here.
ANCHORS_PER_SCALE = 3
# The largest stride: every input side must be a multiple of it.
INPUT_MULTIPLE = 32
# The smallest input the network can run (one cell on the coarsest scale).
MIN_INPUT_SIZE = 32
# Training needs at least two cells on the coarsest scale: at 32 px the
# 32-stride head has a single cell, and every target collides in it.
MIN_TRAIN_INPUT_SIZE = 64
MAX_INPUT_SIZE = 4096     # 16x the pixels of 1024; beyond it a single image fills a GPU

Pairs = tuple[tuple[float, float], ...]


@dataclass(frozen=True, eq=False)
class AnchorSet:
    """Anchor (w, h) pairs in network pixels, per output scale, stride ascending.

    The one place anchors are validated, grouped, scaled and serialised. It
    iterates, indexes and compares equal like the nested lists it replaces,
    so ``zip(outputs, anchors)`` and ``anchors[0]`` keep working.
    """

    groups: tuple[Pairs, ...]

    @classmethod
    def parse(cls, groups, model: str | None = None, what: str = "anchors") -> "AnchorSet":
        """Per-scale (w, h) pairs as floats; ConfigError if one is not finite and positive.

        With ``model``, the number of scales and anchors per scale must be the model's.
        """
        if isinstance(groups, AnchorSet):
            parsed = groups
        else:
            try:
                parsed = cls(tuple(tuple((float(w), float(h)) for w, h in g) for g in groups))
            except (TypeError, ValueError):
                raise ConfigError(f"{what} must be lists of (width, height) pairs per scale, "
                                  f"got {groups!r}") from None
        for i, g in enumerate(parsed.groups):
            bad = [a for a in g if not all(math.isfinite(v) and v > 0 for v in a)]
            if bad:
                raise ConfigError(f"{what} must be finite, positive (width, height) pairs; "
                                  f"scale {i + 1} has {bad[0]}")
        if model is not None:
            fam = family(model)
            if len(parsed.groups) != fam.n_scales:
                raise ConfigError(f"{model} needs {what} for {fam.n_scales} scales, got {len(parsed.groups)}")
            for i, g in enumerate(parsed.groups):
                if len(g) != ANCHORS_PER_SCALE:
                    raise ConfigError(f"{model} needs {ANCHORS_PER_SCALE} anchors per scale (its heads "
                                      f"predict {ANCHORS_PER_SCALE} boxes per cell); scale {i + 1} has {len(g)}")
        return parsed

    @classmethod
    def grouped(cls, anchors, model: str) -> "AnchorSet":
        """Anchors in any order, sorted by area (ties by width) and split into the model's scales."""
        need = family(model).n_anchors
        flat = [(float(w), float(h)) for w, h in anchors]
        if len(flat) != need:
            raise ConfigError(f"{model} uses {need} anchors ({ANCHORS_PER_SCALE} per scale), "
                              f"got {len(flat)}; set k to {need}")
        flat.sort(key=lambda a: (a[0] * a[1], a[0]))
        return cls.parse([flat[i:i + ANCHORS_PER_SCALE] for i in range(0, need, ANCHORS_PER_SCALE)], model)

    @classmethod
    def for_model(cls, stored, model: str, stored_size: int, input_size: int) -> "AnchorSet":
        """A project's stored anchors (fitted at ``stored_size``) scaled to ``input_size`` if
        their count fits ``model``; otherwise the model's default (COCO) anchors."""
        flat = [a for g in (stored or []) for a in g]
        if flat and len(flat) == family(model).n_anchors:
            return cls.grouped(flat, model).scaled(stored_size, input_size)
        return family(model).default_anchors

    def scaled(self, from_size: float, to_size: float) -> "AnchorSet":
        """The same anchors for a network input of ``to_size`` instead of ``from_size``."""
        s = float(to_size) / float(from_size)
        return AnchorSet(tuple(tuple((w * s, h * s) for w, h in g) for g in self.groups))

    def flat(self) -> list[tuple[float, float]]:
        """Every (w, h) pair, scale by scale."""
        return [a for g in self.groups for a in g]

    def to_json(self) -> list[list[list[float]]]:
        """JSON-ready nested lists."""
        return [[[w, h] for w, h in g] for g in self.groups]

    def __iter__(self):
        return iter(self.groups)

    def __len__(self) -> int:
        return len(self.groups)

    def __getitem__(self, i):
        return self.groups[i]

    def __eq__(self, other) -> bool:
        if isinstance(other, AnchorSet):
            return self.groups == other.groups
        try:
            return self.groups == tuple(tuple((float(w), float(h)) for w, h in g) for g in other)
        except (TypeError, ValueError):
            return NotImplemented

    def __hash__(self) -> int:
        return hash(self.groups)

    def __repr__(self) -> str:
        return f"AnchorSet({[list(g) for g in self.groups]})"


@dataclass(frozen=True)
class ModelFamily:
    """What the code needs to know about one architecture besides its layers."""

    name: str
    label: str                      # as the GUI shows it
    strides: tuple[int, ...]        # one per output, stride ascending (the outputs' order)
    default_anchors: AnchorSet      # COCO anchors in 416-px network pixels
    darknet_convs: int              # convolutions in its darknet .cfg
    darknet_floats_base: int        # floats in a .weights file = base + per_class * classes
    darknet_floats_per_class: int   # (equal to Keras' count_params(); tests check both)

    @property
    def n_scales(self) -> int:
        """Number of output scales (heads)."""
        return len(self.strides)

    @property
    def n_anchors(self) -> int:
        """Number of anchors the model uses (3 per scale)."""
        return self.n_scales * ANCHORS_PER_SCALE


# darknet's yolov3-tiny.cfg lists 6 anchors but uses masks 1,2,3 and 3,4,5;
# for our own training we split the 6 anchors evenly (0,1,2 / 3,4,5).
FAMILIES = {
    "yolov3": ModelFamily(
        "yolov3", "YOLOv3", (8, 16, 32),
        AnchorSet.parse([[(10, 13), (16, 30), (33, 23)],
                         [(30, 61), (62, 45), (59, 119)],
                         [(116, 90), (156, 198), (373, 326)]]),
        75, 61_570_957, 5_385),
    "yolov3-tiny": ModelFamily(
        "yolov3-tiny", "YOLOv3-tiny", (16, 32),
        AnchorSet.parse([[(10, 14), (23, 27), (37, 58)],
                         [(81, 82), (135, 169), (344, 319)]]),
        13, 8_673_934, 2_310),
}
MODEL_NAMES = tuple(FAMILIES)


def family(name: str) -> ModelFamily:
    """The family called ``name``; the only place that raises "unknown model"."""
    try:
        return FAMILIES[name]
    except (KeyError, TypeError):
        raise ConfigError(f"model '{name}' is unknown; choose one of {', '.join(MODEL_NAMES)}") from None


def family_with_scales(n_scales: int) -> ModelFamily:
    """The family whose model has ``n_scales`` outputs (3: yolov3, 2: yolov3-tiny)."""
    for fam in FAMILIES.values():
        if fam.n_scales == n_scales:
            return fam
    raise ConfigError(f"no model here has {n_scales} outputs; expected "
                      f"{' or '.join(str(f.n_scales) for f in FAMILIES.values())}")


def check_input_size(size, setting: str = "input size", minimum: int = MIN_INPUT_SIZE,
                     maximum: int | None = None) -> int:
    """The network input side as an int, or a ConfigError naming ``setting``.

    The one input-size rule: a whole multiple of 32 (the largest stride), at
    least ``minimum`` (32 to run, 64 to train) and at most ``maximum`` if given.
    """
    whole = isinstance(size, numbers.Integral) and not isinstance(size, bool)
    if not whole or size < minimum or size % INPUT_MULTIPLE or (maximum is not None and size > maximum):
        upper = f" to {maximum}" if maximum is not None else ""
        near = max(minimum, INPUT_MULTIPLE * round(size / INPUT_MULTIPLE)) if whole else 416
        raise ConfigError(f"{setting} must be a positive multiple of {INPUT_MULTIPLE}, got {size!r} "
                          f"(from {minimum}{upper}, e.g. {near})")
    return int(size)
