"""A folder of images with labels beside them (the app's own layout): scanning it, adding to it."""
from __future__ import annotations

import os
import re
from pathlib import Path

import cv2

from .atomic import atomic_write_bytes
from .errors import ImageFileError, LabelFileError
from .formats.yolo_txt import CLASSES_FILE
from .images import is_image_file


def refuse_non_file(label: Path) -> None:
    """LabelFileError when something that is not a file sits where the label file should be."""
    # A folder (or socket, fifo) where the label file should be: reading it as
    # "no labels" and then failing the save with a raw OSError hid the cause.
    if label.exists() and not label.is_file():
        raise LabelFileError(label, "is not a file (a folder?); move it away before labelling this image")


def entries(folder: Path):
    """The visible directory entries of ``folder`` (none if it is missing)."""
    try:
        with os.scandir(folder) as it:
            return [e for e in it if not e.name.startswith(".")]
    except (FileNotFoundError, NotADirectoryError):
        return []


def scan_images(dirs: list[Path]) -> list[Path]:
    """The image files directly in ``dirs``, sorted."""
    # One scandir pass per folder; the directory entry says 'file' without a
    # stat call, and sorting plain strings before making Paths keeps 10,000 files quick.
    found = sorted(e.path for d in dirs for e in entries(d) if is_image_file(e.name) and e.is_file())
    return [Path(p) for p in found]


def has_images(folder: Path) -> bool:
    """True if ``folder`` holds an image file."""
    return any(is_image_file(e.name) for e in entries(folder))


def detect_format(dirs: list[Path]) -> str:
    """'voc' or 'yolo': which label files a plain folder holds more of."""
    xml = txt = 0
    has_classes = False
    for d in dirs:
        for e in entries(d):
            low = e.name.lower()
            if low == CLASSES_FILE:
                has_classes = True
            elif low.endswith(".xml"):
                xml += 1
            elif low.endswith(".txt"):
                txt += 1
    # VOC wins a tie: its files name their classes, so nothing depends on classes.txt.
    return "yolo" if txt > xml or (has_classes and xml == 0) else "voc"


def write_new_image(img, folder: Path, name_hint, taken) -> Path:
    """Encode ``img`` into ``folder`` under a free name from ``name_hint`` (``taken(path)``: in use)."""
    hint = Path(str(name_hint))
    stem = re.sub(r"[^\w.-]+", "_", hint.stem).strip("._") or "image"
    ext = hint.suffix.lower() if hint.suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp") else ".jpg"
    path, n = folder / f"{stem}{ext}", 0
    while taken(path):
        n += 1
        path = folder / f"{stem}_{n}{ext}"
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if ext in (".jpg", ".jpeg") else []
    ok, data = cv2.imencode(ext, img, params)
    if not ok:
        raise ImageFileError(path, "could not be encoded")
    atomic_write_bytes(path, data.tobytes())
    return path


def label_sharers(images, label_path) -> dict[str, list[Path]]:
    """{label file: its images} for label files that more than one image would use.

    ``a.jpg`` and ``a.png`` side by side both take ``a.xml`` (LabelImg's rule,
    and ultralytics' ``labels/a.txt``): saving one would replace the other's labels.
    """
    by_label: dict[str, list[Path]] = {}
    for image in images:
        by_label.setdefault(str(label_path(image)), []).append(Path(image))
    return {label: found for label, found in by_label.items() if len(found) > 1}


def sharer_problems(sharers: dict[str, list[Path]]) -> list:
    """One problem per shared label file, naming its images."""
    from .errors import Problem
    return [Problem(label, f"is the label file of {', '.join(p.name for p in found)}; their labels cannot "
                           "be told apart and a save of either is refused: rename one of the images")
            for label, found in sorted(sharers.items())]


def refuse_shared(sharers: dict[str, list[Path]], image: Path, label: Path) -> None:
    """LabelFileError when ``label`` is also another image's label file."""
    others = [p.name for p in sharers.get(str(label), []) if p != Path(image)]
    if others:
        raise LabelFileError(label, f"is also the label file of {', '.join(others)}; saving "
                                    f"{Path(image).name} would replace its labels, so nothing was saved: "
                                    "rename one of the images")


def labelled(images, label_path):
    """(image, label file) for each of ``images`` whose label file (``label_path(image)``) exists."""
    for image in images:
        label = label_path(image)
        if label.is_file():
            yield image, label
