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

Parts live beside it: opening (``project_open``), the checking read of every
label (``project_read_all``), the hash split (``project_split``), folder
scanning (``project_scan``), class rename/removal (``project_relabel``) and the
project file's rules (``project_file``).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .annotations import ImageAnnotation
from .atomic import MissingFolderError, finish_interrupted, write_together
from .class_names import check_new_class
from .datasets.base import Layout, PerFileLayout
from .errors import ConfigError, LabelFileError, Problem, YoloStudioError
from .external_dirs import remember
from .formats import edit
from .formats.registry import CODECS, codec
from .formats.yolo_txt import CLASSES_FILE, classes_text, read_classes
from .images import image_size
from .model_family import AnchorSet
from .project_file import PROJECT_FILE, PROJECT_VERSION, check_classes, check_format
from .project_open import from_file, open_project
from .project_read_all import read_all
from .project_relabel import relabel_files
from .project_scan import entries as _entries, label_sharers, labelled, refuse_non_file as _refuse_non_file, \
    refuse_shared, scan_images as _scan_images, sharer_problems, write_new_image
from .project_split import hash_fraction, hash_split

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
        return open_project(cls, path, label_format)

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
        remember(self.root, self.image_dirs)

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
        anns, problems = read_all(self, self._read_label)
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

    # --- split --------------------------------------------------------------------

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
            self._split = hash_split(self.root, images, self.val_fraction)
        return list(self._split[0]), list(self._split[1])

    def split_of(self, image) -> str:
        """'train' or 'val' for ``image``."""
        image = Path(image).absolute()
        train, val = self.split()
        if image in val:
            return "val"
        if image in train:
            return "train"
        return "val" if hash_fraction(self.root, image) < self.val_fraction else "train"

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
            on_disk = from_file(type(self), self.project_file).classes
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
        for _image, label in labelled(self.image_paths(), self.label_path):
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
