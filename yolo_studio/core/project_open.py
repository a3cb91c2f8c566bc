"""Opening a project: its ``yolo_studio.json``, a dataset in place, or a plain folder of images.

Kept apart from :mod:`yolo_studio.core.project` (the Project class, which
reads and writes labels) because this only decides what a path is and builds
the Project over it; ``cls`` is the Project class, passed in so this module
does not import it.
"""
from __future__ import annotations

import json
from pathlib import Path

from .atomic import finish_interrupted, remove_orphan_temps
from .datasets.base import Layout
from .datasets.detect import find_layout, open_layout
from .errors import ConfigError
from .external_dirs import remember
from .formats.yolo_txt import CLASSES_FILE, read_classes
from .project_file import KNOWN_KEYS, PROJECT_FILE, check_format, gather_voc_classes, validated
from .project_scan import detect_format, has_images, labelled


def open_project(cls, path, label_format: str | None = None):
    """The project at ``path``, as :meth:`Project.open <yolo_studio.core.project.Project.open>` says."""
    path = Path(path).expanduser().absolute()
    if path.is_file() and path.name == PROJECT_FILE:
        path = path.parent
    if path.is_file() and label_format is None:
        layout = find_layout(path)
        if layout is not None:
            return _in_place(cls, path.parent, layout)
    if not path.is_dir():
        raise ConfigError(f"{path}: project folder not found (give a folder of images "
                          f"or a folder with {PROJECT_FILE})")
    if label_format is not None:
        check_format(label_format, "label format")
    finish_interrupted(path)   # before reading: the journal may rewrite the project file
    layout = None if label_format or (path / PROJECT_FILE).is_file() else find_layout(path)
    if layout is not None:
        return _in_place(cls, path, layout)
    if (path / PROJECT_FILE).is_file():
        project = from_file(cls, path / PROJECT_FILE)
        if project.dataset is None:
            project.label_format = label_format or project.label_format
    else:
        project = _from_plain_folder(cls, path, label_format)
    for folder in {project.root, *project.image_dirs}:
        remove_orphan_temps(folder)
    return project


def _in_place(cls, root: Path, layout: Layout):
    """A project over ``layout`` (no project file yet; the first save writes one beside it)."""
    finish_interrupted(root)
    return cls(root, dataset=layout)


def from_file(cls, file: Path):
    """The project ``file`` (a yolo_studio.json) describes; ConfigError naming it if it cannot be used."""
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
    if project.dataset is None:
        remember(project.root, project.image_dirs)   # a project copied here guards its far folders too
    return project


def _from_plain_folder(cls, root: Path, label_format: str | None = None):
    dirs = [root]
    if not has_images(root) and has_images(root / "images"):
        dirs = [root / "images"]
    fmt = label_format or detect_format(dirs)
    project = cls(root, [], dirs, fmt)
    if fmt == "yolo":
        names = [d / CLASSES_FILE for d in dirs if (d / CLASSES_FILE).is_file()]
        project.classes = read_classes(names[0]) if names else []
    else:
        project.classes = gather_voc_classes(labelled(project.image_paths(), project.label_path))
    return project
