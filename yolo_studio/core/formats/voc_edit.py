"""Save one image's boxes into its existing VOC XML, keeping what YOLO Studio does not model.

The Pascal VOC devkit's files carry more than boxes: ``<source>``,
``<owner>``, ``<pose>``, ``<truncated>``, ``<occluded>``, ``<part>`` (VOC2012's
person layout), ``<actions>``. Writing a fresh LabelImg-style file would
drop them. Here the parsed file is edited instead: a box read from
``<object>`` number *i* (``Box.ref``) updates that element's name,
difficult flag and bndbox only when they changed; objects the reader hid
stay as they were; objects whose box was deleted go; new boxes are
appended as LabelImg writes them. The verified flag is kept in sync.
"""
from __future__ import annotations

import math
from pathlib import Path
from xml.etree import ElementTree as ET

from ..annotations import Box, ImageAnnotation
from ..errors import LabelFileError
from .voc import edited_bytes, parse_voc, parse_voc_tree, voc_xml


def voc_edited(data: bytes, ann: ImageAnnotation, path: Path) -> bytes:
    """``data`` (the VOC file on disk) with ``ann``'s boxes; unchanged objects byte-identical in text."""
    before = parse_voc(data, path, ann.image_path, None, (ann.width, ann.height))
    root = parse_voc_tree(data, path, keep_comments=True)
    objects = list(root.iter("object"))
    read = {b.ref: b for b in before.boxes}
    keep_hidden = set(range(len(objects))) - set(read)   # objects the reader could not show
    updated: dict[int, Box] = {}
    new: list[Box] = []
    for b in ann.boxes:
        if isinstance(b.ref, int) and b.ref in read and b.ref not in updated:
            updated[b.ref] = b
        else:
            new.append(b)
    for i, obj in enumerate(objects):
        parent = _parent(root, obj)
        if i in updated:
            if updated[i] != read[i]:
                _update(obj, updated[i], path, i)
        elif i not in keep_hidden:
            _remove(parent, obj)
    if new:
        template = ImageAnnotation(ann.image_path, ann.width, ann.height, new)
        fresh = parse_voc_tree(voc_xml(template, path).encode("utf-8"), path)
        last = root[-1] if len(root) else None
        for obj in fresh.iter("object"):
            obj.tail = last.tail if last is not None else "\n"
            if last is not None:
                last.tail = "\n\t"
            root.append(obj)
            last = obj
    _sync_size(root, ann)
    if ann.verified != before.verified:
        if ann.verified:
            root.set("verified", "yes")
        else:
            root.attrib.pop("verified", None)
    return edited_bytes(data, root)


def _sync_size(root, ann: ImageAnnotation) -> None:
    # The reader uses the image's real size (and reports a <size> that differs); the file
    # follows, or a tool that normalises by <size> would misplace every box. Agreeing ones stay.
    size = root.find("size")
    for tag, real in (("width", int(ann.width)), ("height", int(ann.height))):
        el = size.find(tag) if size is not None else None
        if el is not None and real > 0 and (el.text or "").strip() != str(real):
            try:
                if float(el.text) == real:
                    continue        # "64.0": the same number in the file's own style
            except (TypeError, ValueError):
                pass
            el.text = str(real)


def _remove(parent, obj) -> None:
    # The element before takes the removed one's tail, so the layout after it stays as it was.
    kids = list(parent)
    k = kids.index(obj)
    if k > 0:
        kids[k - 1].tail = obj.tail
    parent.remove(obj)


def _parent(root, child):
    for p in root.iter():
        if child in list(p):
            return p
    raise ValueError("object without parent")


def _update(obj, b: Box, path: Path, i: int) -> None:
    if not all(math.isfinite(v) for v in b.xyxy()):
        raise LabelFileError(path, f"not written: box {i + 1} has a number that is not finite")
    _set(obj, "name", b.label)
    bnd = obj.find("bndbox")
    for tag, v in zip(("xmin", "ymin", "xmax", "ymax"), b.xyxy()):
        el = bnd.find(tag)
        old = (el.text or "").strip()
        # Keep the file's number style: integer pixels stay integers (VOC's own rounding).
        el.text = str(int(round(v))) if "." not in old else f"{v:.1f}"
    if obj.find("difficult") is not None or b.difficult:
        _set(obj, "difficult", str(int(b.difficult)))
    if b.predicted or obj.find("predicted") is not None:
        _set(obj, "predicted", str(int(b.predicted)))
    score = obj.find("score")
    if b.score is not None:
        _set(obj, "score", repr(float(b.score)))
    elif score is not None:
        _remove(obj, score)         # accepted by a person: no longer a model's guess


def _set(obj, tag: str, text: str) -> None:
    el = obj.find(tag)
    if el is None:
        el = ET.SubElement(obj, tag)
    el.text = text
