"""Class colours: a fixed, readable palette by class index, overridable per class."""
from __future__ import annotations

import zlib

from PySide6.QtGui import QColor

from yolo_studio.core.paths import user_data_dir
from yolo_studio.gui.settings import settings

# Distinct hues that stay readable as thin outlines on photos and with white text.
PALETTE = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#0fa3b1",
           "#f032e6", "#7a9a01", "#9a6324", "#800000", "#469990", "#000075",
           "#c71585", "#2e8b57", "#b8860b", "#5f4b8b")

_SETTINGS_KEY = "classColors/"
# QSettings lookups are slow enough to show when done per box; keyed by settings folder.
_custom: dict[tuple[str, str], QColor | None] = {}


def class_color(name: str, classes: list[str]) -> QColor:
    """The colour of class ``name``: a user's choice if any, else by its index."""
    key = (str(user_data_dir()), name)
    if key not in _custom:
        value = settings().value(_SETTINGS_KEY + name)
        _custom[key] = QColor(str(value)) if value and QColor(str(value)).isValid() else None
    if _custom[key] is not None:
        return QColor(_custom[key])
    if name in classes:
        index = classes.index(name)
    else:  # a label not in the class list still gets a stable colour
        index = zlib.crc32(name.encode("utf-8"))
    return QColor(PALETTE[index % len(PALETTE)])


def set_class_color(name: str, color: QColor) -> None:
    """Remember the user's colour for class ``name``."""
    settings().setValue(_SETTINGS_KEY + name, color.name())
    _custom[(str(user_data_dir()), name)] = QColor(color)


def rename_class_color(old: str, new: str) -> None:
    """Carry a user's colour over to a renamed class."""
    value = settings().value(_SETTINGS_KEY + old)
    if value and QColor(str(value)).isValid():
        set_class_color(new, QColor(str(value)))


def color_map(classes: list[str], extra=()) -> dict[str, QColor]:
    """Colours of every class plus any extra labels."""
    return {n: class_color(n, classes) for n in [*classes, *extra]}
