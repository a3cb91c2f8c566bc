"""Read-only tables of the Anchors panel: fit metrics and anchor sizes, one column per anchor set."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from yolo_studio.core import anchors as A

# (row title, FitMetrics field, format, tooltip)
METRIC_ROWS = (
    ("mean IoU", "mean_iou", "{:.3f}",
     "Mean over boxes of the IoU with the best-fitting anchor (darknet's 'avg IoU'). Higher is better."),
    ("BPR", "bpr", "{:.3f}",
     "Best possible recall: share of boxes with an anchor whose width and height are both within "
     "4x of the box's (ultralytics' BPR). Below 0.98 the model will miss some boxes."),
    ("anchors / box", "anchors_above", "{:.2f}",
     "Mean number of anchors within the 4x ratio of each box: how many anchors can learn it."),
    ("IoU > 0.5", "iou_above_half", "{:.3f}",
     "Share of boxes whose best anchor overlaps them by more than 0.5 IoU."),
)
COLUMN_TITLE = {A.FITTED: "fitted", A.CURRENT: "project", A.DEFAULTS: "COCO"}


def _configure(table: QTableWidget) -> None:
    """Read-only, no selection, columns sharing the width, no scroll bars (sized to fit)."""
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)


def _cell(text: str, tip: str = "", bold: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
    if tip:
        item.setToolTip(tip)
    if bold:
        font = QFont()
        font.setBold(True)
        item.setFont(font)
    return item


def _fit_height(table: QTableWidget) -> None:
    table.resizeRowsToContents()
    height = table.horizontalHeader().height() + 2 * table.frameWidth()
    height += sum(table.rowHeight(r) for r in range(table.rowCount()))
    table.setFixedHeight(height)


class MetricsTable(QTableWidget):
    """Rows: metrics; columns: anchor sets; the best value of each row in bold."""

    def __init__(self, parent=None):
        super().__init__(len(METRIC_ROWS), 0, parent)
        _configure(self)
        self.setVerticalHeaderLabels([r[0] for r in METRIC_ROWS])
        for row, (_, _, _, tip) in enumerate(METRIC_ROWS):
            self.verticalHeaderItem(row).setToolTip(tip)
        _fit_height(self)

    def show_metrics(self, metrics: dict[str, A.FitMetrics]) -> None:
        """One column per anchor set, in the order given."""
        names = list(metrics)
        self.setColumnCount(len(names))
        self.setHorizontalHeaderLabels([COLUMN_TITLE.get(n, n) for n in names])
        for row, (_, field, fmt, tip) in enumerate(METRIC_ROWS):
            texts = [fmt.format(getattr(metrics[n], field)) for n in names]
            # Bold every set that shows the best figure, so equal-looking numbers look equal.
            best = fmt.format(max(getattr(metrics[n], field) for n in names)) if names else ""
            for col, text in enumerate(texts):
                self.setItem(row, col, _cell(text, tip, bold=len(texts) > 1 and text == best))
        _fit_height(self)

    def value(self, row_title: str, column: str) -> str:
        """The text shown for a metric and an anchor set (for tests and screenshots)."""
        row = [r[0] for r in METRIC_ROWS].index(row_title)
        titles = [self.horizontalHeaderItem(c).text() for c in range(self.columnCount())]
        return self.item(row, titles.index(COLUMN_TITLE.get(column, column))).text()


class AnchorsTable(QTableWidget):
    """Rows: output scales (stride ascending); columns: anchor sets; cells: 'w×h' of 3 anchors."""

    def __init__(self, parent=None):
        super().__init__(0, 0, parent)
        _configure(self)
        self.setWordWrap(True)
        _fit_height(self)

    def show_sets(self, sets: dict, strides: list[int]) -> None:
        """Three anchors per row; rows are labelled with the stride they serve when k fits the model."""
        names = list(sets)
        rows = max((len(a) + 2) // 3 for a in sets.values()) if sets else 0
        self.setRowCount(rows)
        self.setColumnCount(len(names))
        self.setHorizontalHeaderLabels([COLUMN_TITLE.get(n, n) for n in names])
        fits = all(len(a) == 3 * len(strides) for a in sets.values())
        self.setVerticalHeaderLabels([f"/{strides[r]}" if fits and r < len(strides) else f"{r + 1}"
                                      for r in range(rows)])
        for col, name in enumerate(names):
            anchors = sets[name]
            for row in range(rows):
                group = anchors[3 * row:3 * row + 3]
                # Whole pixels fit three columns in the side bar; the tooltip has the stored values.
                text = "\n".join(f"{w:.0f}×{h:.0f}" for w, h in group)
                tip = "width × height in network pixels: " + ", ".join(
                    f"{float(w):g}×{float(h):g}" for w, h in group)
                self.setItem(row, col, _cell(text, tip))
        _fit_height(self)
