"""Whole datasets in any format, for ``yolo-studio convert`` and File > Export.

Which formats exist, and which reader and writer each has, is the table in
:mod:`~yolo_studio.core.formats.registry`; this module holds the folder
(voc, yolo) and one-file (coco, pylessons) formats and registers them, and
:mod:`~yolo_studio.core.formats.layout_writers` the tools' layouts.

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
from ..errors import ConfigError, ImageFileError, LabelFileError, Problem
from ..images import image_size, is_image_file
from ..output_guard import OutputFolder, check_new_files
from .registry import DatasetFormat, dataset_format, register, writable
from .coco import read_coco, write_coco
from .pylessons import names_path_for, read_pylessons, write_pylessons
from .voc import write_voc
from .yolo_txt import CLASSES_FILE, sidecar_path, write_yolo


@dataclass
class Dataset:
    """Annotations, class names, and the problems met while reading them."""

    annotations: list[ImageAnnotation]
    class_names: list[str]
    problems: list[Problem] = field(default_factory=list)
    image_root: Path | None = None      # folder the image paths are relative to
    # image path -> 'train' | 'val' | 'test' when the source had a split (layouts do)
    splits: dict = field(default_factory=dict)
    # True when the source reads images below its image folders too (ultralytics split folders)
    images_at_any_depth: bool = False

    def box_count(self) -> int:
        return sum(len(a.boxes) for a in self.annotations)


def read_dataset(fmt: str, src, image_root=None, names=None) -> Dataset:
    """Read a dataset in ``fmt`` (see the registry): a folder, a file, or a tool's layout."""
    reader = dataset_format(fmt).read
    if reader is None:
        raise ConfigError(f"{fmt} is written, not read, by YOLO Studio")
    return reader(Path(src), image_root=image_root, names=names)


def _read_folder(fmt: str, src: Path) -> Dataset:
    from ..project import Project
    project = Project.open(src, label_format=fmt)
    if fmt == "yolo" and not project.classes:
        raise ConfigError(f"{src}: no {CLASSES_FILE} found; YOLO class ids need it to be named")
    anns, problems = project.load_all()
    return Dataset(anns, list(project.classes), problems, src)


def _read_file(fmt: str, src: Path, image_root, names) -> Dataset:
    if not src.is_file():
        raise ConfigError(f"{src}: file not found (--from {fmt} reads one file)")
    problems: list[Problem] = []
    if fmt == "coco":
        anns, names_ = read_coco(src, image_root, problems.append)
        return Dataset(anns, names_, problems, Path(image_root) if image_root else src.parent)
    anns, names_ = read_pylessons(src, names, problems.append)
    return Dataset(anns, names_, problems, src.parent)


@dataclass
class Written:
    """What a write put on disk (the summary counts these), and what it left out and why."""

    images: int
    boxes: int
    problems: list[Problem]


def write_dataset(fmt: str, ds: Dataset, dst, image_root=None, names=None,
                  absolute_paths: bool = False, overwrite: bool = False,
                  command: str = "convert") -> Written:
    """Write ``ds`` in ``fmt`` at ``dst`` without replacing anything it did not write.

    A file target (coco, pylessons) is replaced only with ``overwrite``; a
    folder target follows :class:`~yolo_studio.core.output_guard.OutputFolder`.
    Nothing is written when the check fails.
    """
    writer = dataset_format(fmt).write
    if writer is None:
        raise ConfigError(f"{fmt} is read, not written, by YOLO Studio")
    return writer(ds, Path(dst), image_root=image_root, names=names, absolute_paths=absolute_paths,
                  overwrite=overwrite, command=command)


def _write_coco(ds: Dataset, dst: Path, image_root=None, overwrite=False, command="convert", **_) -> Written:
    check_new_files([dst], command, overwrite)
    problems = [Problem(str(a.image_path), "image size unknown (the image is missing or unreadable); "
                                           f"not written to {dst.name}")
                for a in ds.annotations if not (a.width > 0 and a.height > 0)]
    anns = [a for a in ds.annotations if a.width > 0 and a.height > 0]
    write_coco(anns, ds.class_names, dst, image_root)
    return Written(len(anns), sum(len(a.boxes) for a in anns), problems)


def _write_pylessons(ds: Dataset, dst: Path, names=None, absolute_paths=False, overwrite=False,
                     command="convert", **_) -> Written:
    check_new_files([dst, Path(names) if names else names_path_for(dst)], command, overwrite)
    # A list line has no way to say "a model's guess": its trainer (ours, or the tutorial's)
    # would take unaccepted pre-labels as ground truth, so those images stay out, said by name.
    anns = [a for a in ds.annotations if not a.awaiting_review]
    problems = [Problem(str(a.image_path), "holds pre-labels nobody has accepted yet, which a pylessons "
                                           f"list cannot mark; not written to {dst.name} (accept or "
                                           "correct them first)")
                for a in ds.annotations if a.awaiting_review]
    write_pylessons(anns, ds.class_names, dst, names, absolute_paths)
    return Written(len(anns), sum(len(a.boxes) for a in anns), problems)


def export_project(project, fmt: str, out_dir, overwrite: bool = False) -> Written:
    """The project's labels as a ``fmt`` dataset in ``out_dir``, under the writers' one rule.

    Folder formats and layouts: a dataset folder of its own (images linked
    beside the new labels, the project's split kept); one-file formats: one
    file in ``out_dir`` naming the images where they are. Refuses (writing
    nothing) a folder or file it did not write, unless ``overwrite``.
    """
    target = dataset_format(fmt)
    anns, problems = project.load_all()
    train, val = project.split()
    splits = {**{p: "train" for p in train}, **{p: "val" for p in val}}
    ds = Dataset(anns, list(project.classes), problems, Path(project.root), splits,
                 getattr(project.dataset, "images_at_any_depth", False))
    out_dir = Path(out_dir)
    if target.target == "folder":
        written = write_dataset(fmt, ds, out_dir, overwrite=overwrite, command="export")
    else:
        out_dir.mkdir(parents=True, exist_ok=True)
        # Absolute paths in a pylessons list: it usually lives far from the images.
        written = write_dataset(fmt, ds, out_dir / target.export_file, image_root=project.root,
                                absolute_paths=True, overwrite=overwrite, command="export")
    return Written(written.images, written.boxes, problems + written.problems)


def _write_folder(fmt: str, ds: Dataset, dst: Path, overwrite: bool = False, command: str = "convert",
                  **_) -> Written:
    from ..project import PROJECT_FILE, Project
    guard = OutputFolder(dst, command, overwrite)
    dst = guard.folder
    problems: list[Problem] = []
    plan = _plan_folder(fmt, ds, dst, problems)
    dirs = sorted({target.parent for _, target, _ in plan}) or [dst]
    rels = [PROJECT_FILE] + ([_rel(d / CLASSES_FILE, dst) for d in dirs] if fmt == "yolo" else [])
    for ann, target, label in plan:
        rels.append(_rel(label, dst))
        if fmt == "yolo":
            rels.append(_rel(sidecar_path(label), dst))
        if not _same_file(ann.image_path, target):
            rels.append(_rel(target, dst))
    guard.check(rels)
    dst.mkdir(parents=True, exist_ok=True)
    images = boxes = 0
    try:
        for ann, target, label in plan:
            _link_image(ann.image_path, target, guard)
            out = ImageAnnotation(target, ann.width, ann.height, ann.boxes, ann.verified)
            try:
                if fmt == "voc":
                    write_voc(out, label)
                else:
                    write_yolo(out, label, ds.class_names)
            except LabelFileError as e:
                problems.append(Problem(str(ann.image_path), f"{e.what}; not converted"))
                continue
            for written in (label, sidecar_path(label)):
                if written.is_file():
                    guard.record(written)
            images, boxes = images + 1, boxes + len(ann.boxes)
        # The project file makes the result open in the app; save() also writes
        # classes.txt into each image folder for YOLO labels.
        Project(dst, ds.class_names, dirs, fmt).save()
        guard.record(dst / PROJECT_FILE)
        for d in dirs:
            if fmt == "yolo" and (d / CLASSES_FILE).is_file():
                guard.record(d / CLASSES_FILE)
        guard.remove_stale()   # the folder is exactly this dataset, not a mix with an earlier run
    finally:
        guard.close()
    return Written(images, boxes, problems)


def _plan_folder(fmt: str, ds: Dataset, dst: Path, problems: list[Problem]):
    """(annotation, image target, label file) for each image that can be written.

    Refused, with a problem each: a file that is not an image (it is never
    linked into the output), and a second image that would land on the same
    target as an earlier one (its boxes would replace the first's).
    """
    plan, taken = [], {}
    for ann in ds.annotations:
        target = _place(ann.image_path, ds.image_root, dst)
        why = _not_an_image(Path(ann.image_path))
        if why:
            problems.append(Problem(str(ann.image_path), f"{why}; it and its {len(ann.boxes)} box(es) "
                                                         "were not converted"))
            continue
        label = target.with_suffix(".xml" if fmt == "voc" else ".txt")
        if label in taken:
            problems.append(Problem(str(ann.image_path), f"would be written to {label.name} like "
                                    f"{taken[label]}; its {len(ann.boxes)} box(es) were not converted"))
            continue
        taken[label] = ann.image_path
        plan.append((ann, target, label))
    return plan


def _not_an_image(image: Path) -> str:
    """'' for a file we may link into an output (or a missing one, reported later), else why not."""
    if not image.exists():
        return ""
    if not image.is_file() or not is_image_file(image.name):
        return "not an image file"
    try:
        image_size(image)
    except ImageFileError as e:
        return e.what
    return ""


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


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


def _link_image(image: Path, target: Path, guard: OutputFolder) -> None:
    """Put the (checked) image at ``target``: a hard link, or a copy where links are impossible."""
    if _same_file(image, target):
        guard.keep(target)   # linked by an earlier run: still part of this dataset
        return
    if not Path(image).is_file():
        return    # missing: reported by the reader; its label is still written
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()   # our own earlier output (the guard checked): links cannot be replaced in place
    try:
        os.link(image, target)  # no second copy of the pixels on disk
    except OSError:
        shutil.copy2(image, target)
    guard.record(target)


register(DatasetFormat("voc", "Pascal VOC XML (LabelImg)", "folder", "folder",
                       lambda src, **_: _read_folder("voc", src),
                       lambda ds, dst, **kw: _write_folder("voc", ds, dst, **kw)))
register(DatasetFormat("yolo", "YOLO txt + classes.txt", "folder", "folder",
                       lambda src, **_: _read_folder("yolo", src),
                       lambda ds, dst, **kw: _write_folder("yolo", ds, dst, **kw)))
register(DatasetFormat("coco", "COCO JSON", "file", "file",
                       lambda src, image_root=None, **_: _read_file("coco", src, image_root, None),
                       _write_coco, export_file="annotations.json"))
register(DatasetFormat("pylessons", "pylessons train list + .names", "file", "file",
                       lambda src, names=None, **_: _read_file("pylessons", src, None, names),
                       _write_pylessons, export_file="train.txt"))

from . import layout_writers, tool_json  # noqa: E402,F401  (they register the tools' layouts)

# What File > Export labels offers, in menu order.
EXPORT_FORMATS = {name: dataset_format(name).title for name in writable()}
