"""The training panel: settings form, live plots, runs and results."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class TrainingPanel(QWidget):
    """Train a detector on the open project and watch it learn."""

    def __init__(self, context, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Training"))

    def may_close(self) -> bool:
        """True when the window may close (no training is running)."""
        return True
