"""What the training panel draws, measured on the rendered plots (issue 13).

Each check looks at the picture, not at the panel's state: the plot's view
range covers the data it holds (and follows it, not a frozen first guess),
the legend's rectangle stays off the curves, and a grab of the plot has curve
pixels across its width. The panel is driven through its real buttons and
worker thread along the paths a person takes: the plots shown before or after
Start, Stop, Resume, Retrain, switching runs, resizing, 1 epoch or 300, an app
restart showing a run's history, a zoom and the Follow button.

Most tests replace core's Trainer with ``ScriptedTrainer``, which reports to
the worker like the real one (same listener calls, same run folders and
results.csv through core.training.runs) without TensorFlow, so many paths
run in seconds. It runs in a thread of this process in place of the training
process (a patch in a spawned process would not exist), reporting through the
same pipe and relay; ``test_real_training_draws_what_it_reports`` runs the real
trainer in its real process once on the same checks.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QImage, QWheelEvent
from PySide6.QtWidgets import QApplication, QLabel, QTabWidget, QWidget

from yolo_studio.core.project import Project
from yolo_studio.core.training import runs
from yolo_studio.core.training import trainer as trainer_module
from yolo_studio.core.training.events import BatchReport, EndReport, EpochReport, TrainConfig
from yolo_studio.gui.context import AppContext
from yolo_studio.gui.training import worker as worker_module
from yolo_studio.gui.training.panel import TrainingPanel

STEPS_PER_EPOCH = 12
TIMEOUT_MS = 60_000
TINY = TrainConfig(model="yolov3-tiny", input_size=64, batch_size=8, epochs=3, warmup_epochs=1,
                   lr_init=1e-3, augment=False, seed=0)


# ----- a trainer that reports without TensorFlow ---------------------------------------------
class ScriptedTrainer:
    """Core's Trainer interface (listener calls, run folder, results.csv) with made-up losses."""

    steps_per_epoch = STEPS_PER_EPOCH
    delay_s = 0.002            # batches arrive spread out, as redraw ticks interleave with them
    pause_after_step: int | None = None   # wait here until stopped (a run caught mid-epoch)

    def __init__(self, project, config, listener=None, run_dir=None, resume=False):
        self.project, self.config, self.listener = project, config, listener
        self.run_dir = Path(run_dir) if run_dir else None
        self.resume = resume

    def run(self, stop) -> EndReport:
        cfg, spe = self.config, self.steps_per_epoch
        if self.run_dir is None:
            self.run_dir = runs.new_run_dir(self.project, cfg.model)
            runs.write_run_config(self.run_dir, cfg, {})
        done = len(runs.read_history(self.run_dir)) if self.resume else 0
        step = done * spe
        for epoch in range(done, cfg.epochs):
            for _ in range(spe):
                if stop.is_set():
                    return self._end("stopped")
                step += 1
                loss = 200.0 / (1 + step / 4) + 3
                lr = cfg.lr_init * min(1.0, step / max(cfg.warmup_epochs * spe, 1))
                self.listener.on_batch(BatchReport(
                    epoch=epoch, step=step, steps_per_epoch=spe, total_steps=cfg.epochs * spe,
                    box_loss=loss * 0.2, obj_loss=loss, cls_loss=loss * 0.1 + 0.5,
                    total_loss=loss * 1.3 + 0.5, lr=lr, images_per_sec=50.0, eta_seconds=10.0))
                time.sleep(self.delay_s)
                while self.pause_after_step == step and not stop.is_set():
                    time.sleep(0.01)
            runs.append_history(self.run_dir, {"epoch": epoch, "train/loss": loss * 1.4,
                                               "train/box_loss": loss * 0.2, "train/obj_loss": loss,
                                               "train/cls_loss": loss * 0.1, "val/loss": loss * 1.5,
                                               "metrics/mAP50": min(0.9, 0.1 * (epoch + 1)),
                                               "lr": lr})
            self.listener.on_epoch(EpochReport(
                epoch=epoch, epochs=cfg.epochs, train_loss=loss * 1.4, val_box_loss=loss * 0.3,
                val_obj_loss=loss, val_cls_loss=loss * 0.2, val_total_loss=loss * 1.5,
                map50=min(0.9, 0.1 * (epoch + 1)), map50_95=None))
        return self._end("finished")

    def _end(self, reason: str) -> EndReport:
        report = EndReport(reason=reason, message=f"scripted run {reason}", run_dir=str(self.run_dir))
        self.listener.on_end(report)
        return report


def start_training_thread(target, args):
    """The training process's entry run on a thread of this process, where the patches hold."""
    thread = threading.Thread(target=target, args=args, name="scripted-training", daemon=True)
    thread.start()
    return thread


@pytest.fixture
def scripted(monkeypatch):
    """Core's Trainer replaced by ScriptedTrainer for this test (the entry imports it per run)."""
    monkeypatch.setattr(trainer_module, "Trainer", ScriptedTrainer)
    monkeypatch.setattr(worker_module, "start_training_process", start_training_thread)
    monkeypatch.setattr(ScriptedTrainer, "pause_after_step", None)
    return ScriptedTrainer


@pytest.fixture
def panel(qtbot, demo_copy):
    project = Project.open(demo_copy)
    project.train_settings = TINY.to_dict()   # kept settings: the device check leaves them be
    project.save()
    p = TrainingPanel(AppContext(project))
    qtbot.addWidget(p)
    p.resize(1300, 850)
    yield p
    if p.is_running():
        p.stop()
    assert p.wait_for_workers(timeout_s=120)


# ----- what the picture must show -------------------------------------------------------------
def _data_items(plot):
    item = plot.getPlotItem()
    extra = [plot.map_curve] if hasattr(plot, "map_curve") else []
    return [c for c in item.listDataItems() + extra if c.xData is not None and len(c.xData)]


def _data_extent(plot):
    """(x_lo, x_hi, y_lo, y_hi) of the data, y in view units (log10 on a log axis)."""
    item = plot.getPlotItem()
    curves = [c for c in _data_items(plot) if c is not getattr(plot, "map_curve", None)]
    xs = np.concatenate([c.xData for c in _data_items(plot)])
    ys = np.concatenate([c.yData for c in curves]) if curves else np.array([0.0])
    if item.ctrl.logYCheck.isChecked():
        ys = np.log10(np.maximum(ys, 1e-6))
    return float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max())


def assert_view_follows(plot, name: str) -> None:
    """The view shows all the data, and not a range far wider than the data from 0."""
    (x0, x1), (y0, y1) = plot.getPlotItem().vb.viewRange()
    lo, hi, ylo, yhi = _data_extent(plot)
    xspan, yspan = max(hi - lo, 1e-9), max(yhi - ylo, 1e-9)
    assert x0 <= lo + 0.01 * xspan and x1 >= hi - 0.01 * xspan, \
        f"{name}: view x {x0:.3f}..{x1:.3f} misses data x {lo:.3f}..{hi:.3f}"
    assert x1 - x0 <= 1.1 * xspan + 1.1 * getattr(plot, "min_x_span", 1.0), \
        f"{name}: view x {x0:.3f}..{x1:.3f} is far wider than data x {lo:.3f}..{hi:.3f}"
    assert y0 <= ylo + 0.01 * yspan and y1 >= yhi - 0.01 * yspan, \
        f"{name}: view y {y0:.3f}..{y1:.3f} misses data y {ylo:.3f}..{yhi:.3f}"


def _legend(plot):
    return getattr(plot, "legend", None) or plot.getPlotItem().legend


def _on_screen(plot, scene_rect) -> QRect:
    """A rectangle of the plot's scene in screen coordinates."""
    r = plot.mapFromScene(scene_rect).boundingRect()
    return QRect(plot.mapToGlobal(r.topLeft()), r.size())


def assert_legend_off_curves(plot, name: str) -> None:
    """The legend's rectangle does not touch the curves' bounding box (inside the data area)."""
    vb_rect = plot.getPlotItem().vb.sceneBoundingRect()
    curves = None
    for c in _data_items(plot):
        for part in (c.curve, c.scatter):           # a PlotDataItem draws through these two
            if part.isVisible():
                r = part.sceneBoundingRect().intersected(vb_rect)
                curves = r if curves is None else curves.united(r)
    legend = _legend(plot)
    assert legend is not None and legend.isVisible(), f"{name}: no legend shown"
    assert curves is not None and not curves.isEmpty(), f"{name}: no curve drawn"
    curves = _on_screen(plot, curves)
    if isinstance(legend, QWidget):                 # a label beside the plot
        legend_rect = QRect(legend.mapToGlobal(QPoint(0, 0)), legend.size())
    else:                                           # an item inside the plot's scene
        legend_rect = _on_screen(plot, legend.sceneBoundingRect())
    assert not legend_rect.intersects(curves), \
        f"{name}: legend {legend_rect.getRect()} lies on the curves {curves.getRect()}"


def curve_columns(plot) -> tuple[float, float, float]:
    """(first, last, filled) columns of the data area holding curve pixels, as width fractions."""
    QApplication.processEvents()
    image = plot.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    area = plot.mapFromScene(plot.getPlotItem().vb.sceneBoundingRect()).boundingRect()
    w, h = image.width(), image.height()
    pixels = np.frombuffer(image.constBits(), np.uint8, count=image.bytesPerLine() * h)
    pixels = pixels.reshape(h, image.bytesPerLine())[:, : w * 3].reshape(h, w, 3).astype(np.int16)
    crop = pixels[area.top() + 2: area.bottom() - 1, area.left() + 2: area.right() - 1]
    curve = ((crop.max(axis=2) - crop.min(axis=2)) > 40) | (crop.max(axis=2) < 90)
    cols = np.flatnonzero(curve.any(axis=0))
    width = crop.shape[1]
    if not len(cols):
        return 1.0, 0.0, 0.0
    return cols[0] / width, cols[-1] / width, len(cols) / width


def assert_drawn_right(panel, when: str) -> None:
    """Every plot of the panel passes the three checks (curve pixels on the per-batch plots)."""
    panel.plots.flush()
    QApplication.processEvents()
    for name in ("loss", "lr", "epochs"):
        plot = getattr(panel.plots, name)
        if not _data_items(plot):
            continue
        assert_view_follows(plot, f"{when}, {name} plot")
        if name != "lr":        # the learning rate is one curve, named by the title
            assert_legend_off_curves(plot, f"{when}, {name} plot")
    for name in ("loss", "lr"):
        first, last, filled = curve_columns(getattr(panel.plots, name))
        assert first < 0.08 and last > 0.92 and filled > 0.85, \
            f"{when}, {name} plot: curve pixels span {first:.2f}..{last:.2f} ({filled:.0%} of columns)"


def _batches(panel) -> int:
    return panel.plots.loss.series["total_loss"].raw.n


def _run(qtbot, panel, click=None):
    """Press a button (Start by default) and wait for the run to end; its EndReport."""
    with qtbot.waitSignal(panel.runEnded, timeout=TIMEOUT_MS) as ended:
        qtbot.mouseClick(click or panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=TIMEOUT_MS)
    return ended.args[0]


# ----- the paths ------------------------------------------------------------------------------
def test_plots_follow_a_run_started_with_the_panel_shown(qtbot, panel, scripted):
    panel.show()
    qtbot.waitExposed(panel)
    scripted.pause_after_step = int(1.5 * STEPS_PER_EPOCH)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _batches(panel) >= scripted.pause_after_step, timeout=TIMEOUT_MS)
    qtbot.wait(400)                                 # two redraw ticks
    assert_drawn_right(panel, "mid-run")
    scripted.pause_after_step = None
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=TIMEOUT_MS)
    assert _batches(panel) == 3 * STEPS_PER_EPOCH
    assert_drawn_right(panel, "finished")
    assert panel.progress.format() == "Finished"


def test_plots_drawn_right_when_the_panel_is_shown_after_start(qtbot, panel, scripted):
    tabs = QTabWidget()
    tabs.addTab(QLabel("the labeller"), "Label")
    tabs.addTab(panel, "Train")
    tabs.resize(1300, 850)
    tabs.show()
    qtbot.waitExposed(tabs)
    panel.start()                                   # e.g. started, then the user looked elsewhere
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=TIMEOUT_MS)
    tabs.setCurrentIndex(1)
    qtbot.waitExposed(panel)
    assert_drawn_right(panel, "shown after the run")
    tabs.removeTab(1)                               # the fixture owns the panel
    panel.setParent(None)
    tabs.close()


@pytest.mark.parametrize("epochs, steps", [(1, 3), (300, 4)])
def test_one_epoch_or_three_hundred(qtbot, panel, scripted, monkeypatch, epochs, steps):
    monkeypatch.setattr(scripted, "steps_per_epoch", steps)
    monkeypatch.setattr(scripted, "delay_s", 0.0)
    panel.form.epochs.setValue(epochs)
    panel.show()
    assert _run(qtbot, panel).reason == "finished"
    assert _batches(panel) == epochs * steps
    assert_drawn_right(panel, f"{epochs} epochs")


def test_resizing_keeps_the_plots_on_their_data(qtbot, panel, scripted):
    panel.show()
    _run(qtbot, panel)
    for size in ((1000, 680), (1580, 980)):
        panel.resize(*size)
        qtbot.wait(100)
        assert_drawn_right(panel, f"resized to {size}")


def test_stop_resume_retrain_and_switching_runs(qtbot, panel, scripted):
    panel.show()
    panel.form.epochs.setValue(4)
    scripted.pause_after_step = STEPS_PER_EPOCH + 5
    with qtbot.waitSignal(panel.runEnded, timeout=TIMEOUT_MS):
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: _batches(panel) >= STEPS_PER_EPOCH + 5, timeout=TIMEOUT_MS)
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=TIMEOUT_MS)
    assert panel.progress.format() == "Stopped"     # not the last batch's line
    assert_drawn_right(panel, "after Stop")
    first = panel.runs_view.selected_run().name

    scripted.pause_after_step = None
    assert _run(qtbot, panel, panel.resume_button).reason == "finished"
    assert_drawn_right(panel, "after Resume")
    assert panel.plots.loss.data_x()[1] == pytest.approx(4.0)

    with qtbot.waitSignal(panel.runEnded, timeout=TIMEOUT_MS):
        assert panel.retrain() if panel.retrain_button.isEnabled() else panel.start()
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=TIMEOUT_MS)
    assert_drawn_right(panel, "after Retrain")
    assert panel.runs_view.rowCount() == 2
    row = [r.name for r in panel.runs_view.runs].index(first)
    panel.runs_view.selectRow(row)                  # back to the first run's history
    assert_drawn_right(panel, "the first run picked again")


def test_a_restarted_app_shows_a_runs_history(qtbot, panel, scripted, demo_copy):
    panel.form.epochs.setValue(5)
    panel.show()
    _run(qtbot, panel)
    panel.close()
    again = TrainingPanel(AppContext(Project.open(demo_copy)))   # the app opened anew
    qtbot.addWidget(again)
    again.resize(1300, 850)
    again.show()
    qtbot.waitExposed(again)
    again.runs_view.selectRow(0)
    assert_drawn_right(again, "history after a restart")
    assert again.plots.loss.data_x() == (pytest.approx(1.0), pytest.approx(5.0))
    assert again.wait_for_workers(timeout_s=60)


def _wheel(plot, steps: int) -> None:
    """Scroll the mouse wheel over the middle of the plot, as a person zooms."""
    view = plot.viewport()
    pos = QPointF(view.width() / 2, view.height() / 2)
    event = QWheelEvent(pos, plot.mapToGlobal(pos.toPoint()), QPoint(0, 0), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view, event)


def test_a_zoom_stops_following_until_follow_is_pressed(qtbot, panel, scripted):
    panel.show()
    qtbot.waitExposed(panel)
    scripted.pause_after_step = STEPS_PER_EPOCH
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _batches(panel) >= STEPS_PER_EPOCH, timeout=TIMEOUT_MS)
    qtbot.wait(300)
    loss, lr = panel.plots.loss, panel.plots.lr
    assert not loss.follow_button.isVisible()
    _wheel(loss, 3)                                 # zoom in
    zoomed = loss.getPlotItem().vb.viewRange()[0]
    assert not loss.following and loss.follow_button.isVisible()
    assert lr.getPlotItem().vb.viewRange()[0] == pytest.approx(zoomed)   # x stays shared
    scripted.pause_after_step = None                # more epochs arrive: the zoom is kept
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=TIMEOUT_MS)
    panel.plots.flush()
    assert loss.getPlotItem().vb.viewRange()[0] == pytest.approx(zoomed)
    qtbot.mouseClick(loss.follow_button, Qt.MouseButton.LeftButton)
    assert loss.following and lr.following and not loss.follow_button.isVisible()
    assert_drawn_right(panel, "after Follow")


def test_start_during_the_device_check_answers_at_once_and_starts(qtbot, panel, scripted,
                                                                   monkeypatch, request):
    release = []
    request.addfinalizer(lambda: release.append(True))   # never leave the check spinning

    def slow_device_check(self):                    # TensorFlow still loading
        while not release:
            time.sleep(0.02)
        self.done.emit([])

    monkeypatch.setattr(worker_module.DeviceWorker, "work", slow_device_check)
    panel.show()                                    # showing the panel starts the device check
    qtbot.waitUntil(lambda: panel._device_thread is not None, timeout=5000)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    # The click is answered now: the button and the progress bar say Start is waiting.
    assert not panel.start_button.isEnabled() and panel.start_button.text() != "Start"
    assert "device" in panel.progress.format().lower()
    assert "device" in panel.start_button.toolTip().lower()
    assert not panel.is_running()
    with qtbot.waitSignal(panel.runEnded, timeout=TIMEOUT_MS):
        release.append(True)                        # the check ends: the run starts by itself
    assert panel.start_button.text() == "Start"
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=TIMEOUT_MS)
    assert_drawn_right(panel, "started after the device check")


def test_real_training_draws_what_it_reports(qtbot, panel):
    panel.form.set_config(TrainConfig.from_dict({**TINY.to_dict(), "epochs": 2}))
    panel.show()
    qtbot.waitExposed(panel)
    with qtbot.waitSignal(panel.runEnded, timeout=180_000) as ended:
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: panel._last_batch is not None
                        and panel._last_batch.step > 1.5 * panel._last_batch.steps_per_epoch,
                        timeout=180_000)
        qtbot.wait(400)
        assert_drawn_right(panel, "real training, mid-run")
    assert ended.args[0].reason == "finished", ended.args[0].message
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=60_000)
    assert_drawn_right(panel, "real training, finished")


def test_the_settings_form_fits_its_column_without_cutting_labels(qtbot, panel):
    # A long checkbox text once made the form wider than its column: the horizontal
    # scroll bar is off, so labels like "Input size:" showed as "ze:" in the walk's PNG.
    panel.show()
    qtbot.waitExposed(panel)
    scroll = panel.settings_scroll
    assert scroll.widget().minimumSizeHint().width() <= scroll.viewport().width()
    for name, field in (("Input size:", panel.form.input_size), ("Learning rate:", panel.form.lr),
                        ("Warmup epochs:", panel.form.warmup)):
        label = panel.form.layout().labelForField(field)
        assert label is not None and label.text() == name
        assert label.mapTo(scroll.viewport(), label.rect().topLeft()).x() >= 0
