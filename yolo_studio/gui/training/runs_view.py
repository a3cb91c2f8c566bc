"""The list of a project's past runs; selecting one re-plots it."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from yolo_studio.gui.training.plots import row_map50

COLUMNS = ("Run", "Size", "Epochs", "mAP@.5")  # the run name ends with the model


def run_summary(run) -> tuple[str, str, str, str]:
    """The cells shown for one RunInfo (config and history rows may be partial)."""
    cfg = run.config if isinstance(run.config, dict) else getattr(run.config, "to_dict", dict)()
    rows = list(run.history or [])
    maps = [m for m in (row_map50(r) for r in rows) if m is not None]
    total = cfg.get("epochs", "?")
    best = f"{max(maps):.3f}" if maps else "–"
    return (run.name, str(cfg.get("input_size", "?")), f"{len(rows)}/{total}", best)


class RunsView(QTableWidget):
    """Past runs, newest first; ``runSelected(run)`` when the user picks one."""

    runSelected = Signal(object)

    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.horizontalHeaderItem(3).setToolTip("Best validation mAP@0.5 of the run")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().hide()
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, len(COLUMNS)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.runs: list = []
        self.itemSelectionChanged.connect(self._emit_selected)

    def set_runs(self, runs: list, select: str | None = None) -> None:
        """Show ``runs`` (newest first); keep or set the selection by run name."""
        keep = select or (self.selected_run().name if self.selected_run() else None)
        self.blockSignals(True)
        self.runs = sorted(runs, key=lambda r: r.name, reverse=True)
        self.setRowCount(len(self.runs))
        for i, run in enumerate(self.runs):
            for c, text in enumerate(run_summary(run)):
                item = QTableWidgetItem(text)
                item.setToolTip(str(run.path))
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.setItem(i, c, item)
        self.blockSignals(False)
        names = [r.name for r in self.runs]
        if keep in names:
            self.selectRow(names.index(keep))

    def selected_run(self):
        """The selected RunInfo, or None."""
        rows = self.selectionModel().selectedRows() if self.selectionModel() else []
        if not rows or rows[0].row() >= len(self.runs):
            return None
        return self.runs[rows[0].row()]

    def _emit_selected(self) -> None:
        run = self.selected_run()
        if run is not None:
            self.runSelected.emit(run)
