"""The training process: core's Trainer runs here, away from the window's process.

Why a process and not a thread: the trainer's Python work between TensorFlow
calls (tf.data, validation decode and NMS, mAP, checkpoint writing, the EMA
swap, and the first import of TensorFlow itself) held the GIL that the GUI
thread needs, so the window went late by up to half a second at epoch ends.
In its own process it competes only for CPU time, and the window's process
never imports TensorFlow for training.

This module imports no Qt: the process is started with multiprocessing's
'spawn' method and only needs core. The reports travel back as pickled
``(kind, payload)`` tuples on a one-way Pipe (the payloads are core's frozen
dataclasses of plain floats). Stop comes the other way, on a second pipe: a
"stop" message, or that pipe's end when the window's process has died, sets
the event the trainer checks between batches, so a run always ends with a
checkpoint, never a kill, and never trains on without its window.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import traceback

from yolo_studio.core.errors import YoloStudioError
from yolo_studio.core.training.events import EndReport

# The kinds of report a training process sends; 'end' comes exactly once, last.
KINDS = ("message", "batch", "epoch", "end")


def train_in_child(project, config, run_dir, resume, events, control, nice: int = 0) -> None:
    """Entry of the training process: train, send every report on ``events``, end with 'end'.

    ``control`` is the reading end of the window's pipe: "stop", or its end, stops the run.
    """
    if multiprocessing.parent_process() is not None:
        _lower_priority(nice)
        # Ctrl+C in the terminal reaches the whole process group: the window decides,
        # and if it dies of it, the end of its pipe stops this run with a checkpoint.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    stop = threading.Event()
    listener = PipeListener(events, stop)
    watch_window(control, stop)
    try:
        from yolo_studio.core.training.trainer import Trainer
        trainer = Trainer(project, config, listener=listener, run_dir=run_dir, resume=resume)
        report = trainer.run(stop)
    except Exception as e:  # noqa: BLE001 - any failure becomes a readable end report
        if not isinstance(e, YoloStudioError):
            traceback.print_exc()       # for a bug report; the window shows the short form
        listener.on_end(EndReport(reason="failed", message=readable(e),
                                  run_dir=str(run_dir or "")))
    else:
        listener.on_end(report)         # ignored when the trainer already sent its own
    finally:
        events.close()                  # the window's reader sees the end of the pipe


class PipeListener:
    """A TrainListener that sends each report down a Pipe; the first 'end' is the last thing sent.

    When the window's process has gone (the pipe is broken), it sets the stop
    event, so the trainer stops after this batch and writes its checkpoint.
    """

    def __init__(self, conn, stop):
        self.conn = conn
        self.stop = stop
        self.ended = False
        self.gone = False

    def _send(self, kind: str, payload) -> None:
        if self.gone or self.ended:
            return
        try:
            self.conn.send((kind, payload))
        except (OSError, ValueError):   # broken pipe, or closed: nobody is listening any more
            self.gone = True
            self.stop.set()

    def on_message(self, text: str) -> None:
        self._send("message", str(text))

    def on_batch(self, report) -> None:
        self._send("batch", report)

    def on_epoch(self, report) -> None:
        self._send("epoch", report)

    def on_end(self, report) -> None:
        self._send("end", report)
        self.ended = True


def watch_window(control, stop: threading.Event) -> threading.Thread:
    """Set ``stop`` on the window's "stop", or when its pipe ends (the window's process died)."""

    def watch():
        try:
            while control.recv() != "stop":
                pass
        except (EOFError, OSError):
            pass
        stop.set()

    thread = threading.Thread(target=watch, name="window-watch", daemon=True)
    thread.start()
    return thread


def readable(e: BaseException) -> str:
    """A message for the panel: user errors as they are, anything else with its type."""
    text = str(e)
    if isinstance(e, YoloStudioError) and text:
        return text
    if "OOM" in type(e).__name__ or "ResourceExhausted" in type(e).__name__ or "OOM when" in text:
        return ("Out of memory: lower the batch size or the input size, or switch to "
                "YOLOv3-tiny. (" + text.splitlines()[0][:200] + ")")
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _lower_priority(step: int) -> None:
    """Make this whole process (and the threads TensorFlow starts in it) nicer by ``step``."""
    if step <= 0 or not hasattr(os, "nice"):
        return
    try:
        os.nice(step)
    except OSError:
        print("could not lower the training process's priority", file=sys.stderr)
