"""Training faults end cleanly: disk full, run or project folder gone, hostile images, bad settings.

Review rows 56, 65, 72, 82, 86, 89, 90 (reliability-2026-12-01).
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import threading

import pytest

from yolo_studio.cli import main
from yolo_studio.core.errors import ConfigError
from yolo_studio.core.project import PROJECT_FILE, Project
from yolo_studio.core.training import runs
from yolo_studio.core.training.events import TrainConfig
from yolo_studio.core.training.trainer import Trainer

FAST = dict(model="yolov3-tiny", input_size=64, batch_size=4, lr_init=1e-3, warmup_epochs=0.5,
            augment=False)
FAST_CLI = ["--model", "yolov3-tiny", "--size", "64", "--batch", "4", "--lr", "1e-3",
            "--warmup", "0.5", "--no-augment"]


class Recorder:
    """Keeps the reports; runs ``on_epoch(report)`` / ``on_step(report)`` when given."""

    def __init__(self, on_epoch=None, on_step=None):
        self.messages, self.epochs, self.ends = [], [], []
        self._on_epoch, self._on_step = on_epoch, on_step

    def on_message(self, text):
        self.messages.append(text)

    def on_batch(self, r):
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
    from yolo_studio.core.demo import generate_demo_project

    root = tmp_path_factory.mktemp("faults") / "demo"
    generate_demo_project(root, n_images=16, seed=3, min_size=64, max_size=96)
    return root


@pytest.fixture
def tiny(tiny_root, tmp_path):
    dst = tmp_path / "demo"
    shutil.copytree(tiny_root, dst, ignore=shutil.ignore_patterns("runs"))
    return dst


def _loadable(stem):
    from yolo_studio.core.model import load_checkpoint

    model, spec = load_checkpoint(stem)
    return spec.extra.get("epoch")


def _assert_resumes_to_the_end(root, run_dir, epochs):
    end = Trainer(Project.open(root), TrainConfig(epochs=epochs, **FAST), run_dir=run_dir,
                  resume=True).run()
    assert end.reason == "finished", end.message
    assert [r["epoch"] for r in runs.read_history(run_dir)] == list(range(epochs))


# --- #89 disk full while saving -------------------------------------------------------------

@pytest.mark.parametrize("failing", ["weights", "results", "resume"])
def test_disk_full_while_saving_stops_with_a_message_and_keeps_the_last_good_state(
        tiny, monkeypatch, failing):
    """A write that hits ENOSPC in epoch 2 ends the run 'failed' with a message, never a traceback;
    epoch 1's checkpoint, results.csv and resume state stay whole and the run resumes."""
    from yolo_studio.core import atomic
    from yolo_studio.core.model import checkpoint

    full = threading.Event()
    real_write = atomic.atomic_write_bytes

    def write(path, data, *args, **kwargs):
        if full.is_set() and (failing == "weights" and str(path).endswith(".weights.h5")
                              or failing == "results" and str(path).endswith(runs.RESULTS_FILE)):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_write(path, data, *args, **kwargs)

    monkeypatch.setattr(checkpoint, "atomic_write_bytes", write)
    monkeypatch.setattr(atomic, "atomic_write_bytes", write)
    if failing == "resume":
        import tensorflow as tf

        real_save = tf.train.CheckpointManager.save

        def save(self, *a, **k):
            if full.is_set():
                raise tf.errors.ResourceExhaustedError(None, None, "resume/ckpt-2.data: No space "
                                                                   "left on device")
            return real_save(self, *a, **k)

        monkeypatch.setattr(tf.train.CheckpointManager, "save", save)
    rec = Recorder(on_epoch=lambda r: full.set())
    end = Trainer(Project.open(tiny), TrainConfig(epochs=2, **FAST), rec).run()
    assert end.reason == "failed"
    assert "disk is full" in end.message and str(end.run_dir) in end.message
    assert "resume" in end.message.lower()
    run_dir = runs.list_runs(Project.open(tiny))[-1].path
    stem = runs.run_checkpoint(run_dir, "last")
    assert _loadable(stem) == (2 if failing != "weights" else 1)
    assert [r["epoch"] for r in runs.read_history(run_dir)] == ([0] if failing != "resume" else [0, 1])
    assert not [p for p in (run_dir / "weights").iterdir() if p.name.startswith(".")]  # no temp left
    monkeypatch.undo()
    _assert_resumes_to_the_end(tiny, run_dir, 2)


def _mount_tmpfs(path, size):
    path.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                              capture_output=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        done = None
    if done is None or done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root); the injected-ENOSPC test covers it")


_FILL_AND_TRAIN = r"""
import os, sys
from pathlib import Path
from yolo_studio.core.project import Project
from yolo_studio.core.training.events import TrainConfig
from yolo_studio.core.training.trainer import Trainer

root = Path(sys.argv[1])

class Fill:
    def on_message(self, t): pass
    def on_batch(self, r): pass
    def on_end(self, r): pass
    def on_epoch(self, r):
        if r.epoch == 0:   # leave 1 MB: the next checkpoint (35 MB) cannot fit
            st = os.statvfs(root)
            with open(root.parent / "filler", "wb") as f:
                f.write(bytes(max(st.f_bavail * st.f_frsize - 1_000_000, 0)))

cfg = TrainConfig(epochs=2, model="yolov3-tiny", input_size=64, batch_size=4, lr_init=1e-3,
                  warmup_epochs=0.5, augment=False)
end = Trainer(Project.open(root), cfg, Fill()).run()
print("END", end.reason, end.message)
"""


def test_disk_full_on_a_real_full_filesystem_does_not_crash(tiny_root, tmp_path):
    """The review's case: a real tmpfs fills up during epoch 2's checkpoint (was rc 139)."""
    mnt = tmp_path / "mnt"
    _mount_tmpfs(mnt, "400m")
    try:
        root = mnt / "demo"
        shutil.copytree(tiny_root, root, ignore=shutil.ignore_patterns("runs"))
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
        done = subprocess.run([os.sys.executable, "-c", _FILL_AND_TRAIN, str(root)], env=env,
                              capture_output=True, text=True, timeout=300)
        out = done.stdout + done.stderr
        assert done.returncode == 0, out[-3000:]
        assert "END failed" in done.stdout and "disk is full" in done.stdout, out[-3000:]
        assert "Traceback" not in out
        run_dir = runs.list_runs(Project.open(root))[-1].path
        assert _loadable(runs.run_checkpoint(run_dir, "last")) == 1
        assert [r["epoch"] for r in runs.read_history(run_dir)] == [0]
        (mnt / "filler").unlink()
        _assert_resumes_to_the_end(root, run_dir, 2)
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True, timeout=20)


# --- #90 run folder deleted, #72 project moved ------------------------------------------------

def test_deleted_run_folder_is_reported_and_not_recreated(tiny):
    deleted = []

    def delete(r):
        if not deleted:
            run_dir = runs.list_runs(Project.open(tiny))[-1].path
            shutil.rmtree(run_dir)
            deleted.append(run_dir)

    rec = Recorder(on_epoch=delete)
    end = Trainer(Project.open(tiny), TrainConfig(epochs=2, **FAST), rec).run()
    assert end.reason == "failed"
    assert str(deleted[0]) in end.message and "deleted or moved" in end.message
    assert not deleted[0].exists()          # nothing was silently re-created


def test_project_moved_during_training_gives_a_clear_message(tiny, tmp_path):
    moved = tmp_path / "moved-away"

    def move(r):
        if not moved.exists():
            shutil.move(str(tiny), str(moved))

    rec = Recorder(on_step=move)
    end = Trainer(Project.open(tiny), TrainConfig(epochs=2, **FAST), rec).run()
    assert end.reason == "failed"
    assert str(tiny) in end.message and "project folder is gone" in end.message
    assert "Traceback" not in end.message and "UnknownError" not in end.message
    assert not tiny.exists()                # no ghost project re-created at the old place


def test_images_gone_during_training_name_an_image_not_a_tensorflow_error(tiny):
    images = tiny / "images"
    hidden = tiny / "elsewhere"

    def hide(r):
        if images.exists():
            images.rename(hidden)

    rec = Recorder(on_step=hide)
    end = Trainer(Project.open(tiny), TrainConfig(epochs=2, **FAST), rec).run()
    assert end.reason == "failed"
    assert "image file not found" in end.message and str(images) in end.message
    assert "can be read any more" in end.message and "UnknownError" not in end.message


# --- #56 hostile image in the training set (R5) -----------------------------------------------

def test_training_skips_a_forged_60000_px_jpeg_and_names_it(tiny, capsys, forge_header_size):
    liar = sorted((tiny / "images").glob("*.jpg"))[3]
    forge_header_size(liar, 60000, 60000)
    assert main(["train", str(tiny), "--epochs", "1", *FAST_CLI]) == 0
    out = capsys.readouterr()
    text = out.out + out.err
    assert liar.name in text and "60000x60000" in text
    assert "Traceback" not in text and "UnknownError" not in text


# --- #65, #82 settings checked at the door; #86 resume keeps its epochs ----------------------

@pytest.mark.parametrize("key,value", [("epochs", "ten"), ("batch_size", None), ("lr_init", "1e-3"),
                                       ("augment", 1), ("input_size", 416.0)])
def test_wrong_types_in_train_settings_name_the_file_and_key(tiny, capsys, key, value):
    data = json.loads((tiny / PROJECT_FILE).read_text())
    data["train_settings"] = {**TrainConfig().to_dict(), key: value}
    (tiny / PROJECT_FILE).write_text(json.dumps(data))
    assert main(["train", str(tiny), "--epochs", "1"]) == 1
    err = capsys.readouterr().err
    assert PROJECT_FILE in err and f"'{key}'" in err and "Traceback" not in err
    assert not (tiny / "runs").exists()


@pytest.mark.parametrize("flag,value", [("--lr", "inf"), ("--lr", "nan"), ("--lr-end", "inf"),
                                        ("--warmup", "-1"), ("--size", "100000")])
def test_non_finite_or_absurd_flags_are_refused_before_training(tiny, capsys, flag, value):
    assert main(["train", str(tiny), "--epochs", "1", flag, value]) == 1
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err
    assert not (tiny / "runs").exists()     # no empty run folder left behind


def _stopped_run(root, epochs):
    """A run of ``epochs`` epochs stopped after its first; returns its folder."""
    stop = threading.Event()
    rec = Recorder(on_epoch=lambda r: stop.set())
    end = Trainer(Project.open(root), TrainConfig(epochs=epochs, **FAST), rec).run(stop)
    assert end.reason == "stopped"
    return runs.list_runs(Project.open(root))[-1].path


def test_resume_without_epochs_keeps_the_runs_own_count(tiny, capsys):
    run_dir = _stopped_run(tiny, 2)
    assert main(["train", str(tiny), "--resume", *FAST_CLI]) == 0
    out = capsys.readouterr().out
    assert "finished 2 epochs" in out
    assert [r["epoch"] for r in runs.read_history(run_dir)] == [0, 1]


def test_resume_refuses_a_run_config_with_wrong_types(tiny):
    run_dir = _stopped_run(tiny, 2)
    cfg = json.loads((run_dir / runs.CONFIG_FILE).read_text())
    (run_dir / runs.CONFIG_FILE).write_text(json.dumps({**cfg, "batch_size": "four"}))
    with pytest.raises(ConfigError) as info:
        Trainer(Project.open(tiny), TrainConfig(epochs=2, **FAST), run_dir=run_dir, resume=True)
    assert str(run_dir / runs.CONFIG_FILE) in str(info.value) and "'batch_size'" in str(info.value)
