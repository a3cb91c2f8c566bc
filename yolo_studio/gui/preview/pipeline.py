"""The preview's two threads: a grabber that keeps only the newest frame, and a detector.

Grabber -> LatestFrame (one slot, latest wins) -> detector -> ``result`` signal
(queued to the GUI thread, which alone makes QImages and paints). The grabber
also prepares the frames it hands over (BGR->RGB, the letterboxed network
input, the copy scaled to the view: :class:`FramePrep`), and it does so while
the model still runs on the previous frame when the detector is due back
before the next frame arrives: a pipeline of depth two, in which the frame
waiting is always the newest (an older one is dropped), so latency does not
grow. Both stop on a shared ``threading.Event``; the grabber closing the
mailbox ends the detector after it has handled the last frame. A second
event, ``paused``, set while the preview is not on screen, makes both idle
without ending (a video keeps its place), so a hidden preview costs no CPU.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import cv2
import numpy as np
from PySide6.QtCore import Signal

from yolo_studio.core.defaults import DEFAULT_NMS_IOU, DEFAULT_SCORE_THRESHOLD
from yolo_studio.core.detector import PreparedImage
from yolo_studio.core.sources import Frame, FrameSource, LatestFrame, SourceEnded
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
    grab_ms: float          # read, decode and prepare (grabber thread)
    infer_ms: float         # model, decode and NMS (detector thread)
    dropped: int
    options: DetectOptions
    # ``rgb`` already scaled to the view (made off the GUI thread), or None.
    display: np.ndarray | None = None
    backend: str = ""       # the inference backend that ran this frame (for the HUD)


@dataclass
class ReadyFrame:
    """A grabbed frame with everything the detector and the view need, made on the grabber's thread."""

    frame: Frame
    rgb: np.ndarray
    prepared: PreparedImage
    display: np.ndarray | None
    prep_ms: float

    @property
    def t_grabbed(self) -> float:
        """When the frame was grabbed (the mailbox judges a waiting frame's age by it)."""
        return self.frame.t_grabbed


class FramePrep:
    """Turns a grabbed frame into a :class:`ReadyFrame` for the model now loaded.

    Shared by both workers: the detector sets ``detector`` once its model is
    loaded, the GUI thread sets ``display_size``; each is one attribute read.
    """

    def __init__(self) -> None:
        self.detector = None
        self.display_size = None  # (w, h) device pixels of the view

    def __call__(self, frame: Frame) -> ReadyFrame:
        t0 = time.perf_counter()
        rgb = cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB)
        prepared = self.detector.prepare(rgb, rgb=True)
        display = fit_to(rgb, self.display_size)
        return ReadyFrame(frame, rgb, prepared, display, (time.perf_counter() - t0) * 1000.0)


class GrabWorker(Worker):
    """Reads the source as it comes (paced for files) and posts each frame to the mailbox."""

    opened = Signal(str)
    ended = Signal(str)

    def __init__(self, source: FrameSource, mailbox: LatestFrame, stop: threading.Event,
                 paused: threading.Event | None = None, prep: FramePrep | None = None):
        super().__init__()
        self.source = source
        self.mailbox = mailbox
        self.stop = stop
        self.paused = paused or threading.Event()
        self.prep = prep
        self._pending = False  # a frame grabbed but not yet decoded
        self._handover_s = 0.0  # smoothed seconds to decode and prepare a frame
        self._gap_s = 0.0       # smoothed seconds between a camera's frames

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
            else:
                self._camera_loop()
        except SourceEnded as e:
            self.ended.emit(str(e) or "End of source")

    def _camera_loop(self) -> None:
        # Each read blocks until the camera's next frame and decodes it; the
        # frame is prepared here only if the detector will take it (else the
        # next one would be newer), so a fast camera costs no extra letterboxing.
        last = time.perf_counter()
        while not self.stop.is_set():
            if idle_while_paused(self.paused, self.stop):
                continue
            frame = self.source.read()
            now = time.perf_counter()
            self._gap_s = 0.8 * self._gap_s + 0.2 * (now - last) if self._gap_s else now - last
            last = now
            if self.mailbox.want_expected(now + self._gap_s):
                if self.mailbox.holds_recent(now):
                    self.mailbox.skipped()   # the prepared one waiting is recent enough
                else:
                    self._hand_over(frame)
            else:
                self.mailbox.put(frame)   # the detector prepares it, if it ever takes it

    def _hand_over(self, frame: Frame | None = None) -> None:
        """Decode the frame grabbed (unless given), prepare it, and post it."""
        t0 = time.perf_counter()
        if frame is None:
            frame = self.source.retrieve()
            self._pending = False
        ready = self.prep(frame) if self.prep is not None and self.prep.detector is not None else frame
        took = time.perf_counter() - t0
        self._handover_s = 0.8 * self._handover_s + 0.2 * took if self._handover_s else took
        self.mailbox.put(ready)

    def _paced_loop(self, interval: float) -> None:
        # Files are read at their own rate, like a camera, but a frame is
        # decoded only when the detector waits for one, or will be back for
        # one before the next frame is due: the frames that a slower model
        # would drop cost their read, not their decoding.
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
                if self._pending and self.mailbox.want_expected(due + self._handover_s) \
                        and not self.mailbox.holds_recent(time.perf_counter()):
                    self._hand_over()
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
                 options: DetectOptions, detector=None, paused: threading.Event | None = None,
                 prep: FramePrep | None = None):
        super().__init__()
        self.model_path = model_path
        self.mailbox = mailbox
        self.stop = stop
        self.paused = paused or threading.Event()
        self.options = options  # replaced from the GUI thread; read once per frame
        self.detector = detector
        self.prep = prep or FramePrep()

    @property
    def display_size(self):
        """(w, h) device pixels of the view (set from the GUI thread), or None."""
        return self.prep.display_size

    @display_size.setter
    def display_size(self, size) -> None:
        self.prep.display_size = size

    def work(self) -> None:
        if self.detector is None:
            # auto: on a CPU with native bf16 the backend switch may pick OpenVINO bf16 when its
            # boxes match TensorFlow's float32 ones (core/runtime/select.py); a live view gains most.
            self.detector = load_detector(self.model_path, precision="auto")
        self.prep.detector = self.detector
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

    def detect(self, item) -> PreviewResult:
        """Run the model on one frame (prepared by the grabber, or not yet) with the options in force now."""
        opts = self.options
        ready = item if isinstance(item, ReadyFrame) else self.prep(item)
        frame = ready.frame
        backend = getattr(self.detector, "backend", "")
        t0 = time.perf_counter()
        dets = self.detector.detect_prepared(ready.prepared, score_threshold=opts.score_threshold,
                                             iou_threshold=opts.iou_threshold,
                                             max_detections=opts.max_detections)
        infer_ms = (time.perf_counter() - t0) * 1000.0
        if opts.hidden_classes:
            dets = [d for d in dets if d.label not in opts.hidden_classes]
        return PreviewResult(ready.rgb, dets, frame.index, frame.name, frame.t_grabbed,
                             frame.grab_ms + ready.prep_ms, infer_ms, self.mailbox.dropped, opts,
                             ready.display, backend)


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
