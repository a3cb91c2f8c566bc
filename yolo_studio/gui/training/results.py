"""Results of the best checkpoint: mAP, per-class AP table, PR curves, 'Use in Preview'."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

_COLOURS = [(66, 133, 244), (219, 68, 55), (15, 157, 88), (244, 160, 0), (156, 39, 176),
            (0, 172, 193), (255, 112, 67), (124, 179, 66), (92, 107, 192), (240, 98, 146)]


class ResultsView(QWidget):
    """The best checkpoint's figures; ``useInPreview(path)`` and ``evaluateRequested(path)``."""

    useInPreview = Signal(str)
    evaluateRequested = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.checkpoint: str | None = None
        self.summary = QLabel("No results yet: train a model, or pick a run.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(("Class", "AP@0.5", "AP@.5:.95"))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.pr_plot = pg.PlotWidget(background="w")
        pr = self.pr_plot.getPlotItem()
        pr.setTitle("Precision-recall per class (validation images)")
        pr.setLabel("bottom", "recall")
        pr.setLabel("left", "precision")
        pr.setXRange(0, 1)
        pr.setYRange(0, 1.02)
        pr.showGrid(x=True, y=True, alpha=0.25)
        self._pr_legend = pr.addLegend(offset=(10, -10))   # bottom left: PR curves fall to the right
        self.pr_curves: dict[str, pg.PlotDataItem] = {}
        self.evaluate_button = QPushButton("Compute PR curves")
        self.evaluate_button.setToolTip("Run the best checkpoint on the validation images")
        self.evaluate_button.clicked.connect(lambda: self.evaluateRequested.emit(self.checkpoint))
        self.use_button = QPushButton("Use in Preview")
        self.use_button.setToolTip("Load the best checkpoint into the Preview panel")
        self.use_button.clicked.connect(lambda: self.useInPreview.emit(self.checkpoint))
        buttons = QHBoxLayout()
        buttons.addWidget(self.evaluate_button)
        buttons.addStretch(1)
        buttons.addWidget(self.use_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 2)
        layout.addWidget(self.pr_plot, 3)
        layout.addLayout(buttons)
        self.set_checkpoint(None)

    def set_checkpoint(self, path: str | None) -> None:
        """The checkpoint the buttons act on (None disables them)."""
        self.checkpoint = str(path) if path else None
        self.use_button.setEnabled(bool(path))
        self.evaluate_button.setEnabled(bool(path))

    def show_scores(self, map50, per_class_ap50: dict, per_class_ap: dict | None = None,
                    map50_95=None, where: str = "") -> None:
        """Fill the summary and the per-class table."""
        if map50 is None:
            self.summary.setText(f"mAP not computed yet{where}.")
        else:
            extra = f", mAP@.5:.95 {map50_95:.3f}" if map50_95 is not None else ""
            self.summary.setText(f"<b>mAP@0.5 {map50:.3f}</b>{extra}{where}")
        names = list(per_class_ap50 or {})
        self.table.setRowCount(len(names))
        for i, name in enumerate(names):
            cells = (name, _fmt(per_class_ap50.get(name)),
                     _fmt((per_class_ap or {}).get(name)))
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(i, c, item)

    def show_pr_curves(self, curves: dict) -> None:
        """Draw ``{class: (recall, precision)}`` curves, one colour per class."""
        item = self.pr_plot.getPlotItem()
        for curve in self.pr_curves.values():
            item.removeItem(curve)
        self._pr_legend.clear()
        self.pr_curves = {}
        for i, (name, (recall, precision)) in enumerate(curves.items()):
            rgb = _COLOURS[i % len(_COLOURS)]
            curve = item.plot(np.asarray(recall, float), np.asarray(precision, float),
                              pen=pg.mkPen(rgb, width=2), name=name)
            self.pr_curves[name] = curve

    def clear(self) -> None:
        """Back to 'no results'."""
        self.summary.setText("No results yet: train a model, or pick a run.")
        self.table.setRowCount(0)
        self.show_pr_curves({})
        self.set_checkpoint(None)


def _fmt(value) -> str:
    return "–" if value is None else f"{float(value):.3f}"
