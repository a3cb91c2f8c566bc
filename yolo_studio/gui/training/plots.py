"""Live training plots: per-batch loss parts, per-epoch val loss and mAP, learning rate.

Reports arrive as Qt signals (possibly hundreds a second on a fast GPU); they
only append to numpy buffers. A QTimer pushes the buffers to the curves a few
times a second, so drawing cost does not grow with the batch rate.
"""
from __future__ import annotations

from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QToolButton, QVBoxLayout, QWidget

# Parts of the per-batch loss: (key in BatchReport, legend name, colour).
LOSS_PARTS = (
    ("box_loss", "box", (66, 133, 244)),
    ("obj_loss", "objectness", (219, 68, 55)),
    ("cls_loss", "class", (15, 157, 88)),
    ("total_loss", "total", (40, 40, 40)),
)
TRAIN_RGB, VAL_RGB, MAP_RGB = (40, 40, 40), (219, 68, 55), (15, 157, 88)
EMA_ALPHA = 0.05          # darknet's avg_loss uses 0.1; a bit smoother reads better live
REDRAW_HZ = 5
SMOOTH_POINTS = 600       # points drawn of a smoothed (2 px) curve, however long the run
X_PAD, Y_PAD = 0.02, 0.05  # room around the data, as fractions of its extent
MIN_LABEL_GAP_PX = 22     # between tick labels of the loss plot's log axis
LEFT_AXIS_PX = 62
RIGHT_AXIS_PX = 52         # one width for every plot's left axis, so their x axes line up
FOLLOW_STYLE = ("QToolButton {background:#1a73e8; color:white; border-radius:3px; padding:2px 8px;"
                " font-weight:bold;} QToolButton:hover {background:#1765cc;}")


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


def legend_title(title: str, entries) -> str:
    """The plot's title followed by its legend, ``entries`` being (name, rgb, mark) triples."""
    keys = "".join(f"&nbsp;&nbsp; <span style='color:#{r:02x}{g:02x}{b:02x}'>{mark}</span>"
                   f"&nbsp;{name}" for name, (r, g, b), mark in entries)
    return f"<span style='color:#666'><b>{title}</b>{keys}</span>"


class LogLossAxis(pg.AxisItem):
    """A log axis labelled in plain numbers at the densest of 1..9, 1-2-5, 1-3 or decades
    that leaves room between labels (pyqtgraph's own labels overlapped, "10¹ 9 8 7")."""

    def logTickValues(self, minVal, maxVal, size, stdTicks):
        span = max(maxVal - minVal, 1e-9)
        lo, hi = int(np.floor(minVal)), int(np.ceil(maxVal))
        for mantissas in ((1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 5), (1, 3), (1,)):
            values = [d + np.log10(m) for d in range(lo, hi + 1) for m in mantissas]
            values = [v for v in values if minVal <= v <= maxVal]
            gaps = np.diff(values) * size / span
            if len(values) >= 2 and gaps.min() >= MIN_LABEL_GAP_PX:
                return [(None, values)]
        every = max(1, int(np.ceil(MIN_LABEL_GAP_PX * span / max(size, 1))))
        return [(None, [float(d) for d in range(lo, hi + 1) if d % every == 0 and minVal <= d <= maxVal])]

    def logTickStrings(self, values, scale, spacing):
        return [f"{10 ** v * scale:g}" for v in values]


class FollowingPlot(pg.PlotWidget):
    """A plot whose view follows its data (x from the start to the newest point) until the
    user pans or zooms it; then a "Follow" button in its corner brings the following back,
    as TensorBoard and Weights & Biases do.

    The x range is set here, never by pyqtgraph's auto-range: that one is switched off
    behind our back by x-links, resizes and mouse use, and then stays frozen on
    whatever the first point looked like (issue 13: -0.45..0.55 epochs for hours).
    """

    min_x_span = 0.05             # epochs: the x range around a single point
    align_with = None             # a plot whose first x this one's view starts at, too
    userMoved = Signal()          # the user panned or zoomed this plot
    followRequested = Signal()    # the user pressed Follow

    def __init__(self, title: str, legend, grid: bool = False, parent=None, **kwargs):
        super().__init__(parent, background="w", **kwargs)
        item = self.getPlotItem()
        _cheap(item, grid)
        # pyqtgraph's "A" button would turn its own auto-range back on; Follow replaces it.
        item.hideButtons()
        # The title and legend sit in a label above the plot, outside the data area, so no
        # curve can run under them (pyqtgraph's floating LegendItem sat on the curves),
        # and the label wraps in a narrow window instead of widening the plot.
        self.header = QLabel(legend_title(title, legend))
        self.header.setWordWrap(True)
        self.header.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.header.setStyleSheet("background:white; padding:3px 6px 0px 6px;")
        self.legend = self.header         # what the rendering tests measure
        item.setLabel("bottom", "epoch")
        # SI prefixes turn a short range into "epoch (x0.001)" from -400 to 500.
        item.getAxis("bottom").enableAutoSIPrefix(False)
        # The plots line up on screen (same x, same pixels) only if their side axes are
        # equally wide: fixed widths, and a blank right axis where there is no mAP axis.
        item.getAxis("left").setWidth(LEFT_AXIS_PX)
        item.showAxis("right")
        item.getAxis("right").setWidth(RIGHT_AXIS_PX)
        item.getAxis("right").setStyle(showValues=False)
        item.getAxis("right").setPen(pg.mkPen(None))
        self.following = True
        self.follow_button = QToolButton(self)
        self.follow_button.setText("Follow")
        self.follow_button.setToolTip("Show all the data again and keep following the run")
        self.follow_button.setStyleSheet(FOLLOW_STYLE)
        self.follow_button.hide()
        self.follow_button.clicked.connect(self.followRequested)
        self.follow_button.clicked.connect(lambda: self.set_following(True))
        item.vb.sigRangeChangedManually.connect(self._moved_by_user)
        item.vb.sigResized.connect(self._place_button)

    def data_x(self) -> tuple[float, float] | None:
        """The x extent of the data (None when empty)."""
        raise NotImplementedError

    def data_y(self) -> tuple[float, float] | None:
        """The y extent of the data in view units (log10 on a log axis), None when empty."""
        raise NotImplementedError

    def fit(self) -> None:
        """While following, show every point: x from the first to the last, y all of it.

        One setRange per redraw, with pyqtgraph's auto-range off: its auto-range
        recomputed the bounds of every curve after each curve's setData.
        """
        if not self.following:
            return
        lo, hi = self.data_x() or (0.0, 1.0)
        if self.align_with is not None and self.align_with.data_x():
            lo = min(lo, self.align_with.data_x()[0])
        if hi - lo < 1e-9:                 # one point: centred in a sensible width
            mid = (lo + hi) / 2
            lo, hi = mid - self.min_x_span / 2, mid + self.min_x_span / 2
        ylo, yhi = self.data_y() or (0.0, 1.0)
        if yhi - ylo < 1e-9:               # a flat line: a band around it
            pad = max(abs(ylo) * 0.1, 1e-9)
            ylo, yhi = ylo - pad, yhi + pad
        xpad, ypad = (hi - lo) * X_PAD, (yhi - ylo) * Y_PAD
        vb = self.getPlotItem().vb
        vb.setRange(xRange=(lo - xpad, hi + xpad), yRange=(ylo - ypad, yhi + ypad), padding=0)
        # pyqtgraph moves the items to the new range only when the paint begins, and the
        # move asks for a second paint: move them now, and each redraw paints once.
        vb.prepareForPaint()

    def set_following(self, on: bool) -> None:
        """Follow the data (and fit now), or keep the user's view."""
        self.following = on
        self.follow_button.setVisible(not on)
        if on:
            self.fit()
        else:
            self._place_button()

    def _moved_by_user(self, *_args) -> None:
        self.set_following(False)
        self.userMoved.emit()

    def _place_button(self, *_args) -> None:
        item = self.getPlotItem()
        if item is None or not hasattr(self, "follow_button"):   # still being built
            return
        area = self.mapFromScene(item.vb.sceneBoundingRect()).boundingRect()
        hint = self.follow_button.sizeHint()
        self.follow_button.resize(hint)
        self.follow_button.move(area.right() - hint.width() - 4, area.top() + 4)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place_button()


class LossPlot(FollowingPlot):
    """Per-batch loss by part, raw (thin, faint) and smoothed (bold); x in epochs."""

    def __init__(self, parent=None):
        super().__init__("Training loss per batch",
                         [(name, rgb, "&#x2501;&#x2501;") for _, name, rgb in LOSS_PARTS],
                         parent=parent, axisItems={"left": LogLossAxis("left")})
        item = self.getPlotItem()
        item.setLabel("left", "loss (log scale)")
        # Early losses are 10-100x the late ones; a log axis keeps both readable.
        item.setLogMode(y=True)
        self.series = {key: SmoothedSeries() for key, _, _ in LOSS_PARTS}
        self._smoothing_fitted = False
        self.raw_curves, self.smooth_curves = {}, {}
        for key, name, rgb in LOSS_PARTS:
            self.raw_curves[key] = item.plot(pen=_faint(rgb))
            self.smooth_curves[key] = item.plot(pen=pg.mkPen(rgb, width=2))
        self.fit()

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

    def data_x(self) -> tuple[float, float] | None:
        return _extent(s.raw for s in self.series.values())

    def data_y(self) -> tuple[float, float] | None:
        ys = [_positive(s.raw.y) for s in self.series.values() if s.raw.n]
        ys += [_positive(s.smooth.y) for s in self.series.values() if s.smooth.n]
        if not ys:
            return None
        return (float(np.log10(min(y.min() for y in ys))), float(np.log10(max(y.max() for y in ys))))

    def redraw(self) -> None:
        """Push the buffered series to the curves."""
        # The view first: curves clipped to the old view would be clipped again (and
        # painted twice) when it moves.
        self.fit()
        for key, s in self.series.items():
            self.raw_curves[key].setData(s.raw.x, _positive(s.raw.y))
            _dot_if_alone(self.smooth_curves[key], s.smooth.n)
            self.smooth_curves[key].setData(*_thin(s.smooth.x, _positive(s.smooth.y)))

    def clear_data(self) -> None:
        """Empty the plot."""
        for s in self.series.values():
            s.clear()
        self._smoothing_fitted = False
        self.redraw()


class EpochPlot(FollowingPlot):
    """darknet chart.png style: train/val loss on the left axis, mAP@0.5 on the right."""

    min_x_span = 1.0              # one point per epoch
    def __init__(self, parent=None):
        super().__init__("Per epoch", [("train loss", TRAIN_RGB, "&#x2501;&#x25cf;"),
                                       ("val loss", VAL_RGB, "&#x2501;&#x25cf;"),
                                       ("mAP@0.5", MAP_RGB, "&#x2501;&#x25a0;")],
                         grid=True, parent=parent)
        item = self.getPlotItem()
        item.setLabel("left", "loss")
        self.train = GrowingSeries()
        self.val = GrowingSeries()
        self.map50 = GrowingSeries()
        self.train_curve = item.plot(pen=pg.mkPen(TRAIN_RGB, width=2), symbol="o",
                                     symbolSize=5, symbolBrush=TRAIN_RGB)
        self.val_curve = item.plot(pen=pg.mkPen(VAL_RGB, width=2), symbol="o",
                                   symbolSize=5, symbolBrush=VAL_RGB)
        # mAP lives on its own 0..1 axis, linked in x, like darknet's chart.
        self.map_box = pg.ViewBox()
        item.getAxis("right").setStyle(showValues=True)
        item.getAxis("right").setPen(pg.mkPen((150, 150, 150)))
        item.scene().addItem(self.map_box)
        item.getAxis("right").linkToView(self.map_box)
        item.getAxis("right").setLabel("mAP@0.5", color="#0f9d58")
        self.map_box.setXLink(item)
        self.map_box.disableAutoRange(axis=pg.ViewBox.YAxis)
        self.map_box.setYRange(0, 1.05, padding=0)
        self.map_box.setMouseEnabled(y=False)
        self.map_curve = pg.PlotDataItem(pen=pg.mkPen(MAP_RGB, width=2), symbol="s",
                                         symbolSize=6, symbolBrush=MAP_RGB)
        self.map_box.addItem(self.map_curve)
        item.vb.sigResized.connect(self._sync_map_box)
        self.fit()

    def _sync_map_box(self) -> None:
        self.map_box.setGeometry(self.getPlotItem().vb.sceneBoundingRect())

    def add(self, epoch: int, train_loss, val_loss, map50) -> None:
        """One epoch's figures (epoch 0-based; None or NaN figures are left out)."""
        x = epoch + 1
        for series, value in ((self.train, train_loss), (self.val, val_loss), (self.map50, map50)):
            if value is not None and np.isfinite(value):
                series.append(x, float(value))

    def data_x(self) -> tuple[float, float] | None:
        return _extent((self.train, self.val, self.map50))

    def data_y(self) -> tuple[float, float] | None:
        ys = [s.y for s in (self.train, self.val) if s.n]
        return (float(min(y.min() for y in ys)), float(max(y.max() for y in ys))) if ys else None

    def redraw(self) -> None:
        """Push the buffered series to the curves."""
        self.train_curve.setData(self.train.x, self.train.y)
        self.val_curve.setData(self.val.x, self.val.y)
        self.map_curve.setData(self.map50.x, self.map50.y)
        self.fit()

    def clear_data(self) -> None:
        """Empty the plot."""
        for s in (self.train, self.val, self.map50):
            s.clear()
        self.redraw()


class LrPlot(FollowingPlot):
    """The learning rate per batch (warmup, then the decay)."""

    def __init__(self, parent=None):
        super().__init__("Learning rate", [], parent=parent)
        item = self.getPlotItem()
        # Learning rates are 1e-6..1e-2: SI prefixes would write "x1e-3" beside the axis.
        item.getAxis("left").enableAutoSIPrefix(False)
        self.lr = GrowingSeries()
        self.curve = item.plot(pen=pg.mkPen((156, 39, 176), width=2))
        self.fit()

    def add(self, report) -> None:
        """Record one BatchReport's learning rate."""
        self.lr.append(report.step / max(report.steps_per_epoch, 1), float(report.lr))

    def data_x(self) -> tuple[float, float] | None:
        return _extent((self.lr,))

    def data_y(self) -> tuple[float, float]:
        # From 0 (warmup starts there) to the peak, labelled at 0, half and the peak only:
        # the plot is short, and pyqtgraph's own ticks overlapped ("5e-06 4e-06 3e-06").
        top = float(self.lr.y.max()) if self.lr.n else 1e-3
        top = top if top > 0 else 1e-3
        if self.following:
            self.getPlotItem().getAxis("left").setTicks([[(v, f"{v:.2g}") for v in (0.0, top / 2, top)]])
        return 0.0, top

    def set_following(self, on: bool) -> None:
        if not on:   # the user's own zoom gets pyqtgraph's ticks for that range
            self.getPlotItem().getAxis("left").setTicks(None)
        super().set_following(on)

    def redraw(self) -> None:
        """Push the buffered series to the curve."""
        self.fit()
        _dot_if_alone(self.curve, self.lr.n)
        self.curve.setData(*_thin(self.lr.x, self.lr.y))

    def clear_data(self) -> None:
        """Empty the plot."""
        self.lr.clear()
        self.redraw()


class TrainingPlots(QWidget):
    """The three plots, fed by reports, redrawn by a timer at REDRAW_HZ."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.loss = LossPlot()
        self.epochs = EpochPlot()
        self.lr = LrPlot()
        # Loss and learning rate share x (both per batch): a pan or zoom of one moves the
        # other, and Follow on one brings both back. Done here rather than by a pyqtgraph
        # x-link, which switches auto-range off on the other plot at every resize. The
        # epoch plot keeps its own x range so it repaints once an epoch, not per tick.
        # The epoch plot's first point is at 1 epoch: its x starts where the loss plot's
        # does (near 0 live, at 1 for a past run's per-epoch history), so the two line up.
        self.epochs.align_with = self.loss
        for moved, other in ((self.loss, self.lr), (self.lr, self.loss)):
            moved.userMoved.connect(partial(_match_x, moved, other))
            moved.followRequested.connect(partial(other.set_following, True))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        for plot, stretch, least in ((self.loss, 5, 150), (self.epochs, 4, 130), (self.lr, 2, 80)):
            plot.setMinimumHeight(least)     # a short window squeezes the log, not the plots
            layout.addWidget(plot.header)
            layout.addWidget(plot, stretch)
        self._dirty = False
        self._epochs_dirty = False
        self.source: str | None = None   # the run folder the points come from (None: unknown)
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

    def load_history(self, rows: list[dict]) -> None:
        """Replace everything with a past run's results.csv rows."""
        self.clear()
        for row in rows:
            epoch = _num(row.get("epoch"))
            if epoch is None:
                continue
            self.epochs.add(int(epoch), _num(row.get("train/loss")), _num(row.get("val/loss")),
                            row_map50(row))
        self._epoch_losses_as_batches(rows)
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
                value = _num(row.get(EPOCH_LOSS_KEYS[key]))
                if value is not None:
                    self.loss.series[key].append(epoch + 1, value)
            if _num(row.get("lr")) is not None:
                self.lr.lr.append(epoch + 1, _num(row.get("lr")))

    def clear(self) -> None:
        """Empty every plot and follow the data again (a new run starts, or another is shown)."""
        for p in (self.loss, self.epochs, self.lr):
            p.following = True
            p.clear_data()
            p.set_following(True)
        self.source = None
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


# Each loss curve's results.csv column (runs.RESULT_COLUMNS, the only names the trainer writes).
EPOCH_LOSS_KEYS = {"box_loss": "train/box_loss", "obj_loss": "train/obj_loss",
                   "cls_loss": "train/cls_loss", "total_loss": "train/loss"}


def row_map50(row: dict) -> float | None:
    """mAP@0.5 of one results.csv row, None when that epoch did not compute it."""
    return _num(row.get("metrics/mAP50"))


def _thin(x: np.ndarray, y: np.ndarray, most: int = SMOOTH_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``most`` evenly spaced points of a smooth curve, the last one always kept.

    A 2 px line costs Qt several times a 1 px one per segment; a smoothed curve (or the
    learning rate) looks the same from 600 points as from 10,000, and the redraw of a
    300-epoch run stays short enough not to hold up the window.
    """
    n = len(x)
    if n <= most:
        return x, y
    keep = np.unique(np.append(np.linspace(0, n - 1, most).astype(int), n - 1))
    return x[keep], y[keep]


def _dot_if_alone(curve: pg.PlotDataItem, n: int) -> None:
    """A line needs two points: until then the first one is drawn as a dot, not left out."""
    symbol = "o" if n == 1 else None
    if curve.opts["symbol"] != symbol:
        pen = curve.opts["pen"]
        curve.setSymbol(symbol)
        curve.setSymbolSize(6)
        curve.setSymbolBrush(pen.color() if hasattr(pen, "color") else pen)
        curve.setSymbolPen(None)


def _match_x(source: FollowingPlot, target: FollowingPlot) -> None:
    """Give ``target`` the x range the user chose on ``source`` (and stop it following)."""
    target.set_following(False)
    target.getPlotItem().setXRange(*source.getPlotItem().vb.viewRange()[0], padding=0)


def _extent(series) -> tuple[float, float] | None:
    """The smallest and largest x over ``series`` (GrowingSeries), None when all are empty."""
    xs = [s.x for s in series if s.n]
    if not xs:
        return None
    # Points arrive in x order (steps, epochs), so the ends are the extremes.
    return min(float(x[0]) for x in xs), max(float(x[-1]) for x in xs)


def _positive(y: np.ndarray) -> np.ndarray:
    """Values a log axis can show (a loss part can be exactly 0, e.g. one class)."""
    return np.maximum(y, 1e-6)


def _num(value) -> float | None:
    """A CSV cell as a float; blank, 'None' or junk give None."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None
