"""One place that maps a label format's name to its reader, writer and file naming.

Two kinds of entry:

* :class:`LabelCodec`: a per-image label file (``voc`` XML, ``yolo`` txt).
  Project layouts (labels beside the images, an ultralytics dataset, a VOC
  devkit) read and write one image's labels through it.
* :class:`DatasetFormat`: a whole dataset, as ``yolo-studio convert`` and
  File > Export read and write it (a folder, one file, or a tool's layout).

Adding a format means adding one entry here; Project, ``convert`` and the
Export menu all read these tables, so none of them grows an ``if fmt ==`` branch.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from ..annotations import ImageAnnotation
from ..errors import ConfigError, ImageFileError, LabelFileError
from ..images import image_size
from .checks import Report


@dataclass(frozen=True)
class LabelCodec:
    """How one image's label file is named, read and written."""

    name: str
    extension: str
    # read(label, image, size or None, class_names, report) -> ImageAnnotation
    read: Callable[..., ImageAnnotation]
    # files(ann, label, class_names) -> {path: bytes or None (delete)}
    files: Callable[[ImageAnnotation, Path, list], dict]
    # True when the file holds class ids whose names come from a class list on disk
    needs_class_list: bool


def _read_voc(label: Path, image: Path, size, class_names, report: Report) -> ImageAnnotation:
    from .voc import parse_voc
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


def _voc_files(ann: ImageAnnotation, label: Path, class_names) -> dict:
    """An existing XML is edited in place (what another tool wrote there stays); a new one is LabelImg's."""
    from .voc import voc_xml
    from .voc_edit import voc_edited
    if label.is_file():
        try:
            data = label.read_bytes()
        except OSError as e:
            raise LabelFileError(label, f"cannot be read ({e.strerror or e})") from None
        return {label: voc_edited(data, ann, label)}
    return {label: voc_xml(ann, label).encode("utf-8")}


def _read_yolo(label: Path, image: Path, size, class_names, report: Report) -> ImageAnnotation:
    from .yolo_txt import read_yolo
    w, h = size or image_size(image)
    return read_yolo(label, w, h, class_names, image, report)


def _yolo_files(ann: ImageAnnotation, label: Path, class_names) -> dict:
    from .yolo_txt import yolo_files
    return yolo_files(ann, label, class_names)


CODECS: dict[str, LabelCodec] = {
    "voc": LabelCodec("voc", ".xml", _read_voc, _voc_files, needs_class_list=False),
    "yolo": LabelCodec("yolo", ".txt", _read_yolo, _yolo_files, needs_class_list=True),
}


def codec(name: str, what: str = "label format") -> LabelCodec:
    """The per-image codec called ``name``; ConfigError naming the choices otherwise."""
    try:
        return CODECS[name]
    except (KeyError, TypeError):
        raise ConfigError(f"{what} must be one of {', '.join(CODECS)}, not {name!r}") from None


@dataclass(frozen=True)
class DatasetFormat:
    """A whole dataset's format, for ``convert`` (read and write) and File > Export (write)."""

    name: str
    title: str               # what the Export menu and ``convert --help`` call it
    source: str              # what SRC is when reading: 'folder' or 'file'
    target: str              # what DST is when writing: 'folder' or 'file'
    read: Optional[Callable] = None    # read(src, image_root=None, names=None) -> Dataset
    write: Optional[Callable] = None   # write(ds, dst, **options) -> Written
    export_file: str = ""    # for a 'file' target: its name inside the folder Export writes to


FORMATS: dict[str, DatasetFormat] = {}


def register(fmt: DatasetFormat) -> DatasetFormat:
    """Add ``fmt`` to the table (each format module registers itself)."""
    FORMATS[fmt.name] = fmt
    return fmt


def dataset_format(name: str) -> DatasetFormat:
    """The dataset format called ``name``; ConfigError naming the choices otherwise."""
    _load_all()
    if name not in FORMATS:
        raise ConfigError(f"unknown label format {name!r}; use one of {', '.join(FORMATS)}")
    return FORMATS[name]


def readable() -> list[str]:
    """Names of formats ``convert --from`` accepts."""
    _load_all()
    return [n for n, f in FORMATS.items() if f.read is not None]


def writable() -> list[str]:
    """Names of formats ``convert --to`` and File > Export write."""
    _load_all()
    return [n for n, f in FORMATS.items() if f.write is not None]


def _load_all() -> None:
    # The table is filled by the modules that implement the formats; importing
    # them here (not at the top) keeps this module free of import cycles.
    from . import dataset, layout_writers, tool_json  # noqa: F401
