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

import json
import os
from pathlib import Path

import numpy as np

from ..annotations import Box, HiddenBox, ImageAnnotation
from ..class_names import class_name_problem
from ..errors import ConfigError, LabelFileError, Problem
from ..formats.checks import Report, fit_box
from ..formats.coco_stream import SPANS, read_text, spliced, stream_coco
from .coco_save import edited_entries, entry_text, separators
from .base import Layout, entries

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
        self._files: list[dict] = []        # per file: its stamp and the spans of its annotations
        cols = [[] for _ in range(9)]       # x, y, w, h, category, crowd, annotation id, place, image row
        self._keys: list[str] = []          # image row -> path
        for k, f in enumerate(self.files):
            self._load(k, f, cols)
        self._index(cols)

    # --- opening ---------------------------------------------------------------------

    def _load(self, k: int, f: Path, cols: list) -> None:
        images, anns, bad, starts, ends = [], [[] for _ in range(8)], [], [], []

        def on_image(n, img, _start, _end):
            images.append((n, img))

        def on_annotation(n, a, start, end):
            starts.append(start)
            ends.append(end)
            try:
                x, y, w, h = a["bbox"]
                row = (float(x), float(y), float(w), float(h), a["category_id"], bool(a.get("iscrowd", 0)),
                       a.get("id", -1), n, a["image_id"])
            except (KeyError, TypeError, ValueError):
                bad.append(n)
                return
            for col, v in zip(anns, row[:8]):
                col.append(v)
            image_ids.append(row[8])

        image_ids: list = []
        stamp = _stamp(f)
        text = read_text(f)
        rest = stream_coco(f, {"images": on_image, "annotations": on_annotation}, text)
        self._files.append(_file_state(text, stamp, starts, ends, rest[SPANS].get("annotations", (0, 0)),
                                       anns[6]))
        del text
        if not isinstance(rest.get("categories"), list):
            raise LabelFileError(f, "not a COCO instances file (no 'categories' list)")
        names = self._categories(f, rest["categories"])
        self._merge_classes(f, names)
        self._cat_ids.append({n: i for i, n in names.items()})
        rows = self._images_of(k, f, images)
        for n in bad[:20]:
            self.problems.append(Problem(str(f), f"annotations[{n}]: needs image_id, category_id and a "
                                                 "bbox [x, y, w, h]; skipped"))
        unknown = 0
        for i, image_id in enumerate(image_ids):
            row = rows.get(image_id)
            if row is None:
                unknown += 1
                continue
            for c in range(8):
                cols[c].append(anns[c][i])
            cols[8].append(row)
        if unknown:
            self.problems.append(Problem(str(f), f"{unknown} annotation(s) belong to an image id with no usable "
                                                 "entry in 'images'; skipped"))

    def _categories(self, f: Path, cats: list) -> dict:
        names = {}
        for c in cats:
            if not isinstance(c, dict) or not isinstance(c.get("id"), int) or class_name_problem(str(c.get("name"))):
                raise LabelFileError(f, f"category {c!r} needs a whole-number 'id' and a usable 'name'")
            names[c["id"]] = c["name"]
        return names

    def _images_of(self, k: int, f: Path, images: list) -> dict:
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
        for n, img in images:
            name = _file_name(img)
            if name is None:
                self.problems.append(Problem(str(f), f"images[{n}] ({img!r:.80}): needs id, a file_name "
                                                     "inside the image folder, width and height; skipped"))
                continue
            path = base + name if "/" not in name else os.path.normpath(base + name)
            if path in self._where:
                self.problems.append(Problem(str(f), f"images[{n}]: {name} is listed again; skipped"))
                continue
            if not (name in present or ("/" in name and os.path.isfile(path))):
                self.problems.append(Problem(str(f), f"images[{n}]: image {path} not found; skipped"))
                continue
            self._where[path] = (k, img["id"], int(img["width"]), int(img["height"]))
            rows[img["id"]] = len(self._keys)
            self._keys.append(path)
            if chosen is not None:
                chosen.append(path)
        return rows

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
        order = np.argsort(np.asarray(cols[8], dtype=np.int64), kind="stable")
        self._row = np.asarray(cols[8], dtype=np.int64)[order]
        self._xywh = np.column_stack([np.asarray(c, dtype=np.float64) for c in cols[:4]]
                                     ).reshape(-1, 4)[order]
        self._cat = np.asarray(cols[4], dtype=np.int64)[order]
        self._crowd = np.asarray(cols[5], dtype=bool)[order]
        self._ann_id = np.asarray(cols[6], dtype=np.int64)[order]
        self._place = np.asarray(cols[7], dtype=np.int64)[order]
        self._row_file = np.asarray([self._where[p][0] for p in self._keys], dtype=np.int64)
        self._row_of = {p: i for i, p in enumerate(self._keys)}
        self._names = [{i: n for n, i in c.items()} for c in self._cat_ids]
        self._images = [Path(p) for p in sorted(self._keys)]
        self._train = [Path(p) for p in sorted(self._train)]
        self._val = [Path(p) for p in sorted(self._val)]

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

    def boxes_of(self, image: str) -> list[tuple]:
        """(x, y, w, h, category id, crowd, annotation id, file) of each box of ``image``."""
        k = self._where[image][0]
        lo, hi = self._slice(image)
        # Slices to lists at once: per-element numpy indexing was most of load_all's time.
        return [(*xywh, cat, crowd, ann_id, k) for xywh, cat, crowd, ann_id in
                zip(self._xywh[lo:hi].tolist(), self._cat[lo:hi].tolist(), self._crowd[lo:hi].tolist(),
                    self._ann_id[lo:hi].tolist())]

    def read(self, image: Path, size, classes: list[str], report: Report) -> ImageAnnotation:
        """The image's boxes; crowd regions and unusable boxes are hidden (kept in the file)."""
        key = str(image)
        if key not in self._where:
            raise LabelFileError(self.files[0], f"does not list {image}")
        k, _id, w, h = self._where[key]
        ann = ImageAnnotation(image, w, h)
        names = self._names[k]
        for x, y, bw, bh, cat, crowd, ann_id, _k in self.boxes_of(key):
            name = names.get(cat)
            box = Box(x, y, x + bw, y + bh, name or "", ref=ann_id)
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

    def save_files(self, ann: ImageAnnotation, classes: list[str]) -> dict:
        """The image's instances JSON with only that image's annotations changed."""
        key = str(ann.image_path)
        if key not in self._where:
            raise LabelFileError(self.files[0], f"does not list {ann.image_path}; add it there first")
        k, image_id, _w, _h = self._where[key]
        f, state = self.files[k], self._files[k]
        if _stamp(f) != state["stamp"]:
            raise LabelFileError(f, "was changed on disk since it was opened (by another program?); "
                                    "nothing was saved: reopen the dataset, then edit again")
        text = _saved_text(f)
        lo, hi = self._slice(key)
        places = self._place[lo:hi].tolist()
        starts, ends = state["starts"], state["ends"]
        raw = [text[starts[i]:ends[i]] for i in places]
        mine = [json.loads(r) for r in raw]
        visible = {b.ref for b in self.read(ann.image_path, None, classes, None).boxes}
        edited = edited_entries(mine, ann.boxes, visible, self._cat_ids[k], f, state["next_id"], image_id)
        by_id = {id(d): r for d, r in zip(mine, raw)}
        new = [entry_text(e, by_id, state["seps"]) for e in edited]
        if isinstance(text, bytes):
            new = [t if isinstance(t, bytes) else t.encode("ascii") for t in new]
        sep = state["sep"].encode("ascii") if isinstance(text, bytes) else state["sep"]
        out, new_starts, new_ends, old_to_new, new_index = spliced(
            text, starts, ends, set(places), min(places) if places else len(starts), new, state["array"], sep)
        self._pending = (k, key, edited, new_starts, new_ends, old_to_new, new_index, lo, hi)
        return {f: out if isinstance(out, bytes) else out.encode("utf-8")}

    def saved(self) -> None:
        """The save is on disk: the columns and the spans follow it."""
        k, key, edited, state_starts, state_ends, old_to_new, new_index, lo, hi = self._pending
        state = self._files[k]
        state["starts"], state["ends"] = state_starts, state_ends
        state["stamp"] = _stamp(self.files[k])
        ids = [e["id"] for e in edited if isinstance(e.get("id"), int)]
        state["next_id"] = max([state["next_id"] - 1, *ids]) + 1
        in_file = self._row_file[self._row] == k
        self._place[in_file] = old_to_new[self._place[in_file]]
        row = self._row_of[key]
        new = {"_row": [row] * len(edited), "_xywh": [[float(v) for v in e["bbox"]] for e in edited],
               "_cat": [e["category_id"] for e in edited], "_crowd": [bool(e.get("iscrowd", 0)) for e in edited],
               "_ann_id": [e.get("id", -1) for e in edited], "_place": new_index}
        for name, values in new.items():
            column = getattr(self, name)
            values = np.asarray(values, dtype=column.dtype).reshape((-1, *column.shape[1:]))
            setattr(self, name, np.concatenate([column[:lo], values, column[hi:]]))

    def class_file_name(self) -> str:
        return "the 'categories' of the instances JSON files"


def _file_name(img) -> str | None:
    """The entry's file_name as a path below the image folder, or None when the entry is unusable."""
    if not isinstance(img, dict) or not all(k in img for k in ("id", "file_name", "width", "height")):
        return None
    name = img["file_name"]
    if not isinstance(name, str) or not name.strip() or "\x00" in name:
        return None
    name = name.replace("\\", "/")
    parts = name.split("/")
    if name.startswith("/") or ".." in parts or ":" in parts[0]:
        return None   # absolute or climbing out: it could name any file on this machine
    if not all(isinstance(img[k], (int, float)) and not isinstance(img[k], bool) and img[k] > 0
               for k in ("width", "height")):
        return None
    return name.replace("/", os.sep)


def _saved_text(f: Path):
    """The file as bytes when it is ASCII (COCO's own files are: offsets are then byte offsets,
    and a save never holds a decoded copy of 450 MB), else as text."""
    try:
        data = f.read_bytes()
    except OSError as e:
        raise LabelFileError(f, f"cannot be read ({e.strerror or e})") from None
    return data if data.isascii() else read_text(f)


def _stamp(f: Path) -> tuple[int, int]:
    st = f.stat()
    return st.st_size, st.st_mtime_ns


def _file_state(text: str, stamp, starts: list, ends: list, array: tuple, ids: list) -> dict:
    """What saving into this file needs: the annotations' spans, their separator and style, the next id."""
    sep = text[ends[0]:starts[1]] if len(starts) > 1 else ", "
    sample = text[starts[0]:ends[0]] if starts else '{"a": 1}'
    return {"stamp": stamp, "starts": np.asarray(starts, dtype=np.int64), "ends": np.asarray(ends, dtype=np.int64),
            "array": array, "sep": sep, "seps": separators(sample),
            "next_id": max((i for i in ids if isinstance(i, int)), default=0) + 1}
