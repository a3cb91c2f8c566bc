"""A dialog that runs one cancellable worker: start, cancel, and wait for it on close.

The pre-label and the suggest dialogs share this lifetime; each keeps its own
form, progress and result handling.
"""
from __future__ import annotations

import threading

from PySide6.QtWidgets import QDialog

from yolo_studio.gui.workers import Worker, start_worker


class JobDialog(QDialog):
    """Subclasses provide ``run_button``, ``summary``, ``_finished`` and ``cancelling_text``."""

    cancelling_text = "Cancelling\u2026"

    def __init__(self, parent=None):
        super().__init__(parent)
        self._cancel = threading.Event()
        self._thread = None
        self._worker = None

    def _run(self, worker: Worker, name: str, loading_text: str) -> None:
        """Start ``worker`` on its thread; the run button waits until it has finished."""
        self._worker = worker
        worker.finished.connect(self._finished)
        self.run_button.setEnabled(False)
        self.summary.setText(loading_text)
        self._thread = start_worker(worker, name)

    def is_running(self) -> bool:
        """True while the worker's thread runs."""
        return self._thread is not None and self._thread.isRunning()

    def cancel(self) -> None:
        """Stop at the worker's next check (what it finished stays); close if nothing runs."""
        if self.is_running():
            self._cancel.set()
            self.summary.setText(self.cancelling_text)
        else:
            self.reject()

    def done(self, result: int) -> None:
        # Closing while running cancels and waits (the worker may be writing label
        # files), then reports what was written: the labeller must reload it.
        if self.is_running():
            self._cancel.set()
            self._thread.quit()
            self._thread.wait(30000)
            self._finished()
        super().done(result)
