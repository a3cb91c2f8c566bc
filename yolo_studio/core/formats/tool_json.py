"""Read LabelImg's CreateML JSON and labelme's per-image JSON (rectangles).

* CreateML (LabelImg "CreateML" save format): one JSON list for a folder,
  ``[{"image": "a.jpg", "annotations": [{"label": "dog", "coordinates":
  {"x": cx, "y": cy, "width": w, "height": h}}]}]``, centre and size in
  pixels; image names relative to the JSON's folder.
* labelme: one ``<stem>.json`` beside each image with ``shapes``; a shape
  with ``shape_type`` "rectangle" (two corner points) is a box. Other shapes
  (polygons, points, lines) are not boxes: they stay untouched in the
  labelme file and each is reported.

Both are read (``convert --from createml|labelme``), never written.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from ..annotations import Box, ImageAnnotation
from ..class_names import class_name_problem
from ..errors import ConfigError, ImageFileError, Problem
from ..images import image_size, is_image_file
from .checks import check_boxes
from .dataset import Dataset
from .registry import DatasetFormat, register


def _load(path: Path, problems: list[Problem]):
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        problems.append(Problem(str(path), f"cannot be read as JSON ({e}); skipped"))
        return None


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _size(image: Path, problems: list[Problem]) -> tuple[int, int] | None:
    try:
        return image_size(image)
    except ImageFileError as e:
        problems.append(Problem(str(image), f"{e.what}; its labels are skipped"))
        return None


def read_createml(src: Path, **_) -> Dataset:
    """A CreateML JSON file (a list of images with centre-size pixel boxes)."""
    src = Path(src)
    if not src.is_file():
        raise ConfigError(f"{src}: file not found (--from createml reads one .json file)")
    problems: list[Problem] = []
    data = _load(src, problems)
    if not isinstance(data, list):
        raise ConfigError(f"{src}: not a CreateML file (expected a JSON list of images)")
    anns, names = [], []
    for i, entry in enumerate(data):
        if not isinstance(entry, dict) or not isinstance(entry.get("image"), str):
            problems.append(Problem(str(src), f"entry {i} has no 'image'; skipped"))
            continue
        image = src.parent / entry["image"]
        size = _size(image, problems)
        if size is None:
            continue
        boxes = []
        for j, a in enumerate(entry.get("annotations") or []):
            c = a.get("coordinates") if isinstance(a, dict) else None
            label = a.get("label") if isinstance(a, dict) else None
            if not isinstance(c, dict) or not all(_num(c.get(k)) for k in ("x", "y", "width", "height")) \
                    or not isinstance(label, str) or class_name_problem(label):
                problems.append(Problem(str(src), f"entry {i} ({entry['image']}) annotation {j}: needs a "
                                                  "usable label and x, y, width, height; skipped"))
                continue
            x, y, w, h = (float(c[k]) for k in ("x", "y", "width", "height"))
            boxes.append(Box(x - w / 2, y - h / 2, x + w / 2, y + h / 2, label))
            names.append(label)
        ann = ImageAnnotation(image, *size)
        ann.boxes = check_boxes(boxes, size[0], size[1], src, problems.append)
        anns.append(ann)
    return Dataset(anns, sorted(set(names)), problems, src.parent)


def read_labelme(src: Path, **_) -> Dataset:
    """A folder of labelme JSON files: rectangles become boxes, other shapes are reported."""
    src = Path(src)
    if not src.is_dir():
        raise ConfigError(f"{src}: folder not found (--from labelme reads a folder of labelme .json files)")
    problems: list[Problem] = []
    anns, names = [], set()
    for f in sorted(src.glob("*.json")):
        data = _load(f, problems)
        if not isinstance(data, dict) or not isinstance(data.get("shapes"), list):
            if data is not None:
                problems.append(Problem(str(f), "not a labelme file (no 'shapes' list); skipped"))
            continue
        image = _labelme_image(f, data)
        if image is None:
            problems.append(Problem(str(f), "its image (imagePath) is not found beside it; skipped"))
            continue
        size = _size(image, problems)
        if size is None:
            continue
        boxes = []
        for i, shape in enumerate(data["shapes"]):
            box, why = _rectangle(shape)
            if why:
                problems.append(Problem(str(f), f"shape {i}: {why}"))
            if box is not None:
                boxes.append(box)
                names.add(box.label)
        ann = ImageAnnotation(image, *size)
        ann.boxes = check_boxes(boxes, size[0], size[1], f, problems.append)
        anns.append(ann)
    return Dataset(anns, sorted(names), problems, src)


def _labelme_image(f: Path, data: dict) -> Path | None:
    name = data.get("imagePath")
    candidates = [f.parent / Path(str(name).replace("\\", "/"))] if isinstance(name, str) and name else []
    candidates += [p for p in sorted(f.parent.glob(f"{f.stem}.*")) if is_image_file(p.name)]
    return next((p for p in candidates if p.is_file()), None)


def _rectangle(shape) -> tuple[Box | None, str]:
    if not isinstance(shape, dict):
        return None, "not a shape object; skipped"
    kind = shape.get("shape_type") or "polygon"
    label = shape.get("label")
    if kind != "rectangle":
        return None, (f"a {kind} ({label!r}), not a rectangle: left untouched in the labelme file "
                      "and not converted")
    pts = shape.get("points")
    if not isinstance(label, str) or class_name_problem(label):
        return None, f"label {label!r} cannot be used as a class name; skipped"
    if not (isinstance(pts, list) and len(pts) == 2 and all(isinstance(p, list) and len(p) == 2
                                                          and all(_num(v) for v in p) for p in pts)):
        return None, "rectangle needs two [x, y] corner points; skipped"
    (xa, ya), (xb, yb) = pts
    return Box(min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb), label), ""


register(DatasetFormat("createml", "CreateML JSON (LabelImg)", "file", "file", read_createml))
register(DatasetFormat("labelme", "labelme JSON (rectangles)", "folder", "folder", read_labelme))
