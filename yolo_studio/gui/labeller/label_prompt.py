"""The class prompt after drawing a box or double-clicking one, as in LabelImg and labelme.

A list of the project's classes that also takes a new name: typing one adds
the class. It can be turned off (Edit > Ask for the class after drawing); the
box then takes the current class, as keys 1-9 set it.
"""
from __future__ import annotations

from PySide6.QtWidgets import QInputDialog

from yolo_studio.gui.settings import read_setting, write_settings

ASK_KEY = "labeller/askClassAfterDrawing"


def asks_after_drawing() -> bool:
    """True when a new box asks for its class (the default, as in LabelImg)."""
    return read_setting(ASK_KEY, True)


def set_asks_after_drawing(on: bool) -> None:
    """Turn the prompt after drawing on or off (kept across restarts)."""
    write_settings({ASK_KEY: bool(on)})


def ask_class(parent, classes: list[str], current: str, title: str = "Class of the new box") -> str:
    """The class the user picks or types ('' if cancelled); a new name is returned as typed."""
    dialog = QInputDialog(parent)
    dialog.setObjectName("classPrompt")
    dialog.setWindowTitle(title)
    dialog.setLabelText("Class (pick one, or type a new name to add it):")
    dialog.setComboBoxItems(classes)
    dialog.setComboBoxEditable(True)
    if current in classes:
        dialog.setTextValue(current)
    if not dialog.exec():
        return ""
    return dialog.textValue()  # a new name is checked where the class is added
