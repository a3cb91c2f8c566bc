"""A COCO dataset opened in place: ``annotations/instances_<split>.json`` + ``<split>/`` images.

Each instances file names its images (``file_name`` below ``<split>/``, or
``images/<split>/``) and holds their boxes. Category ids stay as the file
has them: classes are the category names in id order, and a saved box gets
the id its name has in that file. ``iscrowd: 1`` regions are kept in the
file and shown as hidden boxes; as COCO does, nothing trains on them.

Opening walks each JSON once, one object at a time, into compact numpy
columns (not a dict per box), so a train2017-sized file stays small in
memory; each annotation's place in the text is kept. Saving one image
re-reads its JSON (refusing if another program changed it since), edits
only that image's annotations (:mod:`.coco_save`) and splices them into the
text: every other byte is as it was. The file is replaced atomically.
"""
from __future__ import annotations

import functools
import gc
import json
import os
import re
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..annotations import Box, HiddenBox, ImageAnnotation
from ..class_names import class_name_problem
from ..errors import ConfigError, LabelFileError, Problem
from ..formats.checks import Report, fit_box
from ..formats.coco_stream import read_text, spliced
from . import coco_index
from .coco_save import edited_entries, entry_text
from .base import Layout, entries
from .box_table import BoxTable

PREFIX = "instances_"
CROWD = "a crowd region (iscrowd 1): kept in the file; as in COCO, not trained on"


def instance_files(source: Path) -> list[Path]:
    """The instances_<split>.json files of a COCO dataset folder (or the one file given)."""
    if source.is_file():
        return [source]
    return sorted(Path(e.path) for e in entries(source / "annotations")
                  if e.name.startswith(PREFIX) and e.name.endswith(".json"))


def split_name(json_file: Path) -> str:
    """'train2017' for instances_train2017.json."""
    stem = json_file.stem
    return stem[len(PREFIX):] if stem.startswith(PREFIX) else stem


@contextmanager
def _no_cycle_collection():
    """Python's cycle collector paused: an open makes millions of objects that hold no cycles
    (the typed read's boxes, 118,287 image entries and Paths) and the collector ran over the
    growing heap again and again while they were made (about 0.15 s at train2017 size)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _stable_order(rows: np.ndarray) -> np.ndarray:
    """``np.argsort(rows, kind="stable")`` for rows in [0, 2**32): two 16-bit passes, each a
    radix sort in numpy (an int64 sort of train2017's 860,000 boxes took a tenth of a second)."""
    if not len(rows) or rows.min() < 0 or rows.max() >= 2 ** 32:
        return np.argsort(rows, kind="stable")
    low = np.argsort((rows & 0xFFFF).astype(np.uint16), kind="stable")
    return low[np.argsort((rows[low] >> 16).astype(np.uint16), kind="stable")]


def _score(value: float):
    """A score column's value as a Box's score (NaN: none)."""
    return None if value != value else value


def _columns_locked(method):
    """``method`` run holding the dataset's column lock (see ``CocoLayout._columns_lock``)."""
    @functools.wraps(method)
    def run(self, *args, **kwargs):
        with self._columns_lock:
            return method(self, *args, **kwargs)
    return run


class CocoLayout(Layout):
    """COCO instances files, one per split, each with its image folder."""

    kind = "coco"
    label_format = "coco"

    def __init__(self, source: Path):
        super().__init__(Path(source).absolute())
        if self.source.is_file():
            self.root = self.source.parent.parent if self.source.parent.name == "annotations" \
                else self.source.parent
        self.files = instance_files(self.source)
        if not self.files:
            raise ConfigError(f"{self.source}: no annotations/instances_<split>.json found")
        self._cat_ids: list[dict] = []      # per file: {class name: category id}
        self._where: dict[str, tuple[int, int, int, int]] = {}  # image -> (file, image id, w, h)
        self._folders: list[Path] = []
        self._paths: list[Path] = []        # image row -> Path (the same objects image_paths() gives)
        self._versions: dict[str, int] = {}  # image -> saves made here (see change_stamp)
        self._files: list[dict] = []        # per file: its stamp and the spans of its annotations
        cols = [[] for _ in range(11)]      # x, y, w, h, category, crowd, annotation id, place, image row,
        #                                     pre-label flag, score
        self._states = None                 # per box: class index, shown as stored, odd (see _box_states)
        # The Anchors panel reads the box columns on a worker thread while a save on the GUI
        # thread replaces them one by one (and the Pre-label and Suggest workers save on
        # theirs while the GUI thread reads): a read in between mixed old and new columns (and
        # cached that mix as the box states). Every method that reads the columns after the
        # open, and a save's update of them, holds this lock (@_columns_locked).
        self._columns_lock = threading.RLock()
        self._keys: list[str] = []          # image row -> path
        self._row_file, self._row_wh = [], []   # image row -> its file; its (w, h) (arrays once open)
        with _no_cycle_collection():
            for k, f in enumerate(self.files):
                self._load(k, f, cols)
            self._index(cols)

    # --- opening ---------------------------------------------------------------------

    def _load(self, k: int, f: Path, cols: list) -> None:
        parsed = coco_index.load(f)
        if parsed is None:
            parsed = coco_index.parse(f)
            coco_index.store(f, parsed, behind=True)     # the images show without waiting for it
        self._files.append(parsed)
        if not isinstance(parsed["categories"], list):
            raise LabelFileError(f, "not a COCO instances file (no 'categories' list)")
        names = self._categories(f, parsed["categories"])
        self._merge_classes(f, names)
        self._cat_ids.append({n: i for i, n in names.items()})
        for what in parsed["bad_images"][:20]:
            self.problems.append(Problem(str(f), f"{what}: needs a whole-number id, a file_name, width and "
                                                 "height; skipped"))
        rows = self._images_of(k, f, parsed)
        for n in parsed["bad"][:20].tolist():
            self.problems.append(Problem(str(f), f"annotations[{n}]: needs whole-number image_id, category_id "
                                                 "and id, and a bbox [x, y, w, h]; skipped"))
        row = _lookup(rows, parsed["image_id"])
        known = row >= 0
        for c, key in enumerate(("x", "y", "w", "h", "cat", "crowd", "ann_id", "place")):
            cols[c].append(parsed[key][known])
        cols[8].append(row[known])
        cols[9].append(parsed["pred"][known])
        cols[10].append(parsed["score"][known])
        if not known.all():
            self.problems.append(Problem(str(f), f"{int((~known).sum())} annotation(s) belong to an image id "
                                                 "with no usable entry in 'images'; skipped"))

    def _categories(self, f: Path, cats: list) -> dict:
        names = {}
        for c in cats:
            if not isinstance(c, dict) or not coco_index.whole(c.get("id")) \
                    or class_name_problem(str(c.get("name"))):
                raise LabelFileError(f, f"category {c!r} needs a whole-number 'id' and a usable 'name'")
            # Either twice would label one category's boxes with the other's name, or save them so.
            twice = f"id {c['id']}" if c["id"] in names else \
                f"name {c['name']!r}" if c["name"] in names.values() else ""
            if twice:
                raise LabelFileError(f, f"'categories' lists {twice} twice; give each category its own "
                                        "id and name there")
            names[c["id"]] = c["name"]
        return names

    def _images_of(self, k: int, f: Path, parsed: dict) -> dict:
        """{image id: image row} of the usable image entries; the others reported."""
        folder = self._image_folder(f)
        self._folders.append(folder)
        base = str(folder) + os.sep
        try:
            present = set(os.listdir(folder))
        except OSError:
            present = set()
        split = split_name(f).lower()
        chosen = self._train if "train" in split else self._val if "val" in split else None
        rows = {}
        # A child Path made from the parsed folder and one name, as iterdir makes them: 118,000
        # Paths built by '/' (each parsing its name) were a tenth of an open's time.
        child = getattr(folder, "_make_child_relpath", folder.__truediv__)
        names = parsed["img_name"].tolist()
        plain = not _NOT_PLAIN.search("\n".join(names))    # then every name is its own _file_name
        if plain and present.issuperset(names) and len(set(names)) == len(names) and \
                len(np.unique(parsed["img_id"])) == len(names) and self._folders.count(folder) == 1:
            return self._every_image(k, parsed, folder, names, chosen)
        for n, image_id, raw, w, h in zip(parsed["img_n"].tolist(), parsed["img_id"].tolist(), names,
                                          parsed["img_w"].tolist(), parsed["img_h"].tolist()):
            name = raw if plain else _file_name(raw)
            if name is None:
                self.problems.append(Problem(str(f), f"images[{n}]: file_name {raw!r} is not a file inside "
                                                     "the image folder; skipped"))
                continue
            path = base + name if os.sep not in name else os.path.normpath(base + name)
            if path in self._where or image_id in rows:
                self.problems.append(Problem(str(f), f"images[{n}]: {name} (id {image_id}) is listed again; "
                                                     "skipped"))
                continue
            if not (name in present or (os.sep in name and os.path.isfile(path))):
                self.problems.append(Problem(str(f), f"images[{n}]: image {path} not found; skipped"))
                continue
            self._where[path] = (k, image_id, w, h)
            self._row_file.append(k)
            self._row_wh.append((w, h))
            rows[image_id] = len(self._keys)
            if chosen is not None:
                chosen.append(len(self._keys))
            self._keys.append(path)
            self._paths.append(child(name) if os.sep not in name else folder / name)
        return rows

    def _every_image(self, k: int, parsed: dict, folder: Path, names: list, chosen) -> dict:
        """What the checks of :meth:`_images_of` give when every entry passes them, in bulk."""
        start, n = len(self._keys), len(names)
        base = str(folder) + os.sep
        keys = [base + name for name in names]
        ids, w, h = parsed["img_id"].tolist(), parsed["img_w"].tolist(), parsed["img_h"].tolist()
        self._where.update(zip(keys, zip([k] * n, ids, w, h)))
        self._keys += keys
        child = getattr(folder, "_make_child_relpath", folder.__truediv__)
        self._paths += map(child, names)
        self._row_file += [k] * n
        self._row_wh += zip(w, h)
        if chosen is not None:
            chosen += range(start, start + n)
        return dict(zip(ids, range(start, start + n)))

    def _merge_classes(self, f: Path, names: dict) -> None:
        ordered = [names[i] for i in sorted(names)]
        if self.classes and ordered != self.classes:
            self.problems.append(Problem(str(f), f"its categories ({', '.join(ordered)}) differ from "
                                                 f"{self.files[0].name}'s ({', '.join(self.classes)}); boxes "
                                                 "are matched by category name"))
        self.classes += [n for n in ordered if n not in self.classes]

    def _image_folder(self, f: Path) -> Path:
        split = split_name(f)
        for folder in (self.root / split, self.root / "images" / split):
            if folder.is_dir():
                return folder
        self.problems.append(Problem(str(f), f"image folder {split}/ not found beside annotations/; "
                                             "its images are not used"))
        return self.root / split

    def _index(self, cols: list) -> None:
        # Columns sorted by image row: one image's boxes are a slice, found by bisection.
        cols = [(c[0] if len(c) == 1 else np.concatenate(c)) if c else np.zeros(0) for c in cols]
        order = _stable_order(cols[8].astype(np.int64, copy=False))
        self._row = cols[8].astype(np.int64, copy=False)[order]
        self._xywh = np.empty((len(order), 4), dtype=np.float64)
        for c in range(4):
            self._xywh[:, c] = cols[c][order]
        self._cat = cols[4].astype(np.int64, copy=False)[order]
        self._crowd = cols[5].astype(bool, copy=False)[order]
        self._ann_id = cols[6].astype(np.int64, copy=False)[order]
        self._place = cols[7].astype(np.int64, copy=False)[order]
        self._pred = cols[9].astype(bool, copy=False)[order]
        self._score = cols[10].astype(np.float64, copy=False)[order]
        self._row_file = np.asarray(self._row_file, dtype=np.int64)
        self._row_wh = np.asarray(self._row_wh, dtype=np.float64).reshape(-1, 2)
        self._row_of = dict(zip(self._keys, range(len(self._keys))))
        self._names = [{i: n for n, i in c.items()} for c in self._cat_ids]
        by_name = range(len(self._keys)) if self._keys == sorted(self._keys) else \
            sorted(range(len(self._keys)), key=self._keys.__getitem__)
        self._order = np.asarray(by_name, dtype=np.int64)     # place in images() -> image row
        self._images = [self._paths[i] for i in by_name]
        self._train = [self._paths[i] for i in sorted(self._train, key=self._keys.__getitem__)]
        self._val = [self._paths[i] for i in sorted(self._val, key=self._keys.__getitem__)]

    def image_dirs(self) -> list[Path]:
        """The split image folders."""
        return list(self._folders)

    # --- the project's questions -----------------------------------------------------

    def label_path(self, image) -> Path:
        """The instances JSON that lists ``image``."""
        where = self._where.get(str(image))
        return self.files[where[0]] if where else self.files[0]

    def has_labels(self, image) -> bool:
        """Every image the JSON lists is labelled (one without boxes holds no objects)."""
        return str(image) in self._where

    def known_size(self, image: Path) -> tuple[int, int] | None:
        """width and height as the JSON gives them."""
        where = self._where.get(str(image))
        return (where[2], where[3]) if where else None

    def _slice(self, image: str) -> tuple[int, int]:
        row = self._row_of[image]
        lo, hi = np.searchsorted(self._row, [row, row + 1])
        return int(lo), int(hi)

    @_columns_locked
    def boxes_of(self, image: str) -> list[tuple]:
        """(x, y, w, h, category id, crowd, annotation id, file, pre-label, score or None) of each
        box of ``image``."""
        k = self._where[image][0]
        lo, hi = self._slice(image)
        # Slices to lists at once: per-element numpy indexing was most of load_all's time.
        return [(*xywh, cat, crowd, ann_id, k, pred, _score(score)) for xywh, cat, crowd, ann_id, pred, score in
                zip(self._xywh[lo:hi].tolist(), self._cat[lo:hi].tolist(), self._crowd[lo:hi].tolist(),
                    self._ann_id[lo:hi].tolist(), self._pred[lo:hi].tolist(), self._score[lo:hi].tolist())]

    def read(self, image: Path, size, classes: list[str], report: Report) -> ImageAnnotation:
        """The image's boxes; crowd regions and unusable boxes are hidden (kept in the file)."""
        key = str(image)
        if key not in self._where:
            raise LabelFileError(self.files[0], f"does not list {image}")
        k, _id, w, h = self._where[key]
        ann = ImageAnnotation(image, w, h)
        names = self._names[k]
        for x, y, bw, bh, cat, crowd, ann_id, _k, pred, score in self.boxes_of(key):
            name = names.get(cat)
            box = Box(x, y, x + bw, y + bh, name or "", predicted=pred, score=score if pred else None,
                      ref=ann_id)
            if name and not crowd and 0 <= x and 0 <= y and x + bw <= w and y + bh <= h and bw > 0 and bh > 0:
                ann.boxes.append(box)   # the common case, without the checks' bookkeeping
                continue
            why = CROWD if crowd else "" if name else f"category_id {cat} is not in 'categories'; skipped"
            fitted = None
            if not why:
                fitted, why = fit_box(box, w, h)
            if why:
                ann.notes.append(f"annotation {ann_id}: {why}")
            if fitted is None:
                ann.hidden.append(HiddenBox(f"annotation id {ann_id}", ann.notes[-1], name or ""))
            else:
                ann.boxes.append(fitted)
        for note in ann.notes:
            if report is not None and not note.endswith(CROWD):
                report(Problem(f"{self.files[k]}[{Path(image).name}]", note))
        return ann

    @_columns_locked
    def read_all(self, report: Report) -> list[ImageAnnotation]:
        """Every listed image's annotation, in image_paths() order, with the checks vectorised.

        What :meth:`read` gives image by image, at COCO scale (train2017's
        860,000 boxes) in a few seconds: an image with a crowd region, an
        unknown category or a box outside it goes through :meth:`read`.
        """
        wh = self._row_wh[self._row]
        x, y, w, h = self._xywh.T
        known = np.zeros(len(self._row), dtype=bool)
        row_file = self._row_file[self._row]
        for k, names in enumerate(self._names):
            known |= (row_file == k) & np.isin(self._cat, np.fromiter(names, dtype=np.int64, count=len(names)))
        plain = known & ~self._crowd & (x >= 0) & (y >= 0) & (w > 0) & (h > 0) & (x + w <= wh[:, 0]) & \
            (y + h <= wh[:, 1])
        needs_read = np.zeros(len(self._keys), dtype=bool)
        needs_read[self._row[~plain]] = True
        needs_read[self._row[self._pred]] = True     # pre-labels (rare): read() makes them as such
        bounds = np.searchsorted(self._row, np.arange(len(self._keys) + 1)).tolist()
        xs, ys, ws, hs = (c.tolist() for c in (x, y, w, h))
        cats, ids, files = self._cat.tolist(), self._ann_id.tolist(), row_file.tolist()
        anns = []
        for row in sorted(range(len(self._keys)), key=self._keys.__getitem__):
            if needs_read[row]:
                anns.append(self.read(self._paths[row], None, self.classes, report))
                continue
            _k, _id, iw, ih = self._where[self._keys[row]]
            names = self._names[files[bounds[row]]] if bounds[row] < bounds[row + 1] else {}
            anns.append(ImageAnnotation(self._paths[row], iw, ih, [
                Box(xs[i], ys[i], xs[i] + ws[i], ys[i] + hs[i], names[cats[i]], ref=ids[i])
                for i in range(bounds[row], bounds[row + 1])]))
        return anns

    # --- questions about every box, answered from the columns ------------------------

    @_columns_locked
    def _box_states(self) -> tuple:
        """Per box: class index (-1: not in 'categories'), shown as stored, odd (not crowd, not
        plain: only :meth:`read`'s checks say how it shows); {odd image row: labels it shows}.
        Kept until a save changes the columns."""
        if self._states is None:
            cls = self._class_column()
            x, y, w, h = self._xywh.T
            iw, ih = self._row_wh[self._row].T
            plain = cls >= 0
            for ok in (~self._crowd, x >= 0, y >= 0, w > 0, h > 0, x + w <= iw, y + h <= ih):
                plain &= ok
            odd = ~plain & ~self._crowd
            labels = {row: {b.label for b in self.read(self._paths[row], None, self.classes, None).boxes}
                      for row in np.unique(self._row[odd]).tolist()}
            self._states = cls, plain, odd, labels
        return self._states

    def _class_column(self) -> np.ndarray:
        """Per box: the index in ``classes`` of its category's name in its file (-1: none)."""
        cls = np.full(len(self._cat), -1, dtype=np.int64)
        box_file = self._row_file[self._row] if len(self._names) > 1 else None
        for k, names in enumerate(self._names):
            ids = np.fromiter(names, dtype=np.int64, count=len(names))
            at = np.asarray([self.classes.index(names[i]) for i in names], dtype=np.int64)
            sel = slice(None) if box_file is None else np.flatnonzero(box_file == k)
            cat = self._cat[sel]
            if not len(ids) or not len(cat):
                continue
            if 0 <= ids.min() and ids.max() < 1 << 20:      # COCO's ids (1-90): one table look-up
                table = np.full(int(ids.max()) + 2, -1, dtype=np.int64)
                table[ids] = at
                cls[sel] = table[np.clip(cat, -1, len(table) - 1)]    # -1 and past the end: the last, -1
            else:
                order = np.argsort(ids)
                ids, at = ids[order], at[order]
                pos = np.clip(np.searchsorted(ids, cat), 0, len(ids) - 1)
                cls[sel] = np.where(ids[pos] == cat, at[pos], -1)
        return cls

    @_columns_locked
    def images_with_class(self, name: str) -> np.ndarray:
        """Per image of :meth:`images`: True when it shows a box of class ``name``."""
        cls, plain, _odd, odd_labels = self._box_states()
        has = np.zeros(len(self._keys), dtype=bool)
        if name in self.classes:
            has[self._row[plain & (cls == self.classes.index(name))]] = True
        for row, labels in odd_labels.items():
            has[row] = name in labels
        return has[self._order]

    @_columns_locked
    def box_table(self, report: Report) -> BoxTable:
        """The boxes :meth:`read_all` gives, as columns (no Box objects but for odd images).

        Safe on a worker thread while another thread saves (see ``_columns_lock``)."""
        cls, plain, _odd, odd_labels = self._box_states()
        odd_rows = np.fromiter(odd_labels, dtype=np.int64, count=len(odd_labels))
        keep = plain & ~np.isin(self._row, odd_rows)
        rank = np.empty(len(self._keys), dtype=np.int64)
        rank[self._order] = np.arange(len(self._keys))
        rows = self._row[keep]
        x, y, w, h = self._xywh[keep].T
        # rows is sorted: a box's index in its image is its distance from the image's first box
        parts = [(rank[rows], np.arange(len(rows)) - np.searchsorted(rows, rows),
                  np.column_stack([(x + w) - x, (y + h) - y]), cls[keep])]
        for row in odd_rows.tolist():
            boxes = self.read(self._paths[row], None, self.classes, report).boxes
            parts.append((np.full(len(boxes), rank[row]), np.arange(len(boxes)),
                          np.asarray([(b.width, b.height) for b in boxes]).reshape(-1, 2),
                          np.asarray([self.classes.index(b.label) for b in boxes], dtype=np.int64)))
        return BoxTable.build(self._images, self._row_wh[self._order], parts, self.classes)

    @_columns_locked
    def save_files(self, ann: ImageAnnotation, classes: list[str]) -> dict:
        """The image's instances JSON with only that image's annotations changed."""
        key = str(ann.image_path)
        if key not in self._where:
            raise LabelFileError(self.files[0], f"does not list {ann.image_path}; add it there first")
        k, image_id, _w, _h = self._where[key]
        f, state = self.files[k], self._files[k]
        if not coco_index.unchanged(f, state["stamp"]):
            raise LabelFileError(f, "was changed on disk since it was opened (by another program?); "
                                    "nothing was saved: reopen the dataset, then edit again")
        text = _saved_text(f)
        coco_index.ensure_spans(f, state, text)
        lo, hi = self._slice(key)
        places = self._place[lo:hi].tolist()
        starts, ends = state["starts"], state["ends"]
        raw = [text[starts[i]:ends[i]] for i in places]
        mine = [json.loads(r) for r in raw]
        as_read = {b.ref: b for b in self.read(ann.image_path, None, classes, None).boxes}
        edited = edited_entries(mine, ann.boxes, as_read, self._cat_ids[k], f, state["next_id"], image_id)
        by_id = {id(d): r for d, r in zip(mine, raw)}
        new = [entry_text(e, by_id, state["seps"], isinstance(text, bytes)) for e in edited]
        if isinstance(text, bytes):
            new = [t if isinstance(t, bytes) else t.encode("ascii") for t in new]
        sep = state["sep"].encode("ascii") if isinstance(text, bytes) else state["sep"]
        out, new_starts, new_ends, old_to_new, new_index = spliced(
            text, starts, ends, set(places), min(places) if places else len(starts), new, state["array"], sep)
        self._pending = (k, key, image_id, edited, new_starts, new_ends, old_to_new, new_index, lo, hi)
        return {f: out if isinstance(out, bytes) else _bom(f) + out.encode("utf-8")}

    def change_stamp(self, image):
        """Per image, though one JSON holds them all: our own save of another image is no change
        to this one; a write by another program is (the file's stamp is then not ours)."""
        key = str(image)
        if key not in self._where:
            return None
        k = self._where[key][0]
        if not coco_index.unchanged(self.files[k], self._files[k]["stamp"]):
            return coco_index.stamp(self.files[k])
        return "saved here", self._versions.get(key, 0)

    @_columns_locked
    def saved(self) -> None:
        """The save is on disk: the columns and the spans follow it."""
        self._states = None
        k, key, image_id, edited, starts, ends, old_to_new, new_index, lo, hi = self._pending
        self._versions[key] = self._versions.get(key, 0) + 1
        coco_index.after_save(self._files[k], image_id, edited, starts, ends, old_to_new, new_index,
                              coco_index.stamp(self.files[k]))
        coco_index.store(self.files[k], self._files[k])
        in_file = self._row_file[self._row] == k
        self._place[in_file] = old_to_new[self._place[in_file]]
        row = self._row_of[key]
        c = coco_index.edited_columns(edited)
        new = {"_row": [row] * len(edited), "_xywh": list(zip(c["x"], c["y"], c["w"], c["h"])),
               "_cat": c["cat"], "_crowd": c["crowd"], "_ann_id": c["ann_id"], "_place": new_index,
               "_pred": c["pred"], "_score": c["score"]}
        for name, values in new.items():
            column = getattr(self, name)
            values = np.asarray(values, dtype=column.dtype).reshape((-1, *column.shape[1:]))
            setattr(self, name, np.concatenate([column[:lo], values, column[hi:]]))

    def class_file_name(self) -> str:
        return "the 'categories' of the instances JSON files"


# What makes a file_name need _file_name's checks (among names joined by newlines).
_NOT_PLAIN = re.compile(r"[\\/\x00:]|^\s*$", re.MULTILINE)


def _file_name(name: str) -> str | None:
    """``file_name`` as a path below the image folder, or None when it is not one."""
    if not name.strip() or "\x00" in name:
        return None
    name = name.replace("\\", "/")
    parts = name.split("/")
    if name.startswith("/") or ".." in parts or ":" in parts[0]:
        return None   # absolute or climbing out: it could name any file on this machine
    return name.replace("/", os.sep)


def _saved_text(f: Path):
    """The file as bytes when it is ASCII (COCO's own files are: offsets are then byte offsets,
    and a save never holds a decoded copy of 450 MB), else as text."""
    try:
        data = f.read_bytes()
    except OSError as e:
        raise LabelFileError(f, f"cannot be read ({e.strerror or e})") from None
    return data if data.isascii() else read_text(f)


def _bom(f: Path) -> bytes:
    """The file's UTF-8 byte order mark, if it starts with one (the text read has it dropped)."""
    with open(f, "rb") as fh:
        head = fh.read(3)
    return head if head == b"\xef\xbb\xbf" else b""


def _lookup(rows: dict, image_ids: np.ndarray) -> np.ndarray:
    """The image row of each annotation's image id (-1: no such image), in one vectorised step."""
    if not rows:
        return np.full(len(image_ids), -1, dtype=np.int64)
    ids = np.fromiter(rows.keys(), dtype=np.int64, count=len(rows))
    at = np.fromiter(rows.values(), dtype=np.int64, count=len(rows))
    if 0 <= ids.min() and ids.max() < 1 << 24:     # COCO's ids (up to 581,929): one table look-up
        table = np.full(int(ids.max()) + 2, -1, dtype=np.int64)
        table[ids] = at
        return table[np.clip(image_ids, -1, len(table) - 1)]    # -1 and past the end: the last, -1
    order = np.argsort(ids)
    ids, at = ids[order], at[order]
    pos = np.clip(np.searchsorted(ids, image_ids), 0, len(ids) - 1)
    return np.where(ids[pos] == image_ids, at[pos], -1)
