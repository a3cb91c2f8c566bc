"""The GUI's training workers: the relay that runs core's Trainer in a child process, and friends."""
from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import subprocess
import sys
import threading

from PySide6.QtCore import Signal

from yolo_studio.core.training.events import EndReport
from yolo_studio.gui.training.child import KINDS, train_in_child
from yolo_studio.gui.workers import Worker

# The training process runs this much nicer than the window, so when TensorFlow
# saturates every core the GUI thread still gets the CPU at once.
TRAINING_NICE = 5
# 'spawn' on every platform: a forked copy of a Qt process is not safe to use,
# and a fresh interpreter never holds the window's locks or widgets.
CONTEXT = multiprocessing.get_context("spawn")
POLL_S = 0.1           # how often the relay looks for a Stop and whether the process lives


def start_training_process(target, args) -> multiprocessing.Process:
    """Start ``target(*args)`` in a new (spawned) process and close this process's copies of
    the child's pipe ends (``args[4:6]``), so each side sees the other's end when it goes."""
    process = CONTEXT.Process(target=target, args=args, name="yolo-studio-training")
    process.start()
    for end in args[4:6]:
        end.close()
    return process


class TrainWorker(Worker):
    """Relays a training process's reports as queued Qt signals carrying the frozen reports.

    ``work()`` (on a QThread of the window's process) starts the training
    process, reads its pipe and emits one signal per report; it never touches
    a widget. Stop is ``stop_event.set()``: the relay passes it on to the
    process, whose trainer checks it between batches and writes a checkpoint.
    The thread ends with the run's end report (or the process's death).
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
        self.process = None     # the training process, once it has ended its run
        self._signals = {"message": self.message, "batch": self.batch, "epoch": self.epoch}

    def work(self) -> None:
        reader, writer = CONTEXT.Pipe(duplex=False)         # reports: child -> window
        control_in, control = CONTEXT.Pipe(duplex=False)    # stop: window -> child
        args = (self.project, self.config, self.run_dir, self.resume, writer, control_in,
                TRAINING_NICE)
        try:
            child = start_training_process(train_in_child, args)
        except Exception as e:  # noqa: BLE001 - e.g. no process can be started: say so
            self._end(EndReport(reason="failed", message=f"Could not start the training "
                                f"process ({type(e).__name__}: {e})", run_dir=str(self.run_dir or "")))
            return
        try:
            self._relay(reader, control, child)
        finally:
            reader.close()
            control.close()
        if self._ended:
            # The run is over for the user now; the process winds TensorFlow down on
            # its own (multiprocessing reaps it), so a new Start need not wait for that.
            self.process = child
            return
        child.join()            # it died without its end report (killed, crashed)
        self._end(EndReport(reason="failed", message=_died(getattr(child, "exitcode", None)),
                            run_dir=str(self.run_dir or "")))

    def _relay(self, reader, control, child) -> None:
        """Emit each report until the end report or the pipe's end; pass Stop on."""
        stop_sent = False
        while True:
            if self.stop_event.is_set() and not stop_sent:
                stop_sent = True
                try:
                    control.send("stop")
                except OSError:     # the process has gone; its end shows below
                    pass
            if not reader.poll(POLL_S):
                if child.is_alive():
                    continue
                if not reader.poll(0):  # dead, and nothing left to read
                    return
            try:
                kind, payload = reader.recv()
            except (EOFError, OSError):
                return
            if kind == "end":
                self._end(payload)
                return          # nothing comes after the end report
            elif kind in KINDS:
                self._signals[kind].emit(payload)

    def _end(self, report) -> None:
        if self._ended:
            return
        self._ended = True
        if isinstance(report, EndReport) and not report.run_dir and self.run_dir:
            report = dataclasses.replace(report, run_dir=str(self.run_dir))
        self.ended.emit(report)


def _died(exitcode) -> str:
    """What to tell the user when the training process ended without saying how."""
    if exitcode is not None and exitcode < 0:
        why = f"it was killed by signal {-exitcode}"
        if -exitcode == 9:
            why += ", often the system running out of memory: lower the batch or input size"
    else:
        why = f"exit status {exitcode}"
    return (f"The training process ended unexpectedly ({why}). The last checkpoint written "
            "(after the last whole epoch) is kept; select the run and press Resume to continue.")


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
