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


class _SizeAxis(pg.AxisItem):
    """Log-mode tick labels as plain pixel counts ("30", not "3·10¹")."""

    def logTickStrings(self, values, scale, spacing):
        return [f"{10 ** v:.0f}" if 10 ** v >= 1 else f"{10 ** v:.2g}" for v in np.asarray(values, dtype=float)]


def cluster_colours(k: int) -> list[tuple[int, int, int]]:
    """k distinct colours, spread over the hue circle."""
    return [pg.intColor(i, hues=max(k, 1), values=1, maxValue=210, sat=200).getRgb()[:3] for i in range(k)]


class SizePlot(pg.PlotWidget):
    """The box-size scatter; emits the index of the box a user clicks or double-clicks.

    Log axes are drawn by plotting log10 of the sizes under axes in log mode:
    ScatterPlotItem has no log mode of its own.
    """

    pointClicked = Signal(int)
    pointActivated = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent, background="w",
                         axisItems={"bottom": _SizeAxis("bottom"), "left": _SizeAxis("left")})
        item = self.getPlotItem()
        item.showGrid(x=True, y=True, alpha=0.25)
        item.setMenuEnabled(False)
        # Bottom right: wide, flat boxes are the rarest shapes in most data sets.
        self.legend = item.addLegend(offset=(-10, -10), labelTextColor=(40, 40, 40),
                                     brush=pg.mkBrush(255, 255, 255, 220))
        self.describe = None            # index -> hover text, set by the panel
        self.points = pg.ScatterPlotItem(size=POINT_SIZE, pen=None, hoverable=True,
                                         hoverSize=POINT_SIZE + 4, name="boxes", tip=self._tip)
        self.points.sigClicked.connect(self._clicked)
        item.addItem(self.points)
        self.anchor_items: dict[str, pg.ScatterPlotItem] = {}
        for name in (A.DEFAULTS, A.CURRENT, A.FITTED):
            self.anchor_items[name] = _PassiveScatter(name=LEGEND_NAME[name], **ANCHOR_STYLE[name])
            self.anchor_items[name].setZValue(10)
            item.addItem(self.anchor_items[name])
        self.marker = _PassiveScatter(symbol="o", size=18, brush=pg.mkBrush(None),
                                      pen=pg.mkPen((220, 0, 0), width=2.5))
        self.marker.setZValue(20)
        item.addItem(self.marker)
        self.shown = np.zeros(0, dtype=np.intp)   # scatter spot -> box index
        self.log = False
        self._result = None
        self._selected: int | None = None
        self.set_axes(416)

    def set_axes(self, input_size: int) -> None:
        """Axis titles name the input size the sizes are measured at."""
        item = self.getPlotItem()
        item.setLabel("bottom", f"box width (px at {input_size}×{input_size} input)")
        item.setLabel("left", "box height (px)")

    def set_log(self, log: bool) -> None:
        """Switch between linear and log10 axes (small boxes spread out on log axes)."""
        self.log = bool(log)
        # New data and range first: an axis switched to log mode while the view
        # still spans 0..400 px would compute 10**400.
        if self._result is not None:
            selected = self._selected
            self.show_result(self._result)
            self.select(selected)
        else:
            self.getPlotItem().setRange(xRange=(0, 1), yRange=(0, 1))
        for name in ("bottom", "left"):
            self.getPlotItem().getAxis(name).setLogMode(self.log)

    def _xy(self, wh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        wh = np.asarray(wh, dtype=np.float64).reshape(-1, 2)
        if self.log:
            wh = np.log10(wh)
        return wh[:, 0], wh[:, 1]

    def show_result(self, result) -> None:
        """Draw the boxes of ``result`` coloured by cluster and each anchor set it holds."""
        self._result = result
        wh, clusters = result.wh, result.clusters
        self.set_axes(result.request.input_size)
        main = result.sets.get(result.main_set) if result.sets else None
        colours = cluster_colours(len(main) if main is not None else 1)
        self.shown = _subset(len(wh))
        brushes = [pg.mkBrush(*c, 140) for c in colours]
        spot_brush = ([brushes[c] for c in clusters[self.shown]] if clusters is not None
                      else pg.mkBrush(60, 90, 160, 140))
        x, y = self._xy(wh[self.shown])
        self.points.setData(x=x, y=y, brush=spot_brush, data=self.shown)
        for name, item in self.anchor_items.items():
            anchors = result.sets.get(name)
            _show_in_legend(self.legend, item, anchors is not None)
            if anchors is None:
                item.setData(x=[], y=[])
                continue
            extra = {"brush": [pg.mkBrush(*c) for c in colours]} if name == A.FITTED else {}
            x, y = self._xy(anchors)
            item.setData(x=x, y=y, **extra)
        self.select(None)
        self._fit_range(result)

    def clear_data(self) -> None:
        """An empty plot (no project, or a project without boxes)."""
        self._result = None
        self.shown = np.zeros(0, dtype=np.intp)
        self.points.setData(x=[], y=[])
        for item in self.anchor_items.values():
            item.setData(x=[], y=[])
        self.select(None)

    def select(self, index: int | None) -> None:
        """Ring the box ``index`` (None clears the ring)."""
        r = self._result
        if index is None or r is None or index >= len(r.wh):
            self._selected = None
            self.marker.setData(x=[], y=[])
        else:
            self._selected = index
            x, y = self._xy(r.wh[index])
            self.marker.setData(x=x, y=y)

    def _fit_range(self, result) -> None:
        sizes = [result.wh] + list(result.sets.values())
        sizes = np.concatenate([np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in sizes])
        if len(sizes) == 0:
            return
        if self.log:
            lo, hi = np.log10(sizes.min()), np.log10(sizes.max())
            span = (lo - 0.1, hi + 0.1)
        else:
            span = (0.0, float(sizes.max()) * 1.05)
        self.getPlotItem().setRange(xRange=span, yRange=span, padding=0)

    def _tip(self, x, y, data) -> str:
        return self.describe(int(data)) if self.describe is not None and data is not None else ""

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
