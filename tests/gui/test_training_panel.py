"""The training panel driving the real Trainer: tiny model, 64 px, the 48-image demo project."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from yolo_studio.core.project import Project
from yolo_studio.core.training.events import TrainConfig
from yolo_studio.gui.context import AppContext
from yolo_studio.gui.training import panel as panel_module
from yolo_studio.gui.training.panel import TrainingPanel

TINY = TrainConfig(model="yolov3-tiny", input_size=64, batch_size=8, epochs=2, warmup_epochs=0,
                   lr_init=1e-3, augment=False, seed=0)
TRAIN_TIMEOUT_MS = 120_000


def _labels(project) -> dict[str, str]:
    """Hash of every label file, to prove training leaves them alone."""
    out = {}
    for image in project.image_paths():
        path = project.label_path(image)
        if path.is_file():
            out[str(path)] = hashlib.sha1(path.read_bytes()).hexdigest()
    return out


@pytest.fixture
def panel(qtbot, demo_copy):
    project = Project.open(demo_copy)
    context = AppContext(project)
    p = TrainingPanel(context)
    qtbot.addWidget(p)
    p.form.set_config(TINY)
    yield p
    if p.is_running():
        p.stop()
    assert p.wait_for_workers(timeout_s=120)


def _weights(checkpoint) -> Path:
    stem = Path(str(checkpoint).removesuffix(".weights.h5"))
    return stem.with_name(stem.name + ".weights.h5")


def _points(curve) -> int:
    return 0 if curve.xData is None else len(curve.xData)


def test_training_draws_live_and_finishes_with_results(qtbot, panel):
    labels = _labels(panel.context.project)
    with qtbot.waitSignal(panel.runEnded, timeout=TRAIN_TIMEOUT_MS) as ended:
        assert panel.start()
        assert panel.stop_button.isEnabled() and not panel.start_button.isEnabled()
        qtbot.waitUntil(lambda: _points(panel.plots.loss.raw_curves["total_loss"]) >= 2,
                        timeout=TRAIN_TIMEOUT_MS)
        assert "Epoch 1/2" in panel.progress.format() or "Epoch 2/2" in panel.progress.format()
    report = ended.args[0]
    assert report.reason == "finished", report.message
    assert _weights(report.last_checkpoint).is_file()
    run_dir = Path(report.run_dir)
    assert (run_dir / "results.csv").is_file() and (run_dir / "config.json").is_file()
    assert _points(panel.plots.epochs.val_curve) == 2          # one val point per epoch
    assert panel.plots.loss.series["box_loss"].raw.n == report_steps(panel)
    assert panel.log.toPlainText().strip()                     # the trainer's messages
    assert panel.message_bar.kind == "info" and "Finished" in panel.message_bar.text()
    assert panel.runs_view.rowCount() == 1 and panel.runs_view.selected_run().path == run_dir
    assert "mAP@0.5" in panel.results.summary.text()
    assert panel.results.table.rowCount() == len(panel.context.project.classes)
    with qtbot.waitSignal(panel.context.modelChosen) as chosen:
        panel.results.use_button.click()
    assert Path(chosen.args[0]).is_file() and Path(chosen.args[0]).parent == run_dir / "weights"
    # the PR curves come from running the best checkpoint on the validation images
    panel.results.evaluate_button.click()
    qtbot.waitUntil(lambda: bool(panel.results.pr_curves), timeout=TRAIN_TIMEOUT_MS)
    assert set(panel.results.pr_curves) <= set(panel.context.project.classes)
    assert "validation images" in panel.results.summary.text()
    # a past run re-plots from its results.csv
    panel.plots.clear()
    panel.runs_view.clearSelection()
    panel.runs_view.selectRow(0)
    assert _points(panel.plots.epochs.val_curve) == 2
    assert _points(panel.plots.loss.smooth_curves["total_loss"]) == 2     # per-epoch means
    saved = Project.open(panel.context.project.root).train_settings
    assert saved["input_size"] == 64 and saved["epochs"] == 2   # the form was kept
    assert _labels(panel.context.project) == labels

    # Retrain (after more labelling) is a new run that starts from those weights.
    qtbot.waitUntil(panel.retrain_button.isEnabled, timeout=TRAIN_TIMEOUT_MS)
    with qtbot.waitSignal(panel.runEnded, timeout=TRAIN_TIMEOUT_MS) as ended:
        panel.retrain_button.click()
        qtbot.waitUntil(lambda: panel.plots.loss.series["total_loss"].raw.n >= 1,
                        timeout=TRAIN_TIMEOUT_MS)
        panel.stop()
    retrained = Path(ended.args[0].run_dir)
    assert retrained != run_dir and ended.args[0].reason == "stopped"
    assert json.loads((retrained / "config.json").read_text())["start_from"] == "last"
    assert panel.runs_view.rowCount() == 2


def report_steps(panel) -> int:
    last = panel._last_batch
    return last.step if last else -1


def test_stop_then_resume_then_close_asks_and_stops(qtbot, panel, monkeypatch):
    panel.form.set_config(TrainConfig.from_dict({**TINY.to_dict(), "epochs": 50}))
    with qtbot.waitSignal(panel.runEnded, timeout=TRAIN_TIMEOUT_MS) as ended:
        assert panel.start()
        qtbot.waitUntil(lambda: panel.plots.loss.series["total_loss"].raw.n >= 1,
                        timeout=TRAIN_TIMEOUT_MS)
        panel.stop_button.click()
        assert not panel.stop_button.isEnabled()              # no double stop
    stopped = ended.args[0]
    assert stopped.reason == "stopped", stopped.message
    assert _weights(stopped.last_checkpoint).is_file()       # a checkpoint to resume from
    assert "Stopped" in panel.message_bar.text()
    stopped_step = panel._last_batch.step
    assert stopped_step < 50 * 5

    qtbot.waitUntil(lambda: not panel.is_running(), timeout=TRAIN_TIMEOUT_MS)
    panel.runs_view.selectRow(0)
    qtbot.waitUntil(panel.resume_button.isEnabled, timeout=TRAIN_TIMEOUT_MS)
    panel.resume_button.click()
    qtbot.waitUntil(lambda: panel._last_batch is not None and panel._last_batch.step > stopped_step,
                    timeout=TRAIN_TIMEOUT_MS)
    # The resumed run continues the same folder and the old points stay on the plot.
    assert panel.plots.epochs.val.n + panel.plots.loss.series["total_loss"].raw.n > 0
    assert panel.is_running()

    asked = []
    monkeypatch.setattr(panel_module.QMessageBox, "question",
                        lambda *a, **k: asked.append(a) or QMessageBox.StandardButton.No)
    assert not panel.may_close() and panel.is_running()      # "No" keeps training
    monkeypatch.setattr(panel_module.QMessageBox, "question",
                        lambda *a, **k: asked.append(a) or QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(panel.runEnded, timeout=TRAIN_TIMEOUT_MS) as ended:
        assert panel.may_close()
    assert len(asked) == 2 and not panel.is_running()
    again = ended.args[0]
    assert again.reason == "stopped" and Path(again.run_dir) == Path(stopped.run_dir)
    assert _weights(again.last_checkpoint).is_file()


def test_trainer_refusal_shows_a_message_and_keeps_labels(qtbot, panel):
    labels = _labels(panel.context.project)
    panel.form.batch_size.setValue(200)           # more than the demo's training images
    with qtbot.waitSignal(panel.runEnded, timeout=TRAIN_TIMEOUT_MS) as ended:
        assert panel.start()
    assert ended.args[0].reason == "failed"
    assert panel.message_bar.kind == "error"
    assert "batch size" in panel.message_bar.text().lower()
    assert "Traceback" not in panel.message_bar.text()
    qtbot.waitUntil(panel.start_button.isEnabled, timeout=TRAIN_TIMEOUT_MS)  # ready to retry
    assert not panel.is_running()
    assert _labels(panel.context.project) == labels


def test_empty_project_is_refused_with_a_message(qtbot, tmp_path):
    project = Project.create(tmp_path / "empty", classes=["cat"])
    p = TrainingPanel(AppContext(project))
    qtbot.addWidget(p)
    p.form.set_config(TINY)
    with qtbot.waitSignal(p.runEnded, timeout=TRAIN_TIMEOUT_MS):
        assert p.start()
    assert p.message_bar.kind == "error"
    assert "label" in p.message_bar.text().lower()
    assert p.wait_for_workers(timeout_s=60)


def test_no_project_and_bad_form_are_caught_before_training(qtbot, panel):
    panel.form.input_size.setValue(100)
    assert not panel.start()
    assert "Input size must be a positive multiple of 32, got 100" in panel.message_bar.text()
    assert not panel.is_running()
    panel.context.set_project(None)
    assert not panel.start_button.isEnabled()
    assert not panel.start()
    assert "Open a project" in panel.message_bar.text()


def test_bad_saved_settings_fall_back_to_defaults(qtbot, demo_copy):
    project = Project.open(demo_copy)
    project.train_settings = {"input_size": "big", "epochs": 3}      # a hand-edited file
    p = TrainingPanel(AppContext(project))
    qtbot.addWidget(p)
    assert p.message_bar.kind == "error" and "yolo_studio.json" in p.message_bar.text()
    assert p.form.config().input_size % 32 == 0 and p.start_button.isEnabled()


def test_showing_the_panel_names_the_device(qtbot, demo_copy):
    p = TrainingPanel(AppContext(Project.open(demo_copy)))
    qtbot.addWidget(p)
    p.show()
    qtbot.waitUntil(lambda: p.form.device_label.text().startswith(("CPU", "GPU")), timeout=60_000)
    assert p.form.xla.isEnabled() == p.form.device_label.text().startswith("GPU")
    assert p.wait_for_workers(timeout_s=60)


def test_an_unreadable_image_is_named_when_training_finishes(qtbot, panel):
    project = panel.context.project
    train, _val = project.split()
    broken = next(p for p in train if project.load_annotation(p).boxes)
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")   # the label file stays valid
    panel.form.set_config(TrainConfig(**{**TINY.to_dict(), "epochs": 1}))
    with qtbot.waitSignal(panel.runEnded, timeout=TRAIN_TIMEOUT_MS) as ended:
        assert panel.start()
    report = ended.args[0]
    assert report.reason == "finished", report.message
    assert str(broken) in report.skipped
    assert broken.name in panel.message_bar.text()
    assert f"Skipped (cannot be read): {broken}" in panel.log.toPlainText()


def test_a_digits_project_opens_with_flip_off_and_dataset_defaults(qtbot, tmp_path):
    from yolo_studio.core.demo import generate_demo_project
    from yolo_studio.gui.training.form import defaults_for_dataset
    from yolo_studio.gui.training.project_info import count_labelled_train

    root = generate_demo_project(tmp_path / "digits", n_images=12, seed=0, min_size=96,
                                 max_size=128, kind="digits")
    project = Project.open(root)
    p = TrainingPanel(AppContext(project))
    qtbot.addWidget(p)
    cfg = p.form.config()
    assert cfg.hflip is False and not p.form.hflip.isChecked()
    # the project's own switch does not stop batch and epochs from following its size
    expected = defaults_for_dataset(count_labelled_train(project), p.form.has_gpu)
    assert (cfg.batch_size, cfg.epochs) == (expected["batch_size"], expected["epochs"])
