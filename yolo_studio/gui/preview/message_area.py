"""A message box of fixed height, so a long message never moves the buttons next to it.

A word-wrapped QLabel grows with its text and pushes its neighbours: in the
preview, a 4-line snapshot message moved Start/Stop by 30-40 px and a click
aimed at Start hit "Snapshot to dataset". Here the height is set once; text
that does not fit scrolls inside the area.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea


class MessageArea(QScrollArea):
    """``lines`` lines of word-wrapped, selectable text; the height never changes."""

    def __init__(self, lines: int = 4, parent=None):
        super().__init__(parent)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setWidget(self.label)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFixedHeight(self.fontMetrics().lineSpacing() * lines + 6)

    def set_text(self, text: str, error: bool = False) -> None:
        """Show ``text`` (red if ``error``), scrolled to its start."""
        self.label.setStyleSheet("color: #d64545;" if error else "")
        self.label.setText(text)
        self.label.setToolTip(text if text else "")
        self.verticalScrollBar().setValue(0)

    def text(self) -> str:
        """The message shown now."""
        return self.label.text()
