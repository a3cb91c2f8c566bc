"""The class list: pick the class for new boxes; add, rename, delete, recolour.

Rename and delete touch label files all over the project, so each asks first
and says how many files and boxes change.
"""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QColorDialog, QHBoxLayout, QInputDialog, QLabel, QListWidget,
                               QListWidgetItem, QMessageBox, QToolButton, QVBoxLayout, QWidget)

from yolo_studio.core.class_names import class_name_problem
from yolo_studio.core.errors import YoloStudioError
from yolo_studio.gui.colors import class_color, rename_class_color, set_class_color
from yolo_studio.gui.style import icon


def swatch(color: QColor, size: int = 14) -> QIcon:
    """A filled square icon of ``color``."""
    pm = QPixmap(size, size)
    pm.fill(color)
    return QIcon(pm)


def validate_class_name(name: str, classes: list[str]) -> str:
    """'' if ``name`` can be a new class, else the reason it cannot (the rule is core's)."""
    problem = class_name_problem(name)
    if problem:
        return problem[0].upper() + problem[1:] + "."
    if name in classes:
        return f"There is already a class called '{name}'."
    return ""


class ClassList(QWidget):
    """Lists the project's classes; the current one is used for new boxes."""

    currentClassChanged = Signal(str)
    aboutToEdit = Signal()              # flush unsaved labels before files are rewritten
    classesEdited = Signal(list)        # label files rewritten by a rename/delete
    colorsChanged = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.project = None
        self.list = QListWidget()
        self.list.setIconSize(QSize(14, 14))
        self.list.currentTextChanged.connect(self._current_changed)
        # A click on the current class still means "this class" (e.g. for the selected boxes).
        self.list.itemClicked.connect(lambda item: self._current_changed(item.text()))
        self.list.itemDoubleClicked.connect(lambda _item: self.rename_current())
        title = QLabel("Classes")
        title.setObjectName("sectionTitle")
        buttons = QHBoxLayout()
        buttons.setSpacing(2)
        for name, tip, slot in (("add", "Add a class", self.add_class),
                                ("rename", "Rename the class (relabels its boxes)", self.rename_current),
                                ("remove", "Delete the class and its boxes", self.delete_current),
                                ("color", "Change the class colour", self.recolor_current)):
            b = QToolButton()
            b.setIcon(icon(name))
            b.setToolTip(tip)
            b.setAutoRaise(True)
            # clicked(checked) would arrive as add_class's or rename_current's name
            # argument (False), skipping the dialog: call the slot with no arguments.
            b.clicked.connect(lambda _checked=False, s=slot: s())
            b.setObjectName(f"class_{name}")
            buttons.addWidget(b)
        buttons.addStretch(1)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addStretch(1)
        head.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(self.list)

    def set_project(self, project) -> None:
        """Show ``project``'s classes."""
        self.project = project
        self.refresh()

    def classes(self) -> list[str]:
        """The project's classes."""
        return list(self.project.classes) if self.project is not None else []

    def refresh(self) -> None:
        """Rebuild the list from the project, keeping the current class."""
        current = self.current_class()
        self.list.blockSignals(True)
        self.list.clear()
        classes = self.classes()
        for i, name in enumerate(classes):
            item = QListWidgetItem(swatch(class_color(name, classes)), name)
            item.setToolTip(f"Key {i + 1}" if i < 9 else "")
            self.list.addItem(item)
        self.list.blockSignals(False)
        if classes:
            self.set_current_class(current if current in classes else classes[0])

    def current_class(self) -> str:
        """The class new boxes get ('' if there are none)."""
        item = self.list.currentItem()
        return item.text() if item else ""

    def set_current_class(self, name: str) -> None:
        """Make ``name`` the current class (if it exists)."""
        items = self.list.findItems(name, Qt.MatchExactly)
        if items:
            self.list.setCurrentItem(items[0])

    def _current_changed(self, name: str) -> None:
        if name:
            self.currentClassChanged.emit(name)

    # -- editing --------------------------------------------------------
    def add_class(self, name: str | None = None) -> str:
        """Ask for a name (unless given) and add the class; returns it ('' if cancelled)."""
        if self.project is None:
            return ""
        if name is None:
            name, ok = QInputDialog.getText(self, "Add class", "Name of the new class:")
            if not ok:
                return ""
        problem = validate_class_name(name, self.classes())
        if problem:
            QMessageBox.warning(self, "Add class", problem)
            return ""
        if not self._run(lambda: (self.project.add_class(name), self.project.save())):
            return ""
        self.refresh()
        self.set_current_class(name)
        self.classesEdited.emit([])
        return name

    def rename_current(self, new: str | None = None) -> bool:
        """Rename the current class everywhere, after a confirmation with the counts."""
        old = self.current_class()
        if not old:
            return False
        if new is None:
            new, ok = QInputDialog.getText(self, "Rename class", f"New name for '{old}':", text=old)
            if not ok or new == old:
                return False
        problem = validate_class_name(new, self.classes())
        if problem:
            QMessageBox.warning(self, "Rename class", problem)
            return False
        self.aboutToEdit.emit()
        boxes, files = self.project.class_usage(old)
        answer = QMessageBox.question(
            self, "Rename class",
            f"Rename '{old}' to '{new}'?\n\nThis relabels {boxes} box(es) and rewrites "
            f"{files} label file(s) in the project.")
        if answer != QMessageBox.Yes:
            return False
        changed: list = []
        if not self._run(lambda: (changed.extend(self.project.rename_class(old, new)),
                                  self.project.save())):
            return False
        rename_class_color(old, new)
        self.refresh()
        self.set_current_class(new)
        self.classesEdited.emit(changed)
        return True

    # Same shape as rename_current (count, confirm, run): the duplicate finder pairs them; two
    # dialogs with their own words, kept apart on purpose.
    def delete_current(self) -> bool:
        """Delete the current class and its boxes, after saying how many boxes go."""
        name = self.current_class()
        if not name:
            return False
        self.aboutToEdit.emit()
        boxes, files = self.project.class_usage(name)
        answer = QMessageBox.warning(
            self, "Delete class",
            f"Delete the class '{name}'?\n\n{boxes} box(es) in {files} label file(s) "
            "will be removed. This cannot be undone.",
            QMessageBox.Yes | QMessageBox.Cancel, QMessageBox.Cancel)
        if answer != QMessageBox.Yes:
            return False
        if not self._run(lambda: (self.project.remove_class(name), self.project.save())):
            return False
        self.refresh()
        self.classesEdited.emit([])
        return True

    def recolor_current(self) -> None:
        """Let the user pick the colour of the current class."""
        name = self.current_class()
        if not name:
            return
        color = QColorDialog.getColor(class_color(name, self.classes()), self, f"Colour of '{name}'")
        if color.isValid():
            set_class_color(name, color)
            self.refresh()
            self.colorsChanged.emit()

    def _run(self, fn) -> bool:
        try:
            fn()
        except (OSError, YoloStudioError) as e:
            QMessageBox.critical(self, "Classes", str(e))
            return False
        return True
