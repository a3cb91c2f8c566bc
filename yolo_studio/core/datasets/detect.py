"""Which layout a path the user opened is in (data.yaml, a VOC devkit, COCO instances files)."""
from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from .base import Layout, entries

YAML_SUFFIXES = (".yaml", ".yml")


def layout_classes() -> dict:
    """{layout name: class} of every in-place layout."""
    from .coco import CocoLayout
    from .ultralytics import UltralyticsLayout
    from .voc_devkit import VocDevkitLayout
    return {c.kind: c for c in (UltralyticsLayout, VocDevkitLayout, CocoLayout)}


def open_layout(kind: str, path: Path) -> Layout:
    """Open the dataset at ``path`` as layout ``kind`` (ConfigError naming the choices)."""
    classes = layout_classes()
    if kind not in classes:
        raise ConfigError(f"{path}: unknown dataset layout {kind!r}; use one of {', '.join(classes)}")
    return classes[kind](path)


def find_layout(path: Path) -> Layout | None:
    """The in-place layout of ``path``, or None for a plain folder of images (labels beside them)."""
    path = Path(path)
    if path.is_file():
        if path.suffix.lower() in YAML_SUFFIXES:
            return open_layout("ultralytics", path)
        if path.suffix.lower() == ".json" and path.name.startswith("instances_"):
            return open_layout("coco", path)
        return None
    yamls = data_yamls(path)
    if yamls:
        return open_layout("ultralytics", yamls[0])
    from .voc_devkit import year_folders
    if year_folders(path):
        return open_layout("voc-devkit", path)
    from .coco import instance_files
    if instance_files(path):
        return open_layout("coco", path)
    return None


# Folders that hold a dataset's images, labels or split lists in the layouts we open in place.
DATA_FOLDER_NAMES = frozenset({"images", "labels", "annotations", "jpegimages", "imagesets",
                               "segmentationclass", "segmentationobject"})


def marker_files(root: Path) -> list[Path]:
    """The files that make ``root`` another tool's dataset (its data.yaml, VOC split lists, COCO
    instances files); [] for any other folder. Cheap: nothing is parsed."""
    yamls = data_yamls(root)
    if yamls:
        return yamls
    from .voc_devkit import year_folders
    years = year_folders(root)
    if years:
        lists = [Path(e.path) for y in years for e in entries(y / "ImageSets" / "Main") if e.is_file()]
        return sorted(lists) or years
    from .coco import instance_files
    return instance_files(root) if root.is_dir() else []


def data_yamls(folder: Path) -> list[Path]:
    """data.yaml first, else any one .yaml there that names classes."""
    found = sorted(Path(e.path) for e in entries(folder)
                   if e.is_file() and Path(e.name).suffix.lower() in YAML_SUFFIXES)
    preferred = [p for p in found if p.stem.lower() == "data"]
    if preferred:
        return preferred
    named = []
    for p in found:
        try:
            text = p.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if "names" in text and ("train" in text or "val" in text):
            named.append(p)
    return named[:1]
