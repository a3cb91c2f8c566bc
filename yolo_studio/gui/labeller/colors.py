"""Class colours: a fixed, readable palette by class index, overridable per class."""
from __future__ import annotations

import zlib

from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor

# Distinct hues that stay readable as thin outlines on photos and with white text.
PALETTE = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#0fa3b1",
           "#f032e6", "#7a9a01", "#9a6324", "#800000", "#469990", "#000075",
           "#c71585", "#2e8b57", "#b8860b", "#5f4b8b")

_SETTINGS_KEY = "classColors/"


def class_color(name: str, classes: list[str]) -> QColor:
    """The colour of class ``name``: a user's choice if any, else by its index."""
    custom = QSettings().value(_SETTINGS_KEY + name)
    if custom and QColor(str(custom)).isValid():
        return QColor(str(custom))
    if name in classes:
        index = classes.index(name)
    else:  # a label not in the class list still gets a stable colour
        index = zlib.crc32(name.encode("utf-8"))
    return QColor(PALETTE[index % len(PALETTE)])


def set_class_color(name: str, color: QColor) -> None:
    """Remember the user's colour for class ``name``."""
    QSettings().setValue(_SETTINGS_KEY + name, color.name())


def color_map(classes: list[str], extra=()) -> dict[str, QColor]:
    """Colours of every class plus any extra labels."""
    return {n: class_color(n, classes) for n in [*classes, *extra]}
