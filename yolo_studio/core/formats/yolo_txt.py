"""YOLO txt labels (darknet / ultralytics): one ``<image stem>.txt`` per image.

Each line is ``class_id cx cy w h``, normalised to the image size; class ids
index ``classes.txt`` (one name per line). A 6th field (a confidence, as
ultralytics writes for predictions) is accepted and read as the score.

The format cannot hold LabelImg's verified flag, VOC's difficult flag, or
whether a box is a model's pre-label and its score. So nothing is lost, those
go in a small hidden sidecar next to the txt, ``.<stem>.yolo_studio.json``:
``{"verified": true, "boxes": [{"line": "<the txt line>", "predicted": true,
"score": 0.87, "difficult": false}, ...]}``. Boxes are matched to their line
by its exact text, so a txt edited by another tool keeps what still matches.
The sidecar is written only when it has something to say, and other tools
ignore it.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..annotations import Box, ImageAnnotation
from ..atomic import atomic_write_text
from ..errors import LabelFileError, Problem
from .checks import Report, check_boxes, parse_float, unknown_class

EXTENSION = ".txt"
CLASSES_FILE = "classes.txt"


def read_classes(path: str | Path) -> list[str]:
    """Class names, one per non-empty line (classes.txt or a darknet .names file)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise LabelFileError(path, "is not UTF-8 text") from None
    except OSError as e:
        raise LabelFileError(path, f"cannot be read ({e.strerror or e})") from None
    names = [line.strip() for line in text.splitlines() if line.strip()]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise LabelFileError(path, f"class names appear twice: {', '.join(dupes)}")
    return names


def write_classes(path: str | Path, names: list[str]) -> None:
    """Write class names one per line, atomically."""
    atomic_write_text(path, "".join(f"{n}\n" for n in names))


def sidecar_path(txt_path: str | Path) -> Path:
    """The hidden file that keeps what YOLO txt cannot hold for ``txt_path``."""
    txt_path = Path(txt_path)
    return txt_path.parent / f".{txt_path.stem}.yolo_studio.json"


def read_yolo(path: str | Path, width: int, height: int, class_names: list[str],
              image_path: str | Path | None = None, report: Report = None) -> ImageAnnotation:
    """Read a YOLO txt label for an image of (width, height); LabelFileError if malformed."""
    path = Path(path)
    if width <= 0 or height <= 0:
        raise LabelFileError(path, "image size unknown: YOLO coordinates are relative to it")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise LabelFileError(path, "is not UTF-8 text") from None
    except OSError as e:
        raise LabelFileError(path, f"cannot be read ({e.strerror or e})") from None
    meta = _read_sidecar(path, report)
    boxes = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        box = _parse_line(line, n, path, width, height, class_names, report)
        if box is not None:
            boxes.append(_apply_meta(box, meta, line.strip()))
    boxes = check_boxes(boxes, width, height, path, report)
    image_path = Path(image_path) if image_path is not None else path.with_suffix(".jpg")
    return ImageAnnotation(image_path, width, height, boxes, bool(meta.get("verified", False)))


def _parse_line(line: str, n: int, path: Path, width: int, height: int,
                class_names: list[str], report: Report) -> Box | None:
    fields = line.split()
    if len(fields) not in (5, 6):
        raise LabelFileError(path, f"line {n} has {len(fields)} fields, expected 5 "
                                   f"(class_id cx cy w h): {line.strip()!r}")
    cid = parse_float(fields[0], path, f"line {n} class id")
    if cid != int(cid) or cid < 0:
        raise LabelFileError(path, f"line {n}: class id {fields[0]!r} is not a whole number >= 0")
    cid = int(cid)
    cx, cy, w, h = (parse_float(v, path, f"line {n} {k}") for v, k in zip(fields[1:5], ("cx", "cy", "w", "h")))
    score = parse_float(fields[5], path, f"line {n} confidence") if len(fields) == 6 else None
    if cid >= len(class_names):
        unknown_class(path, report, f"line {n}: class id {cid} is not in {CLASSES_FILE} "
                                    f"({len(class_names)} classes); add the missing names there")
        return None
    return Box((cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width,
               (cy + h / 2) * height, class_names[cid], predicted=score is not None, score=score)


def _read_sidecar(path: Path, report: Report) -> dict:
    side = sidecar_path(path)
    if not side.exists():
        return {}
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
        if not isinstance(meta, dict) or not isinstance(meta.get("boxes", []), list):
            raise ValueError("not an object with a 'boxes' list")
    except (OSError, ValueError) as e:
        if report is not None:
            report(Problem(str(side), f"ignored: cannot be read ({e})"))
        return {}
    return meta


def _apply_meta(box: Box, meta: dict, line: str) -> Box:
    for i, entry in enumerate(meta.get("boxes", [])):
        if isinstance(entry, dict) and entry.get("line") == line:
            del meta["boxes"][i]
            score = entry.get("score", box.score)
            return box.moved(difficult=bool(entry.get("difficult", False)),
                             predicted=bool(entry.get("predicted", box.predicted)),
                             score=float(score) if isinstance(score, (int, float)) else None)
    return box


def yolo_lines(ann: ImageAnnotation, class_names: list[str]) -> list[str]:
    """One ``class cx cy w h`` line per box (KeyError naming a class not in ``class_names``)."""
    index = {n: i for i, n in enumerate(class_names)}
    w, h = float(ann.width), float(ann.height)
    if w <= 0 or h <= 0:
        raise LabelFileError(ann.image_path, "image size unknown: cannot write YOLO coordinates")
    lines = []
    for b in ann.boxes:
        if b.label not in index:
            raise KeyError(f"class {b.label!r} is not in the class list")
        # 7 decimals keep a 10,000 px image within 1/1000 px.
        lines.append(f"{index[b.label]} {(b.x1 + b.x2) / 2 / w:.7f} {(b.y1 + b.y2) / 2 / h:.7f} "
                     f"{b.width / w:.7f} {b.height / h:.7f}")
    return lines


def write_yolo(ann: ImageAnnotation, path: str | Path, class_names: list[str]) -> None:
    """Save ``ann`` as YOLO txt at ``path`` (plus its sidecar when needed), atomically."""
    path = Path(path)
    lines = yolo_lines(ann, class_names)
    extras = [{"line": line, "difficult": b.difficult, "predicted": b.predicted, "score": b.score}
              for line, b in zip(lines, ann.boxes) if b.difficult or b.predicted or b.score is not None]
    atomic_write_text(path, "".join(f"{line}\n" for line in lines))
    side = sidecar_path(path)
    if ann.verified or extras:
        atomic_write_text(side, json.dumps({"verified": ann.verified, "boxes": extras}, indent=1) + "\n")
    elif side.exists():
        side.unlink()  # stale: the label it described was just replaced
