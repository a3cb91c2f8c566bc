"""A project: images with their labels, classes, split, anchors.

Labels live either next to each image (VOC XML or YOLO txt, the layout
LabelImg writes) or in a dataset another tool laid out, opened in place
(``Project.dataset``, a :mod:`~yolo_studio.core.datasets` layout: an
ultralytics data.yaml, a VOC devkit, COCO instances files).

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
from pathlib import Path

import numpy as np

from .annotations import Box, ImageAnnotation
from .atomic import MissingFolderError, finish_interrupted, remove_orphan_temps, write_together
from .class_names import check_new_class
from .datasets.base import Layout, PerFileLayout
from .datasets.detect import find_layout, open_layout
from .errors import ConfigError, ImageFileError, LabelFileError, Problem, YoloStudioError
from .formats import edit
from .formats.checks import check_boxes
from .formats.registry import CODECS, codec
from .formats.yolo_txt import CLASSES_FILE, classes_text, read_classes
from .images import image_size
from .model_family import AnchorSet
from .project_file import (KNOWN_KEYS, PROJECT_FILE, PROJECT_VERSION, check_classes, check_format,
                           gather_voc_classes, validated)
from .project_relabel import relabel_files
from .project_scan import detect_format as _detect_format, entries as _entries, has_images as _has_images, \
    label_sharers, refuse_non_file as _refuse_non_file, refuse_shared, scan_images as _scan_images, \
    sharer_problems, write_new_image

__all__ = ["PROJECT_FILE", "PROJECT_VERSION", "LABEL_FORMATS", "Project"]
LABEL_FORMATS = tuple(CODECS)


class Project:
    """A labelled image collection plus the settings to train on it."""

    def __init__(self, root, classes=None, image_dirs=None, label_format="voc", val_fraction=0.2,
                 anchors=None, anchors_size=416, train_settings=None, dataset: Layout | None = None):
        self.root = Path(root).absolute()
        # A dataset in another tool's layout, opened in place (None: labels beside the images).
        self.dataset = dataset
        self.classes: list[str] = list(classes or [])
        self.image_dirs: list[Path] = [self._abs(d) for d in (image_dirs or [self.root / "images"])]
        self.label_format = label_format
        if dataset is not None:
            self.image_dirs = dataset.image_dirs()
            self.label_format = dataset.label_format
            self.classes = list(dataset.classes)
        self.val_fraction = float(val_fraction)
        self.anchors = anchors
        self.anchors_size = int(anchors_size)
        self.train_settings: dict = dict(train_settings or {})
        self._images: list[Path] | None = None
        self._shared: tuple = (None, {})    # (image list, label files two of its images share)
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
        """Open a project folder, its yolo_studio.json, a dataset in place, or a plain image folder.

        A dataset in place: an ultralytics ``data.yaml`` (or its folder), a VOC
        devkit folder, a COCO folder with ``annotations/instances_*.json``.
        ``label_format`` forces how labels beside images are read (otherwise
        the project file says, or a plain folder's files decide); it is not saved.
        """
        path = Path(path).expanduser().absolute()
        if path.is_file() and path.name == PROJECT_FILE:
            path = path.parent
        if path.is_file() and label_format is None:
            layout = find_layout(path)
            if layout is not None:
                return cls._in_place(path.parent, layout)
        if not path.is_dir():
            raise ConfigError(f"{path}: project folder not found (give a folder of images "
                              f"or a folder with {PROJECT_FILE})")
        if label_format is not None:
            check_format(label_format, "label format")
        finish_interrupted(path)   # before reading: the journal may rewrite the project file
        layout = None if label_format or (path / PROJECT_FILE).is_file() else find_layout(path)
        if layout is not None:
            return cls._in_place(path, layout)
        if (path / PROJECT_FILE).is_file():
            project = cls._from_file(path / PROJECT_FILE)
            if project.dataset is None:
                project.label_format = label_format or project.label_format
        else:
            project = cls._from_plain_folder(path, label_format)
        for folder in {project.root, *project.image_dirs}:
            remove_orphan_temps(folder)
        return project

    @classmethod
    def _in_place(cls, root: Path, layout: Layout) -> "Project":
        """A project over ``layout`` (no project file yet; the first save writes one beside it)."""
        finish_interrupted(root)
        return cls(root, dataset=layout)

    @classmethod
    def create(cls, root, classes, image_dirs=None, label_format="voc") -> "Project":
        """Make a new project folder (refuses to replace an existing project file).

        Relative ``image_dirs`` are relative to ``root`` (default: root/images).
        """
        root = Path(root).expanduser().absolute()
        if (root / PROJECT_FILE).exists():
            raise ConfigError(f"{root / PROJECT_FILE} already exists; open that project instead")
        check_format(label_format, "label_format")
        project = cls(root, check_classes(list(classes), "classes"), image_dirs, label_format)
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
        settings = validated(data, file)
        ref = data.get("dataset")
        if ref is not None:
            source = Path(ref["path"]) if Path(ref["path"]).is_absolute() else file.parent / ref["path"]
            settings["dataset"] = open_layout(ref["layout"], source)
        project = cls(file.parent, **settings)
        project.extra_settings = {k: v for k, v in data.items() if k not in KNOWN_KEYS}
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
        return gather_voc_classes(self._labelled())

    def to_dict(self) -> dict:
        """The project file's content (keys this version does not know are kept)."""
        return self._project_dict(self.classes)

    def _project_dict(self, classes: list[str]) -> dict:
        out = {**self.extra_settings, "version": PROJECT_VERSION, "classes": list(classes),
               "image_dirs": [self._rel(d) for d in self.image_dirs],
               "label_format": self.label_format, "val_fraction": self.val_fraction,
               "anchors": self.anchors and AnchorSet.parse(self.anchors).to_json(),
               "anchors_size": self.anchors_size, "train_settings": self.train_settings}
        if self.dataset is not None:
            # The dataset's own files define images, labels, split and classes;
            # this file only points at it and keeps the app's settings.
            out["dataset"] = {"layout": self.dataset.kind, "path": self.dataset.reference(self.root)}
        return out

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
        if self.label_format == "yolo" and self.dataset is None:
            for d in self.image_dirs:
                if d.is_dir():
                    files[d / CLASSES_FILE] = classes_text(classes).encode("utf-8")
        return files

    def _write(self, files: dict) -> None:
        """Write ``files`` ({path: bytes or None}) as one step; the project folder must exist."""
        if not self.root.is_dir():
            raise MissingFolderError(self.root, self.project_file)
        finish_interrupted(self.root)
        if self.dataset is not None:    # a layout's label folder below the root (labels/val/) may be new
            for path in files:
                if path.parent.is_relative_to(self.root):
                    path.parent.mkdir(parents=True, exist_ok=True)
        write_together(self.root, files)

    # --- images -------------------------------------------------------------------

    def image_paths(self) -> list[Path]:
        """All images of the project, sorted; cached until refresh()."""
        if self._images is None:
            self._images = self.dataset.images() if self.dataset else _scan_images(self.image_dirs)
            self._split = None
        return list(self._images)

    def refresh(self) -> list[Path]:
        """Rescan the image folders; returns the images that are new since the last scan."""
        before = set(self._images or [])
        self._images = None
        return [p for p in self.image_paths() if p not in before]

    def label_path(self, image) -> Path:
        """Where the label file of ``image`` lives (next to it, or where the dataset's layout says)."""
        if self.dataset is not None:
            return self.dataset.label_path(image)
        return Path(image).with_suffix(codec(self.label_format).extension)

    def has_labels(self, image) -> bool:
        """True if ``image`` has a label file (nothing is decoded or parsed)."""
        if self.dataset is not None:
            return self.dataset.has_labels(image)
        return self.label_path(image).is_file()

    def label_stamp(self, image):
        """What changes when ``image``'s labels change on disk, None if it has no label file.

        The label file's (mtime, size), except where one file holds every image
        (COCO): there another image's save here is not a change to this one.
        """
        if self.dataset is not None:
            return self.dataset.change_stamp(image)
        try:
            st = self.label_path(image).stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

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
        if not self.has_labels(image):
            w, h = image_size(image)
            return ImageAnnotation(image, w, h)
        return self._read_label(image, label)

    def _read_label(self, image: Path, label: Path, size=None, report=None) -> ImageAnnotation:
        if self.dataset is not None:
            return self.dataset.read(image, size or self.dataset.known_size(image), self.classes, report)
        return codec(self.label_format).read(label, image, size, self.classes, report)

    def save_annotation(self, ann: ImageAnnotation) -> None:
        """Save one image's labels atomically; classes not in the project are added to it.

        The label file and the class list land together or not at all. Boxes
        the file holds but that cannot be shown (``hidden``) are written back
        as they are on disk; a label file that cannot be read is not replaced.
        """
        new = list(dict.fromkeys(b.label for b in ann.boxes if b.label not in self.classes))
        if new and self.dataset is not None and self.dataset.label_format != "voc":
            raise self.dataset.refuse_class_change(f"add class {new[0]!r}")
        for i, name in enumerate(new):
            check_new_class(name, self.classes + new[:i], "class name")
        classes = self.classes + new
        ann = ann.copy()
        if ann.width <= 0 or ann.height <= 0:
            ann.width, ann.height = image_size(ann.image_path)
        label = self.label_path(ann.image_path)
        if new or self.label_format == "yolo":   # YOLO ids mean whatever the list on disk says
            self._require_current_classes()
        refuse_shared(self._sharers(), ann.image_path, label)
        ann.hidden = self._hidden_on_disk(ann, label)
        if self.dataset is not None:
            files = self.dataset.save_files(ann, classes)
        else:
            files = codec(self.label_format).files(ann, label, classes)
        if new and (self.dataset is None or self.project_file.is_file()):
            files.update(self._class_files(classes))
        self._write(files)
        if self.dataset is not None:
            self.dataset.saved()
        self.classes = classes   # only once the files say so too

    def _hidden_on_disk(self, ann: ImageAnnotation, label: Path) -> list:
        _refuse_non_file(label)
        if not self.has_labels(ann.image_path):
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
        if self.dataset is not None:
            problems.extend(self.dataset.problems)
        read_all = getattr(self.dataset, "read_all", None)   # a layout that reads everything at once
        if read_all is not None:
            known = set(self.classes)
            anns = [a for a in read_all(problems.append) if self._all_known(a, problems, known)]
        for image in [] if read_all is not None else self.image_paths():
            if not self.has_labels(image):
                continue
            ann = self._load_checked(image, self.label_path(image), problems)
            if ann is not None:
                anns.append(ann)
        problems.extend(self.dataset.orphans() if self.dataset else self._orphan_labels())
        return anns, problems + sharer_problems(self._sharers())

    def _sharers(self) -> dict:
        """Label files two images would use (none where one file holds every image: COCO)."""
        # Kept while the cached image list is the same list; never fills that cache itself.
        images = self._images
        if images is None or self._shared[0] is not images:
            images = images if images is not None else \
                self.dataset.images() if self.dataset else _scan_images(self.image_dirs)
            one_file = self.dataset is not None and not isinstance(self.dataset, PerFileLayout)
            self._shared = images, {} if one_file else label_sharers(images, self.label_path)
        return self._shared[1]

    def box_table(self):
        """The boxes of :meth:`load_all` as columns, with the same problems, where the dataset keeps
        an index of them (COCO); None otherwise (then load_all is the way)."""
        if self.dataset is None:
            return None
        problems = list(self.dataset.problems)
        table = self.dataset.box_table(problems.append)
        if table is None or not set(table.classes) <= set(self.classes):
            return None
        table.problems = problems + self.dataset.orphans()
        return table

    def images_with_class(self, name: str):
        """Per image of :meth:`image_paths`, whether its labels show a box of class ``name``, from
        the dataset's index (a numpy bool array); None where each label file must be read."""
        return None if self.dataset is None else self.dataset.images_with_class(name)

    def _load_checked(self, image: Path, label: Path, problems: list[Problem]) -> ImageAnnotation | None:
        try:
            # A COCO file gives the size: 118,000 image headers are not opened to fit anchors.
            w, h = (self.dataset and self.dataset.known_size(image)) or image_size(image)
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

    def _all_known(self, ann: ImageAnnotation, problems: list[Problem], known: set | None = None) -> bool:
        known = known if known is not None else set(self.classes)
        if any(b.label not in known for b in ann.boxes):
            label = self.label_path(ann.image_path)
            ann.boxes = [b for b in ann.boxes if self._known(b, label, problems)]
        return True

    def _known(self, box: Box, label: Path, problems: list[Problem]) -> bool:
        if box.label in self.classes:
            return True
        where = self.dataset.class_file_name() if self.dataset else PROJECT_FILE
        problems.append(Problem(str(label), f"class {box.label!r} is not in the project's classes "
                                            f"({where}); box skipped — add the class to use it"))
        return False

    def _orphan_labels(self) -> list[Problem]:
        ext = codec(self.label_format).extension
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
        if self._split is None and self.dataset is not None:
            self._split = self.dataset.split()   # the dataset's own split, as given
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
        if self.dataset is not None and name not in self.classes:
            raise self.dataset.refuse_class_change(f"add class {name!r}")
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
        if self.dataset is not None:
            raise self.dataset.refuse_class_change(f"rename class {old!r}")
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
        if self.dataset is not None:
            raise self.dataset.refuse_class_change(f"remove class {name!r}")
        return self._relabel(name, None, [c for c in self.classes if c != name])[1]

    def _relabel(self, old: str, new: str | None, new_classes: list[str]) -> tuple[list[Path], int]:
        self._require_current_classes()
        files, changed, count = relabel_files(self, old, new, new_classes)
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
        if self.dataset is not None:
            on_disk = self.dataset.classes_on_disk()
        elif self.project_file.is_file():
            on_disk = self._from_file(self.project_file).classes
        elif self.label_format == "yolo" and (self.image_dirs[0] / CLASSES_FILE).is_file():
            on_disk = read_classes(self.image_dirs[0] / CLASSES_FILE)
        else:
            return
        if on_disk != self.classes:
            raise ConfigError(f"{self.root}: the project's classes were changed by another window or "
                              f"program since it was opened (now {', '.join(on_disk) or 'none'}; here "
                              f"{', '.join(self.classes) or 'none'}); nothing was saved. Reopen the project")

    def label_files(self) -> list[Path]:
        """Every label file in the image folders, with or without its image (orphans too)."""
        ext = codec(self.label_format).extension
        found = {Path(e.path) for d in self.image_dirs for e in _entries(d)
                 if e.name.lower().endswith(ext) and e.name != CLASSES_FILE and e.is_file()}
        return sorted(found)

    def class_usage(self, name: str) -> tuple[int, int]:
        """(boxes, images) using class ``name``."""
        boxes = images = 0
        if self.dataset is not None:
            for image in self.image_paths():
                try:
                    n = sum(b.label == name for b in self.load_annotation(image).boxes)
                except (YoloStudioError, OSError):
                    continue
                boxes, images = boxes + n, images + (n > 0)
            return boxes, images
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
        if self.dataset is not None:
            raise ConfigError(f"{self.dataset.source}: images are not added to a {self.dataset.kind} dataset "
                              "opened in place (its own files list them); add the image there and reopen")
        folder = self.image_dirs[0]
        if not self.root.is_dir():
            raise MissingFolderError(self.root, folder / str(name_hint))
        folder.mkdir(parents=True, exist_ok=True)
        path = write_new_image(img, folder, name_hint, lambda p: p.exists() or self.label_path(p).exists())
        if self._images is not None:
            self._images = sorted([*self._images, path], key=str)
            self._split = None
        if boxes or verified:
            self.save_annotation(ImageAnnotation(path, img.shape[1], img.shape[0], list(boxes), verified))
        return path

    def model_anchors(self, model: str, input_size: int) -> AnchorSet:
        """Anchors for ``model`` at ``input_size``: the project's (scaled) if they fit, else defaults."""
        return AnchorSet.for_model(self.anchors, model, self.anchors_size, input_size)
