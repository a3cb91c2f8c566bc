"""Class rename and removal across every label file of a project of labels beside its images.

The edits are computed first (``formats/edit.py``) and land with the class
list in one journalled step, or nothing changes and ConfigError names the
files that block it.
"""
from __future__ import annotations

from pathlib import Path

from .errors import ConfigError, LabelFileError
from .formats import edit
from .formats.yolo_txt import sidecar_path


def relabel_files(project, old: str, new: str | None, new_classes: list[str]) -> tuple[dict, list, int]:
    """({path: new bytes}, files changed, boxes renamed or removed) for every label file."""
    verb = f"rename class {old!r}" if new is not None else f"remove class {old!r}"
    files, changed, count, blocked = {}, [], 0, []
    for label in project.label_files():
        try:
            data = label.read_bytes()
            if project.label_format == "yolo":
                after, n, line_map = edit.yolo_relabel(label, data, id_map(project.classes, old, new, new_classes))
                if after is not None:
                    files.update(_sidecar_follow(label, data, after, line_map))
            else:
                after, n = _voc_relabel(label, data, old, new)
        except LabelFileError as e:
            blocked.append(str(e))
            continue
        except OSError as e:
            blocked.append(f"{label}: cannot be read ({e.strerror or e})")
            continue
        if after is not None:
            files[label] = after
            changed.append(label)
        count += n
    if blocked:
        shown = "\n  ".join(blocked[:10]) + ("\n  …" if len(blocked) > 10 else "")
        raise ConfigError(f"cannot {verb}: {len(blocked)} label file(s) could not be rewritten "
                          f"safely, so nothing was changed. Fix or move them first:\n  {shown}")
    return files, changed, count


def id_map(names: list[str], old: str, new: str | None, new_classes: list[str]):
    """Old YOLO class id -> new id (None: the line goes) for a rename/removal of ``old``."""
    index = {n: i for i, n in enumerate(new_classes)}
    # An id past the class list has no name yet; it keeps its place relative to the end.
    shift = len(names) - len(new_classes)

    def mapped(cid: int):
        if cid >= len(names):
            return cid - shift
        name = names[cid]
        target = new if name == old else name
        return None if target is None else index[target]
    return mapped


def _sidecar_follow(label: Path, before: bytes, after: bytes, line_map: dict) -> dict:
    side = sidecar_path(label)
    if not side.is_file():
        return {}
    data = edit.yolo_sidecar_relabel(side.read_bytes(), before, after, line_map)
    return {} if data is None else {side: data}


def _voc_relabel(label: Path, data: bytes, old: str, new: str | None):
    try:
        after, n = edit.voc_relabel(label, data, old, new)
    except LabelFileError as e:
        if _mentions(data, old):
            raise LabelFileError(label, f"{e.what}; it may hold boxes of {old!r}") from None
        return None, 0  # it cannot use the class: nothing to change there
    return after, n


def _mentions(data: bytes, name: str) -> bool:
    """True if a file's raw bytes may hold class ``name`` (literally or XML-escaped)."""
    from xml.sax.saxutils import escape
    return any(v.encode("utf-8") in data for v in {name, escape(name)})
