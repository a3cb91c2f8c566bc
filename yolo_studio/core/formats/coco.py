"""COCO detection JSON: one file for a whole dataset.

``images`` (id, file_name, width, height), ``annotations`` (id, image_id,
category_id, bbox ``[x, y, w, h]`` in pixels, area, iscrowd) and
``categories`` (id, name). ``file_name`` is relative to an image root (by
default the JSON file's folder). Class order follows category ids.

Extras the format has no field for ride along as extra keys other COCO tools
ignore: ``verified`` on an image; ``difficult``, ``predicted`` and ``score``
on an annotation. A crowd annotation (``iscrowd: 1``) is read as a difficult box.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

from ..annotations import Box, ImageAnnotation
from ..atomic import atomic_write_text
from ..errors import LabelFileError, Problem
from .checks import Report, check_boxes, unknown_class


def read_coco(json_path: str | Path, image_root: str | Path | None = None,
              report: Report = None) -> tuple[list[ImageAnnotation], list[str]]:
    """(annotations, class names) of a COCO JSON; LabelFileError if the file is unusable."""
    json_path = Path(json_path)
    root = Path(image_root) if image_root is not None else json_path.parent
    data = _load_json(json_path)
    cat_ids = sorted(data["categories"], key=lambda c: c["id"])
    names = [str(c["name"]) for c in cat_ids]
    by_cat = {c["id"]: str(c["name"]) for c in cat_ids}
    images: dict = {}
    for i, entry in enumerate(data["images"]):
        try:
            images[entry["id"]] = _image_entry(entry, root, json_path, i)
        except LabelFileError as e:
            _skip(report, e)
    boxes: dict = {k: [] for k in images}
    for i, entry in enumerate(data["annotations"]):
        try:
            image_id, box = _annotation_entry(entry, by_cat, json_path, i, report)
        except LabelFileError as e:
            _skip(report, e)
            continue
        if box is None:
            continue
        if image_id not in boxes:
            _skip(report, LabelFileError(json_path, f"annotation {i} (id {entry.get('id')}) refers "
                                                    f"to image_id {image_id!r}, which is not in 'images'"))
            continue
        boxes[image_id].append(box)
    anns = []
    for image_id, ann in images.items():
        where = json_path.with_name(f"{json_path.name}[{ann.image_path.name}]")
        ann.boxes = check_boxes(boxes[image_id], ann.width, ann.height, where, report)
        anns.append(ann)
    return anns, names


def _skip(report: Report, err: LabelFileError) -> None:
    if report is None:
        raise err
    report(Problem(str(err.path), f"{err.what}; skipped"))


def _load_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as e:
        raise LabelFileError(path, f"cannot be read ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise LabelFileError(path, "is not UTF-8 text") from None
    except ValueError as e:
        raise LabelFileError(path, f"malformed JSON ({e})") from None
    if not isinstance(data, dict):
        raise LabelFileError(path, "not a COCO file: the top level is not a JSON object")
    for key in ("images", "annotations", "categories"):
        if not isinstance(data.get(key), list):
            raise LabelFileError(path, f"not a COCO detection file: '{key}' list is missing")
    for c in data["categories"]:
        if not isinstance(c, dict) or "id" not in c or not str(c.get("name", "")).strip():
            raise LabelFileError(path, f"category {c!r} needs an 'id' and a 'name'")
    return data


def _image_entry(entry, root: Path, path: Path, i: int) -> ImageAnnotation:
    try:
        _id, name, w, h = entry["id"], entry["file_name"], entry["width"], entry["height"]
    except (KeyError, TypeError):
        raise LabelFileError(path, f"image {i} needs 'id', 'file_name', 'width' and 'height'") from None
    if not isinstance(w, (int, float)) or not isinstance(h, (int, float)) or w <= 0 or h <= 0:
        raise LabelFileError(path, f"image {i} ({name}) has width/height {w!r}x{h!r}")
    return ImageAnnotation(root / str(name), int(w), int(h), [], bool(entry.get("verified", False)))


def _annotation_entry(entry, by_cat: dict, path: Path, i: int, report: Report):
    try:
        image_id, cat, bbox = entry["image_id"], entry["category_id"], entry["bbox"]
    except (KeyError, TypeError):
        raise LabelFileError(path, f"annotation {i} needs 'image_id', 'category_id' and 'bbox'") from None
    if (not isinstance(bbox, list) or len(bbox) != 4
            or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in bbox)):
        raise LabelFileError(path, f"annotation {i} (id {entry.get('id')}): bbox {bbox!r} is not [x, y, w, h]")
    if cat not in by_cat:
        unknown_class(path, report, f"annotation {i} (id {entry.get('id')}): category_id {cat!r} "
                                    "is not in 'categories'")
        return image_id, None
    x, y, w, h = (float(v) for v in bbox)
    score = entry.get("score")
    return image_id, Box(x, y, x + w, y + h, by_cat[cat],
                         difficult=bool(entry.get("difficult", entry.get("iscrowd", 0))),
                         predicted=bool(entry.get("predicted", False)),
                         score=float(score) if isinstance(score, (int, float)) else None)


def coco_dict(anns: list[ImageAnnotation], class_names: list[str], image_root: str | Path) -> dict:
    """The COCO JSON content for ``anns`` (file names relative to ``image_root``)."""
    cat = {n: i + 1 for i, n in enumerate(class_names)}  # COCO ids start at 1
    images, annotations = [], []
    for image_id, ann in enumerate(anns, 1):
        image = {"id": image_id, "file_name": _relative(ann.image_path, Path(image_root)),
                 "width": int(ann.width), "height": int(ann.height)}
        if ann.verified:
            image["verified"] = True
        images.append(image)
        for b in ann.boxes:
            if b.label not in cat:
                raise KeyError(f"class {b.label!r} is not in the class list")
            annotations.append(_annotation(b, len(annotations) + 1, image_id, cat[b.label]))
    return {"info": {"description": "written by YOLO Studio"}, "licenses": [],
            "images": images, "annotations": annotations,
            "categories": [{"id": i, "name": n, "supercategory": "object"} for n, i in cat.items()]}


def _annotation(b: Box, ann_id: int, image_id: int, cat_id: int) -> dict:
    entry = {"id": ann_id, "image_id": image_id, "category_id": cat_id,
             "bbox": [b.x1, b.y1, b.width, b.height], "area": b.width * b.height, "iscrowd": 0,
             "segmentation": [[b.x1, b.y1, b.x2, b.y1, b.x2, b.y2, b.x1, b.y2]]}
    if b.difficult:
        entry["difficult"] = True
    if b.predicted:
        entry["predicted"] = True
    if b.score is not None:
        entry["score"] = float(b.score)
    return entry


def _relative(image: Path, root: Path) -> str:
    try:
        return Path(os.path.relpath(Path(image).absolute(), root.absolute())).as_posix()
    except ValueError:  # another drive on Windows
        return Path(image).absolute().as_posix()


def write_coco(anns: list[ImageAnnotation], class_names: list[str], json_path: str | Path,
               image_root: str | Path | None = None) -> None:
    """Save ``anns`` as one COCO JSON file, atomically (image root defaults to its folder)."""
    json_path = Path(json_path)
    root = Path(image_root) if image_root is not None else json_path.parent
    atomic_write_text(json_path, json.dumps(coco_dict(anns, class_names, root), indent=1) + "\n")
