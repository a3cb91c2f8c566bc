"""Training runs in its own process: what a user sees when that process or the window's dies.

The panel's Start, Stop, Resume, close and error paths through the real
training process are in test_training_panel.py; these are the two ends a
thread never had: a training process killed under the window (the system ran
out of memory), and a window killed under a training process.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from PySide6.QtCore import Qt

from yolo_studio.core.checkpoint_files import is_checkpoint
from yolo_studio.core.project import Project
from yolo_studio.core.training import runs
from yolo_studio.core.training.events import TrainConfig
from yolo_studio.gui.context import AppContext
from yolo_studio.gui.training import worker as worker_module
from yolo_studio.gui.training.panel import TrainingPanel

TINY = TrainConfig(model="yolov3-tiny", input_size=64, batch_size=8, epochs=50, warmup_epochs=0,
                   augment=False, seed=0)
REPO = Path(__file__).resolve().parents[2]


def killed_at_once(*_args) -> None:
    """A training process's entry that dies as the out-of-memory killer ends one."""
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_killed_training_process_is_reported_and_start_works_again(qtbot, demo_copy,
                                                                        monkeypatch):
    monkeypatch.setattr(worker_module, "train_in_child", killed_at_once)
    panel = TrainingPanel(AppContext(Project.open(demo_copy)))
    qtbot.addWidget(panel)
    panel.form.set_config(TINY)
    with qtbot.waitSignal(panel.runEnded, timeout=60_000) as ended:
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert ended.args[0].reason == "failed"
    text = panel.message_bar.text()
    assert panel.message_bar.kind == "error"
    assert "ended unexpectedly" in text and "signal 9" in text and "memory" in text
    qtbot.waitUntil(panel.start_button.isEnabled, timeout=10_000)     # ready to try again
    assert not panel.is_running() and panel.progress.format() == "Failed"
    assert panel.wait_for_workers(timeout_s=30)


# The window's side, cut down to the relay's own calls: start the training process,
# wait for its first batch, say the child's pid and whether TensorFlow was imported
# here, then wait to be killed.
WINDOW = textwrap.dedent("""
    import json, sys, time
    from yolo_studio.core.project import Project
    from yolo_studio.core.training.events import TrainConfig
    from yolo_studio.gui.training import worker
    cfg = TrainConfig.from_dict(json.loads(sys.argv[2]))
    reader, writer = worker.CONTEXT.Pipe(duplex=False)
    control_in, control = worker.CONTEXT.Pipe(duplex=False)
    child = worker.start_training_process(
        worker.train_in_child, (Project.open(sys.argv[1]), cfg, None, False, writer, control_in, 0))
    while reader.recv()[0] != "batch":
        pass
    print(json.dumps({"pid": child.pid, "tf": "tensorflow" in sys.modules}), flush=True)
    time.sleep(600)
""")


def _ended(pid: int) -> bool:
    """The process has exited (gone, or a zombie nobody has reaped yet)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z")
    except OSError:
        return True


def test_a_dead_window_stops_its_training_process_with_a_checkpoint(demo_copy):
    import json

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    window = subprocess.Popen([sys.executable, "-c", WINDOW, str(demo_copy),
                               json.dumps(TINY.to_dict())], stdout=subprocess.PIPE, env=env,
                              text=True)
    try:
        said = json.loads(window.stdout.readline())
    finally:
        window.kill()                   # as a crash or `kill -9` ends the window
        window.wait()
    assert not said["tf"], "the window's process imported TensorFlow"
    deadline = time.monotonic() + 120
    while not _ended(said["pid"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _ended(said["pid"]), "the training process went on training without its window"
    run = max(runs.runs_dir(Project.open(demo_copy)).iterdir())
    assert is_checkpoint(runs.run_checkpoint(run, "last"))     # stopped, not killed
    assert (run / runs.RESUME_DIR / "checkpoint").is_file()
    assert len(runs.read_history(run)) < TINY.epochs
