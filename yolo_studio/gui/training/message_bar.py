"""A dismissable bar above the plots for errors (red) and notices (blue)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton

_STYLES = {
    "error": "background:#fdecea; color:#8a1c13; border:1px solid #e0a39c; border-radius:4px;",
    "info": "background:#e8f0fe; color:#174ea6; border:1px solid #a8c1ef; border-radius:4px;",
}


class MessageBar(QFrame):
    """Shows one message at a time; hidden until there is something to say."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.kind = ""
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_error(self, text: str) -> None:
        """A red message (the run failed, a setting is wrong)."""
        self._show("error", text)

    def show_info(self, text: str) -> None:
        """A neutral notice (stopped, finished)."""
        self._show("info", text)

    def text(self) -> str:
        """The message shown now, '' when hidden."""
        return self.label.text() if not self.isHidden() else ""

    def dismiss(self) -> None:
        """Hide the bar."""
        self.kind = ""
        self.hide()

    def _show(self, kind: str, text: str) -> None:
        self.kind = kind
        self.setStyleSheet(f"MessageBar {{{_STYLES[kind]}}} QLabel {{border:none; background:transparent;}}")
        self.label.setText(text)
        self.show()
