"""A COCO instances file reduced to numpy columns, and a cache of them for the next open.

Walking train2017's 450 MB JSON takes seconds even one object at a time,
so the columns (image entries, boxes, each annotation's place in the text)
are kept in the per-user data folder (never beside the dataset), keyed by
the file's path and stamped with its size, modification time and change time. A file
that changed since is walked again; a save by YOLO Studio stores the new
columns straight away. A cache that cannot be read is ignored. The first
open writes its columns on a thread of its own (the images show meanwhile);
a save's store overtakes it, and a program waits for it before it ends.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import threading
from itertools import chain
from math import isfinite
from pathlib import Path

import numpy as np

from ..atomic import atomic_write_bytes
from ..errors import LabelFileError
from ..formats.coco_stream import SPANS, read_text, stream_coco
from ..paths import user_data_dir
from . import coco_typed
from .coco_save import separators

CACHE_VERSION = 4   # 2: next_id counts the ids of annotations that could not be read; 3: columns marked
#                     ours (magic); 4: each box's pre-label flag and score
ANN_COLUMNS = {"x": np.float64, "y": np.float64, "w": np.float64, "h": np.float64, "cat": np.int64,
               "crowd": bool, "ann_id": np.int64, "place": np.int64, "image_id": np.int64,
               "pred": bool, "score": np.float64}

IMG_COLUMNS = {"img_n": np.int64, "img_id": np.int64, "img_w": np.int64, "img_h": np.int64}


def prelabel_of(entry: dict) -> tuple[bool, float]:
    """(is a model's pre-label, its score or NaN) of an annotation, as YOLO Studio writes them
    (``"predicted": true, "score": s``, the keys the COCO format writer uses too). A score
    counts only on a pre-label, as the typed read keeps it."""
    if not entry.get("predicted", False):
        return False, float("nan")
    score = entry.get("score")
    ok = isinstance(score, (int, float)) and not isinstance(score, bool) and isfinite(score)
    return True, float(score) if ok else float("nan")


def edited_columns(edited: list) -> dict:
    """The per-box columns of a save's entries (as the walk reads them): x, y, w, h, category,
    crowd, id, pre-label flag and score, each a list in ``edited``'s order."""
    flags = [prelabel_of(e) for e in edited]
    return {"x": [float(e["bbox"][0]) for e in edited], "y": [float(e["bbox"][1]) for e in edited],
            "w": [float(e["bbox"][2]) for e in edited], "h": [float(e["bbox"][3]) for e in edited],
            "cat": [e["category_id"] for e in edited], "crowd": [bool(e.get("iscrowd", 0)) for e in edited],
            "ann_id": [e.get("id", -1) for e in edited],
            "pred": [p for p, _ in flags], "score": [sc for _, sc in flags]}


def stamp(f: Path) -> tuple[int, int, int]:
    """(size, modification and change time in ns): what says a file is the one the columns came
    from. The change time too, because ``cp -p`` or a restore from a backup can bring back another
    file of the same size and modification time; no program can set the change time."""
    st = f.stat()
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns


def unchanged(f: Path, recorded) -> bool:
    """Whether ``f``'s content is still the one ``recorded`` (a :func:`stamp`) was taken of, for
    the life of an open dataset: size and modification time only, because a chmod moves the
    change time too, and a user who makes a read-only file writable again must be able to save
    without reopening. The cache between sessions keeps the stricter whole stamp."""
    return stamp(f)[:2] == tuple(recorded)[:2]


_INT64 = 2 ** 63   # ids are kept in int64 columns: one past them is reported like a bad id


def whole(v) -> bool:
    """A whole number (not a bool) that fits the int64 columns ids are kept in."""
    return isinstance(v, int) and not isinstance(v, bool) and -_INT64 <= v < _INT64


def _size(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < 2 ** 31


def parse(f: Path) -> dict:
    """The columns of one instances file: read by type when it is plain, else walked."""
    st = stamp(f)
    try:
        data = f.read_bytes()
    except OSError as e:
        raise LabelFileError(f, f"cannot be read ({e.strerror or e})") from None
    typed = coco_typed.columns(data)
    if typed is None:
        del data
        return _walked(f)
    typed.update(stamp=st, starts=None, ends=None, array=None, sep=None, seps=None)   # see ensure_spans
    return typed


def ensure_spans(f: Path, parsed: dict, text) -> None:
    """Put each annotation's place in ``text`` (the file as saving reads it, unchanged since the
    open: its stamp says so) into ``parsed``; a typed read leaves that to the first save."""
    if parsed["starts"] is not None:
        return
    found = coco_typed.spans(text) if isinstance(text, bytes) else None
    if found is None:
        found = _walked(f, text.decode("ascii") if isinstance(text, bytes) else text)
    if len(found["starts"]) != len(parsed["place"]) + len(parsed["bad"]):
        raise LabelFileError(f, "was changed on disk since it was opened (by another program?); "
                                "nothing was saved: reopen the dataset, then edit again")
    parsed.update({k: found[k] for k in ("starts", "ends", "array", "sep", "seps")})


def _walked(f: Path, text: str | None = None) -> dict:
    """The columns of one instances file, walked one object at a time."""
    cols = {k: [] for k in (*ANN_COLUMNS, *IMG_COLUMNS, "img_name")}
    bad, bad_images, starts, ends = [], [], [], []
    bad_top = [0]    # the highest id among annotations that could not be read: taken all the same

    def on_image(n, img, _s, _e):
        ok = isinstance(img, dict) and whole(img.get("id")) and isinstance(img.get("file_name"), str) \
            and _size(img.get("width")) and _size(img.get("height"))
        if not ok:
            bad_images.append(f"images[{n}] ({img!r:.80})")
            return
        for key, v in (("img_n", n), ("img_id", img["id"]), ("img_w", int(img["width"])),
                       ("img_h", int(img["height"])), ("img_name", img["file_name"])):
            cols[key].append(v)

    add = {k: cols[k].append for k in ANN_COLUMNS}

    def on_annotation(n, a, start, end):
        # Called 860,000 times for train2017: plain Python checks, no numpy per element.
        starts.append(start)
        ends.append(end)
        try:
            b = a["bbox"]
            x, y, w, h = float(b[0]), float(b[1]), float(b[2]), float(b[3])
            cat, image_id, ann_id = a["category_id"], a["image_id"], a.get("id", -1)
            if len(b) != 4 or type(cat) is not int or type(image_id) is not int or type(ann_id) is not int \
                    or not (isfinite(x) and isfinite(y) and isfinite(w) and isfinite(h)) \
                    or not (-_INT64 <= cat < _INT64 and -_INT64 <= image_id < _INT64
                            and -_INT64 <= ann_id < _INT64):
                raise ValueError
        except (KeyError, TypeError, ValueError, IndexError):
            bad.append(n)
            taken = a.get("id") if isinstance(a, dict) else None
            if whole(taken) and taken > bad_top[0]:
                bad_top[0] = taken
            return
        add["x"](x)
        add["y"](y)
        add["w"](w)
        add["h"](h)
        add["cat"](cat)
        add["crowd"](bool(a.get("iscrowd", 0)))
        add["ann_id"](ann_id)
        add["place"](n)
        add["image_id"](image_id)
        # prelabel_of only where the key is: most files have none, and this runs per annotation
        pred, score = prelabel_of(a) if "predicted" in a else (False, float("nan"))
        add["pred"](pred)
        add["score"](score)

    st = stamp(f)
    text, to_original = _without_polygons(read_text(f) if text is None else text)
    rest = stream_coco(f, {"images": on_image, "annotations": on_annotation}, text)
    sample = text[starts[0]:ends[0]] if starts else '{"a": 1}'
    out = {k: np.asarray(cols[k], dtype=t) for k, t in {**ANN_COLUMNS, **IMG_COLUMNS}.items()}
    out.update(img_name=np.asarray(cols["img_name"], dtype=str), bad=np.asarray(bad, dtype=np.int64),
               starts=to_original(starts), ends=to_original(ends),
               array=to_original(rest[SPANS].get("annotations", (0, 0))),
               sep=text[ends[0]:starts[1]] if len(starts) > 1 else ", ", seps=separators(sample),
               stamp=st, categories=rest.get("categories"), bad_images=bad_images,
               next_id=int(max(max(cols["ann_id"], default=0), bad_top[0])) + 1)
    return out


# A polygon segmentation: [[x, y, x, y, ...], ...]. Most of a COCO file's bytes, and
# most of its parse time (every point a float object), and never used here. The
# pattern starts with the literal so the scan jumps between keys; the lookbehind
# then refuses one inside a string (escaped quote).
_POLYGONS = re.compile(r'"segmentation"(?<!\\"segmentation")\s*:\s*\[\s*\[[-+0-9.eE,\s\[\]]*\]\s*\]')
_PLACEHOLDER = '"segmentation":0'


def _without_polygons(text: str):
    """(``text`` with each polygon list replaced by a placeholder, a map of its offsets back).

    The walk then skips the polygons' floats (several times faster on COCO's
    own files); every offset it records is mapped back to the original text,
    which is what a save splices.
    """
    spans = np.fromiter(chain.from_iterable(m.span() for m in _POLYGONS.finditer(text)), dtype=np.int64)
    if not len(spans):
        return text, lambda positions: np.asarray(positions, dtype=np.int64)
    spans = spans.reshape(-1, 2)
    removed = np.cumsum(spans[:, 1] - spans[:, 0] - len(_PLACEHOLDER))
    ends_at = spans[:, 1] - removed                   # where each placeholder ends, in the new text
    removed = np.concatenate([[0], removed])

    def to_original(positions) -> np.ndarray:
        positions = np.asarray(positions, dtype=np.int64)
        return positions + removed[np.searchsorted(ends_at, positions, side="right")]
    return _POLYGONS.sub(_PLACEHOLDER, text), to_original


def _cache_file(f: Path) -> Path:
    key = hashlib.sha1(str(Path(f).absolute()).encode("utf-8")).hexdigest()
    return user_data_dir() / "cache" / "coco" / f"{key}.npz"


ARRAYS = (*ANN_COLUMNS, *IMG_COLUMNS, "img_name", "bad", "starts", "ends", "array")
META = ("sep", "seps", "stamp", "categories", "bad_images", "next_id")
MAGIC = "yolo-studio coco columns"    # what says a cache file is one of ours


def _read_cache(path: Path, arrays: bool = True):
    """(meta, arrays) of a cache file of ours; None for anything else (missing, foreign, corrupt).
    A version 1 cache (before the magic) counts as ours, to be replaced, never loaded."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            legacy = isinstance(meta, dict) and meta.get("version") == 1 and all(k in meta for k in META)
            if not isinstance(meta, dict) or (meta.get("magic") != MAGIC and not legacy):
                return None
            return meta, {k: z[k] for k in ARRAYS} if arrays and not legacy else {}
    except Exception:   # noqa: BLE001 - a cache is never trusted: zip, npy and JSON errors all mean "walk"
        return None


def load(f: Path) -> dict | None:
    """The cached columns of ``f`` if they are ours and for the file as it is now, else None."""
    wait_stored(f)
    cached = _read_cache(_cache_file(f))
    if cached is None:
        return None
    meta, out = cached
    try:
        if meta["version"] != CACHE_VERSION or tuple(meta["stamp"]) != stamp(f) or \
                any(len(out[k]) != len(out["x"]) for k in ANN_COLUMNS) or len(out["starts"]) != len(out["ends"]):
            return None
        out.update({k: meta[k] for k in META})
        out["stamp"], spans = tuple(meta["stamp"]), bool(meta["spans"])
        out["seps"] = tuple(meta["seps"]) if spans else None
    except (KeyError, TypeError, OSError):
        return None
    if not spans:
        out.update(starts=None, ends=None, array=None)
    return out


# Stores of one cache file happen in the order they were asked for, and a store overtaken by a
# later one (a save's, after the first open's) is dropped: the cache ends with the newest columns.
_asked: dict[Path, int] = {}                # cache file -> stores asked for so far
_behind: dict[Path, threading.Thread] = {}  # cache file -> its store on a thread, while it runs
_asking, _writing = threading.Lock(), threading.Lock()


def store(f: Path, parsed: dict, behind: bool = False) -> None:
    """Keep ``parsed`` for the next open (best effort: a cache that cannot be written is skipped).

    ``behind``: on a thread of its own, so the first open of a dataset shows its images without
    waiting for the write (0.3 s at train2017 size); what it writes is ``parsed`` as it is now,
    and a later store (a save's) overtakes it. :func:`load` waits for it.

    A file at the cache's place that is not a cache of ours is left as it is (and the next
    open walks the JSON again): it is not ours to replace.
    """
    target = _cache_file(f)
    parsed = dict(parsed)       # a save replaces the columns in ``parsed``, never edits them in place
    with _asking:
        turn = _asked[target] = _asked.get(target, 0) + 1
        if behind:
            thread = _behind[target] = threading.Thread(target=_write, args=(target, parsed, turn),
                                                        name="coco column cache")
    if behind:
        try:
            thread.start()
            return
        except RuntimeError:    # no thread to be had: written here, as before
            with _asking:
                del _behind[target]
    _write(target, parsed, turn)


def _write(target: Path, parsed: dict, turn: int) -> None:
    try:
        with _writing:
            if _asked.get(target) == turn:      # else a later store of this file writes newer columns
                _write_cache(target, parsed)
    finally:
        with _asking:
            if _behind.get(target) is threading.current_thread():
                del _behind[target]


def _write_cache(target: Path, parsed: dict) -> None:
    if target.exists() and _read_cache(target, arrays=False) is None:
        return
    meta = {k: parsed[k] for k in META}
    meta.update(version=CACHE_VERSION, magic=MAGIC, spans=parsed["starts"] is not None)
    arrays = {k: np.zeros(0, np.int64) if parsed[k] is None else parsed[k] for k in ARRAYS}
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.asarray(json.dumps(meta)), **arrays)
    try:
        atomic_write_bytes(target, buffer.getvalue())
    except OSError:
        pass   # the next open walks the JSON again


def wait_stored(f: Path) -> None:
    """Return once a store of ``f``'s columns running on its own thread is on disk."""
    with _asking:
        thread = _behind.get(_cache_file(f))
    if thread is not None:
        thread.join()


def after_save(parsed: dict, image_id: int, edited: list, starts, ends, old_to_new, new_index,
               new_stamp) -> None:
    """``parsed`` following a save that replaced ``image_id``'s annotations with ``edited``."""
    keep = parsed["image_id"] != image_id
    for key in ANN_COLUMNS:
        parsed[key] = parsed[key][keep]
    parsed["place"] = old_to_new[parsed["place"]]
    parsed["bad"] = old_to_new[parsed["bad"]]
    new = {**edited_columns(edited), "place": new_index, "image_id": [image_id] * len(edited)}
    for key, t in ANN_COLUMNS.items():
        parsed[key] = np.concatenate([parsed[key], np.asarray(new[key], dtype=t)])
    ids = [e["id"] for e in edited if whole(e.get("id"))]
    parsed.update(starts=starts, ends=ends, stamp=new_stamp, next_id=max([parsed["next_id"] - 1, *ids]) + 1)
