"""Read and write darknet .cfg files for the yolov3 and yolov3-tiny topologies."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from yolo_studio.core.atomic import atomic_write_text
from yolo_studio.core.errors import ConfigError, YoloStudioError
from yolo_studio.core.model_family import ANCHORS_PER_SCALE, MODEL_NAMES, check_input_size, family

from .darknet_cfg_text import cfg_text

SUPPORTED = {"net", "network", "convolutional", "shortcut", "route", "upsample", "yolo", "maxpool"}


class DarknetFileError(YoloStudioError):
    """A darknet .cfg / .weights / .names file that does not fit; names file and values."""

    def __init__(self, path, what: str):
        self.path = Path(path)
        super().__init__(f"{self.path}: {what}")


@dataclass
class Section:
    """One ``[type]`` block of a cfg, with the line it starts on (for messages)."""

    type: str
    line: int
    options: dict = field(default_factory=dict)

    def get(self, key: str, default=None):
        return self.options.get(key, default)


@dataclass
class DarknetCfg:
    """What a cfg tells us: the topology, classes, input size and anchors (stride ascending)."""

    path: Path
    model: str
    num_classes: int
    input_size: int
    anchors: list[list[tuple[float, float]]]
    sections: list[Section]


def parse_sections(path: str | Path) -> list[Section]:
    """Sections of a cfg file in order; DarknetFileError on unreadable or unsupported content."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise DarknetFileError(path, f"cannot read cfg ({e.strerror or e})") from e
    sections: list[Section] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            if not line.endswith("]"):
                raise DarknetFileError(path, f"line {n}: malformed section header '{raw.strip()}'")
            kind = line[1:-1].strip().lower()
            if kind not in SUPPORTED:
                raise DarknetFileError(path, f"line {n}: layer type [{kind}] is not supported "
                                             f"(supported: {', '.join(sorted(SUPPORTED - {'network'}))})")
            sections.append(Section(kind, n))
        elif "=" in line:
            if not sections:
                raise DarknetFileError(path, f"line {n}: option before any [section]")
            key, value = (s.strip() for s in line.split("=", 1))
            sections[-1].options[key] = value
        # darknet itself warns about and skips a line without '=' (seen in
        # hand-edited cfgs, e.g. an uncommented "Training" heading), so do we.
    if not sections or sections[0].type not in ("net", "network"):
        raise DarknetFileError(path, "does not start with a [net] section: not a darknet cfg")
    return sections


def _signature(sections: list[Section], path: Path | None = None) -> list[tuple]:
    """The parts of each layer that fix the topology (not classes, anchors or training options)."""
    sig = []
    for s in sections[1:]:
        try:
            sig.append(_layer_signature(s))
        except ValueError as e:
            raise DarknetFileError(path, f"[{s.type}] at line {s.line}: a value is not a "
                                         f"number ({e})") from e
    return sig


def _layer_signature(s: Section) -> tuple:
    if s.type == "convolutional":
        is_output = s.get("activation", "logistic") == "linear"
        return ("conv", None if is_output else int(s.get("filters", 1)), int(s.get("size", 1)),
                int(s.get("stride", 1)), int(s.get("batch_normalize", 0)),
                s.get("activation", "logistic"))
    if s.type == "route":
        return ("route", tuple(int(v) for v in s.get("layers", "").split(",")))
    if s.type == "shortcut":
        return ("shortcut", int(s.get("from", 0)), s.get("activation", "linear"))
    if s.type in ("maxpool", "upsample"):
        return (s.type, int(s.get("size", 2)), int(s.get("stride", 2)))
    return (s.type,)


def parse_cfg(path: str | Path) -> DarknetCfg:
    """Parse a yolov3 or yolov3-tiny cfg; DarknetFileError names what does not match."""
    path = Path(path)
    sections = parse_sections(path)
    yolos = [s for s in sections if s.type == "yolo"]
    if not yolos:
        raise DarknetFileError(path, "has no [yolo] layer")
    try:
        classes = {int(s.get("classes", 80)) for s in yolos}
        anchors_flat = [float(v) for v in yolos[0].get("anchors", "").split(",") if v.strip()]
        masks = [[int(v) for v in s.get("mask", "").split(",")] for s in yolos]
        net = sections[0]
        width, height = int(net.get("width", 416)), int(net.get("height", 416))
    except ValueError as e:
        raise DarknetFileError(path, f"a number in [net] or [yolo] cannot be read ({e})") from e
    if len(classes) != 1:
        raise DarknetFileError(path, f"[yolo] layers disagree on classes: {sorted(classes)}")
    num_classes = classes.pop()
    bad = [v for v in anchors_flat if not (math.isfinite(v) and v > 0)]
    if bad:
        raise DarknetFileError(path, f"line {yolos[0].line}: anchors must be finite positive numbers, "
                                     f"found {bad[0]}")
    if num_classes < 1:
        raise DarknetFileError(path, f"[yolo] classes={num_classes}: expected at least 1")
    pairs = list(zip(anchors_flat[0::2], anchors_flat[1::2]))
    for s, mask in zip(yolos, masks):
        if any(m < 0 or m >= len(pairs) for m in mask):
            raise DarknetFileError(path, f"line {s.line}: mask {mask} refers past the "
                                         f"{len(pairs)} anchors listed")
    model = _identify(path, sections, num_classes, masks)
    if width != height:
        raise DarknetFileError(path, f"[net] width={width} height={height}: expected a square input")
    try:
        check_input_size(width)
    except ConfigError as e:
        raise DarknetFileError(path, f"[net] width={width} height={height}: {e}") from None
    # cfg lists yolo layers stride-descending; our outputs are stride-ascending.
    anchors = [[pairs[m] for m in mask] for mask in reversed(masks)]
    return DarknetCfg(path, model, num_classes, width, anchors, sections)


def _identify(path: Path, sections, num_classes: int, masks) -> str:
    """Which of our topologies the cfg describes (or an error saying where it departs)."""
    sig = _signature(sections, path)
    for model in MODEL_NAMES:
        ref = _signature(parse_sections_text(cfg_text(model, num_classes, _dummy_anchors(model), 416)))
        if len(ref) == len(sig) and all(a == b for a, b in zip(ref, sig)):
            for s, mask in zip((s for s in sections if s.type == "yolo"), masks):
                if len(mask) != 3:
                    raise DarknetFileError(path, f"line {s.line}: mask has {len(mask)} anchors, "
                                                 f"expected 3 per [yolo] layer")
            for s in sections:
                if s.type == "convolutional" and s.get("activation") == "linear":
                    if int(s.get("filters", 0)) != 3 * (5 + num_classes):
                        raise DarknetFileError(
                            path, f"line {s.line}: filters={s.get('filters')} before a [yolo] layer, "
                                  f"expected 3*(5+{num_classes})={3 * (5 + num_classes)}")
            return model
    n_conv = sum(1 for s in sections if s.type == "convolutional")
    raise DarknetFileError(path, f"topology is neither yolov3 (75 convolutions, 3 [yolo]) nor "
                                 f"yolov3-tiny (13 convolutions, 2 [yolo]): found {n_conv} "
                                 f"convolutions and {len(masks)} [yolo] layers")


def _dummy_anchors(model: str):
    return [[(1, 1)] * ANCHORS_PER_SCALE] * family(model).n_scales


def parse_sections_text(text: str) -> list[Section]:
    """Sections of cfg text we generated ourselves (no file, no checks)."""
    sections: list[Section] = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if line.startswith("["):
            sections.append(Section(line[1:-1], n))
        elif "=" in line:
            k, v = (s.strip() for s in line.split("=", 1))
            sections[-1].options[k] = v
    return sections


def write_cfg(path: str | Path, model: str, num_classes: int, anchors, input_size: int) -> Path:
    """Write the .cfg for ``model`` atomically; returns the path."""
    path = Path(path)
    atomic_write_text(path, cfg_text(model, num_classes, anchors, input_size))
    return path
