"""The pylessons TensorFlow-2.x-YOLOv3 training list, plus its ``.names`` class file.

One line per image: ``path x1,y1,x2,y2,class_id x1,y1,x2,y2,class_id ...``
with integer pixel corners (the format's rounding: its loader only accepts
digits) and class ids indexing the ``.names`` file. Paths may contain spaces:
the path is everything before the trailing run of box fields. Relative paths
are relative to the list file's folder (falling back to the working folder,
where the pylessons scripts resolve them). The list holds no image sizes, so
the reader takes them from the image headers.
"""
from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Callable

from ..annotations import Box, ImageAnnotation
from ..atomic import atomic_write_text
from ..errors import ImageFileError, LabelFileError, Problem
from ..class_names import class_name_problem
from ..images import image_size, is_image_file
from .checks import Report, check_boxes, parse_float, read_text, unknown_class
from .yolo_txt import read_classes, write_classes

# A token of numbers and commas, or of five comma-separated parts, is a box
# field (a malformed one is reported rather than glued onto the path).
_BOXLIKE = re.compile(r"^([-+0-9.eE]*,[-+0-9.eE,]*|[^,]*(,[^,]*){4})$")


def names_path_for(list_path: str | Path) -> Path:
    """The default class file of a list: same folder and stem, ``.names``."""
    return Path(list_path).with_suffix(".names")


def read_pylessons(list_path: str | Path, names_path: str | Path | None = None, report: Report = None,
                   size_of: Callable[[Path], tuple[int, int]] = image_size
                   ) -> tuple[list[ImageAnnotation], list[str]]:
    """(annotations, class names) of a pylessons list; LabelFileError on a malformed line."""
    list_path = Path(list_path)
    names_file = Path(names_path or names_path_for(list_path))
    names = read_classes(names_file)
    for name in names:
        why = class_name_problem(name)
        if why:
            raise LabelFileError(names_file, f"class {name!r}: {why}")
    text = read_text(list_path)
    anns: list[ImageAnnotation] = []
    first_line: dict[str, tuple[int, ImageAnnotation]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            ann = _parse_line(line, n, list_path, names, report, size_of)
        except LabelFileError as e:
            if report is None:
                raise
            report(Problem(str(e.path), f"{e.what}; line skipped"))
            continue
        key = os.path.normcase(os.path.normpath(ann.image_path))
        if key in first_line:
            # One image on two lines is one image: writing it twice would keep
            # only one line's boxes, so they are joined, and said so.
            m, earlier = first_line[key]
            earlier.boxes += ann.boxes
            if report is not None:
                report(Problem(str(list_path), f"line {n} repeats the image of line {m} "
                                               f"({ann.image_path.name}); its {len(ann.boxes)} box(es) "
                                               "were added to that line's"))
            continue
        first_line[key] = (n, ann)
        anns.append(ann)
    return anns, names


def _split_line(line: str) -> tuple[str, list[str]]:
    tokens = line.split()
    k = len(tokens)
    while k > 0 and _BOXLIKE.match(tokens[k - 1]):
        k -= 1
    fields = tokens[k:]
    path = line.strip()
    for token in reversed(fields):  # cut the fields off the right, keeping the path's own spacing
        path = path[: path.rindex(token)].rstrip()
    return path, fields


def _parse_line(line: str, n: int, list_path: Path, names: list[str], report: Report,
                size_of: Callable[[Path], tuple[int, int]]) -> ImageAnnotation:
    path_text, fields = _split_line(line)
    if not path_text:
        raise LabelFileError(list_path, f"line {n} has no image path: {line.strip()!r}")
    if "\x00" in path_text:
        raise LabelFileError(list_path, f"line {n}: the image path holds a NUL character")
    image = _resolve(path_text, list_path)
    if image.exists() and not (image.is_file() and is_image_file(image.name)):
        # Lists may name images anywhere (absolute paths are normal), so the
        # check is that the file is an image: convert would link it into its output.
        raise LabelFileError(list_path, f"line {n}: {image} is not an image file")
    boxes = []
    for j, field in enumerate(fields, 1):
        values = field.split(",")
        if len(values) != 5:
            raise LabelFileError(list_path, f"line {n}, box {j}: {field!r} should be x1,y1,x2,y2,class_id")
        x1, y1, x2, y2, cid = (parse_float(v, list_path, f"line {n}, box {j}") for v in values)
        if cid != int(cid) or not 0 <= cid < len(names):
            unknown_class(list_path, report, f"line {n}, box {j}: class id {values[4]} is not in the "
                                             f".names file ({len(names)} classes)")
            continue
        boxes.append(Box(x1, y1, x2, y2, names[int(cid)]))
    try:
        w, h = size_of(image)
    except ImageFileError as e:
        if report is not None:
            report(Problem(str(image), f"{e.what} (line {n} of {list_path.name}); size unknown"))
        w = h = 0
    where = list_path.with_name(f"{list_path.name}:{n}")
    return ImageAnnotation(image, w, h, check_boxes(boxes, w, h, where, report))


def _resolve(path_text: str, list_path: Path) -> Path:
    p = Path(path_text)
    if p.is_absolute():
        return p
    beside = Path(os.path.normpath(list_path.parent / p))
    if beside.exists() or not p.exists():
        return beside
    return Path(os.path.normpath(p.absolute()))


def pylessons_lines(anns: list[ImageAnnotation], class_names: list[str], list_path: Path,
                    absolute: bool = False) -> list[str]:
    """One list line per image (KeyError naming a class not in ``class_names``)."""
    index = {n: i for i, n in enumerate(class_names)}
    lines = []
    for ann in anns:
        image = Path(ann.image_path).absolute()
        if absolute:
            text = image.as_posix()
        else:
            try:
                text = Path(os.path.relpath(image, list_path.parent.absolute())).as_posix()
            except ValueError:
                text = image.as_posix()
        parts = [text]
        for b in ann.boxes:
            if b.label not in index:
                raise KeyError(f"class {b.label!r} is not in the class list")
            parts.append(",".join(str(v) for v in _whole_pixels(b)) + f",{index[b.label]}")
        lines.append(" ".join(parts))
    return lines


def _whole_pixels(b: Box) -> tuple[int, int, int, int]:
    """The box's corners rounded to whole pixels, as the format needs.

    A box under a pixel wide could round to zero width, which every reader
    drops; such a side is widened to one pixel instead, so no box is lost.
    """
    x1, y1, x2, y2 = (int(round(v)) for v in b.xyxy())
    if x2 <= x1:
        x1, x2 = math.floor(b.x1), max(math.ceil(b.x2), math.floor(b.x1) + 1)
    if y2 <= y1:
        y1, y2 = math.floor(b.y1), max(math.ceil(b.y2), math.floor(b.y1) + 1)
    return x1, y1, x2, y2


def write_pylessons(anns: list[ImageAnnotation], class_names: list[str], list_path: str | Path,
                    names_path: str | Path | None = None, absolute: bool = False) -> None:
    """Save a pylessons list and its .names file atomically."""
    list_path = Path(list_path)
    lines = pylessons_lines(anns, class_names, list_path, absolute)
    write_classes(names_path or names_path_for(list_path), class_names)
    atomic_write_text(list_path, "".join(f"{line}\n" for line in lines))
