"""Reading every label of a project at once, with the problems found (never writes anything).

Kept apart from :mod:`yolo_studio.core.project` (which reads and saves one
image's labels) because this is the checking read that training, anchors and
export use: boxes of unknown classes, boxes outside the image and label files
without an image are reported, not fatal.
"""
from __future__ import annotations

from pathlib import Path

from .annotations import Box, ImageAnnotation
from .errors import ImageFileError, LabelFileError, Problem
from .formats.checks import check_boxes
from .formats.registry import codec
from .formats.yolo_txt import CLASSES_FILE
from .images import image_size
from .project_file import PROJECT_FILE
from .project_scan import entries


def read_all(project, read_label) -> tuple[list[ImageAnnotation], list[Problem]]:
    """Every labelled image's checked annotation, plus the problems found.

    ``read_label(image, label, size, report)`` reads one label file as the
    project does. Label files two images share are the caller's to report.
    """
    anns: list[ImageAnnotation] = []
    problems: list[Problem] = []
    if project.dataset is not None:
        problems.extend(project.dataset.problems)
    read_many = getattr(project.dataset, "read_all", None)   # a layout that reads everything at once
    if read_many is not None:
        known = set(project.classes)
        anns = [a for a in read_many(problems.append) if _all_known(project, a, problems, known)]
    for image in [] if read_many is not None else project.image_paths():
        if not project.has_labels(image):
            continue
        ann = _load_checked(project, read_label, image, project.label_path(image), problems)
        if ann is not None:
            anns.append(ann)
    problems.extend(project.dataset.orphans() if project.dataset else orphan_labels(project))
    return anns, problems


def _load_checked(project, read_label, image: Path, label: Path, problems: list[Problem]) -> ImageAnnotation | None:
    try:
        # A COCO file gives the size: 118,000 image headers are not opened to fit anchors.
        w, h = (project.dataset and project.dataset.known_size(image)) or image_size(image)
    except ImageFileError as e:
        problems.append(Problem(str(image), f"{e.what}; its labels are skipped"))
        return None
    try:
        ann = read_label(image, label, (w, h), problems.append)
    except LabelFileError as e:
        problems.append(Problem(str(e.path), f"{e.what}; file skipped"))
        return None
    boxes = [b for b in ann.boxes if _known(project, b, label, problems)]
    ann.boxes = check_boxes(boxes, w, h, label, problems.append)
    ann.width, ann.height = w, h
    return ann


def _all_known(project, ann: ImageAnnotation, problems: list[Problem], known: set | None = None) -> bool:
    known = known if known is not None else set(project.classes)
    if any(b.label not in known for b in ann.boxes):
        label = project.label_path(ann.image_path)
        ann.boxes = [b for b in ann.boxes if _known(project, b, label, problems)]
    return True


def _known(project, box: Box, label: Path, problems: list[Problem]) -> bool:
    if box.label in project.classes:
        return True
    where = project.dataset.class_file_name() if project.dataset else PROJECT_FILE
    problems.append(Problem(str(label), f"class {box.label!r} is not in the project's classes "
                                        f"({where}); box skipped — add the class to use it"))
    return False


def orphan_labels(project) -> list[Problem]:
    """One problem per label file in the image folders with no image of the same name beside it."""
    ext = codec(project.label_format).extension
    stems = {(p.parent, p.stem) for p in project.image_paths()}
    problems = []
    for d in project.image_dirs:
        for entry in entries(d):
            name = entry.name
            if name.lower().endswith(ext) and name != CLASSES_FILE and (d, name[:-len(ext)]) not in stems:
                problems.append(Problem(str(d / name), "label file has no image next to it "
                                                       "(an image with the same name is missing)"))
    return problems
