"""What every in-place dataset layout offers the project (see the package docstring)."""
from __future__ import annotations

import os
from pathlib import Path

from ..annotations import ImageAnnotation
from ..errors import ConfigError, Problem
from ..formats.checks import Report
from ..formats.registry import LabelCodec, codec
from ..images import is_image_file


class Layout:
    """A dataset on disk in another tool's layout, opened in place.

    Subclasses fill ``classes``, ``problems`` (what was wrong while opening,
    by file and line; the rest opened) and the image list and split.
    """

    kind = ""           # the name the project file and the README use
    label_format = ""   # the codec each image's label file is in ('' for one-file layouts)
    images_at_any_depth = False   # True where a split folder's images are found in its subfolders too

    def __init__(self, source: Path):
        self.source = Path(source)          # the file or folder the user opened
        self.root = self.source if self.source.is_dir() else self.source.parent
        self.classes: list[str] = []
        self.problems: list[Problem] = []
        self._images: list[Path] = []
        self._train: list[Path] = []
        self._val: list[Path] = []

    # --- what the project asks ---------------------------------------------------

    def images(self) -> list[Path]:
        """Every image of the dataset (all splits), sorted."""
        return list(self._images)

    def split(self) -> tuple[list[Path], list[Path]]:
        """(train, val) as the dataset gives them; other splits (test) are in neither."""
        return list(self._train), list(self._val)

    def image_dirs(self) -> list[Path]:
        """Folders that hold the images (for watching them)."""
        return sorted({p.parent for p in self._images}) or [self.root]

    def known_size(self, image: Path) -> tuple[int, int] | None:
        """The image's (w, h) when the labels say it without opening the image."""
        return None

    def label_path(self, image) -> Path:
        raise NotImplementedError

    def has_labels(self, image) -> bool:
        """True if ``image`` has a label entry (nothing decoded or parsed)."""
        return self.label_path(image).is_file()

    def read(self, image: Path, size, classes: list[str], report: Report) -> ImageAnnotation:
        raise NotImplementedError

    def save_files(self, ann: ImageAnnotation, classes: list[str]) -> dict:
        """{path: bytes} that saving ``ann`` writes: only that image's own label file."""
        raise NotImplementedError

    def change_stamp(self, image):
        """What changes when ``image``'s labels change on disk (None: no label file)."""
        try:
            st = self.label_path(image).stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def saved(self) -> None:
        """Called once the files of :meth:`save_files` are on disk."""

    def images_with_class(self, name: str):
        """Per image of :meth:`images`, whether it shows a box of ``name``, as a numpy bool array,
        from an index of the boxes; None where only reading each label file can say."""
        return None

    def box_table(self, report: Report):
        """The boxes :meth:`read` gives for every labelled image, as a
        :class:`~yolo_studio.core.datasets.box_table.BoxTable`; None where there is no index."""
        return None

    def orphans(self) -> list[Problem]:
        """Label files for images the dataset does not list."""
        return []

    def classes_on_disk(self) -> list[str]:
        """The class list as the dataset's files say it now."""
        return list(self.classes)

    def reference(self, project_root: Path) -> str:
        """How a project file beside the dataset names it (relative where possible)."""
        try:
            return self.source.relative_to(project_root).as_posix() or "."
        except ValueError:
            return str(self.source)

    def refuse_class_change(self, what: str) -> ConfigError:
        """The error for a class change the dataset's own files must make."""
        return ConfigError(f"{self.source}: the classes of this {self.kind} dataset are defined by its "
                           f"own files, so YOLO Studio does not {what} here; change them in "
                           f"{self.class_file_name()} and reopen the dataset")

    def class_file_name(self) -> str:
        return self.source.name


class PerFileLayout(Layout):
    """A layout with one label file per image in a per-image codec."""

    def __init__(self, source: Path, fmt: str):
        super().__init__(source)
        self.codec: LabelCodec = codec(fmt)
        self.label_format = fmt

    def read(self, image: Path, size, classes: list[str], report: Report) -> ImageAnnotation:
        """The labels of ``image`` from its label file."""
        return self.codec.read(self.label_path(image), Path(image), size, classes, report)

    def save_files(self, ann: ImageAnnotation, classes: list[str]) -> dict:
        """The edited image's label file in the codec (plus its sidecar for YOLO)."""
        return self.codec.files(ann, self.label_path(ann.image_path), classes)


def entries(folder: Path):
    """The visible directory entries of ``folder`` (none if it is missing)."""
    try:
        with os.scandir(folder) as it:
            return [e for e in it if not e.name.startswith(".")]
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []


def images_below(folder: Path) -> list[str]:
    """Image files in ``folder`` and its subfolders (as ultralytics globs them), as path strings."""
    found, stack = [], [folder]
    while stack:
        for e in entries(stack.pop()):
            if e.is_dir():
                stack.append(Path(e.path))
            elif is_image_file(e.name):
                found.append(e.path)
    return found


def inside(path: Path, folder: Path) -> bool:
    """True when ``path`` (normalised, links resolved) is ``folder`` or below it."""
    p, f = os.path.realpath(path), os.path.realpath(folder)
    return p == f or p.startswith(f.rstrip(os.sep) + os.sep)
