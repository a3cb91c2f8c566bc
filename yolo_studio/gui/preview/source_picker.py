"""The preview's source picker: a camera (probed in the background), a video file or an image folder."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QLineEdit,
                               QPushButton, QStackedWidget, QVBoxLayout, QWidget)

from yolo_studio.core import sources
from yolo_studio.gui.workers import Worker, start_worker

VIDEO_FILTER = "Videos (*.avi *.mp4 *.mkv *.mov *.webm *.mpg *.m4v);;All files (*)"
KINDS = (("camera", "Camera"), ("video", "Video file"), ("folder", "Image folder"))


class CameraProbe(Worker):
    """Lists the cameras OpenCV can open, off the GUI thread (opening one can take seconds)."""

    found = Signal(list)

    def work(self) -> None:
        self.found.emit(sources.list_cameras())


class SourcePicker(QWidget):
    """Kind combo plus the matching camera list or path field."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.kind = QComboBox()
        for key, text in KINDS:
            self.kind.addItem(text, key)
        self.cameras = QComboBox()
        self.cameras.setToolTip("Cameras OpenCV can open")
        self.refresh = QPushButton("Refresh")
        self.video_path = QLineEdit()
        self.video_path.setPlaceholderText("video file")
        self.video_path.setObjectName("videoPath")   # names: for scripted walks (widget_dump)
        self.kind.setObjectName("sourceKind")
        self.folder_path = QLineEdit()
        self.folder_path.setPlaceholderText("image folder")
        self.folder_path.setObjectName("folderPath")
        self.loop = QCheckBox("Loop")
        self.loop.setObjectName("loop")
        self.loop.setToolTip("Start the video or folder again when it ends")
        self.stack = QStackedWidget()
        self.stack.addWidget(_row(self.cameras, self.refresh))
        self.stack.addWidget(_row(self.video_path, self._browse_button(self._browse_video)))
        self.stack.addWidget(_row(self.folder_path, self._browse_button(self._browse_folder)))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.kind)
        layout.addWidget(self.stack)
        layout.addWidget(self.loop)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.refresh.clicked.connect(self.probe_cameras)
        self._probe_thread = None
        self._kind_changed()
        self.probe_cameras()

    def _browse_button(self, slot) -> QPushButton:
        button = QPushButton("Browse\u2026")
        button.clicked.connect(slot)
        return button

    def _kind_changed(self) -> None:
        self.stack.setCurrentIndex(self.kind.currentIndex())
        self.loop.setVisible(self.current_kind() != "camera")
        self.changed.emit()

    def current_kind(self) -> str:
        return self.kind.currentData()

    def set_kind(self, kind: str) -> None:
        self.kind.setCurrentIndex([k for k, _ in KINDS].index(kind))

    def probe_cameras(self) -> None:
        """List cameras again, in the background."""
        if self._probe_thread is not None and self._probe_thread.isRunning():
            return
        self.cameras.clear()
        self.cameras.addItem("Looking for cameras\u2026", None)
        self.refresh.setEnabled(False)
        probe = CameraProbe()
        probe.found.connect(self._cameras_found)
        probe.failed.connect(self._probe_failed)
        probe.finished.connect(self._probe_finished)
        self._probe_thread = start_worker(probe, "camera-probe")

    def _cameras_found(self, indices: list) -> None:
        self.cameras.clear()
        for i in indices:
            self.cameras.addItem(f"Camera {i}", i)
        if not indices:
            self.cameras.addItem("No camera found", None)

    def _probe_failed(self, message: str) -> None:
        self.cameras.clear()
        self.cameras.addItem(f"Camera probe failed: {message}", None)

    def _probe_finished(self) -> None:
        self.refresh.setEnabled(True)

    def _browse_video(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a video", self.video_path.text(),
                                              VIDEO_FILTER)
        if path:
            self.video_path.setText(path)

    def _browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose an image folder",
                                                self.folder_path.text())
        if path:
            self.folder_path.setText(path)

    def make_source(self) -> sources.FrameSource:
        """The chosen source, not yet opened; SourceError when nothing usable is chosen."""
        kind = self.current_kind()
        if kind == "camera":
            index = self.cameras.currentData()
            if index is None:
                raise sources.SourceError("No camera to open: connect one and press Refresh, "
                                          "or pick a video file or image folder.")
            return sources.open_source("camera", index)
        field = self.video_path if kind == "video" else self.folder_path
        text = field.text().strip()
        if not text:
            what = "a video file" if kind == "video" else "an image folder"
            raise sources.SourceError(f"Choose {what} first (Browse\u2026).")
        return sources.open_source(kind, text, loop=self.loop.isChecked())

    def wait(self, ms: int = 3000) -> None:
        """Wait for a running camera probe (at shutdown)."""
        if self._probe_thread is not None:
            self._probe_thread.wait(ms)


def _row(*widgets) -> QWidget:
    w = QWidget()
    layout = QHBoxLayout(w)
    layout.setContentsMargins(0, 0, 0, 0)
    for i, widget in enumerate(widgets):
        layout.addWidget(widget, 1 if i == 0 else 0)
    return w
