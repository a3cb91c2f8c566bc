"""The training panel's parts without TensorFlow: form, plots, progress text, runs list."""
from __future__ import annotations

import csv
import json
from types import SimpleNamespace

import numpy as np
import pytest

from yolo_studio.core.errors import ConfigError
from yolo_studio.core.training.events import BatchReport, EpochReport, TrainConfig
from yolo_studio.gui.training.form import TrainForm, defaults_for_dataset, describe_device_text
from yolo_studio.gui.training.plots import GrowingSeries, SmoothedSeries, TrainingPlots
from yolo_studio.gui.training.progress import format_duration, progress_text
from yolo_studio.gui.training.runs_view import RunsView


def _batch(step, spe=10, total=100, loss=1.0):
    return BatchReport(epoch=(step - 1) // spe, step=step, steps_per_epoch=spe, total_steps=total,
                       box_loss=loss, obj_loss=loss / 2, cls_loss=loss / 4,
                       total_loss=loss * 1.75, lr=1e-3, images_per_sec=12.5, eta_seconds=125)


def test_growing_series_keeps_every_point_across_doublings():
    s = GrowingSeries(capacity=4)
    for i in range(1000):
        s.append(i, i * 2)
    assert s.n == 1000
    np.testing.assert_array_equal(s.x, np.arange(1000))
    np.testing.assert_array_equal(s.y, np.arange(1000) * 2)


def test_smoothed_series_follows_a_step_and_skips_nan():
    s = SmoothedSeries(alpha=0.1)
    for i in range(200):
        s.append(i, 0.0 if i < 100 else 1.0)
    s.append(200, float("nan"))
    assert s.raw.n == 200                        # the NaN point is not drawn
    assert s.smooth.y[99] == 0.0
    assert 0.0 < s.smooth.y[100] < 0.2           # lags behind the jump...
    assert s.smooth.y[-1] > 0.99                 # ...and catches up


def test_plots_redraw_on_the_timer_not_per_batch(qtbot):
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.timer.stop()
    for step in range(1, 5001):
        plots.add_batch(_batch(step, total=5000, loss=1.0 / step))
    curve = plots.loss.smooth_curves["total_loss"]
    assert curve.xData is None or len(curve.xData) == 0   # nothing drawn yet
    plots.flush()
    raw = plots.loss.raw_curves["box_loss"]
    x = raw.xData
    assert len(x) == 5000 and x[-1] == pytest.approx(500.0)     # x is in epochs
    assert plots.redraws == 1
    plots.flush()                                # nothing new: no second redraw
    assert plots.redraws == 1
    assert curve.opts["autoDownsample"] and curve.opts["clipToView"]
    assert curve.opts["downsampleMethod"] == "peak"


def test_plots_timer_coalesces_many_reports(qtbot):
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    for step in range(1, 2001):
        plots.add_batch(_batch(step, total=2000))
    qtbot.waitUntil(lambda: plots.redraws >= 1, timeout=3000)
    assert plots.redraws <= 3                     # one per tick, not one per report
    assert plots.lr.lr.n == 2000                 # every report kept...
    assert plots.lr.curve.xData[-1] == pytest.approx(200.0)   # ...and drawn up to the last


def test_epoch_plot_puts_map_on_its_own_axis(qtbot):
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    for e in range(3):
        plots.add_epoch(EpochReport(epoch=e, epochs=3, train_loss=3 - e, val_box_loss=1,
                                    val_obj_loss=1, val_cls_loss=1, val_total_loss=4 - e,
                                    map50=None if e == 0 else 0.1 * e, map50_95=None))
    plots.flush()
    x, y = plots.epochs.map_curve.xData, plots.epochs.map_curve.yData
    assert list(x) == [2, 3] and list(y) == pytest.approx([0.1, 0.2])
    assert plots.epochs.map_curve.getViewBox() is plots.epochs.map_box
    assert list(plots.epochs.val_curve.yData) == [4, 3, 2]


def test_load_history_replots_results_csv_rows(qtbot):
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.add_batch(_batch(1))
    rows = [{"epoch": e, "train/box_loss": 1.0, "train/obj_loss": 0.5, "train/cls_loss": 0.2,
             "train/loss": 1.7 - 0.1 * e, "val/loss": 2.0 - 0.1 * e,
             "metrics/mAP50": None if e == 0 else 0.3, "lr": 1e-4} for e in range(4)]
    plots.load_history(rows)
    assert list(plots.epochs.val_curve.yData) == pytest.approx([2.0, 1.9, 1.8, 1.7])
    assert len(plots.epochs.map_curve.xData) == 3
    # the live batch point is gone; the per-epoch train losses stand in for it
    assert list(plots.loss.smooth_curves["total_loss"].yData) == pytest.approx(
        [1.7, 1.6, 1.5, 1.4])


def test_progress_text_reads_like_a_sentence():
    text = progress_text(_batch(13, spe=10, total=30))
    assert text.startswith("Epoch 2/3 · step 3/10 · 12.5 img/s · 2m 05s left")
    assert format_duration(3725) == "1h 02m" and format_duration(float("nan")) == "–"


def test_defaults_scale_with_the_dataset():
    small, large = defaults_for_dataset(12, gpu=False), defaults_for_dataset(2000, gpu=True)
    assert small["batch_size"] < large["batch_size"]
    assert small["epochs"] > large["epochs"]          # fewer steps per epoch -> more epochs
    assert large["input_size"] % 32 == 0 and small["input_size"] % 32 == 0


def test_form_round_trips_and_names_bad_fields(qtbot, tmp_path):
    form = TrainForm()
    qtbot.addWidget(form)
    cfg = TrainConfig(model="yolov3", input_size=256, batch_size=4, epochs=7, lr_init=2e-4,
                      warmup_epochs=1.5, freeze_backbone_epochs=2, augment=False, multiscale=True)
    form.set_config(cfg)
    out = form.config()
    for key in ("model", "input_size", "batch_size", "epochs", "warmup_epochs",
                "freeze_backbone_epochs", "augment", "multiscale"):
        assert getattr(out, key) == getattr(cfg, key), key
    assert out.lr_init == pytest.approx(2e-4)
    form.input_size.setValue(100)
    with pytest.raises(ConfigError, match="Input size must be a positive multiple of 32, got 100"):
        form.config()
    form.input_size.setValue(96)
    form.start_from.setCurrentIndex(form.start_from.findData("darknet"))
    assert form.weights_row.isEnabled()
    form.weights_edit.setText(str(tmp_path / "missing.weights"))
    with pytest.raises(ConfigError, match="missing.weights"):
        form.config()


def test_form_shows_device_and_gates_gpu_options(qtbot):
    form = TrainForm()
    qtbot.addWidget(form)
    cpu = SimpleNamespace(name="CPU (2 cores)", kind="CPU", memory_mb=16384)
    gpu = SimpleNamespace(name="NVIDIA H100", kind="GPU", memory_mb=81920)
    form.set_devices([cpu])
    assert "CPU" in form.device_label.text() and not form.xla.isEnabled()
    assert form.precision.isEnabled() and "AVX-512" in form.precision.toolTip()
    assert form.precision.currentData() == "auto"
    form.set_devices([gpu, cpu])
    assert form.precision.itemText(0) == "Auto (float16 here)"
    assert form.device_label.text() == "GPU: NVIDIA H100 (80 GB)" and form.xla.isEnabled()
    assert describe_device_text([gpu, gpu, cpu])[0].endswith("+ 1 more")


def test_last_checkpoint_choice_needs_a_checkpoint(qtbot):
    form = TrainForm()
    qtbot.addWidget(form)
    form.set_has_last_checkpoint(False)
    last = form.start_from.findData("last")
    assert not form.start_from.model().item(last).isEnabled()
    form.set_has_last_checkpoint(True)
    form.start_from.setCurrentIndex(last)
    assert form.config().start_from == "last"


def test_runs_view_lists_runs_newest_first_and_selects(qtbot, tmp_path):
    from yolo_studio.core.training import runs

    project = SimpleNamespace(root=tmp_path, runs_dir=tmp_path / "runs")
    for name, maps in (("20260101-100000-yolov3-tiny", [0.1, 0.4]), ("20260102-100000-yolov3", [])):
        d = project.runs_dir / name
        d.mkdir(parents=True)
        (d / "config.json").write_text(json.dumps(TrainConfig(epochs=5).to_dict()))
        for e, m in enumerate(maps):
            runs.append_history(d, {"epoch": e, "train/loss": 1.0, "metrics/mAP50": m})
    view = RunsView()
    qtbot.addWidget(view)
    view.set_runs(runs.list_runs(project))
    assert view.item(0, 0).text() == "20260102-100000-yolov3"
    assert view.item(1, 2).text() == "2/5" and view.item(1, 3).text() == "0.400"
    with qtbot.waitSignal(view.runSelected) as sig:
        view.selectRow(1)
    assert sig.args[0].name == "20260101-100000-yolov3-tiny"
    with (project.runs_dir / "20260101-100000-yolov3-tiny" / "results.csv").open() as f:
        assert len(list(csv.DictReader(f))) == 2


def test_form_carries_the_recipe_switches_and_starts_from_the_new_defaults(qtbot):
    form = TrainForm()
    qtbot.addWidget(form)
    fresh = form.config()
    assert fresh.lr_init == pytest.approx(1e-3) and fresh.assignment == "multi"
    assert form.hflip.isChecked() and form.multi_anchor.isChecked()
    assert form.ema.isChecked() == (TrainConfig().ema_decay > 0)
    form.set_config(TrainConfig(hflip=False, assignment="best", ema_decay=0.0, label_smoothing=0.05))
    out = form.config()
    assert (out.hflip, out.assignment, out.ema_decay) == (False, "best", 0.0)
    assert out.label_smoothing == 0.05             # fields without a widget are kept, not reset
    form.ema.setChecked(True)
    form.multi_anchor.setChecked(True)
    out = form.config()
    assert out.ema_decay > 0 and out.assignment == "multi"


def test_choosing_darknet_weights_shows_and_uses_the_transfer_defaults(qtbot, tmp_path, monkeypatch):
    from yolo_studio.core.training import start_defaults

    # other values than today's measured ones (the same as from scratch), to see the form follow
    TRANSFER = {**start_defaults.SCRATCH, "lr_init": 1e-4, "lr_end": 1e-6, "warmup_epochs": 1.0,
                "freeze_backbone_epochs": 2, "bn_momentum": 0.99}
    monkeypatch.setattr(start_defaults, "TRANSFER", TRANSFER)
    form = TrainForm()
    qtbot.addWidget(form)
    weights = tmp_path / "pretrained.weights"
    weights.write_bytes(b"\0" * 20)
    form.weights_edit.setText(str(weights))
    form.start_from.setCurrentIndex(form.start_from.findData("darknet"))
    out = form.config()
    for key, value in TRANSFER.items():
        assert getattr(out, key) == pytest.approx(value), key
    assert f"warmup {TRANSFER['warmup_epochs']:g} epochs" in form.start_note.text()
    # A rate the user typed is theirs: switching back to scratch keeps it, the rest return.
    form.lr.setValue(3e-4)
    form.start_from.setCurrentIndex(form.start_from.findData("scratch"))
    out = form.config()
    assert out.lr_init == pytest.approx(3e-4)
    assert (out.warmup_epochs, out.freeze_backbone_epochs, out.bn_momentum) == \
        (TrainConfig().warmup_epochs, TrainConfig().freeze_backbone_epochs, TrainConfig().bn_momentum)
    assert "from scratch" in form.start_note.text()
    # A saved darknet run's own settings are shown as saved, not replaced by defaults.
    form.set_config(TrainConfig(start_from="darknet", darknet_weights=str(weights), warmup_epochs=5.0))
    assert form.config().warmup_epochs == 5.0
