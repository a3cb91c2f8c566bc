"""Whole datasets in any format, for ``yolo-studio convert``.

Folder formats (voc, yolo) keep one label file next to each image; when
written to another folder, the images are hard-linked (copied where links
are impossible) beside the new labels, so the result is a dataset on its own.
File formats (coco, pylessons) are one file naming the images where they are.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..annotations import ImageAnnotation
from ..errors import ConfigError, LabelFileError, Problem
from . import FORMAT_NAMES, FOLDER_FORMATS
from .coco import read_coco, write_coco
from .pylessons import read_pylessons, write_pylessons
from .voc import write_voc
from .yolo_txt import CLASSES_FILE, write_yolo


@dataclass
class Dataset:
    """Annotations, class names, and the problems met while reading them."""

    annotations: list[ImageAnnotation]
    class_names: list[str]
    problems: list[Problem] = field(default_factory=list)
    image_root: Path | None = None      # folder the image paths are relative to

    def box_count(self) -> int:
        return sum(len(a.boxes) for a in self.annotations)


def read_dataset(fmt: str, src, image_root=None, names=None) -> Dataset:
    """Read a dataset: a folder for voc/yolo, a .json for coco, a list .txt for pylessons."""
    _check(fmt)
    src = Path(src)
    problems: list[Problem] = []
    if fmt in FOLDER_FORMATS:
        from ..project import Project
        project = Project.open(src, label_format=fmt)
        if fmt == "yolo" and not project.classes:
            raise ConfigError(f"{src}: no {CLASSES_FILE} found; YOLO class ids need it to be named")
        anns, problems = project.load_all()
        return Dataset(anns, list(project.classes), problems, src)
    if not src.is_file():
        raise ConfigError(f"{src}: file not found (--from {fmt} reads one file)")
    if fmt == "coco":
        anns, names_ = read_coco(src, image_root, problems.append)
        root = Path(image_root) if image_root else src.parent
    else:
        anns, names_ = read_pylessons(src, names, problems.append)
        root = src.parent
    return Dataset(anns, names_, problems, root)


def write_dataset(fmt: str, ds: Dataset, dst, image_root=None, names=None,
                  absolute_paths: bool = False) -> list[Problem]:
    """Write ``ds`` in ``fmt`` at ``dst``; returns problems (images it could not place)."""
    _check(fmt)
    dst = Path(dst)
    if fmt == "coco":
        write_coco(ds.annotations, ds.class_names, dst, image_root)
        return []
    if fmt == "pylessons":
        write_pylessons(ds.annotations, ds.class_names, dst, names, absolute_paths)
        return []
    return _write_folder(fmt, ds, dst)


def _write_folder(fmt: str, ds: Dataset, dst: Path) -> list[Problem]:
    from ..project import PROJECT_FILE, Project
    if dst.is_file():
        raise ConfigError(f"{dst}: is a file; --to {fmt} writes a folder")
    dst = dst.absolute()
    dst.mkdir(parents=True, exist_ok=True)
    problems: list[Problem] = []
    for ann in ds.annotations:
        target = _place_image(ann.image_path, ds.image_root, dst, problems)
        out = ImageAnnotation(target, ann.width, ann.height, ann.boxes, ann.verified)
        label = target.with_suffix(".xml" if fmt == "voc" else ".txt")
        try:
            if fmt == "voc":
                write_voc(out, label)
            else:
                write_yolo(out, label, ds.class_names)
        except LabelFileError as e:
            problems.append(Problem(str(ann.image_path), f"{e.what}; not converted"))
    # The project file makes the result open in the app; save() also writes
    # classes.txt into each image folder for YOLO labels.
    if (dst / PROJECT_FILE).is_file():
        project = Project.open(dst)
        project.label_format, project.classes = fmt, list(ds.class_names)
    else:
        dirs = sorted({_place(a.image_path, ds.image_root, dst).parent for a in ds.annotations}) or [dst]
        project = Project(dst, ds.class_names, dirs, fmt)
    project.save()
    return problems


def _place(image: Path, root: Path | None, dst: Path) -> Path:
    """Where an image goes under ``dst``: its path below ``root``, else just its name.

    Normalised first, so a path like ``list/../src/a.jpg`` can never climb out
    of ``dst`` (and write labels into the source folder).
    """
    image = Path(os.path.normpath(Path(image).absolute()))
    rel = Path(image.name)
    if root:
        try:
            rel = image.relative_to(os.path.normpath(Path(root).absolute()))
        except ValueError:
            pass
    return dst / rel


def _place_image(image: Path, root: Path | None, dst: Path, problems: list[Problem]) -> Path:
    target = _place(image, root, dst)
    if target.absolute() == Path(image).absolute() or target.exists():
        return target
    if not Path(image).is_file():
        problems.append(Problem(str(image), "image not found; its label was written without it"))
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(image, target)  # no second copy of the pixels on disk
    except OSError:
        shutil.copy2(image, target)
    return target


def _check(fmt: str) -> None:
    if fmt not in FORMAT_NAMES:
        raise ConfigError(f"unknown label format {fmt!r}; use one of {', '.join(FORMAT_NAMES)}")
