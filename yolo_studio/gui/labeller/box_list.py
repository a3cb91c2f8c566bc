"""The boxes of the current image as a list: handy to pick one among overlapping boxes."""
from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from yolo_studio.gui.labeller.canvas import box_text
from yolo_studio.gui.labeller.class_list import swatch


class BoxList(QWidget):
    """Lists the current image's boxes; selecting here selects on the canvas."""

    selectionChanged = Signal(list)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setIconSize(QSize(12, 12))
        self.list.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.list.itemSelectionChanged.connect(self._emit)
        self.title = QLabel("Boxes")
        self.title.setObjectName("sectionTitle")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.list)
        self._quiet = False

    def set_boxes(self, boxes, colors: dict) -> None:
        """List ``boxes`` with their class colours."""
        self._quiet = True
        self.list.clear()
        for b in boxes:
            text = f"{box_text(b)}   {b.width:.0f}×{b.height:.0f}"
            self.list.addItem(QListWidgetItem(swatch(colors.get(b.label) or QColor("#888888")), text))
        self.title.setText(f"Boxes ({len(boxes)})")
        self._quiet = False

    def select(self, indices) -> None:
        """Mirror the canvas selection without echoing it back."""
        self._quiet = True
        wanted = set(indices)
        for i in range(self.list.count()):
            self.list.item(i).setSelected(i in wanted)
        self._quiet = False

    def _emit(self) -> None:
        if not self._quiet:
            self.selectionChanged.emit(sorted(self.list.row(i) for i in self.list.selectedItems()))
