"""The preview's two threads: a grabber that keeps only the newest frame, and a detector.

Grabber -> LatestFrame (one slot, latest wins) -> detector -> ``result`` signal
(queued to the GUI thread, which alone makes QImages and paints). Both stop on
a shared ``threading.Event``; the grabber closing the mailbox ends the
detector after it has handled the last frame. A second event, ``paused``, set
while the preview is not on screen, makes both idle without ending (a video
keeps its place), so a hidden preview costs no CPU.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import cv2
import numpy as np
from PySide6.QtCore import Signal

from yolo_studio.core.defaults import DEFAULT_NMS_IOU, DEFAULT_SCORE_THRESHOLD
from yolo_studio.core.sources import FrameSource, LatestFrame, SourceEnded
from yolo_studio.gui.common.model_picker import load_detector
from yolo_studio.gui.workers import Worker


@dataclass(frozen=True)
class DetectOptions:
    """Thresholds and hidden classes; replaced whole, read once per frame."""

    score_threshold: float = DEFAULT_SCORE_THRESHOLD
    iou_threshold: float = DEFAULT_NMS_IOU
    hidden_classes: frozenset = field(default_factory=frozenset)
    max_detections: int = 100


@dataclass
class PreviewResult:
    """One detected frame on its way to the GUI thread."""

    rgb: np.ndarray
    detections: list
    index: int
    name: str
    t_grabbed: float
    grab_ms: float
    infer_ms: float
    dropped: int
    options: DetectOptions
    # ``rgb`` already scaled to the view (made off the GUI thread), or None.
    display: np.ndarray | None = None
    backend: str = ""       # the inference backend that ran this frame (for the HUD)


class GrabWorker(Worker):
    """Reads the source as it comes (paced for files) and posts each frame to the mailbox."""

    opened = Signal(str)
    ended = Signal(str)

    def __init__(self, source: FrameSource, mailbox: LatestFrame, stop: threading.Event,
                 paused: threading.Event | None = None):
        super().__init__()
        self.source = source
        self.mailbox = mailbox
        self.stop = stop
        self.paused = paused or threading.Event()
        self._pending = False  # a frame grabbed but not yet decoded

    def work(self) -> None:
        try:
            self.source.open()
            self.opened.emit(self.source.description)
            self._loop()
        finally:
            self.source.close()
            self.mailbox.close()

    def _loop(self) -> None:
        try:
            if self.source.interval:
                self._paced_loop(self.source.interval)
            else:  # a camera: each read blocks until its next frame
                while not self.stop.is_set():
                    if not idle_while_paused(self.paused, self.stop):
                        self.mailbox.put(self.source.read())
        except SourceEnded as e:
            self.ended.emit(str(e) or "End of source")

    def _paced_loop(self, interval: float) -> None:
        # Files are read at their own rate, like a camera, but a frame is
        # decoded only when the detector waits for one: the frames that a
        # slower model would drop cost their read, not their decoding.
        due = time.perf_counter()
        while not self.stop.is_set():
            if idle_while_paused(self.paused, self.stop):
                due = time.perf_counter()  # resume at the file's pace, not in a burst
                continue
            if self._pending:
                self.mailbox.skipped()
            self._pending = False
            self.source.grab()
            self._pending = True
            due += interval
            while not self.stop.is_set():
                if self._pending and self.mailbox.wanted():
                    self.mailbox.put(self.source.retrieve())
                    self._pending = False
                wait = due - time.perf_counter()
                if self._pending and self.source.at_last_frame():
                    wait = 0.1  # the last frame is always shown: wait for the detector
                elif wait <= 0:
                    break
                if self._pending:
                    self.mailbox.wait_wanted(wait)
                else:
                    self.stop.wait(wait)
            if due < time.perf_counter() - interval:
                due = time.perf_counter()  # fell behind: do not burst to catch up


class DetectWorker(Worker):
    """Loads the model (unless given one), then detects on the newest frame, repeatedly."""

    modelReady = Signal(object)
    result = Signal(object)

    def __init__(self, model_path, mailbox: LatestFrame, stop: threading.Event,
                 options: DetectOptions, detector=None, paused: threading.Event | None = None):
        super().__init__()
        self.model_path = model_path
        self.mailbox = mailbox
        self.stop = stop
        self.paused = paused or threading.Event()
        self.options = options  # replaced from the GUI thread; read once per frame
        self.detector = detector
        self.display_size = None  # (w, h) device pixels of the view, set from the GUI thread

    def work(self) -> None:
        if self.detector is None:
            self.detector = load_detector(self.model_path)
        self.modelReady.emit(self.detector)
        while not self.stop.is_set():
            if idle_while_paused(self.paused, self.stop):
                continue
            frame = self.mailbox.take(timeout=0.25)
            if frame is None:
                if self.mailbox.closed:
                    return
                continue
            self.result.emit(self.detect(frame))

    def detect(self, frame) -> PreviewResult:
        """Run the model on one frame with the options in force now."""
        opts = self.options
        rgb = cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB)
        backend = getattr(self.detector, "backend", "")
        t0 = time.perf_counter()
        dets = self.detector.detect(rgb, rgb=True, score_threshold=opts.score_threshold,
                                    iou_threshold=opts.iou_threshold,
                                    max_detections=opts.max_detections)
        infer_ms = (time.perf_counter() - t0) * 1000.0
        if opts.hidden_classes:
            dets = [d for d in dets if d.label not in opts.hidden_classes]
        return PreviewResult(rgb, dets, frame.index, frame.name, frame.t_grabbed,
                             frame.grab_ms, infer_ms, self.mailbox.dropped, opts,
                             fit_to(rgb, self.display_size), backend)


def idle_while_paused(paused: threading.Event, stop: threading.Event) -> bool:
    """Sleep a little if ``paused`` is set (waking at once on stop); True if it slept."""
    if not paused.is_set():
        return False
    stop.wait(0.1)
    return True


def fit_to(rgb: np.ndarray, size) -> np.ndarray | None:
    """``rgb`` resized to fit ``size`` (w, h) keeping its aspect; None when no resize is needed.

    Done here, on the detector's thread, because smooth scaling in the GUI
    thread's painter costs several times more than cv2.resize.
    """
    if not size:
        return None
    h, w = rgb.shape[:2]
    scale = min(size[0] / w, size[1] / h)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    if abs(new_w - w) <= 1 and abs(new_h - h) <= 1:
        return None
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(rgb, (new_w, new_h), interpolation=interp)
