"""The boxes of the current image as a list: handy to pick one among overlapping boxes."""
from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QLabel, QListWidget, QListWidgetItem,
                               QVBoxLayout, QWidget)

from yolo_studio.gui.labeller.canvas import box_text
from yolo_studio.gui.labeller.class_list import swatch


class BoxList(QWidget):
    """Lists the current image's boxes; selecting here selects on the canvas."""

    selectionChanged = Signal(list)
    difficultClicked = Signal(bool)     # the user set or cleared 'difficult' for the selection

    def __init__(self, parent=None):
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setIconSize(QSize(12, 12))
        self.list.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.list.itemSelectionChanged.connect(self._emit)
        self.title = QLabel("Boxes")
        self.title.setObjectName("sectionTitle")
        # LabelImg's checkbox: VOC's <difficult> flag of the selected boxes.
        self.difficult = QCheckBox("Difficult")
        self.difficult.setObjectName("difficult")
        self.difficult.setToolTip("Mark the selected boxes as hard to recognise "
                                  "(VOC 'difficult'; evaluation may leave them out)")
        self.difficult.setEnabled(False)
        self.difficult.clicked.connect(lambda *_: self.difficultClicked.emit(self.difficult.isChecked()))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.list)
        layout.addWidget(self.difficult)
        self._boxes = []
        self._quiet = False

    def set_boxes(self, boxes, colors: dict) -> None:
        """List ``boxes`` with their class colours."""
        self._quiet = True
        self.list.clear()
        self._boxes = list(boxes)
        for b in boxes:
            # Sizes as the label file will say them: each corner is rounded on its own.
            text = f"{box_text(b)}   {round(b.x2) - round(b.x1)}×{round(b.y2) - round(b.y1)}"
            self.list.addItem(QListWidgetItem(swatch(colors.get(b.label) or QColor("#888888")), text))
        self.title.setText(f"Boxes ({len(boxes)})")
        self._quiet = False

    def select(self, indices) -> None:
        """Mirror the canvas selection without echoing it back."""
        self._quiet = True
        wanted = set(indices)
        for i in range(self.list.count()):
            self.list.item(i).setSelected(i in wanted)
        chosen = [self._boxes[i] for i in wanted if i < len(self._boxes)]
        self.difficult.setEnabled(bool(chosen))
        self.difficult.setChecked(bool(chosen) and all(b.difficult for b in chosen))
        self._quiet = False

    def _emit(self) -> None:
        if not self._quiet:
            self.selectionChanged.emit(sorted(self.list.row(i) for i in self.list.selectedItems()))
