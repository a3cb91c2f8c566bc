"""A project: folders of images with labels next to them, classes, split, anchors.

Everything is stored in one human-readable file, ``yolo_studio.json``, in the
project root; labels stay in files other tools read (VOC XML or YOLO txt next
to each image). A plain folder of images with LabelImg XMLs or YOLO txt files
opens as a project without that file; it is written on the first save.

Changes whose files depend on each other land together or not at all: a
class rename/removal rewrites every label file plus the class lists in one
journalled step, and so does a save that adds a class (``atomic.write_together``);
opening a project finishes a step a killed process left half-done and
removes the temporary files it left behind.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from xml.sax.saxutils import unescape as xml_unescape

import cv2
import numpy as np

from .annotations import Box, ImageAnnotation
from .atomic import (MissingFolderError, atomic_write_bytes, finish_interrupted, remove_orphan_temps,
                     write_together)
from .class_names import check_class_name, check_new_class, class_name_problem, look_alike
from .errors import ConfigError, ImageFileError, LabelFileError, Problem, YoloStudioError
from .formats import edit
from .formats.checks import check_boxes
from .formats.voc import parse_voc, parse_voc_tree, voc_xml
from .formats.yolo_txt import (CLASSES_FILE, classes_text, read_classes, read_yolo, sidecar_path,
                               yolo_files)
from .images import image_size, is_image_file
from .model_family import AnchorSet

PROJECT_FILE = "yolo_studio.json"
# The project file's format version this code reads and writes. A newer file
# is refused rather than opened and silently rewritten without what it added.
PROJECT_VERSION = 1
_KNOWN_KEYS = {"version", "classes", "image_dirs", "label_format", "val_fraction", "anchors",
               "anchors_size", "train_settings"}
# The class name of each <object> in a VOC file (LabelImg writes <name> first).
_VOC_NAME = re.compile(r"<object>.*?<name>([^<]*)</name>", re.DOTALL)
LABEL_FORMATS = ("voc", "yolo")
_LABEL_EXT = {"voc": ".xml", "yolo": ".txt"}


class Project:
    """A labelled image collection plus the settings to train on it."""

    def __init__(self, root, classes=None, image_dirs=None, label_format="voc", val_fraction=0.2,
                 anchors=None, anchors_size=416, train_settings=None):
        self.root = Path(root).absolute()
        self.classes: list[str] = list(classes or [])
        self.image_dirs: list[Path] = [self._abs(d) for d in (image_dirs or [self.root / "images"])]
        self.label_format = label_format
        self.val_fraction = float(val_fraction)
        self.anchors = anchors
        self.anchors_size = int(anchors_size)
        self.train_settings: dict = dict(train_settings or {})
        self._images: list[Path] | None = None
        self._split: tuple[list[Path], list[Path]] | None = None
        # Keys of yolo_studio.json this version does not know (a plugin's, a
        # later version's): kept and written back, never dropped.
        self.extra_settings: dict = {}

    def _abs(self, d) -> Path:
        d = Path(d)
        return d if d.is_absolute() else self.root / d

    @property
    def project_file(self) -> Path:
        return self.root / PROJECT_FILE

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    # --- opening, creating, saving -------------------------------------------------

    @classmethod
    def open(cls, path, label_format: str | None = None) -> "Project":
        """Open a project folder, its yolo_studio.json, or a plain folder of labelled images.

        ``label_format`` forces how labels are read (otherwise the project
        file says, or a plain folder's files decide); it is not saved.
        """
        path = Path(path).expanduser().absolute()
        if path.is_file() and path.name == PROJECT_FILE:
            path = path.parent
        if not path.is_dir():
            raise ConfigError(f"{path}: project folder not found (give a folder of images "
                              f"or a folder with {PROJECT_FILE})")
        if label_format is not None:
            _check_format(label_format, "label format")
        finish_interrupted(path)   # before reading: the journal may rewrite the project file
        if (path / PROJECT_FILE).is_file():
            project = cls._from_file(path / PROJECT_FILE)
            project.label_format = label_format or project.label_format
        else:
            project = cls._from_plain_folder(path, label_format)
        for folder in {project.root, *project.image_dirs}:
            remove_orphan_temps(folder)
        return project

    @classmethod
    def create(cls, root, classes, image_dirs=None, label_format="voc") -> "Project":
        """Make a new project folder (refuses to replace an existing project file).

        Relative ``image_dirs`` are relative to ``root`` (default: root/images).
        """
        root = Path(root).expanduser().absolute()
        if (root / PROJECT_FILE).exists():
            raise ConfigError(f"{root / PROJECT_FILE} already exists; open that project instead")
        _check_format(label_format, "label_format")
        project = cls(root, _check_classes(list(classes), "classes"), image_dirs, label_format)
        root.mkdir(parents=True, exist_ok=True)   # only a new project may make its folder
        for d in project.image_dirs:
            d.mkdir(parents=True, exist_ok=True)
        project.save()
        return project

    @classmethod
    def _from_file(cls, file: Path) -> "Project":
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"{file}: cannot be read ({e})") from None
        except ValueError as e:
            raise ConfigError(f"{file}: not valid JSON ({e}); fix or delete it") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{file}: expected a JSON object at the top level")
        project = cls(file.parent, **_validated(data, file))
        project.extra_settings = {k: v for k, v in data.items() if k not in _KNOWN_KEYS}
        return project

    @classmethod
    def _from_plain_folder(cls, root: Path, label_format: str | None = None) -> "Project":
        dirs = [root]
        if not _has_images(root) and _has_images(root / "images"):
            dirs = [root / "images"]
        fmt = label_format or _detect_format(dirs)
        project = cls(root, [], dirs, fmt)
        if fmt == "yolo":
            names = [d / CLASSES_FILE for d in dirs if (d / CLASSES_FILE).is_file()]
            project.classes = read_classes(names[0]) if names else []
        else:
            project.classes = project._gather_voc_classes()
        return project

    def _gather_voc_classes(self) -> list[str]:
        # Only the class names are needed here, and parsing 10,000 XML files
        # was most of the time to open a labelled folder: a regex over the raw
        # text is ~10x cheaper. A file the regex cannot vouch for (not UTF-8,
        # a DOCTYPE or entity, a name that breaks the class-name rule) is
        # parsed properly, and gives no names if it is refused or malformed.
        seen: set[str] = set()
        for _image, label in self._labelled():
            try:
                data = label.read_bytes()
            except OSError:
                continue  # load_all reports it
            seen.update(_voc_class_names(data, label))
        return sorted(seen)  # sorted: adding a file never reorders (renumbers) classes

    def to_dict(self) -> dict:
        """The project file's content (keys this version does not know are kept)."""
        return self._project_dict(self.classes)

    def _project_dict(self, classes: list[str]) -> dict:
        return {**self.extra_settings, "version": PROJECT_VERSION, "classes": list(classes),
                "image_dirs": [self._rel(d) for d in self.image_dirs],
                "label_format": self.label_format, "val_fraction": self.val_fraction,
                "anchors": self.anchors and AnchorSet.parse(self.anchors).to_json(),
                "anchors_size": self.anchors_size, "train_settings": self.train_settings}

    def _rel(self, d: Path) -> str:
        try:
            return d.relative_to(self.root).as_posix() or "."
        except ValueError:
            return str(d)

    def save(self) -> None:
        """Write yolo_studio.json (and classes.txt for YOLO labels), together and atomically.

        Never creates the project folder: if it has gone (moved, unmounted),
        MissingFolderError says so and nothing is written anywhere.
        """
        self._write(self._class_files(self.classes))

    def _class_files(self, classes: list[str]) -> dict:
        """The files that hold the class list, with ``classes`` as their content."""
        files = {self.project_file: (json.dumps(self._project_dict(classes), indent=2) + "\n").encode()}
        if self.label_format == "yolo":
            for d in self.image_dirs:
                if d.is_dir():
                    files[d / CLASSES_FILE] = classes_text(classes).encode("utf-8")
        return files

    def _write(self, files: dict) -> None:
        """Write ``files`` ({path: bytes or None}) as one step; the project folder must exist."""
        if not self.root.is_dir():
            raise MissingFolderError(self.root, self.project_file)
        finish_interrupted(self.root)
        write_together(self.root, files)

    # --- images -------------------------------------------------------------------

    def image_paths(self) -> list[Path]:
        """All images of the project, sorted; cached until refresh()."""
        if self._images is None:
            self._images = _scan_images(self.image_dirs)
            self._split = None
        return list(self._images)

    def refresh(self) -> list[Path]:
        """Rescan the image folders; returns the images that are new since the last scan."""
        before = set(self._images or [])
        self._images = None
        return [p for p in self.image_paths() if p not in before]

    def label_path(self, image) -> Path:
        """Where the label file of ``image`` lives (next to it)."""
        return Path(image).with_suffix(_LABEL_EXT[self.label_format])

    def has_labels(self, image) -> bool:
        """True if ``image`` has a label file (nothing is decoded or parsed)."""
        return self.label_path(image).is_file()

    def _labelled(self):
        for image in self.image_paths():
            label = self.label_path(image)
            if label.is_file():
                yield image, label

    # --- labels -------------------------------------------------------------------

    def load_annotation(self, image) -> ImageAnnotation:
        """The labels of ``image`` (empty if it has none); LabelFileError if the file is malformed.

        Boxes that cannot be shown are in ``hidden`` and what is wrong in
        ``notes``; both stay on disk through :meth:`save_annotation`.
        """
        image = Path(image)
        label = self.label_path(image)
        _refuse_non_file(label)
        if not label.is_file():
            w, h = image_size(image)
            return ImageAnnotation(image, w, h)
        return self._read_label(image, label)

    def _read_label(self, image: Path, label: Path, size=None, report=None) -> ImageAnnotation:
        if self.label_format == "yolo":
            w, h = size or image_size(image)
            return read_yolo(label, w, h, self.classes, image, report)
        if size is None:
            try:
                size = image_size(image)
            except ImageFileError:
                size = None  # the XML's <size> may still say it
        try:
            data = label.read_bytes()
        except OSError as e:
            raise LabelFileError(label, f"cannot be read ({e.strerror or e})") from None
        ann = parse_voc(data, label, image, report, size)
        if ann.width <= 0 or ann.height <= 0:
            ann.width, ann.height = image_size(image)
        return ann

    def save_annotation(self, ann: ImageAnnotation) -> None:
        """Save one image's labels atomically; classes not in the project are added to it.

        The label file and the class list land together or not at all. Boxes
        the file holds but that cannot be shown (``hidden``) are written back
        as they are on disk; a label file that cannot be read is not replaced.
        """
        new = list(dict.fromkeys(b.label for b in ann.boxes if b.label not in self.classes))
        for i, name in enumerate(new):
            check_new_class(name, self.classes + new[:i], "class name")
        classes = self.classes + new
        ann = ann.copy()
        if ann.width <= 0 or ann.height <= 0:
            ann.width, ann.height = image_size(ann.image_path)
        label = self.label_path(ann.image_path)
        if new or self.label_format == "yolo":   # YOLO ids mean whatever the list on disk says
            self._require_current_classes()
        ann.hidden = self._hidden_on_disk(ann, label)
        if self.label_format == "yolo":
            files = yolo_files(ann, label, classes)
        else:
            files = {label: voc_xml(ann, label).encode("utf-8")}
        if new:
            files.update(self._class_files(classes))
        self._write(files)
        self.classes = classes   # only once the files say so too

    def _hidden_on_disk(self, ann: ImageAnnotation, label: Path) -> list:
        _refuse_non_file(label)
        if not label.is_file():
            return []
        try:
            return self._read_label(ann.image_path, label, (ann.width, ann.height)).hidden
        except LabelFileError as e:
            raise LabelFileError(e.path, f"{e.what}. The file is left as it is: fix or delete it "
                                         "before saving new labels for this image") from None

    def load_all(self) -> tuple[list[ImageAnnotation], list[Problem]]:
        """Every labelled image's annotation, plus the problems found; never writes anything.

        Images without a label file are left out (not labelled yet); an empty
        label file is an image checked to hold no objects.
        """
        anns: list[ImageAnnotation] = []
        problems: list[Problem] = []
        for image in self.image_paths():
            label = self.label_path(image)
            if not label.is_file():
                continue
            ann = self._load_checked(image, label, problems)
            if ann is not None:
                anns.append(ann)
        problems.extend(self._orphan_labels())
        return anns, problems

    def _load_checked(self, image: Path, label: Path, problems: list[Problem]) -> ImageAnnotation | None:
        try:
            w, h = image_size(image)
        except ImageFileError as e:
            problems.append(Problem(str(image), f"{e.what}; its labels are skipped"))
            return None
        try:
            ann = self._read_label(image, label, (w, h), problems.append)
        except LabelFileError as e:
            problems.append(Problem(str(e.path), f"{e.what}; file skipped"))
            return None
        boxes = [b for b in ann.boxes if self._known(b, label, problems)]
        ann.boxes = check_boxes(boxes, w, h, label, problems.append)
        ann.width, ann.height = w, h
        return ann

    def _known(self, box: Box, label: Path, problems: list[Problem]) -> bool:
        if box.label in self.classes:
            return True
        problems.append(Problem(str(label), f"class {box.label!r} is not in the project's classes "
                                            f"({PROJECT_FILE}); box skipped — add the class to use it"))
        return False

    def _orphan_labels(self) -> list[Problem]:
        ext = _LABEL_EXT[self.label_format]
        stems = {(p.parent, p.stem) for p in self.image_paths()}
        problems = []
        for d in self.image_dirs:
            for entry in _entries(d):
                name = entry.name
                if name.lower().endswith(ext) and name != CLASSES_FILE and (d, name[:-len(ext)]) not in stems:
                    problems.append(Problem(str(d / name), "label file has no image next to it "
                                                           "(an image with the same name is missing)"))
        return problems

    # --- split --------------------------------------------------------------------

    def _hash_fraction(self, image: Path) -> float:
        try:
            key = Path(os.path.relpath(Path(image).absolute(), self.root)).as_posix()
        except ValueError:
            key = Path(image).as_posix()
        digest = hashlib.sha1(key.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") / 2.0 ** 64

    def split(self) -> tuple[list[Path], list[Path]]:
        """(train, val) images: val when the hash of the relative path is below val_fraction.

        A file's split depends only on its own path, so adding images never
        moves existing ones. If the hash leaves val empty in a tiny project,
        the image with the lowest hash goes to val, so validation can run.
        """
        images = self.image_paths()
        if self._split is None:
            fractions = {p: self._hash_fraction(p) for p in images}
            val = [p for p in images if fractions[p] < self.val_fraction]
            if not val and len(images) >= 2 and self.val_fraction > 0:
                val = [min(images, key=fractions.__getitem__)]
            chosen = set(val)
            self._split = ([p for p in images if p not in chosen], val)
        return list(self._split[0]), list(self._split[1])

    def split_of(self, image) -> str:
        """'train' or 'val' for ``image``."""
        image = Path(image).absolute()
        train, val = self.split()
        if image in val:
            return "val"
        if image in train:
            return "train"
        return "val" if self._hash_fraction(image) < self.val_fraction else "train"

    # --- classes ------------------------------------------------------------------

    def add_class(self, name: str) -> None:
        """Add a class (no-op if present) and save the project."""
        name = check_new_class(name, self.classes, "class name")
        self._require_current_classes()
        if name not in self.classes:
            classes = [*self.classes, name]
            self._write(self._class_files(classes))
            self.classes = classes

    def rename_class(self, old: str, new: str) -> list[Path]:
        """Rename (or merge into an existing) class in every label file; returns files changed.

        Every label file that uses the class changes in the same step as the
        class list, or nothing changes and ConfigError names the files that block it.
        """
        self._require_class(old)
        new = check_new_class(new, [c for c in self.classes if c != old], "new class name")
        if new == old:
            return []
        merged = [c for c in self.classes if c != old] if new in self.classes else \
            [new if c == old else c for c in self.classes]
        return self._relabel(old, new, merged)[0]

    def remove_class(self, name: str) -> int:
        """Delete a class and all its boxes from every label file; returns the boxes removed.

        All or nothing, as :meth:`rename_class`.
        """
        self._require_class(name)
        return self._relabel(name, None, [c for c in self.classes if c != name])[1]

    def _relabel(self, old: str, new: str | None, new_classes: list[str]) -> tuple[list[Path], int]:
        self._require_current_classes()
        verb = f"rename class {old!r}" if new is not None else f"remove class {old!r}"
        files, changed, count, blocked = {}, [], 0, []
        for label in self._label_files():
            try:
                data = label.read_bytes()
                if self.label_format == "yolo":
                    after, n, line_map = edit.yolo_relabel(label, data, self._id_map(old, new, new_classes))
                    if after is not None:
                        files.update(self._sidecar_follow(label, data, after, line_map))
                else:
                    after, n = self._voc_relabel(label, data, old, new)
            except LabelFileError as e:
                blocked.append(str(e))
                continue
            except OSError as e:
                blocked.append(f"{label}: cannot be read ({e.strerror or e})")
                continue
            if after is not None:
                files[label] = after
                changed.append(label)
            count += n
        if blocked:
            shown = "\n  ".join(blocked[:10]) + ("\n  …" if len(blocked) > 10 else "")
            raise ConfigError(f"cannot {verb}: {len(blocked)} label file(s) could not be rewritten "
                              f"safely, so nothing was changed. Fix or move them first:\n  {shown}")
        files.update(self._class_files(new_classes))
        self._write(files)
        self.classes = new_classes
        return changed, count

    def _require_current_classes(self) -> None:
        """ConfigError if the class list on disk is no longer the one in memory.

        Two windows (or the app and a CLI command) on one project: each keeps
        its own list, and writing a stale one drops the other's new class; in a
        YOLO project it also renumbers: one's "dog" (id 1) became the other's
        "bird". Not a lock: it narrows the race to the moment of the write.
        """
        if self.project_file.is_file():
            on_disk = self._from_file(self.project_file).classes
        elif self.label_format == "yolo" and (self.image_dirs[0] / CLASSES_FILE).is_file():
            on_disk = read_classes(self.image_dirs[0] / CLASSES_FILE)
        else:
            return
        if on_disk != self.classes:
            raise ConfigError(f"{self.root}: the project's classes were changed by another window or "
                              f"program since it was opened (now {', '.join(on_disk) or 'none'}; here "
                              f"{', '.join(self.classes) or 'none'}); nothing was saved. Reopen the project")

    def _id_map(self, old: str, new: str | None, new_classes: list[str]):
        """Old YOLO class id -> new id (None: the line goes) for a rename/removal of ``old``."""
        index = {n: i for i, n in enumerate(new_classes)}
        names = self.classes
        # An id past the class list has no name yet; it keeps its place relative to the end.
        shift = len(names) - len(new_classes)

        def id_map(cid: int):
            if cid >= len(names):
                return cid - shift
            name = names[cid]
            target = new if name == old else name
            return None if target is None else index[target]
        return id_map

    def _sidecar_follow(self, label: Path, before: bytes, after: bytes, line_map: dict) -> dict:
        side = sidecar_path(label)
        if not side.is_file():
            return {}
        data = edit.yolo_sidecar_relabel(side.read_bytes(), before, after, line_map)
        return {} if data is None else {side: data}

    @staticmethod
    def _voc_relabel(label: Path, data: bytes, old: str, new: str | None):
        try:
            after, n = edit.voc_relabel(label, data, old, new)
        except LabelFileError as e:
            if _mentions(data, old):
                raise LabelFileError(label, f"{e.what}; it may hold boxes of {old!r}") from None
            return None, 0  # it cannot use the class: nothing to change there
        return after, n

    def _label_files(self) -> list[Path]:
        """Every label file in the image folders, with or without its image (orphans too)."""
        ext = _LABEL_EXT[self.label_format]
        found = {Path(e.path) for d in self.image_dirs for e in _entries(d)
                 if e.name.lower().endswith(ext) and e.name != CLASSES_FILE and e.is_file()}
        return sorted(found)

    def class_usage(self, name: str) -> tuple[int, int]:
        """(boxes, images) using class ``name``."""
        boxes = images = 0
        cid = self.classes.index(name) if name in self.classes else -1
        for _image, label in self._labelled():
            try:
                n = edit.voc_count(label, name) if self.label_format == "voc" else edit.yolo_count(label, cid)
            except (YoloStudioError, OSError):
                continue
            boxes += n
            images += n > 0
        return boxes, images

    def _require_class(self, name: str) -> None:
        if name not in self.classes:
            raise ConfigError(f"class {name!r} is not in the project's classes ({', '.join(self.classes)})")

    # --- adding images, anchors ---------------------------------------------------

    def add_image(self, image_bgr, name_hint, boxes=(), verified=False) -> Path:
        """Save a new image (e.g. a camera frame) into the first image folder; returns its path."""
        img = np.asarray(image_bgr)
        if img.dtype != np.uint8 or img.ndim not in (2, 3) or img.size == 0:
            raise ConfigError(f"add_image: expected a uint8 HxW or HxWx3 image, got {img.dtype} {img.shape}")
        folder = self.image_dirs[0]
        if not self.root.is_dir():
            raise MissingFolderError(self.root, folder / str(name_hint))
        folder.mkdir(parents=True, exist_ok=True)
        hint = Path(str(name_hint))
        stem = re.sub(r"[^\w.-]+", "_", hint.stem).strip("._") or "image"
        ext = hint.suffix.lower() if hint.suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp") else ".jpg"
        path, n = folder / f"{stem}{ext}", 0
        while path.exists() or self.label_path(path).exists():
            n += 1
            path = folder / f"{stem}_{n}{ext}"
        params = [cv2.IMWRITE_JPEG_QUALITY, 95] if ext in (".jpg", ".jpeg") else []
        ok, data = cv2.imencode(ext, img, params)
        if not ok:
            raise ImageFileError(path, "could not be encoded")
        atomic_write_bytes(path, data.tobytes())
        if self._images is not None:
            self._images = sorted([*self._images, path], key=str)
            self._split = None
        if boxes or verified:
            self.save_annotation(ImageAnnotation(path, img.shape[1], img.shape[0], list(boxes), verified))
        return path

    def model_anchors(self, model: str, input_size: int) -> AnchorSet:
        """Anchors for ``model`` at ``input_size``: the project's (scaled) if they fit, else defaults."""
        return AnchorSet.for_model(self.anchors, model, self.anchors_size, input_size)


# --- helpers ----------------------------------------------------------------------

def _refuse_non_file(label: Path) -> None:
    # A folder (or socket, fifo) where the label file should be: reading it as
    # "no labels" and then failing the save with a raw OSError hid the cause.
    if label.exists() and not label.is_file():
        raise LabelFileError(label, "is not a file (a folder?); move it away before labelling this image")


def _entries(folder: Path):
    try:
        with os.scandir(folder) as it:
            return [e for e in it if not e.name.startswith(".")]
    except (FileNotFoundError, NotADirectoryError):
        return []


def _scan_images(dirs: list[Path]) -> list[Path]:
    # One scandir pass per folder; the directory entry says 'file' without a
    # stat call, and sorting plain strings before making Paths keeps 10,000 files quick.
    found = sorted(e.path for d in dirs for e in _entries(d) if is_image_file(e.name) and e.is_file())
    return [Path(p) for p in found]


def _has_images(folder: Path) -> bool:
    return any(is_image_file(e.name) for e in _entries(folder))


def _detect_format(dirs: list[Path]) -> str:
    xml = txt = 0
    has_classes = False
    for d in dirs:
        for e in _entries(d):
            low = e.name.lower()
            if low == CLASSES_FILE:
                has_classes = True
            elif low.endswith(".xml"):
                xml += 1
            elif low.endswith(".txt"):
                txt += 1
    # VOC wins a tie: its files name their classes, so nothing depends on classes.txt.
    return "yolo" if txt > xml or (has_classes and xml == 0) else "voc"


def _check_format(value, key: str) -> str:
    if value not in LABEL_FORMATS:
        raise ConfigError(f"{key} must be one of {', '.join(LABEL_FORMATS)}, not {value!r}")
    return value


def _check_classes(classes, key: str) -> list[str]:
    if not isinstance(classes, list):
        raise ConfigError(f"{key} must be a list of class names")
    names = [check_class_name(c, f"{key} entry") for c in classes]
    if len(set(names)) != len(names):
        raise ConfigError(f"{key} lists a class twice: {names}")
    for i, name in enumerate(names):
        twin = look_alike(name, names[:i])
        if twin is not None:
            raise ConfigError(f"{key} lists {twin!r} and {name!r}, which look the same but are different "
                              "texts (other Unicode form or invisible characters); keep one")
    return names


def _validated(data: dict, file: Path) -> dict:
    def bad(key, why):
        return ConfigError(f"{file}: '{key}' {why}")
    version = data.get("version", PROJECT_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise bad("version", f"must be a whole number from 1, not {version!r}")
    if version > PROJECT_VERSION:
        raise ConfigError(f"{file}: written by a newer YOLO Studio (file version {version}; this one "
                          f"reads version {PROJECT_VERSION}). Update YOLO Studio to open it; it is "
                          "left as it is")
    classes = _check_classes(data.get("classes", []), f"{file}: 'classes'")
    fmt = _check_format(data.get("label_format", "voc"), f"{file}: 'label_format'")
    vf = data.get("val_fraction", 0.2)
    if isinstance(vf, bool) or not isinstance(vf, (int, float)) or not 0 <= vf < 1:
        raise bad("val_fraction", f"must be a number from 0 to below 1, not {vf!r}")
    size = data.get("anchors_size", 416)
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise bad("anchors_size", f"must be a positive whole number, not {size!r}")
    dirs = data.get("image_dirs") or ["images"]
    if not isinstance(dirs, list) or not all(isinstance(d, str) for d in dirs):
        raise bad("image_dirs", "must be a list of folder paths")
    settings = data.get("train_settings") or {}
    if not isinstance(settings, dict):
        raise bad("train_settings", "must be an object")
    return dict(classes=classes, image_dirs=dirs, label_format=fmt, val_fraction=float(vf),
                anchors=_validated_anchors(data.get("anchors"), bad), anchors_size=size,
                train_settings=settings)


def _validated_anchors(anchors, bad):
    if anchors is None:
        return None
    try:
        return [list(g) for g in AnchorSet.parse(anchors)]
    except ConfigError as e:
        raise bad("anchors", f"must be a list of groups of [w, h] pairs with finite, positive sizes, "
                             f"or null ({e})") from None


def _voc_class_names(data: bytes, label: Path) -> set[str]:
    """The class names one VOC file uses; none from a file that is refused or malformed."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and "<!" not in text:
        names = {xml_unescape(m.strip()) for m in _VOC_NAME.findall(text)}
        if all("&" not in n and not class_name_problem(n) for n in names):
            return names
    try:
        root = parse_voc_tree(data, label)
    except LabelFileError:
        return set()  # load_all reports it
    names = {(o.findtext("name") or "").strip() for o in root.iter("object")}
    return {n for n in names if not class_name_problem(n)}


def _mentions(data: bytes, name: str) -> bool:
    """True if a file's raw bytes may hold class ``name`` (literally or XML-escaped)."""
    from xml.sax.saxutils import escape
    return any(v.encode("utf-8") in data for v in {name, escape(name)})
