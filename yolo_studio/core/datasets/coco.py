"""A COCO dataset opened in place: ``annotations/instances_<split>.json`` + ``<split>/`` images.

Each instances file names its images (``file_name`` below ``<split>/``, or
``images/<split>/``) and holds their boxes. Category ids stay as the file
has them: classes are the category names in id order, and a saved box gets
the id its name has in that file. ``iscrowd: 1`` regions are kept in the
file and shown as hidden boxes; as COCO does, nothing trains on them.

Opening parses each JSON once into compact arrays (not a dict per box), so
a train2017-sized file stays small in memory. Saving one image re-reads its
JSON, changes only that image's annotations (a moved box keeps its id,
segmentation and every other key; a deleted one goes; a new one gets the
next free id) and replaces the file atomically. Every other key and value
is written back as read.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path, PurePosixPath

import numpy as np

from ..annotations import Box, HiddenBox, ImageAnnotation
from ..class_names import class_name_problem
from ..errors import ConfigError, LabelFileError, Problem
from ..formats.checks import Report, fit_box
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
        self._edited: dict[str, list] = {}  # image -> annotation entries written by a save
        parts = [self._load(i, f) for i, f in enumerate(self.files)]
        self._index(parts)

    # --- opening ---------------------------------------------------------------------

    def _load(self, k: int, f: Path):
        data = _read_json(f)
        names = {}
        for c in data["categories"]:
            if not isinstance(c, dict) or not isinstance(c.get("id"), int) or class_name_problem(str(c.get("name"))):
                raise LabelFileError(f, f"category {c!r} needs a whole-number 'id' and a usable 'name'")
            names[c["id"]] = c["name"]
        self._merge_classes(f, names)
        self._cat_ids.append({n: i for i, n in names.items()})
        folder = self._image_folder(f)
        ids = {}
        for n, img in enumerate(data["images"]):
            path = _image_path(img, folder)
            if path is None:
                self.problems.append(Problem(str(f), f"images[{n}] ({img!r:.80}): needs id, a file_name "
                                                     "inside the image folder, width and height; skipped"))
                continue
            if str(path) in self._where:
                self.problems.append(Problem(str(f), f"images[{n}]: {path.name} is listed again; skipped"))
                continue
            if not path.is_file():
                self.problems.append(Problem(str(f), f"images[{n}]: image {path} not found; skipped"))
                continue
            self._where[str(path)] = (k, img["id"], int(img["width"]), int(img["height"]))
            ids[img["id"]] = str(path)
        split = split_name(f).lower()
        chosen = self._train if "train" in split else self._val if "val" in split else None
        if chosen is not None:
            chosen.extend(Path(p) for p in ids.values())
        rows = []
        for n, a in enumerate(data["annotations"]):
            try:
                x, y, w, h = (float(v) for v in a["bbox"])
                rows.append((a["image_id"], x, y, w, h, a["category_id"], int(bool(a.get("iscrowd", 0))),
                             a.get("id", -1)))
            except (KeyError, TypeError, ValueError):
                self.problems.append(Problem(str(f), f"annotations[{n}]: needs image_id, category_id and a "
                                                     "bbox [x, y, w, h]; skipped"))
        unknown = {r[0] for r in rows} - set(ids)
        if unknown:
            self.problems.append(Problem(str(f), f"{len(unknown)} image id(s) have annotations but no usable "
                                                 f"entry in 'images' (first: {min(unknown, key=str)!r}); skipped"))
        return k, ids, names, rows

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

    def _index(self, parts) -> None:
        # One row per box, sorted by image: a read is a slice, not a scan.
        keys, rows_all = [], []
        for k, ids, names, rows in parts:
            for r in rows:
                path = ids.get(r[0])
                if path is not None:
                    keys.append(path)
                    rows_all.append((r[1], r[2], r[3], r[4], r[5], r[6], r[7], k))
        order = sorted(range(len(keys)), key=keys.__getitem__)
        self._keys = [keys[i] for i in order]
        arr = np.array([rows_all[i] for i in order], dtype=np.float64).reshape(-1, 8)
        self._xywh, self._cat = arr[:, 0:4], arr[:, 4].astype(np.int64)
        self._crowd, self._ann_id, self._file = arr[:, 5] > 0, arr[:, 6].astype(np.int64), arr[:, 7].astype(int)
        self._names = [{i: n for n, i in c.items()} for c in self._cat_ids]
        self._images = sorted(Path(p) for p in self._where)
        self._train.sort(key=str)
        self._val.sort(key=str)

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

    def boxes_of(self, image: str) -> list[tuple]:
        """(x, y, w, h, category id, crowd, annotation id, file) of each box of ``image``."""
        if image in self._edited:
            k = self._where[image][0]
            return [(*map(float, a["bbox"]), a["category_id"], bool(a.get("iscrowd", 0)), a.get("id", -1), k)
                    for a in self._edited[image]]
        lo = _bisect(self._keys, image, False)
        hi = _bisect(self._keys, image, True)
        return [(*self._xywh[i], int(self._cat[i]), bool(self._crowd[i]), int(self._ann_id[i]),
                 int(self._file[i])) for i in range(lo, hi)]

    def read(self, image: Path, size, classes: list[str], report: Report) -> ImageAnnotation:
        """The image's boxes; crowd regions and unusable boxes are hidden (kept in the file)."""
        key = str(image)
        if key not in self._where:
            raise LabelFileError(self.files[0], f"does not list {image}")
        k, _id, w, h = self._where[key]
        ann = ImageAnnotation(Path(image), w, h)
        for x, y, bw, bh, cat, crowd, ann_id, _k in self.boxes_of(key):
            name = self._names[k].get(cat)
            box = Box(x, y, x + bw, y + bh, name or "", ref=ann_id)
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
        k, image_id, w, h = self._where[key]
        f = self.files[k]
        data = _read_json(f)
        before = self.read(ann.image_path, None, classes, None)
        visible = {b.ref for b in before.boxes}
        mine, others = [], []
        for a in data["annotations"]:
            (mine if isinstance(a, dict) and a.get("image_id") == image_id else others).append(a)
        edited = _edit(mine, ann.boxes, visible, self._cat_ids[k], f, data["annotations"], image_id)
        data["annotations"] = _in_place(data["annotations"], mine, edited)
        self._pending = (key, edited)
        return {f: _dumps(data, f)}

    def saved(self) -> None:
        """Called once the files of save_files are on disk: later reads see the new boxes."""
        key, edited = self._pending
        self._edited[key] = edited

    def class_file_name(self) -> str:
        return "the 'categories' of the instances JSON files"


def _bisect(keys: list[str], key: str, right: bool) -> int:
    import bisect
    return (bisect.bisect_right if right else bisect.bisect_left)(keys, key)


def _read_json(f: Path) -> dict:
    try:
        data = json.loads(f.read_bytes())
    except OSError as e:
        raise LabelFileError(f, f"cannot be read ({e.strerror or e})") from None
    except ValueError as e:
        raise LabelFileError(f, f"malformed JSON ({e})") from None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list)
                                             for k in ("images", "annotations", "categories")):
        raise LabelFileError(f, "not a COCO instances file (needs images, annotations and categories lists)")
    return data


def _image_path(img, folder: Path) -> Path | None:
    if not isinstance(img, dict) or not all(k in img for k in ("id", "file_name", "width", "height")):
        return None
    name = img["file_name"]
    if not isinstance(name, str) or not name.strip():
        return None
    rel = PurePosixPath(name.replace("\\", "/"))
    if rel.is_absolute() or ".." in rel.parts:
        return None
    if not all(isinstance(img[k], (int, float)) and not isinstance(img[k], bool) and img[k] > 0
               for k in ("width", "height")):
        return None
    return Path(os.path.normpath(folder / Path(*rel.parts)))


def _edit(mine: list, boxes: list[Box], visible: set, cat_ids: dict, f: Path, all_anns: list,
          image_id) -> list:
    """The image's annotation entries after a save: moved ones updated, deleted ones gone, new ones added."""
    used: set[int] = set()
    out = []
    for a in mine:
        box = next((b for b in boxes if b.ref is not None and b.ref == a.get("id") and id(b) not in used), None)
        if box is None:
            if a.get("id") not in visible:
                out.append(a)   # hidden (crowd, unknown category, unusable): kept as read
            continue
        used.add(id(box))
        out.append(_updated(a, box, cat_ids, f))
    next_id = max((a.get("id") for a in all_anns if isinstance(a.get("id"), int)), default=0) + 1
    for b in boxes:
        if id(b) in used:
            continue
        entry = {"id": next_id, "image_id": image_id, "category_id": _cat(b.label, cat_ids, f),
                 "bbox": [b.x1, b.y1, b.width, b.height], "area": b.width * b.height, "iscrowd": 0}
        next_id += 1
        out.append(entry)
    return out


def _updated(a: dict, b: Box, cat_ids: dict, f: Path) -> dict:
    bbox = [b.x1, b.y1, b.width, b.height]
    if not all(math.isfinite(v) for v in bbox):
        raise LabelFileError(f, f"not written: annotation {a.get('id')} has a number that is not finite")
    old = [float(v) for v in a["bbox"]]
    cat = _cat(b.label, cat_ids, f)
    if max(abs(u - v) for u, v in zip(old, bbox)) < 1e-9 and cat == a["category_id"]:
        return a        # unchanged: every value as read
    return {**a, "bbox": bbox, "area": b.width * b.height, "category_id": cat}


def _cat(name: str, cat_ids: dict, f: Path) -> int:
    if name not in cat_ids:
        raise LabelFileError(f, f"has no category {name!r}; add it to 'categories' there first "
                                "(YOLO Studio keeps the file's category ids and adds none)")
    return cat_ids[name]


def _in_place(anns: list, mine: list, edited: list) -> list:
    """``anns`` with the image's entries replaced by ``edited``, at the place its first one was."""
    if not mine:
        return anns + edited
    ids = {id(a) for a in mine}
    first = next(i for i, a in enumerate(anns) if id(a) in ids)
    rest = [a for a in anns if id(a) not in ids]
    cut = sum(1 for a in anns[:first] if id(a) not in ids)
    return rest[:cut] + edited + rest[cut:]


def _dumps(data: dict, f: Path) -> bytes:
    """JSON text in the file's own style: indented if it was, compact if it was not."""
    try:
        with open(f, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        head = b""
    indent = None
    if b"\n" in head.strip():
        line = head.split(b"\n", 2)[1] if head.count(b"\n") > 1 else b""
        indent = (len(line) - len(line.lstrip())) or None
    seps = (",", ":") if b'":' in head and b'": ' not in head else None
    return (json.dumps(data, indent=indent, separators=seps, ensure_ascii=False) + "\n").encode("utf-8")
