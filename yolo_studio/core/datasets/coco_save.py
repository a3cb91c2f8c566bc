"""Saving one image's boxes into a COCO instances file without touching anything else.

The image's annotation entries are edited as dicts (a moved box keeps its
id, segmentation, area (the mask's) and every other key; a deleted one goes; a new one gets
the next free id and the file's own category id for its class), and the
file is re-assembled by :func:`~yolo_studio.core.formats.coco_stream.spliced`:
every other annotation, and everything outside the annotations array, is
copied from the text as it was read, byte for byte.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from ..annotations import Box
from ..errors import LabelFileError


def edited_entries(mine: list, boxes: list[Box], as_read: dict, cat_ids: dict, f: Path, next_id: int,
                   image_id) -> list:
    """The image's entries after a save: moved ones updated, deleted ones gone, new ones added.

    ``as_read``: {annotation id: the box the reader made of it} for the entries it could show.
    """
    _check_ids(mine, f, image_id)
    used: set[int] = set()
    out = []
    for a in mine:
        box = next((b for b in boxes if b.ref is not None and b.ref == a.get("id") and id(b) not in used), None)
        if box is None:
            if a.get("id") not in as_read:
                out.append(a)   # hidden (crowd, unknown category, unusable): kept as read
            continue
        used.add(id(box))
        # As the reader gave it (a box past the border is shown clipped): not edited, kept as is.
        out.append(a if box == as_read[a.get("id")] else _updated(a, box, cat_ids, f))
    for b in boxes:
        if id(b) in used:
            continue
        _check_finite(b, f, "a new box")
        out.append(_with_prelabel({"id": next_id, "image_id": image_id, "category_id": _cat(b.label, cat_ids, f),
                                   "bbox": [b.x1, b.y1, b.width, b.height], "area": b.width * b.height,
                                   "iscrowd": 0}, b))
        next_id += 1
    return out


def _check_ids(mine: list, f: Path, image_id) -> None:
    # A box finds its entry by id: with none, or one shared, a save would add a copy of the
    # entry, or write one box's coordinates into another (a crowd region) and drop the box.
    ids = [a.get("id") for a in mine]
    bad = [i for i in ids if not isinstance(i, int) or isinstance(i, bool) or ids.count(i) > 1]
    if bad:
        what = "an annotation without a whole-number 'id'" if not isinstance(bad[0], int) or \
            isinstance(bad[0], bool) else f"two annotations with id {bad[0]}"
        raise LabelFileError(f, f"image id {image_id} has {what}; YOLO Studio matches boxes to "
                                "annotations by id, so nothing was saved: give each annotation "
                                "its own id there")


def _check_finite(b: Box, f: Path, what: str) -> None:
    if not all(math.isfinite(v) for v in b.xyxy()):
        raise LabelFileError(f, f"not written: {what} has a number that is not finite")


def _updated(a: dict, b: Box, cat_ids: dict, f: Path) -> dict:
    _check_finite(b, f, f"annotation {a.get('id')}")
    bbox = [b.x1, b.y1, b.width, b.height]
    old = [float(v) for v in a["bbox"]]
    cat = _cat(b.label, cat_ids, f)
    same_flag = bool(a.get("predicted", False)) == b.predicted and \
        (not b.predicted or a.get("score") == b.score)
    if max(abs(u - v) for u, v in zip(old, bbox)) < 1e-9 and cat == a["category_id"] and same_flag:
        return a        # unchanged: written back as its original text
    out = {**a, "bbox": bbox, "category_id": cat}
    if not a.get("segmentation"):
        # COCO's area is the mask's: with a segmentation kept as it was, its area stays too.
        out["area"] = b.width * b.height
    return _with_prelabel(out, b)


def _with_prelabel(entry: dict, b: Box) -> dict:
    """``entry`` marked as a model's pre-label (with its score) when ``b`` is one; a box a person
    accepted or edited loses both marks (as in the COCO format writer and the VOC editor)."""
    if b.predicted:
        entry["predicted"] = True
        if b.score is not None:
            entry["score"] = b.score
        else:
            entry.pop("score", None)
    elif entry.pop("predicted", None) is not None:
        entry.pop("score", None)        # the model's score; a "score" on a person's box stays
    return entry


def _cat(name: str, cat_ids: dict, f: Path) -> int:
    if name not in cat_ids:
        raise LabelFileError(f, f"has no category {name!r}; add it to 'categories' there first "
                                "(YOLO Studio keeps the file's category ids and adds none)")
    return cat_ids[name]


def separators(sample: str) -> tuple[str, str]:
    """json.dumps separators matching an entry as the file writes it."""
    return (", ", ": ") if '": ' in sample else (",", ":")


def entry_text(entry: dict, raw: dict, seps: tuple[str, str], ascii_only: bool = False) -> str:
    """An entry's JSON: its original text when unchanged, else in the file's style
    (``ascii_only`` for an ASCII file: a non-ASCII string read from a ``\\u`` escape stays escaped)."""
    return raw.get(id(entry)) or json.dumps(entry, separators=seps, ensure_ascii=ascii_only)
