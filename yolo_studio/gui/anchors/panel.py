"""The Anchors panel: scatter of box sizes, fitted anchors and their fit metrics."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class AnchorsPanel(QWidget):
    """Fit anchors to the project's boxes and show how well they fit."""

    def __init__(self, context, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Anchors (being built)"))
