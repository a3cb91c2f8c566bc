"""A COCO instances file read by type (msgspec): only the fields the columns need are built.

The json module builds every polygon point of train2017's 450 MB file as a
float object; even walked one object at a time that is most of 20 seconds.
A typed decode names the fields it wants (image id, file name, size; box,
category, image id, id, iscrowd) and skips everything else while scanning,
so the whole file is read in about 2 seconds.

It answers only for files it reads exactly as the walk in
:mod:`.coco_index` would: anything unusual (a field of another type, a size
out of range, a number that is not finite, not UTF-8) gives None, and the
walk reads the file and reports each problem by place.

Each annotation's place in the text (what a save splices) is found only
when a save needs it, by :func:`spans`.
"""
from __future__ import annotations

import math
from itertools import chain
from operator import attrgetter

import msgspec
import numpy as np

from .coco_save import separators


class _Image(msgspec.Struct, gc=False):
    id: int
    file_name: str
    width: float
    height: float


class _Annotation(msgspec.Struct, gc=False):
    bbox: tuple[float, float, float, float]
    category_id: int
    image_id: int
    id: int = -1
    iscrowd: int = 0
    predicted: bool = False         # a model's pre-label (YOLO Studio writes these two)
    score: float | None = None


class _File(msgspec.Struct):
    images: list[_Image]
    annotations: list[_Annotation]
    categories: list


class _Array(msgspec.Struct):
    annotations: msgspec.Raw


def columns(data: bytes) -> dict | None:
    """The columns :func:`.coco_index.parse` gives, without the spans; None: walk it instead."""
    # A typed decode keeps the last of a key given twice; the walk refuses such a file
    # (a save would splice into the wrong array), so any second mention goes to the walk.
    if _key_twice(data):
        return None
    try:
        doc = msgspec.json.decode(data, type=_File)
    except msgspec.DecodeError:     # malformed, or a field not of the expected type
        return None
    try:
        return _columns(doc)
    except OverflowError:           # an id past int64: the walk reports it by place
        return None


_KEYS = (b'"images"', b'"annotations"', b'"categories"')


def _key_twice(data: bytes, most: int = 100_000) -> bool:
    """Whether any of the three top-level keys is in ``data`` more than once.

    Each ends in ``s"``, rare in a COCO file (its keys end otherwise, its numbers are
    digits): the places of that pair are found (:func:`_pair_places`), each checked for a
    whole key. Past ``most`` places the counts answer instead.
    """
    places = _pair_places(data, b's"', most)
    if places is None:
        return any(data.count(k) > 1 for k in _KEYS)
    seen = dict.fromkeys(_KEYS, 0)
    for at in places.tolist():
        for key in _KEYS:
            if at + 2 >= len(key) and data.startswith(key, at + 2 - len(key)):
                seen[key] += 1
                if seen[key] > 1:
                    return True
    return False


_CHUNK = 1 << 22    # bytes per numpy pass (even): its temporaries stay a few MB on a 450 MB file


def _pair_places(data: bytes, pair: bytes, most: int) -> np.ndarray | None:
    """Where the two bytes ``pair`` start in ``data``, ascending; None when there are more than ``most``.

    Compared as 16-bit words at even and at odd offsets, in chunks: about a tenth of a second
    over train2017's 450 MB, where ``bytes.find`` took 0.45 s (in JSON every '"' is a candidate).
    """
    word, buf = int.from_bytes(pair, "little"), np.frombuffer(data, np.uint8)
    found, count = [], 0
    for start in range(0, len(buf), _CHUNK):
        for odd in (0, 1):      # the odd pass reaches one byte into the next chunk: a pair across
            part = buf[start + odd:start + odd + _CHUNK]
            hits = np.flatnonzero(part[:len(part) & ~1].view("<u2") == word)
            if len(hits):
                found.append(start + odd + 2 * hits)
                count += len(hits)
                if count > most:
                    return None
    return np.sort(np.concatenate(found)) if found else np.zeros(0, np.int64)


def _columns(doc: _File) -> dict | None:
    imgs, anns = doc.images, doc.annotations
    n, m = len(imgs), len(anns)
    size = np.fromiter(chain.from_iterable(map(attrgetter("width", "height"), imgs)), np.float64,
                       2 * n).reshape(-1, 2)
    box = np.fromiter(chain.from_iterable(map(attrgetter("bbox"), anns)), np.float64, 4 * m).reshape(-1, 4)
    if not (((size > 0) & (size < 2 ** 31)).all() and np.isfinite(box).all()):
        return None
    ann_id = np.fromiter(map(attrgetter("id"), anns), dtype=np.int64, count=m)
    pred = np.fromiter(map(attrgetter("predicted"), anns), dtype=bool, count=m)
    score = np.full(m, np.nan)
    for i in np.flatnonzero(pred).tolist():     # a score counts only on a pre-label (as the walk reads it)
        s = anns[i].score
        score[i] = s if s is not None and math.isfinite(s) else np.nan
    return {"x": box[:, 0], "y": box[:, 1], "w": box[:, 2], "h": box[:, 3],      # views: the open reorders them
            "pred": pred, "score": score,
            "cat": np.fromiter(map(attrgetter("category_id"), anns), dtype=np.int64, count=m),
            "crowd": np.fromiter(map(attrgetter("iscrowd"), anns), dtype=np.int64, count=m) != 0,
            "ann_id": ann_id, "place": np.arange(m, dtype=np.int64),
            "image_id": np.fromiter(map(attrgetter("image_id"), anns), dtype=np.int64, count=m),
            "img_n": np.arange(n, dtype=np.int64), "img_id": np.fromiter(map(attrgetter("id"), imgs), np.int64, n),
            "img_w": size[:, 0].astype(np.int64), "img_h": size[:, 1].astype(np.int64),
            "img_name": np.asarray(list(map(attrgetter("file_name"), imgs)), dtype=str), "bad": np.zeros(0, np.int64),
            "categories": doc.categories, "bad_images": [],
            "next_id": max(int(ann_id.max()) if m else 0, 0) + 1}     # as the walk counts it


def _address(buffer) -> int:
    return np.frombuffer(buffer, np.uint8).ctypes.data


def spans(data: bytes) -> dict | None:
    """Where each annotation and the annotations array are in ``data`` (ASCII bytes), and the
    file's separators; None when it cannot say (then the walk finds them)."""
    try:
        array = msgspec.json.decode(data, type=_Array).annotations
        items = msgspec.json.decode(array, type=list[msgspec.Raw])
    except msgspec.DecodeError:
        return None
    base = _address(data)
    at = _address(array) - base            # Raw values are views into the bytes decoded
    if not (data[at:at + 1] == b"[" and data[at + len(array) - 1:at + len(array)] == b"]"):
        return None
    out = {"array": np.asarray([at + 1, at + len(array) - 1], dtype=np.int64), "sep": ", ",
           "seps": (", ", ": "), "starts": np.zeros(0, np.int64), "ends": np.zeros(0, np.int64)}
    if not items:
        return out
    lens = np.fromiter(map(len, items), dtype=np.int64, count=len(items))
    first = _address(items[0]) - base
    gap = _address(items[1]) - base - first - int(lens[0]) if len(items) > 1 else 0
    # Elements follow each other with the same separator in files tools write: their places
    # are then a running sum. Checked at every element; else each element's own address.
    starts = first + np.concatenate([[0], np.cumsum(lens[:-1] + gap)])
    ends = starts + lens
    buf = np.frombuffer(data, np.uint8)
    sep = data[int(ends[0]):int(ends[0]) + gap]
    ok = ends[-1] <= len(data) and (buf[starts] == ord("{")).all() and (buf[ends - 1] == ord("}")).all() and \
        all((buf[ends[:-1] + j] == c).all() for j, c in enumerate(sep))
    if not ok:
        starts = np.fromiter((_address(r) for r in items), dtype=np.int64, count=len(items)) - base
        ends = starts + lens
    if data[int(starts[-1]):int(ends[-1])] != bytes(items[-1]):
        return None
    out.update(starts=starts, ends=ends, sep=data[int(ends[0]):int(starts[1])].decode("ascii")
               if len(items) > 1 else ", ", seps=separators(data[int(starts[0]):int(ends[0])].decode("ascii")))
    return out
