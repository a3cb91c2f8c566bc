"""A labelled 0.01..0.99 slider for the score and NMS IoU thresholds."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget

STEPS = 100


class ThresholdSlider(QWidget):
    """Name, slider and the value as text; emits the value as a float."""

    valueChanged = Signal(float)

    def __init__(self, name: str, value: float, parent=None):
        super().__init__(parent)
        self.name = QLabel(name)
        self.name.setMinimumWidth(58)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(1, STEPS - 1)
        self.slider.setPageStep(5)
        self.text = QLabel()
        self.text.setMinimumWidth(32)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.name)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.text)
        self.slider.valueChanged.connect(self._changed)
        self.setValue(value)
        self._changed(self.slider.value())

    def value(self) -> float:
        return self.slider.value() / STEPS

    def setValue(self, value: float) -> None:
        self.slider.setValue(round(float(value) * STEPS))

    def _changed(self, raw: int) -> None:
        self.text.setText(f"{raw / STEPS:.2f}")
        self.valueChanged.emit(raw / STEPS)
