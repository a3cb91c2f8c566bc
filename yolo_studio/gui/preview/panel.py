"""The preview panel: live detections on camera, video or image-folder frames."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class PreviewPanel(QWidget):
    """Pick a source and a model, start, and watch the detections."""

    def __init__(self, context, parent=None):
        super().__init__(parent)
        self.context = context
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Preview: being built"))
