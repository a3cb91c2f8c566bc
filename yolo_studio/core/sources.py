"""Frame sources for the preview: a camera, a video file or an image folder.

OpenCV only, no Qt. A source is opened, read frame by frame from one thread
(the preview's grabber), and closed. Reading raises :class:`SourceEnded` when
a video or folder is exhausted and :class:`SourceError` when the source fails
(a camera unplugged, a file that cannot be decoded); both carry a message a
user can act on.
"""
from __future__ import annotations

import contextlib
import glob
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from yolo_studio.core.errors import ImageFileError, YoloStudioError
from yolo_studio.core.images import IMAGE_EXTENSIONS, list_images, read_image

# A camera that misses this many reads in a row is treated as gone; a single
# missed read happens on USB hiccups and must not stop the preview.
CAMERA_MAX_MISSES = 5


class SourceError(YoloStudioError):
    """A source that cannot be opened or stopped working; names the camera or file."""


class SourceEnded(Exception):
    """A video or image folder has no more frames (not an error)."""


@dataclass
class Frame:
    """One grabbed frame: BGR pixels plus when and how long grabbing took."""

    image: np.ndarray
    index: int
    t_grabbed: float      # time.perf_counter() when the frame was in hand
    grab_ms: float        # time spent inside the source's read
    name: str = ""        # image file name for folders, else ''


@contextlib.contextmanager
def _quiet_opencv():
    """Silence OpenCV's own warnings while probing (a missing camera is expected)."""
    log = getattr(getattr(cv2, "utils", None), "logging", None)
    if log is None:
        yield
        return
    old = log.getLogLevel()
    log.setLogLevel(log.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        log.setLogLevel(old)


class FrameSource:
    """Base class: ``open()``, then ``read()`` until it raises, then ``close()``."""

    description = "source"
    # Seconds between frames when the source must be paced by the reader
    # (video files, folders); None when reads block on their own (cameras).
    interval: float | None = None

    def __init__(self) -> None:
        self._index = 0

    def open(self) -> None:
        """Acquire the device or file; raises SourceError naming it."""

    def close(self) -> None:
        """Release the device or file; safe to call twice."""

    def _read(self) -> tuple[np.ndarray, str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def grab(self) -> None:
        """Move to the next frame, decoding it only if the source cannot defer that.

        Raises SourceEnded at the end and SourceError on failure. Motion-JPEG
        files defer decoding to :meth:`retrieve`, so frames that would be
        dropped anyway cost only their read; OpenCV decodes other codecs'
        frames in ``grab()`` (each depends on the ones before it).
        """
        t0 = time.perf_counter()
        self._grab_next()
        t1 = time.perf_counter()
        self._grabbed_at, self._grab_ms = t1, (t1 - t0) * 1000.0
        self._index += 1

    def retrieve(self) -> Frame:
        """The frame last grabbed, decoded."""
        t0 = time.perf_counter()
        image, name = self._retrieve()
        ms = (time.perf_counter() - t0) * 1000.0
        return Frame(image, self._index - 1, self._grabbed_at, self._grab_ms + ms, name)

    def read(self) -> Frame:
        """The next frame; raises SourceEnded at the end, SourceError on failure."""
        self.grab()
        return self.retrieve()

    def at_last_frame(self) -> bool:
        """True when the frame grabbed is known to be the last one."""
        return False

    # Sources that cannot split reading from decoding do both when grabbing.
    def _grab_next(self) -> None:
        self._pending = self._read()

    def _retrieve(self) -> tuple[np.ndarray, str]:
        return self._pending

    def __enter__(self) -> "FrameSource":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class CameraSource(FrameSource):
    """A camera by OpenCV index."""

    def __init__(self, index: int, capture_factory=None):
        super().__init__()
        self.index = int(index)
        self.description = f"camera {self.index}"
        # Injected in tests: a camera cannot be unplugged on demand.
        self._factory = capture_factory or cv2.VideoCapture
        self._cap = None
        self._misses = 0

    def open(self) -> None:
        with _quiet_opencv():
            cap = self._factory(self.index)
        if cap is None or not cap.isOpened():
            raise SourceError(
                f"Camera {self.index} cannot be opened: no camera at that index, or it is "
                "in use by another program. Pick another camera or refresh the list.")
        self._cap = cap

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def _read(self) -> tuple[np.ndarray, str]:
        if self._cap is None:
            raise SourceError(f"Camera {self.index} is not open.")
        while True:
            ok, image = self._cap.read()
            if ok and image is not None and image.size:
                self._misses = 0
                return _as_bgr(image), ""
            self._misses += 1
            if self._misses >= CAMERA_MAX_MISSES:
                raise SourceError(
                    f"Camera {self.index} stopped delivering frames (unplugged or taken "
                    "by another program). Reconnect it and press Start.")


class VideoSource(FrameSource):
    """A video file, paced at its own frame rate when ``realtime`` (like a camera)."""

    def __init__(self, path, realtime: bool = True, loop: bool = False):
        super().__init__()
        self.path = Path(path)
        self.description = f"video {self.path.name}"
        self.realtime = realtime
        self.loop = loop
        self.fps = 0.0
        self._cap = None
        self._frames_read = 0
        self._frame_count = 0
        # Motion-JPEG read as packets (each one a JPEG) and decoded only when retrieved.
        self.raw_jpeg = False

    def open(self) -> None:
        if not self.path.is_file():
            raise SourceError(f"{self.path}: video file not found. Choose another file.")
        with _quiet_opencv():
            cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            raise SourceError(f"{self.path}: cannot be opened as a video "
                              "(not a video, or a codec OpenCV lacks).")
        fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        # Containers without a sane rate get 25 fps, the common default.
        self.fps = fps if 1.0 <= fps <= 240.0 else 25.0
        self.interval = 1.0 / self.fps if self.realtime else None
        self._frame_count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self._cap = _jpeg_packets(self.path, cap) or cap
        self.raw_jpeg = self._cap is not cap
        if self.raw_jpeg:
            cap.release()

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def at_last_frame(self) -> bool:
        # Containers that do not store a frame count report 0: then unknown.
        return not self.loop and 0 < self._frame_count <= self._frames_read

    def _grab_next(self) -> None:
        if self._cap is None:
            raise SourceError(f"{self.path}: video is not open.")
        if not self._cap.grab():
            if self._frames_read == 0:
                raise SourceError(f"{self.path}: has no frame OpenCV can decode.")
            if not self.loop:
                raise SourceEnded(f"End of {self.path.name}")
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            if not self._cap.grab():
                raise SourceEnded(f"End of {self.path.name}")
        self._frames_read += 1

    def _retrieve(self) -> tuple[np.ndarray, str]:
        ok, image = self._cap.retrieve()
        if ok and self.raw_jpeg:
            image = cv2.imdecode(image, cv2.IMREAD_COLOR) if image is not None else None
        if not ok or image is None:
            raise SourceError(f"{self.path}: frame {self._index - 1} cannot be decoded "
                              "(damaged file?).")
        return _as_bgr(image), ""


# Intra-only codecs whose packets are whole JPEG files (OpenCV names them by FOURCC).
_JPEG_FOURCCS = {"MJPG", "mjpg", "AVI1", "JPEG", "jpeg", "MJPA", "dmb1"}


def _fourcc(cap) -> str:
    code = int(cap.get(cv2.CAP_PROP_FOURCC) or 0)
    return "".join(chr((code >> 8 * i) & 0xFF) for i in range(4))


def _jpeg_packets(path: Path, cap):
    """A second capture of ``path`` that reads Motion-JPEG frames as undecoded packets, or None.

    OpenCV's FFmpeg reader decodes every frame in ``grab()``, so a video
    faster than the model cost a JPEG decode per frame dropped (240 fps:
    ~0.4 ms each, 90 ms of CPU a second). A Motion-JPEG frame is a JPEG file
    on its own, so packets can be skipped for free and the one shown decoded
    by ``cv2.imdecode``. Used only when that decode of the first frame gives
    FFmpeg's picture (chroma upsampling differs by about half a grey level);
    other codecs predict frames from earlier ones, so every frame is decoded.
    """
    if _fourcc(cap) not in _JPEG_FOURCCS or not hasattr(cv2, "CAP_PROP_FORMAT"):
        return None
    with _quiet_opencv():
        raw = cv2.VideoCapture(str(path))
    try:
        if raw.isOpened() and raw.set(cv2.CAP_PROP_FORMAT, -1):
            ok, expected = cap.read()
            got_packet, packet = raw.read()
            if ok and got_packet and packet is not None and packet.size:
                image = cv2.imdecode(packet.reshape(-1), cv2.IMREAD_COLOR)
                if image is not None and image.shape == _as_bgr(expected).shape and \
                        float(cv2.absdiff(image, _as_bgr(expected)).mean()) < 2.0 and \
                        raw.set(cv2.CAP_PROP_POS_FRAMES, 0):
                    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                    return raw
    except cv2.error:
        pass
    raw.release()
    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
    return None


class FolderSource(FrameSource):
    """The images of a folder in name order, one every ``interval`` seconds."""

    def __init__(self, path, interval: float = 0.5, loop: bool = False):
        super().__init__()
        self.path = Path(path)
        self.description = f"folder {self.path.name}"
        self.interval = interval
        self.loop = loop
        self.files: list[Path] = []
        self.skipped: list[Path] = []
        self.problems: dict[Path, str] = {}   # skipped file -> why (ImageFileError's words)
        self._pos = 0

    def open(self) -> None:
        if not self.path.is_dir():
            raise SourceError(f"{self.path}: image folder not found. Choose another folder.")
        self.files = list_images(self.path)
        if not self.files:
            raise SourceError(f"{self.path}: no images in this folder "
                              f"(looked for {', '.join(sorted(IMAGE_EXTENSIONS))}).")

    def at_last_frame(self) -> bool:
        return not self.loop and self._pos >= len(self.files)

    def _read(self) -> tuple[np.ndarray, str]:
        # Unreadable files are skipped (and listed), so one bad image does not
        # stop a folder; only a folder with nothing readable is an error.
        tried = 0
        while tried < len(self.files):
            if self._pos >= len(self.files):
                if not self.loop:
                    raise SourceEnded(f"End of folder {self.path.name}")
                self._pos = 0
            path = self.files[self._pos]
            self._pos += 1
            tried += 1
            try:
                return read_image(path), path.name
            except ImageFileError as e:
                if path not in self.skipped:
                    self.skipped.append(path)
                    self.problems[path] = str(e)
        first = next(iter(self.problems.values()), "")
        raise SourceError(f"{self.path}: none of its {len(self.files)} images can be read"
                          + (f" (for example {first})" if first else "") + ".")


def _as_bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


def _linux_has_no_video_devices() -> bool:
    return sys.platform.startswith("linux") and os.path.isdir("/dev") \
        and not glob.glob("/dev/video*")


def list_cameras(max_index: int = 6, capture_factory=None) -> list[int]:
    """Indices of the cameras OpenCV can open, probing 0..max_index-1."""
    if capture_factory is None and _linux_has_no_video_devices():
        return []  # probing each index would only print warnings
    factory = capture_factory or cv2.VideoCapture
    found = []
    with _quiet_opencv():
        for index in range(max_index):
            cap = factory(index)
            try:
                if cap is not None and cap.isOpened():
                    found.append(index)
            finally:
                if cap is not None:
                    cap.release()
    return found


def open_source(kind: str, value, loop: bool = False, realtime: bool = True,
                folder_interval: float = 0.5) -> FrameSource:
    """A source from the panel's picker: kind is 'camera', 'video' or 'folder'."""
    if kind == "camera":
        try:
            return CameraSource(int(value))
        except (TypeError, ValueError):
            raise SourceError(f"Camera index {value!r} is not a number.") from None
    if kind == "video":
        return VideoSource(value, realtime=realtime, loop=loop)
    if kind == "folder":
        return FolderSource(value, interval=folder_interval, loop=loop)
    raise SourceError(f"Unknown source kind {kind!r}: use camera, video or folder.")


class LatestFrame:
    """A one-slot mailbox between grabber and detector: the newest frame wins.

    ``put`` never blocks and replaces an unread frame (counted in ``dropped``),
    so when the model is slower than the camera, latency stays one frame
    instead of growing. ``take`` blocks until a frame newer than the last one
    taken arrives, or the box is closed (then returns None). A grabber that
    can defer decoding asks :meth:`wanted` and decodes only frames a reader
    waits for, or (:meth:`want_expected`) frames a reader will want before
    the next one arrives: decoded while the model still runs, such a frame is
    ready the moment the reader comes back, and it is still the newest.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._closed = False
        self._takers = 0
        self._last_take: float | None = None
        self._cycle: float | None = None   # smoothed seconds between a reader's takes
        self.put_count = 0
        self.dropped = 0

    def put(self, frame: Frame) -> None:
        """Offer ``frame``; an unread older one is dropped."""
        with self._cond:
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self.put_count += 1
            self._cond.notify_all()

    def take(self, timeout: float | None = None) -> Frame | None:
        """The newest unread frame; None once closed and empty, or on timeout."""
        with self._cond:
            self._takers += 1
            self._cond.notify_all()  # a grabber holding an undecoded frame decodes it now
            try:
                if not self._cond.wait_for(lambda: self._frame is not None or self._closed,
                                           timeout):
                    return None
                frame, self._frame = self._frame, None
                self._note_take(time.perf_counter())
                return frame
            finally:
                self._takers -= 1

    def _note_take(self, now: float) -> None:
        if self._last_take is not None:
            gap = now - self._last_take
            # A pause (hidden tab, slow first frame) is not the reader's pace.
            if self._cycle is None or gap < 4 * self._cycle:
                self._cycle = gap if self._cycle is None else 0.7 * self._cycle + 0.3 * gap
        self._last_take = now

    def want_expected(self, by: float) -> bool:
        """True when a reader waits now, or is expected back (its usual pace) before ``by``."""
        with self._cond:
            if self._takers > 0:
                return True
            return (self._cycle is not None and self._last_take is not None
                    and self._last_take + self._cycle <= by)

    def holds_recent(self, now: float) -> bool:
        """True when an unread frame waits that is less than half the reader's pace old.

        A grabber then keeps it rather than preparing a newer one: when the
        reader is a little late, the one waiting is still recent, and each
        replacement costs a decode and a letterbox of CPU the model needs.
        """
        with self._cond:
            frame = self._frame
            if frame is None or self._cycle is None:
                return False
            return now - frame.t_grabbed < 0.5 * self._cycle

    def wanted(self) -> bool:
        """True while a reader waits and no frame is ready for it."""
        with self._cond:
            return self._takers > 0 and self._frame is None

    def wait_wanted(self, timeout: float) -> bool:
        """Block until :meth:`wanted` (or closed, or ``timeout``); returns :meth:`wanted`."""
        with self._cond:
            self._cond.wait_for(lambda: self._closed or (self._takers > 0 and self._frame is None),
                                timeout)
            return self._takers > 0 and self._frame is None

    def skipped(self) -> None:
        """Count a frame the grabber dropped without decoding it."""
        with self._cond:
            self.dropped += 1

    def close(self) -> None:
        """No more frames will come; wakes a waiting ``take``."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed
