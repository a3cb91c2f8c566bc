"""Live training plots: per-batch loss parts, per-epoch val loss and mAP, learning rate.

Reports arrive as Qt signals (possibly hundreds a second on a fast GPU); they
only append to numpy buffers. A QTimer pushes the buffers to the curves a few
times a second, so drawing cost does not grow with the batch rate.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

# Parts of the per-batch loss: (key in BatchReport, legend name, colour).
LOSS_PARTS = (
    ("box_loss", "box", (66, 133, 244)),
    ("obj_loss", "objectness", (219, 68, 55)),
    ("cls_loss", "class", (15, 157, 88)),
    ("total_loss", "total", (40, 40, 40)),
)
EMA_ALPHA = 0.05          # darknet's avg_loss uses 0.1; a bit smoother reads better live
REDRAW_HZ = 5


class GrowingSeries:
    """An (x, y) series in numpy arrays that double when full (amortised O(1) append)."""

    def __init__(self, capacity: int = 1024):
        self._x = np.empty(capacity, dtype=np.float64)
        self._y = np.empty(capacity, dtype=np.float64)
        self.n = 0

    def append(self, x: float, y: float) -> None:
        """Add one point."""
        if self.n == len(self._x):
            self._x = np.concatenate([self._x, np.empty_like(self._x)])
            self._y = np.concatenate([self._y, np.empty_like(self._y)])
        self._x[self.n] = x
        self._y[self.n] = y
        self.n += 1

    def clear(self) -> None:
        """Forget every point (keeps the memory)."""
        self.n = 0

    @property
    def x(self) -> np.ndarray:
        return self._x[: self.n]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self.n]


class SmoothedSeries:
    """A raw series plus its exponential moving average, updated point by point."""

    def __init__(self, alpha: float = EMA_ALPHA):
        self.alpha = alpha
        self.raw = GrowingSeries()
        self.smooth = GrowingSeries()
        self._ema: float | None = None

    def append(self, x: float, y: float) -> None:
        """Add one raw point and the matching EMA point (non-finite values are skipped)."""
        if not np.isfinite(y):
            return
        self.raw.append(x, y)
        self._ema = y if self._ema is None else self.alpha * y + (1 - self.alpha) * self._ema
        self.smooth.append(x, self._ema)

    def clear(self) -> None:
        """Forget every point and the running average."""
        self.raw.clear()
        self.smooth.clear()
        self._ema = None


def _cheap(plot: pg.PlotItem, grid: bool = False) -> None:
    # Peak downsampling keeps spikes visible; clip-to-view skips off-screen points.
    plot.setDownsampling(auto=True, mode="peak")
    plot.setClipToView(True)
    # A grid costs more to paint than the curves (translucent lines over the whole
    # view, re-laid at every range change): only on the plot that redraws once an epoch.
    if grid:
        plot.showGrid(x=True, y=True, alpha=0.25)


def _faint(rgb, width=1):
    # The colour mixed with the white background by hand: looks translucent, but an
    # opaque pen skips alpha blending of every segment.
    mixed = tuple(int(255 - (255 - c) * 0.35) for c in rgb)
    return pg.mkPen(color=mixed, width=width)


class LossPlot(pg.PlotWidget):
    """Per-batch loss by part, raw (thin, faint) and smoothed (bold); x in epochs."""

    def __init__(self, parent=None):
        super().__init__(parent, background="w")
        item = self.getPlotItem()
        _cheap(item)
        item.setTitle("Training loss per batch")
        item.setLabel("bottom", "epoch")
        item.setLabel("left", "loss (log scale)")
        # Early losses are 10-100x the late ones; a log axis keeps both readable.
        item.setLogMode(y=True)
        item.addLegend(offset=(-10, 5), colCount=4)
        self.series = {key: SmoothedSeries() for key, _, _ in LOSS_PARTS}
        self._smoothing_fitted = False
        self.raw_curves, self.smooth_curves = {}, {}
        for key, name, rgb in LOSS_PARTS:
            self.raw_curves[key] = item.plot(pen=_faint(rgb))
            self.smooth_curves[key] = item.plot(pen=pg.mkPen(rgb, width=2), name=name)

    def add(self, report) -> None:
        """Record one BatchReport's loss parts at x = epochs done."""
        x = report.step / max(report.steps_per_epoch, 1)
        if not self._smoothing_fitted:
            self._fit_smoothing(report.steps_per_epoch)
        for key, _, _ in LOSS_PARTS:
            self.series[key].append(x, float(getattr(report, key)))

    def _fit_smoothing(self, steps_per_epoch: int) -> None:
        # A fixed EMA lags by ~1/alpha steps: several epochs on a small dataset. Keep
        # the lag near a quarter epoch there, and at 1/EMA_ALPHA steps on large ones.
        alpha = min(0.3, max(EMA_ALPHA, 4.0 / max(steps_per_epoch, 1)))
        for s in self.series.values():
            s.alpha = alpha
        self._smoothing_fitted = True

    def redraw(self) -> None:
        """Push the buffered series to the curves."""
        for key, s in self.series.items():
            self.raw_curves[key].setData(s.raw.x, _positive(s.raw.y))
            self.smooth_curves[key].setData(s.smooth.x, _positive(s.smooth.y))

    def clear_data(self) -> None:
        """Empty the plot."""
        for s in self.series.values():
            s.clear()
        self._smoothing_fitted = False
        self.redraw()


class EpochPlot(pg.PlotWidget):
    """darknet chart.png style: train/val loss on the left axis, mAP@0.5 on the right."""

    def __init__(self, parent=None):
        super().__init__(parent, background="w")
        item = self.getPlotItem()
        _cheap(item, grid=True)
        item.setTitle("Per epoch: loss and mAP@0.5")
        item.setLabel("bottom", "epoch")
        item.setLabel("left", "loss")
        # One row at the top right, in the headroom left above mAP = 1.
        legend = item.addLegend(offset=(-10, 5), colCount=3)
        self.train = GrowingSeries()
        self.val = GrowingSeries()
        self.map50 = GrowingSeries()
        self.train_curve = item.plot(pen=pg.mkPen((40, 40, 40), width=2), symbol="o",
                                     symbolSize=5, name="train loss")
        self.val_curve = item.plot(pen=pg.mkPen((219, 68, 55), width=2), symbol="o",
                                   symbolSize=5, name="val loss")
        # mAP lives on its own 0..1 axis, linked in x, like darknet's chart.
        self.map_box = pg.ViewBox()
        item.showAxis("right")
        item.scene().addItem(self.map_box)
        item.getAxis("right").linkToView(self.map_box)
        item.getAxis("right").setLabel("mAP@0.5", color="#0f9d58")
        self.map_box.setXLink(item)
        self.map_box.disableAutoRange(axis=pg.ViewBox.YAxis)
        self.map_box.setYRange(0, 1.15, padding=0)
        self.map_box.setMouseEnabled(y=False)
        self.map_curve = pg.PlotDataItem(pen=pg.mkPen((15, 157, 88), width=2), symbol="s",
                                         symbolSize=6, symbolBrush=(15, 157, 88))
        self.map_box.addItem(self.map_curve)
        legend.addItem(self.map_curve, "mAP@0.5")
        item.vb.sigResized.connect(self._sync_map_box)

    def _sync_map_box(self) -> None:
        self.map_box.setGeometry(self.getPlotItem().vb.sceneBoundingRect())

    def add(self, epoch: int, train_loss, val_loss, map50) -> None:
        """One epoch's figures (epoch 0-based; None or NaN figures are left out)."""
        x = epoch + 1
        for series, value in ((self.train, train_loss), (self.val, val_loss), (self.map50, map50)):
            if value is not None and np.isfinite(value):
                series.append(x, float(value))

    def redraw(self) -> None:
        """Push the buffered series to the curves."""
        self.train_curve.setData(self.train.x, self.train.y)
        self.val_curve.setData(self.val.x, self.val.y)
        self.map_curve.setData(self.map50.x, self.map50.y)

    def clear_data(self) -> None:
        """Empty the plot."""
        for s in (self.train, self.val, self.map50):
            s.clear()
        self.redraw()


class LrPlot(pg.PlotWidget):
    """The learning rate per batch (warmup, then the decay)."""

    def __init__(self, parent=None):
        super().__init__(parent, background="w")
        item = self.getPlotItem()
        _cheap(item)
        item.setTitle("Learning rate")
        item.setLabel("bottom", "epoch")
        # Learning rates are 1e-6..1e-2: SI prefixes turn the axis into
        # "epoch (x0.001)" and "x1e-3" labels that nobody reads right.
        for side in ("bottom", "left"):
            item.getAxis(side).enableAutoSIPrefix(False)
        # The plot is short: major ticks only, or the labels overlap.
        item.getAxis("left").setStyle(maxTickLevel=0)
        self.lr = GrowingSeries()
        self.curve = item.plot(pen=pg.mkPen((156, 39, 176), width=2))
        self._show_empty()

    def _show_empty(self) -> None:
        # A fixed, sensible frame until the first point, instead of the
        # cramped autorange of an empty plot.
        self.getPlotItem().setRange(xRange=(0, 1), yRange=(0, 1e-3), padding=0)
        self.getPlotItem().getAxis("left").setTicks([[(0.0, "0"), (1e-3, "0.001")]])
        self._autoranging = False

    def add(self, report) -> None:
        """Record one BatchReport's learning rate."""
        self.lr.append(report.step / max(report.steps_per_epoch, 1), float(report.lr))

    def redraw(self) -> None:
        """Push the buffered series to the curve."""
        self.curve.setData(self.lr.x, self.lr.y)
        if len(self.lr.x) and not self._autoranging:
            self.getPlotItem().enableAutoRange()
            self.getPlotItem().getAxis("left").setTicks(None)
            self._autoranging = True

    def clear_data(self) -> None:
        """Empty the plot."""
        self.lr.clear()
        self.redraw()
        self._show_empty()


class TrainingPlots(QWidget):
    """The three plots, fed by reports, redrawn by a timer at REDRAW_HZ."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.loss = LossPlot()
        self.epochs = EpochPlot()
        self.lr = LrPlot()
        # The epoch plot keeps its own x range so it repaints once an epoch, not per tick.
        self.lr.setXLink(self.loss)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss, 5)
        layout.addWidget(self.epochs, 4)
        layout.addWidget(self.lr, 2)
        self._dirty = False
        self._epochs_dirty = False
        self.redraws = 0          # how many times the curves were pushed (tests, bench)
        self.timer = QTimer(self)
        self.timer.setInterval(int(1000 / REDRAW_HZ))
        self.timer.timeout.connect(self.flush)
        self.timer.start()

    def add_batch(self, report) -> None:
        """Record one BatchReport (drawn at the next timer tick)."""
        self.loss.add(report)
        self.lr.add(report)
        self._dirty = True

    def add_epoch(self, report) -> None:
        """Record one EpochReport."""
        self.epochs.add(report.epoch, report.train_loss, report.val_total_loss, report.map50)
        self._epochs_dirty = True

    def load_history(self, rows: list[dict], batches: list[dict] | None = None) -> None:
        """Replace everything with a past run's results.csv rows (and per-batch rows if kept)."""
        self.clear()
        for row in rows:
            epoch = _num(row.get("epoch"))
            if epoch is None:
                continue
            self.epochs.add(int(epoch), _num(_first(row, *TRAIN_LOSS_KEYS)),
                            _num(_first(row, *VAL_LOSS_KEYS)), row_map50(row))
        if not batches:
            self._epoch_losses_as_batches(rows)
        for row in batches or []:
            spe = _num(row.get("steps_per_epoch")) or 1
            step = _num(row.get("step"))
            if step is None:
                continue
            x = step / spe
            for key, _, _ in LOSS_PARTS:
                value = _num(row.get(key))
                if value is not None:
                    self.loss.series[key].append(x, value)
            if _num(row.get("lr")) is not None:
                self.lr.lr.append(x, _num(row.get("lr")))
        self._dirty = self._epochs_dirty = True
        self.flush()

    def _epoch_losses_as_batches(self, rows: list[dict]) -> None:
        # Without per-batch history the loss plot shows the per-epoch means, unsmoothed.
        for key, _, _ in LOSS_PARTS:
            self.loss.series[key].alpha = 1.0
        self.loss._smoothing_fitted = False     # live batches after a resume smooth again
        for row in rows:
            epoch = _num(row.get("epoch"))
            if epoch is None:
                continue
            for key, _, _ in LOSS_PARTS:
                value = _num(_first(row, *EPOCH_LOSS_KEYS[key]))
                if value is not None:
                    self.loss.series[key].append(epoch + 1, value)
            if _num(row.get("lr")) is not None:
                self.lr.lr.append(epoch + 1, _num(row.get("lr")))

    def clear(self) -> None:
        """Empty every plot (a new run starts)."""
        for p in (self.loss, self.epochs, self.lr):
            p.clear_data()
        self._dirty = self._epochs_dirty = False

    def flush(self) -> None:
        """Push buffered points to the curves if anything changed since the last push."""
        if not (self._dirty or self._epochs_dirty):
            return
        if self._dirty:
            self.loss.redraw()
            self.lr.redraw()
        if self._epochs_dirty:
            self.epochs.redraw()
        self._dirty = self._epochs_dirty = False
        self.redraws += 1


# results.csv column names (core/training/runs.py), then older/other spellings.
TRAIN_LOSS_KEYS = ("train/loss", "train_loss")
VAL_LOSS_KEYS = ("val/loss", "val_total_loss", "val_loss")
EPOCH_LOSS_KEYS = {"box_loss": ("train/box_loss",), "obj_loss": ("train/obj_loss",),
                   "cls_loss": ("train/cls_loss",), "total_loss": ("train/loss", "train_loss")}
MAP50_KEYS = ("metrics/mAP50", "map50")
MAP50_95_KEYS = ("metrics/mAP50-95", "map50_95")


def row_map50(row: dict) -> float | None:
    """mAP@0.5 of one results.csv row, None when that epoch did not compute it."""
    return _num(_first(row, *MAP50_KEYS))


def _positive(y: np.ndarray) -> np.ndarray:
    """Values a log axis can show (a loss part can be exactly 0, e.g. one class)."""
    return np.maximum(y, 1e-6)


def _first(row: dict, *keys):
    for k in keys:
        if k in row and row[k] not in ("", None):
            return row[k]
    return None


def _num(value) -> float | None:
    """A CSV cell as a float; blank, 'None' or junk give None."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None
