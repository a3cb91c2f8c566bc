"""The trainer on a tiny project: checkpoints, history, stop, resume, NaN, transfer, errors."""
from __future__ import annotations

import json
import threading

import keras
import numpy as np
import pytest

from yolo_studio.core.errors import ConfigError, YoloStudioError
from yolo_studio.core.project import Project
from yolo_studio.core.training import runs
from yolo_studio.core.training.events import TrainConfig
from yolo_studio.core.training.trainer import Trainer

FAST = dict(model="yolov3-tiny", input_size=64, batch_size=6, lr_init=1e-3, warmup_epochs=0.5,
            augment=False)


class Recorder:
    """A listener that keeps everything and can act on a chosen step."""

    def __init__(self, on_step=None, on_epoch=None):
        self.messages, self.batches, self.epochs, self.ends = [], [], [], []
        self._on_step, self._on_epoch = on_step, on_epoch

    def on_message(self, text):
        self.messages.append(text)

    def on_batch(self, r):
        self.batches.append(r)
        if self._on_step:
            self._on_step(r)

    def on_epoch(self, r):
        self.epochs.append(r)
        if self._on_epoch:
            self._on_epoch(r)

    def on_end(self, r):
        self.ends.append(r)


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory):
    """A 24-image demo project small enough for a few-second epoch at 64 px."""
    from yolo_studio.core.demo import generate_demo_project

    root = tmp_path_factory.mktemp("tiny") / "demo"
    generate_demo_project(root, n_images=24, seed=1, min_size=64, max_size=128)
    return root


@pytest.fixture
def tiny_copy(tiny_root, tmp_path):
    """A private, writable copy of the tiny project."""
    import shutil

    dst = tmp_path / "demo"
    shutil.copytree(tiny_root, dst, ignore=shutil.ignore_patterns("runs"))
    return dst


@pytest.fixture(scope="module")
def straight_run(tiny_root):
    """One uninterrupted 2-epoch run, shared by the tests that only read it."""
    rec = Recorder()
    end = Trainer(Project.open(tiny_root), TrainConfig(epochs=2, **FAST), rec).run()
    return Project.open(tiny_root), rec, end


def _weights(stem):
    from yolo_studio.core.model import load_checkpoint
    model, spec = load_checkpoint(stem)
    return model.get_weights(), spec


def test_run_reports_and_writes_checkpoints_history_and_logs(straight_run):
    project, rec, end = straight_run

    assert end.reason == "finished" and rec.ends == [end]
    steps = rec.batches[0].steps_per_epoch
    assert [b.step for b in rec.batches] == list(range(1, 2 * steps + 1))
    assert all(isinstance(b.total_loss, float) and b.images_per_sec > 0 for b in rec.batches)
    assert rec.batches[-1].eta_seconds < rec.batches[0].eta_seconds or rec.batches[-1].eta_seconds == 0
    assert [e.epoch for e in rec.epochs] == [0, 1]
    assert all(e.map50 is not None and set(e.per_class_ap) <= set(project.classes) for e in rec.epochs)
    assert rec.epochs[0].best   # the first mAP is always the best so far

    run = runs.list_runs(project)[-1]
    assert str(run.path) == end.run_dir
    assert [r["epoch"] for r in run.history] == [0, 1]
    assert run.history[1]["metrics/mAP50"] == pytest.approx(rec.epochs[1].map50)
    assert run.config["model"] == "yolov3-tiny" and run.config["classes"] == project.classes
    assert list((run.path / "tensorboard").glob("events.out.tfevents.*"))
    assert runs.latest_checkpoint(project, "last") == runs.run_checkpoint(run.path, "last")
    weights, spec = _weights(end.last_checkpoint)
    assert spec.class_names == project.classes and spec.extra["epoch"] == 2
    assert all(np.isfinite(w).all() for w in weights)
    _, best_spec = _weights(end.best_checkpoint)
    assert best_spec.extra["map50"] == pytest.approx(end.best_map50)
    # Losses are per part and come down over the run.
    assert rec.epochs[1].train_loss < rec.batches[0].total_loss


def test_stop_then_resume_continues_exactly(straight_run, tiny_copy):
    _, straight, ref = straight_run
    config = TrainConfig(epochs=2, **FAST)
    stop = threading.Event()
    # Stop in the middle of the second epoch (3 steps per epoch).
    first = Recorder(on_step=lambda r: stop.set() if r.step == 4 else None)
    project = Project.open(tiny_copy)
    end1 = Trainer(project, config, first).run(stop)
    assert end1.reason == "stopped" and first.batches[-1].step == 4
    assert end1.last_checkpoint            # a usable checkpoint at the stop

    second = Recorder()
    end2 = Trainer(project, config, second, resume=True).run()
    assert end2.reason == "finished" and end2.run_dir == end1.run_dir
    assert [b.step for b in second.batches] == list(range(5, straight.batches[-1].step + 1))
    # Same learning rate and losses at the same steps as the uninterrupted run.
    for a, b in zip(second.batches, straight.batches[4:]):
        assert a.lr == b.lr
        assert a.total_loss == pytest.approx(b.total_loss, rel=1e-3, abs=1e-3)
    w_resumed, _ = _weights(end2.last_checkpoint)
    w_straight, _ = _weights(ref.last_checkpoint)
    for a, b in zip(w_resumed, w_straight):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
    history = runs.read_history(end2.run_dir)
    assert [r["epoch"] for r in history] == [0, 1]


def test_non_finite_loss_stops_and_keeps_last_good_weights(tiny_copy):
    project = Project.open(tiny_copy)
    holder = {}

    def poison(report):
        # Weights that blow up mid-run (as a too-high learning rate makes them).
        layer = holder["t"].model.get_layer(index=-1)
        layer.kernel.assign(np.full(layer.kernel.shape, np.nan, np.float32))

    rec = Recorder(on_epoch=lambda r: poison(r) if r.epoch == 0 else None)
    trainer = Trainer(project, TrainConfig(epochs=3, **FAST), rec)
    holder["t"] = trainer
    end = trainer.run()
    assert end.reason == "failed"
    assert "NaN" in end.message and f"step {rec.batches[-1].step + 1}" in end.message
    assert "learning rate" in end.message
    assert len(rec.epochs) == 1
    weights, spec = _weights(end.last_checkpoint)
    assert spec.extra["epoch"] == 1
    assert all(np.isfinite(w).all() for w in weights)


def test_transfer_from_darknet_weights_with_other_class_count(tiny_copy, tmp_path):
    from yolo_studio.core.model import backbone_layers, build_model
    from yolo_studio.core.model.darknet_weights import write_darknet_weights

    coco_like = build_model("yolov3-tiny", 5, 64)
    keras.utils.set_random_seed(7)
    for w in coco_like.weights:
        w.assign(np.random.default_rng(1).normal(0, 0.05, w.shape).astype(np.float32)
                 if "variance" not in w.path else np.ones(w.shape, np.float32))
    path = tmp_path / "five.weights"
    write_darknet_weights(coco_like, path)
    src = {layer.name: layer.get_weights() for layer in coco_like.layers}

    seen = {}

    def snapshot(report):
        model = holder["t"].model
        seen[report.epoch] = {layer.name: layer.get_weights() for layer in backbone_layers(model)}

    holder = {}
    rec = Recorder(on_epoch=snapshot)
    trainer = Trainer(Project.open(tiny_copy),
                      TrainConfig(epochs=2, start_from="darknet", darknet_weights=str(path),
                                  freeze_backbone_epochs=1, **FAST), rec)
    holder["t"] = trainer
    end = trainer.run()
    assert end.reason == "finished"
    assert any("5 classes" in m and "output" in m for m in rec.messages)
    frozen, thawed = seen[0], seen[1]
    for name, ws in frozen.items():      # epoch 1: backbone exactly as loaded
        for a, b in zip(ws, src[name]):  # (variances pass darknet's BN epsilon and back: 1 ulp)
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=0)
    changed = [n for n, ws in thawed.items() if ws and not np.array_equal(ws[0], src[n][0])]
    assert changed                       # epoch 2: backbone trains too
    assert trainer.model.outputs[0].shape[-1] == 3 * (5 + 3)


def test_retrain_starts_from_the_previous_runs_weights(tiny_copy):
    project = Project.open(tiny_copy)
    first = Trainer(project, TrainConfig(epochs=1, **FAST)).run()
    rec = Recorder()
    trainer = Trainer(project, TrainConfig(epochs=1, start_from="last", **FAST), rec)
    trainer.prepare()
    assert any("continuing from" in m for m in rec.messages)
    previous, _ = _weights(first.last_checkpoint)
    for a, b in zip(trainer.model.get_weights(), previous):
        np.testing.assert_array_equal(a, b)
    assert trainer.run_dir != first.run_dir


@pytest.mark.parametrize("case", ["no_labels", "class_without_boxes", "batch_too_large",
                                  "foreign_weights", "bad_size", "nothing_to_resume",
                                  "too_little_memory"])
def test_bad_setups_fail_before_the_first_step_with_a_clear_message(tiny_copy, tmp_path, case,
                                                                     monkeypatch):
    project = Project.open(tiny_copy)
    config = TrainConfig(epochs=1, **FAST)
    expect = ""
    resume = False
    if case == "no_labels":
        for xml in tiny_copy.glob("**/*.xml"):
            xml.unlink()
        expect = "no labelled images"
    elif case == "class_without_boxes":
        project.add_class("zebra")
        expect = "'zebra'"
    elif case == "batch_too_large":
        config = TrainConfig(epochs=1, **{**FAST, "batch_size": 500})
        expect = "batch size 500"
    elif case == "foreign_weights":
        bad = tmp_path / "other.weights"
        bad.write_bytes(np.zeros(5 + 1000, np.int32).tobytes())
        config = TrainConfig(epochs=1, start_from="darknet", darknet_weights=str(bad), **FAST)
        expect = "other.weights"
    elif case == "bad_size":
        config = TrainConfig(epochs=1, **{**FAST, "input_size": 100})
        expect = "input size must be a positive multiple of 32, got 100"
    elif case == "nothing_to_resume":
        resume = True
        expect = "no resume state"
    elif case == "too_little_memory":
        from yolo_studio.core.training import device
        monkeypatch.setattr(device, "available_memory_mb", lambda: 50)
        expect = "lower the batch size (now 6)"
    rec = Recorder()
    with pytest.raises(YoloStudioError) as info:
        Trainer(project, config, rec, resume=resume).run()
    assert expect in str(info.value)
    assert not rec.batches
    assert not runs.list_runs(project)     # nothing half-made left behind


def test_undecodable_image_is_skipped_and_listed(tiny_copy):
    project = Project.open(tiny_copy)
    train, _ = project.split()
    labelled = [p for p in train if project.has_labels(p)]
    labelled[0].write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    rec = Recorder()
    end = Trainer(project, TrainConfig(epochs=1, **FAST), rec).run()
    assert end.reason == "finished"
    assert str(labelled[0]) in end.skipped
    assert any(labelled[0].name in m for m in rec.messages)


def test_mixed_precision_is_scoped_to_the_run(tiny_copy):
    before = keras.config.dtype_policy().name
    trainer = Trainer(Project.open(tiny_copy), TrainConfig(epochs=1, precision="bfloat16", **FAST))
    trainer.prepare()
    assert keras.config.dtype_policy().name == before == "float32"
    policies = {layer.dtype_policy.name for layer in trainer.model.layers if layer.weights}
    assert "mixed_bfloat16" in policies
    config = json.loads((trainer.run_dir / "config.json").read_text())
    assert config["precision"] == "bfloat16"


def test_config_from_dict_ignores_unknown_keys():
    c = TrainConfig.from_dict({"epochs": 3, "future_setting": 1})
    assert c.epochs == 3
    with pytest.raises(ConfigError):
        Trainer(None, TrainConfig(model="yolov9"))
