"""Decode the image the user will most likely open next, on a worker thread.

OpenCV releases the GIL while decoding, so the next JPEG is ready (as a
QImage, which may be built off the GUI thread; QPixmaps may not) by the time
the user presses D. A switch then costs a pixmap upload and a paint.
"""
from __future__ import annotations

import threading
from pathlib import Path

import cv2
from PySide6.QtCore import QThread
from PySide6.QtGui import QImage

from yolo_studio.core.errors import ImageFileError
from yolo_studio.core.images import read_image
from yolo_studio.gui.workers import Worker, start_worker

MAX_JOBS = 2


def decode_qimage(path) -> QImage:
    """Decode ``path`` into a QImage in the pixmap-native 32-bit layout (ImageFileError)."""
    bgr = read_image(path)
    # RGB32 is B,G,R,X in memory on little-endian machines: no conversion left for Qt.
    bgrx = cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA)
    h, w = bgrx.shape[:2]
    return QImage(bgrx.data, w, h, bgrx.strides[0], QImage.Format_RGB32).copy()


class _Decode(Worker):
    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        self.image: QImage | None = None
        self.error: ImageFileError | None = None
        self.done = threading.Event()

    def work(self) -> None:
        try:
            self.image = decode_qimage(self.path)
        except ImageFileError as e:  # handed to the GUI thread by take()
            self.error = e
        finally:
            self.done.set()
            # Let the thread end by itself: the queued quit from the usual wiring
            # needs the GUI event loop, which may not run again (app shutting down).
            QThread.currentThread().quit()


class Prefetcher:
    """At most a couple of decodes in flight; ``take`` waits for one if it is running."""

    def __init__(self):
        self._jobs: dict[Path, tuple] = {}

    def request(self, path) -> None:
        """Start decoding ``path`` unless it is already on its way."""
        path = Path(path)
        if path in self._jobs:
            return
        while len(self._jobs) >= MAX_JOBS:  # oldest first; a running thread finishes on its own
            self._jobs.pop(next(iter(self._jobs)))
        worker = _Decode(path)
        self._jobs[path] = (start_worker(worker, "prefetch"), worker)

    def take(self, path) -> QImage | None:
        """The decoded ``path`` if it was requested (raising its ImageFileError), else None."""
        job = self._jobs.pop(Path(path), None)
        if job is None:
            return None
        _thread, worker = job
        # Wait for the result, not the thread: the thread's quit is queued to
        # this (GUI) thread's event loop, so waiting on the thread would deadlock.
        worker.done.wait()
        if worker.error is not None:
            raise worker.error
        return worker.image

    def clear(self) -> None:
        """Forget all jobs, waiting for running decodes so no thread outlives its use."""
        for thread, worker in self._jobs.values():
            worker.done.wait()
            thread.wait(2000)
        self._jobs.clear()
