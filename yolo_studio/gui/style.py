"""Icons and the stylesheet, loaded from yolo_studio/resources."""
from __future__ import annotations

from functools import lru_cache

from PySide6.QtGui import QIcon

from yolo_studio.resources import resource_path


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    """The icon ``resources/icon-<name>.svg`` (an empty icon if there is none)."""
    path = resource_path(f"icon-{name}.svg")
    return QIcon(str(path)) if name and path.exists() else QIcon()


def stylesheet() -> str:
    """The application stylesheet (its @RESOURCES@ pointing at the shipped files)."""
    text = resource_path("style.qss").read_text(encoding="utf-8")
    return text.replace("@RESOURCES@", resource_path("").as_posix())
