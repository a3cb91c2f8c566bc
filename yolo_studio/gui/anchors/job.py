"""The Anchors panel's background job: core's anchor fit (core/anchor_fit.py) on a worker thread."""
from __future__ import annotations

import threading

from PySide6.QtCore import Signal

from yolo_studio.core import anchors as A
from yolo_studio.core.anchor_fit import FitRequest, LoadedLabels, fit_project_anchors
from yolo_studio.gui.workers import Worker


class AnchorsJob(Worker):
    """Runs :func:`~yolo_studio.core.anchor_fit.fit_project_anchors` off the GUI thread;
    a set ``stop`` event cancels it.

    Every signal carries the job's ``generation`` so the panel can drop the
    results of a job started for a project that is no longer open.
    """

    progressed = Signal(float, int)
    done = Signal(object, int)          # AnchorsResult, generation
    error = Signal(str, int)
    cancelled = Signal(int)

    def __init__(self, project, request: FitRequest, labels: LoadedLabels | None, generation: int = 0):
        super().__init__()
        self.project = project
        self.request = request
        self.labels = labels
        self.generation = generation
        self.stop = threading.Event()

    def work(self) -> None:
        gen = self.generation
        try:
            result = fit_project_anchors(self.project, self.request, self.labels, self.stop,
                                         lambda f: self.progressed.emit(f, gen))
        except A.FitCancelled:
            self.cancelled.emit(gen)
            return
        except Exception as e:  # any failure is shown in the panel; the GUI must survive it
            self.error.emit(str(e) or type(e).__name__, gen)
            return
        self.done.emit(result, gen)
