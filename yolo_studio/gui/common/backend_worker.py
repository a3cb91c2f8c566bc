"""Switch a loaded Detector to a faster inference backend in the background (never the GUI thread).

The first time a model is used, converting it takes seconds to a minute
(then it is cached beside the weights); meanwhile the detector keeps running
on TensorFlow, and the switch is one attribute the detecting thread reads
per frame.
"""
from __future__ import annotations

from PySide6.QtCore import Signal

from yolo_studio.core.runtime import default_backend
from yolo_studio.gui.workers import Worker


class BackendWorker(Worker):
    """Runs ``detector.use_backend``; ``ready(name, why)`` when the detector has switched."""

    ready = Signal(str, str)
    message = Signal(str)

    def __init__(self, detector, backend: str | None = None):
        super().__init__()
        self.detector = detector
        self.backend = backend or default_backend()

    def work(self) -> None:
        reason = self.detector.use_backend(self.backend, self.message.emit)
        self.ready.emit(self.detector.backend, reason)


def needs_switch(detector) -> bool:
    """True when a faster backend may be tried for ``detector`` (not yet done, not turned off)."""
    return (detector is not None and getattr(detector, "backend", "tensorflow") == "tensorflow"
            and getattr(detector, "model", None) is not None and default_backend() != "tensorflow"
            and not getattr(detector, "_backend_tried", False))
