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
from pathlib import Path, PurePosixPath, PureWindowsPath

from ..annotations import Box, ImageAnnotation
from ..atomic import atomic_write_text
from ..errors import ConfigError, LabelFileError, Problem
from ..class_names import class_name_problem
from .checks import Report, check_boxes, read_text, unknown_class


def read_coco(json_path: str | Path, image_root: str | Path | None = None,
              report: Report = None) -> tuple[list[ImageAnnotation], list[str]]:
    """(annotations, class names) of a COCO JSON; LabelFileError if the file is unusable.

    Checked at the door: category ids are whole numbers and names follow the
    class-name rule, with no id or name used twice (that would relabel boxes);
    an image id used twice for different images, or a file_name that is
    absolute or climbs out of the image root, makes that image skipped and
    reported with its boxes; two entries for the same file are merged, with a
    report, when their sizes agree.
    """
    json_path = Path(json_path)
    root = Path(image_root) if image_root is not None else json_path.parent
    data = _load_json(json_path)
    by_cat = _categories(data["categories"], json_path)
    names = [by_cat[k] for k in sorted(by_cat)]
    images, alias, ambiguous = _images(data["images"], root, json_path, report)
    boxes: dict = {k: [] for k in images}
    for i, entry in enumerate(data["annotations"]):
        try:
            image_id, box = _annotation_entry(entry, by_cat, json_path, i, report)
        except LabelFileError as e:
            _skip(report, e)
            continue
        if box is None:
            continue
        if image_id in ambiguous:
            _skip(report, LabelFileError(json_path, f"annotation {i} (id {entry.get('id')!r}) refers to "
                                                    f"image_id {image_id!r}, whose image entry was skipped"))
            continue
        image_id = alias.get(image_id, image_id)
        if image_id not in boxes:
            _skip(report, LabelFileError(json_path, f"annotation {i} (id {entry.get('id')!r}) refers "
                                                    f"to image_id {image_id!r}, which is not in 'images'"))
            continue
        boxes[image_id].append(box)
    anns = []
    for image_id, ann in images.items():
        where = json_path.with_name(f"{json_path.name}[{ann.image_path.name}]")
        ann.boxes = check_boxes(boxes[image_id], ann.width, ann.height, where, report)
        anns.append(ann)
    return anns, names


def _is_id(value) -> bool:
    """COCO ids are JSON integers (strings are tolerated); never bool, float, null or a list."""
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def _categories(entries: list, path: Path) -> dict:
    """{category id: class name}, refusing ids or names used twice with another meaning."""
    by_cat: dict = {}
    for c in entries:
        cid, name = c["id"], c["name"]
        if not isinstance(cid, int) or isinstance(cid, bool):
            raise LabelFileError(path, f"category {c!r}: 'id' must be a whole number, not {cid!r}")
        why = class_name_problem(name)
        if why:
            raise LabelFileError(path, f"category {cid} name {name!r}: {why}")
        if cid in by_cat and by_cat[cid] != name:
            raise LabelFileError(path, f"category id {cid} is used for both {by_cat[cid]!r} and {name!r}; "
                                       "its boxes would get the wrong class, so give each category its own id")
        by_cat[cid] = name
    seen: dict = {}
    for cid, name in sorted(by_cat.items()):
        if name in seen:
            raise LabelFileError(path, f"category name {name!r} is used by ids {seen[name]} and {cid}; "
                                       "merge them into one category or rename one")
        seen[name] = cid
    return by_cat


def _images(entries: list, root: Path, path: Path, report: Report):
    """({image id: annotation}, {repeated id: id merged into}, ids whose boxes are skipped).

    An image id used by two different entries is ambiguous: both entries and
    their boxes are skipped. The same file listed twice is one image: merged
    when the sizes agree, else the later entry and its boxes are skipped.
    """
    images: dict = {}
    raw: dict = {}
    by_file: dict = {}
    alias: dict = {}
    ambiguous: set = set()
    for i, entry in enumerate(entries):
        try:
            image_id, ann = _image_entry(entry, root, path, i)
        except LabelFileError as e:
            _skip(report, e)
            continue
        if image_id in ambiguous:
            continue
        if image_id in raw:
            if raw[image_id] == entry:
                continue          # the same entry written twice: nothing is ambiguous
            other = images.pop(image_id, None) or ann
            for k in [k for k, v in alias.items() if v == image_id]:
                del alias[k]
                ambiguous.add(k)
            _skip(report, LabelFileError(path, f"image {i} ({ann.image_path.name}): image id {image_id!r} is "
                                               f"also used by {other.image_path.name}; which image their "
                                               "boxes belong to is unknown, so both images and their boxes "
                                               "are"))
            ambiguous.add(image_id)
            continue
        raw[image_id] = entry
        key = os.path.normcase(os.path.normpath(ann.image_path))
        first = by_file.get(key)
        if first is not None and first in images:
            same = images[first]
            if (same.width, same.height) == (ann.width, ann.height):
                _tell(report, path, f"image {i} (id {image_id!r}) lists {ann.image_path.name} again (as id "
                                    f"{first!r} did); their boxes were merged into one image")
                alias[image_id] = first
                continue
            _skip(report, LabelFileError(path, f"image {i} (id {image_id!r}) lists {ann.image_path.name} again "
                                               f"with another size ({ann.width}x{ann.height}, not "
                                               f"{same.width}x{same.height}); this entry and its boxes are"))
            ambiguous.add(image_id)
            continue
        by_file[key] = image_id
        images[image_id] = ann
    return images, alias, ambiguous


def _tell(report: Report, path: Path, message: str) -> None:
    if report is not None:
        report(Problem(str(path), message))


def _skip(report: Report, err: LabelFileError) -> None:
    if report is None:
        raise err
    report(Problem(str(err.path), f"{err.what}; skipped"))


def _load_json(path: Path) -> dict:
    text = read_text(path)
    try:
        data = json.loads(text)
    except ValueError as e:
        raise LabelFileError(path, f"malformed JSON ({e})") from None
    if not isinstance(data, dict):
        raise LabelFileError(path, "not a COCO file: the top level is not a JSON object")
    for key in ("images", "annotations", "categories"):
        if not isinstance(data.get(key), list):
            raise LabelFileError(path, f"not a COCO detection file: '{key}' list is missing")
    for c in data["categories"]:
        if not isinstance(c, dict) or "id" not in c or "name" not in c:
            raise LabelFileError(path, f"category {c!r} needs an 'id' and a 'name'")
    return data


def _finite_size(v) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            and 1 <= v < 2**31)


def _image_entry(entry, root: Path, path: Path, i: int) -> tuple:
    try:
        _id, name, w, h = entry["id"], entry["file_name"], entry["width"], entry["height"]
    except (KeyError, TypeError):
        raise LabelFileError(path, f"image {i} needs 'id', 'file_name', 'width' and 'height'") from None
    if not _is_id(_id):
        raise LabelFileError(path, f"image {i}: 'id' {_id!r} is not a number")
    if not isinstance(name, str) or not name.strip() or "\x00" in name:
        raise LabelFileError(path, f"image {i} (id {_id!r}): file_name {name!r} is not a file name")
    if not _finite_size(w) or not _finite_size(h):
        raise LabelFileError(path, f"image {i} ({name}) has width/height {w!r}x{h!r}")
    rel = PurePosixPath(name.replace("\\", "/"))
    # COCO file names are relative to the image root; one that leaves it could
    # name any file on this machine, which convert would then link or copy.
    if rel.is_absolute() or ".." in rel.parts or not rel.parts or PureWindowsPath(name).drive:
        raise LabelFileError(path, f"image {i} ({name}): file_name leaves the image root {root} "
                                   "(absolute, or with '..')")
    return _id, ImageAnnotation(root / Path(*rel.parts), int(w), int(h), [],
                                bool(entry.get("verified", False)))


def _annotation_entry(entry, by_cat: dict, path: Path, i: int, report: Report):
    try:
        image_id, cat, bbox = entry["image_id"], entry["category_id"], entry["bbox"]
    except (KeyError, TypeError):
        raise LabelFileError(path, f"annotation {i} needs 'image_id', 'category_id' and 'bbox'") from None
    ann_id = entry.get("id")
    if not _is_id(image_id) or not _is_id(cat):
        raise LabelFileError(path, f"annotation {i} (id {ann_id!r}): image_id {image_id!r} or category_id "
                                   f"{cat!r} is not a number")
    if (not isinstance(bbox, list) or len(bbox) != 4
            or not all(_finite(v) for v in bbox)):
        raise LabelFileError(path, f"annotation {i} (id {ann_id!r}): bbox {bbox!r} is not [x, y, w, h]")
    if cat not in by_cat:
        unknown_class(path, report, f"annotation {i} (id {ann_id!r}): category_id {cat!r} "
                                    "is not in 'categories'")
        return image_id, None
    x, y, w, h = (float(v) for v in bbox)
    score = entry.get("score")
    if score is not None and not _finite(score):
        _tell(report, path, f"annotation {i} (id {ann_id!r}): score {score!r} is not a finite number; "
                            "the box is kept without a score")
        score = None
    return image_id, Box(x, y, x + w, y + h, by_cat[cat],
                         difficult=bool(entry.get("difficult", entry.get("iscrowd", 0))),
                         predicted=bool(entry.get("predicted", False)),
                         score=float(score) if score is not None else None)


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


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
    """``image``'s file_name below ``root``; ConfigError when it is not below it.

    The reader refuses file names that leave the image root (they could name
    any file on the machine), so the writer never writes one.
    """
    try:
        rel = Path(os.path.relpath(Path(image).absolute(), root.absolute()))
    except ValueError:  # another drive on Windows
        rel = None
    if rel is None or rel.is_absolute() or ".." in rel.parts:
        raise ConfigError(f"{image}: is not inside the image root {root}, and COCO file names are "
                          "relative to it; put the .json in the dataset's top folder, or choose an image "
                          "root that holds every image (convert: --image-root, given again when reading)")
    return rel.as_posix()


def write_coco(anns: list[ImageAnnotation], class_names: list[str], json_path: str | Path,
               image_root: str | Path | None = None) -> None:
    """Save ``anns`` as one COCO JSON file, atomically (image root defaults to its folder)."""
    json_path = Path(json_path)
    root = Path(image_root) if image_root is not None else json_path.parent
    atomic_write_text(json_path, json.dumps(coco_dict(anns, class_names, root), indent=1) + "\n")
