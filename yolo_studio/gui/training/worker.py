"""The training worker: runs core's Trainer on a QThread and turns its reports into signals."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

from PySide6.QtCore import Signal

from yolo_studio.core.training.events import EndReport
from yolo_studio.gui.workers import Worker


# Training threads run this much nicer than the window (Linux per-thread nice), so
# when TensorFlow saturates every core the GUI thread still gets the CPU at once.
TRAINING_NICE = 5
PAINT_BEFORE_IMPORT_S = 0.15


def lower_thread_priority(step: int) -> bool:
    """Make the calling thread (and threads it starts later) nicer by ``step``; False if unsupported."""
    if step <= 0 or not sys.platform.startswith("linux"):
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + step))
        return True
    except (OSError, AttributeError):
        return False


class TrainWorker(Worker):
    """A TrainListener whose methods emit queued Qt signals carrying the frozen reports.

    The worker never touches a widget: the panel's slots run on the GUI thread
    because the signals cross threads queued. Stop is ``stop_event.set()``;
    the trainer checks it between batches and writes a checkpoint.
    """

    message = Signal(str)
    batch = Signal(object)      # BatchReport
    epoch = Signal(object)      # EpochReport
    ended = Signal(object)      # EndReport, exactly once per run

    def __init__(self, project, config, run_dir=None, resume: bool = False):
        super().__init__()
        self.project = project
        self.config = config
        self.run_dir = run_dir
        self.resume = resume
        self.stop_event = threading.Event()
        self._ended = False

    def work(self) -> None:
        lower_thread_priority(TRAINING_NICE)
        # The first import of TensorFlow holds the GIL for seconds (loading its libraries),
        # and the window cannot repaint meanwhile: give it a moment to show that Start was
        # pressed before that begins.
        time.sleep(PAINT_BEFORE_IMPORT_S)
        from yolo_studio.core.training.trainer import Trainer
        try:
            trainer = Trainer(self.project, self.config, listener=self,
                              run_dir=self.run_dir, resume=self.resume)
            report = trainer.run(self.stop_event)
        except Exception as e:  # noqa: BLE001 - any failure becomes a readable end report
            self.on_end(EndReport(reason="failed", message=_readable(e),
                                  run_dir=str(self.run_dir or "")))
            return
        if not self._ended:  # a trainer that returns without calling on_end
            self.on_end(report)

    def on_message(self, text: str) -> None:
        self.message.emit(str(text))

    def on_batch(self, report) -> None:
        self.batch.emit(report)

    def on_epoch(self, report) -> None:
        self.epoch.emit(report)

    def on_end(self, report) -> None:
        if self._ended:
            return
        self._ended = True
        self.ended.emit(report)


def _readable(e: BaseException) -> str:
    """A message for the panel: user errors as they are, anything else with its type."""
    from yolo_studio.core.errors import YoloStudioError
    text = str(e)
    if isinstance(e, YoloStudioError) and text:
        return text
    if "OOM" in type(e).__name__ or "ResourceExhausted" in type(e).__name__ or "OOM when" in text:
        return ("Out of memory: lower the batch size or the input size, or switch to "
                "YOLOv3-tiny. (" + text.splitlines()[0][:200] + ")")
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


class EvalWorker(Worker):
    """Runs a checkpoint on the project's validation images; ``done(EvalResult)``."""

    done = Signal(object)

    def __init__(self, project, checkpoint: str):
        super().__init__()
        self.project = project
        self.checkpoint = checkpoint

    def work(self) -> None:
        from yolo_studio.core.checkpoint_eval import evaluate_checkpoint
        # The same use case, threshold and classes as `yolo-studio eval` (they used to differ).
        self.done.emit(evaluate_checkpoint(self.project, self.checkpoint).result)


class DeviceWorker(Worker):
    """Asks TensorFlow which devices there are, in a child process; ``done(list[DeviceInfo])``.

    Not in this process: importing TensorFlow holds the GIL for seconds, and the window
    froze right when the user opened the Train tab, so the first click on Start went
    unanswered (issue 13). A child also never initialises the GPUs of the GUI process,
    which would then reserve a whole card just to say its name.
    """

    done = Signal(list)

    def work(self) -> None:
        from yolo_studio.core.training.device import DeviceInfo
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        child = subprocess.run([sys.executable, "-c", DEVICE_QUERY], capture_output=True,
                               text=True, timeout=DEVICE_QUERY_TIMEOUT_S, env=env)
        lines = child.stdout.strip().splitlines()
        if child.returncode or not lines:
            why = (child.stderr.strip().splitlines() or [f"exit status {child.returncode}"])[-1]
            raise RuntimeError(f"TensorFlow could not list the devices ({why[:200]})")
        self.done.emit([DeviceInfo(**d) for d in json.loads(lines[-1])])


# Run by DeviceWorker in a child Python: prints the devices as one JSON line.
DEVICE_QUERY = ("import dataclasses, json; "
                "from yolo_studio.core.training.device import describe_devices; "
                "print(json.dumps([dataclasses.asdict(d) for d in describe_devices()]))")
DEVICE_QUERY_TIMEOUT_S = 300


class RunsWorker(Worker):
    """Reads the project's runs from disk off the GUI thread: ``done((runs, problem, has_last))``.

    An epoch end re-lists the runs (the live run's row gains an epoch); with many runs
    that is many files read, which must not stall the window while training runs.
    """

    done = Signal(object)

    def __init__(self, project):
        super().__init__()
        self.project = project

    def work(self) -> None:
        from yolo_studio.gui.training.project_info import has_last_checkpoint, list_runs
        runs, problem = list_runs(self.project)
        self.done.emit((runs, problem, has_last_checkpoint(self.project)))
