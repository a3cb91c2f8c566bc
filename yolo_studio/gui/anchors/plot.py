"""Scatter of every box's (width, height) at the network size, coloured by cluster, with anchors on top."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal

from yolo_studio.core import anchors as A

# Drawing 100k spots with their own brushes costs seconds; a random subset
# this big shows the same clouds and keeps clicking responsive.
MAX_POINTS = 30_000
POINT_SIZE = 6
ANCHOR_STYLE = {
    A.FITTED: dict(symbol="star", size=22, pen=pg.mkPen((20, 20, 20), width=1.5)),
    A.CURRENT: dict(symbol="d", size=16, brush=pg.mkBrush(None), pen=pg.mkPen((230, 120, 0), width=2.5)),
    A.DEFAULTS: dict(symbol="s", size=13, brush=pg.mkBrush(None), pen=pg.mkPen((90, 90, 90), width=2)),
}
LEGEND_NAME = {A.FITTED: "fitted anchors", A.CURRENT: "project's anchors", A.DEFAULTS: "COCO default anchors"}


class _PassiveScatter(pg.ScatterPlotItem):
    """Markers drawn over the boxes that let clicks through to the box underneath."""

    def mouseClickEvent(self, ev) -> None:
        ev.ignore()


def cluster_colours(k: int) -> list[tuple[int, int, int]]:
    """k distinct colours, spread over the hue circle."""
    return [pg.intColor(i, hues=max(k, 1), values=1, maxValue=210, sat=200).getRgb()[:3] for i in range(k)]


class SizePlot(pg.PlotWidget):
    """The box-size scatter; emits the index of the box a user clicks or double-clicks."""

    pointClicked = Signal(int)
    pointActivated = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent, background="w")
        item = self.getPlotItem()
        item.showGrid(x=True, y=True, alpha=0.25)
        item.setMenuEnabled(False)
        # Bottom right: wide, flat boxes are the rarest shapes in most data sets.
        self.legend = item.addLegend(offset=(-10, -10), labelTextColor=(40, 40, 40),
                                     brush=pg.mkBrush(255, 255, 255, 220))
        self.points = pg.ScatterPlotItem(size=POINT_SIZE, pen=None, hoverable=True,
                                         hoverSize=POINT_SIZE + 4, name="boxes", tip=None)
        self.points.sigClicked.connect(self._clicked)
        item.addItem(self.points)
        self.anchor_items: dict[str, pg.ScatterPlotItem] = {}
        for name in (A.DEFAULTS, A.CURRENT, A.FITTED):
            style = dict(ANCHOR_STYLE[name])
            self.anchor_items[name] = _PassiveScatter(name=LEGEND_NAME[name], **style)
            self.anchor_items[name].setZValue(10)
            item.addItem(self.anchor_items[name])
        self.marker = _PassiveScatter(symbol="o", size=18, brush=pg.mkBrush(None),
                                         pen=pg.mkPen((220, 0, 0), width=2.5))
        self.marker.setZValue(20)
        item.addItem(self.marker)
        self.shown = np.zeros(0, dtype=np.intp)   # scatter spot -> box index
        self._wh = np.zeros((0, 2))
        self.set_axes(416)

    def set_axes(self, input_size: int) -> None:
        """Axis titles name the input size the sizes are measured at."""
        item = self.getPlotItem()
        item.setLabel("bottom", f"box width (px at {input_size}×{input_size} input)")
        item.setLabel("left", "box height (px)")

    def show_result(self, result) -> None:
        """Draw the boxes of ``result`` coloured by cluster and each anchor set it holds."""
        wh, clusters = result.wh, result.clusters
        self._wh = wh
        self.set_axes(result.request.input_size)
        main = result.sets.get(result.main_set) if result.sets else None
        colours = cluster_colours(len(main) if main is not None else 1)
        self.shown = _subset(len(wh))
        brushes = [pg.mkBrush(*c, 140) for c in colours]
        spot_brush = ([brushes[c] for c in clusters[self.shown]] if clusters is not None
                      else pg.mkBrush(60, 90, 160, 140))
        self.points.setData(x=wh[self.shown, 0], y=wh[self.shown, 1], brush=spot_brush,
                            data=self.shown)
        for name, item in self.anchor_items.items():
            anchors = result.sets.get(name)
            if anchors is None:
                item.setData(x=[], y=[])
                _show_in_legend(self.legend, item, False)
                continue
            extra = {"brush": [pg.mkBrush(*c) for c in colours]} if name == result.main_set \
                and name == A.FITTED else {}
            item.setData(x=anchors[:, 0], y=anchors[:, 1], **extra)
            _show_in_legend(self.legend, item, True)
        self.select(None)
        self._fit_range(result)

    def clear_data(self) -> None:
        """An empty plot (no project, or a project without boxes)."""
        self._wh = np.zeros((0, 2))
        self.shown = np.zeros(0, dtype=np.intp)
        self.points.setData(x=[], y=[])
        for item in self.anchor_items.values():
            item.setData(x=[], y=[])
        self.select(None)

    def select(self, index: int | None) -> None:
        """Ring the box ``index`` (None clears the ring)."""
        if index is None or index >= len(self._wh):
            self.marker.setData(x=[], y=[])
        else:
            self.marker.setData(x=[self._wh[index, 0]], y=[self._wh[index, 1]])

    def _fit_range(self, result) -> None:
        extent = [result.wh.max(axis=0)] if len(result.wh) else []
        extent += [a.max(axis=0) for a in result.sets.values()]
        top = float(np.max(extent)) if extent else float(result.request.input_size)
        self.getPlotItem().setRange(xRange=(0, top * 1.05), yRange=(0, top * 1.05), padding=0)

    def _clicked(self, _item, points, ev) -> None:
        if not len(points):
            return
        index = int(points[0].data())
        self.select(index)
        self.pointClicked.emit(index)
        if ev is not None and ev.double():
            self.pointActivated.emit(index)


def _subset(n: int) -> np.ndarray:
    if n <= MAX_POINTS:
        return np.arange(n)
    # A fixed seed so the same data shows the same points after every refit.
    return np.sort(np.random.default_rng(0).choice(n, MAX_POINTS, replace=False))


def _show_in_legend(legend, item, visible: bool) -> None:
    present = any(sample.item is item for sample, _ in legend.items)
    if visible and not present:
        legend.addItem(item, item.name())
    elif not visible and present:
        legend.removeItem(item)
