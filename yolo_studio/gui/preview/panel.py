"""The preview panel: live detections on camera, video or image-folder frames.

Threads follow gui/workers.py: a grabber and a detector (gui/preview/pipeline.py);
this panel lives on the GUI thread, makes the QImages and paints. A source or
model that fails shows its message here and stops the preview, nothing else.
"""
from __future__ import annotations

import threading
import time

import cv2
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QGroupBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QPushButton, QVBoxLayout, QWidget)

from yolo_studio.core.checkpoint_files import checkpoint_files
from yolo_studio.core.defaults import DEFAULT_NMS_IOU, DEFAULT_SCORE_THRESHOLD
from yolo_studio.core.errors import YoloStudioError
from yolo_studio.core.prelabel import snapshot_boxes
from yolo_studio.core.sources import LatestFrame
from yolo_studio.gui.preview.message_area import MessageArea
from yolo_studio.gui.common.model_picker import ModelPicker
from yolo_studio.gui.preview.pipeline import DetectOptions, DetectWorker, FramePrep, GrabWorker
from yolo_studio.gui.common.sliders import ThresholdSlider
from yolo_studio.gui.preview.source_picker import SourcePicker
from yolo_studio.gui.preview.stats import PreviewStats
from yolo_studio.gui.colors import class_color as labeller_color
from yolo_studio.gui.preview.view import PreviewView
from yolo_studio.gui.settings import read_setting, write_settings
from yolo_studio.gui.common.backend_worker import BackendWorker, needs_switch
from yolo_studio.gui.workers import start_worker



class PreviewPanel(QWidget):
    """Pick a source and a model, start, and watch the detections."""

    def __init__(self, context, parent=None):
        super().__init__(parent)
        self.context = context
        self.view = PreviewView()
        self.stats = PreviewStats()
        self.last_result = None
        self.detector = None          # kept between runs: loading a model takes seconds
        self._detector_key = None
        self._grab = self._detect = None
        self._threads = []
        self._backend_thread = None     # converting the model for a faster backend
        self._stop = None
        self._user_stopped = False
        self._mailbox = None
        self._restart_after_stop = False
        self._source_desc = ""
        self._alive = set()
        self._active = False
        # Set while the panel is hidden (another tab): both threads idle, the video keeps its place.
        self._paused = threading.Event()
        self._model_switched = False   # the frame on screen came from the previous model
        self._build()
        self._wire()

    # ----- layout
    def _build(self) -> None:
        self.source_picker = SourcePicker()
        self.model_picker = ModelPicker(self.context)
        self.model_info = _wrap_label("")
        self.score_slider = ThresholdSlider("Score", DEFAULT_SCORE_THRESHOLD)
        self.iou_slider = ThresholdSlider("NMS IoU", DEFAULT_NMS_IOU)
        self.class_list = QListWidget()
        self.class_list.setToolTip("Untick a class to hide its detections")
        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        self.start_button.setObjectName("previewStart")   # names: for scripted walks
        self.snapshot_button = QPushButton("Snapshot to dataset  (S)")
        self.snapshot_button.setObjectName("previewSnapshot")
        self.snapshot_button.setToolTip("Save this frame into the project with the detections "
                                        "as unverified pre-labels")
        # Fixed height: a long message must never move Start/Stop or Snapshot under the cursor.
        self.message_area = MessageArea(lines=5)
        self.message_area.setObjectName("previewMessage")
        self.message_label = self.message_area.label
        side = QVBoxLayout()
        side.addWidget(_group("Source", self.source_picker))
        side.addWidget(_group("Model", self.model_picker, self.model_info))
        side.addWidget(_group("Detections", self.score_slider, self.iou_slider,
                              QLabel("Classes shown"), self.class_list), 1)
        side.addWidget(self.start_button)
        side.addWidget(self.snapshot_button)
        side.addWidget(self.message_area)
        column = QWidget()
        column.setLayout(side)
        column.setFixedWidth(290)
        layout = QHBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(column)

    def _wire(self) -> None:
        self.start_button.clicked.connect(self.toggle)
        self.snapshot_button.clicked.connect(self.snapshot)
        QShortcut(QKeySequence("S"), self, self.snapshot,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.score_slider.valueChanged.connect(self._push_options)
        self.iou_slider.valueChanged.connect(self._push_options)
        self.class_list.itemChanged.connect(self._push_options)
        self.model_picker.changed.connect(self._model_changed)
        self.source_picker.changed.connect(self._source_changed)
        self.view.color_for = self._color_for
        self.view.framePainted.connect(self._painted)
        self.view.displaySizeChanged.connect(self._display_size_changed)
        self.context.modelChosen.connect(self.use_model)
        self.context.projectChanged.connect(self._project_changed)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # ----- start / stop
    def is_running(self) -> bool:
        """True from Start until both threads have finished."""
        return any(t.isRunning() for t in self._threads)

    def toggle(self) -> None:
        if self._active:
            self.stop()
            # "Playing ..." would stay and read as if it still played.
            self._info("Stopped." if self.last_result is not None else "")
        else:
            self.start()

    def start(self) -> bool:
        """Start the preview with the chosen source and model; False with a message if not."""
        if self._active:
            return True
        self._wait_threads()
        try:
            source = self.source_picker.make_source()
            model_path = self.model_picker.resolve()
        except YoloStudioError as e:
            self._error(str(e))
            return False
        key = _file_key(model_path)
        detector = self.detector if key == self._detector_key else None
        self._detector_key = key
        self._user_stopped = False
        self._model_switched = False
        self._stop, self._mailbox, prep = threading.Event(), LatestFrame(), FramePrep()
        self._detect = DetectWorker(model_path, self._mailbox, self._stop, self._options(), detector,
                                    self._paused, prep)
        self._detect.display_size = self.view.display_size()
        self._grab = GrabWorker(source, self._mailbox, self._stop, self._paused, prep)
        self._connect_workers()
        self._alive = {self._detect}
        self.stats.reset()
        self._source_desc = ""
        # The grabber starts once the model is ready, so a video plays from its start.
        self._threads = [start_worker(self._detect, "preview-detect")]
        self._info(f"Loading {model_path.name}\u2026" if detector is None else "Starting\u2026")
        self._set_running_ui(True)
        return True

    def _connect_workers(self) -> None:
        # Bound methods of this panel: Qt queues the calls onto the GUI thread.
        self._detect.modelReady.connect(self._model_ready)
        self._detect.result.connect(self._show_result)
        self._detect.failed.connect(self._worker_failed)
        self._detect.finished.connect(self._worker_finished)
        self._grab.opened.connect(self._source_opened)
        self._grab.ended.connect(self._source_ended)
        self._grab.failed.connect(self._worker_failed)
        self._grab.finished.connect(self._worker_finished)

    def stop(self) -> None:
        """Ask both threads to stop; they finish after the frame in hand."""
        # Frames already queued to this thread are dropped: after Stop the
        # picture must not change (unlike a video's end, whose last frame shows).
        self._user_stopped = True
        if self._stop is not None:
            self._stop.set()
            self._mailbox.close()
        self._set_running_ui(False)

    def shutdown(self) -> None:
        """Stop and wait for the threads (the app is closing)."""
        self.stop()
        self._wait_threads()
        self.source_picker.wait()

    def may_close(self) -> bool:
        """The main window is closing: stop the preview and let it go (never refuses)."""
        self.shutdown()
        return True

    def _wait_threads(self, ms: int = 10000) -> None:
        # start_worker quits each thread when its worker finishes; quitting
        # here as well also ends a thread whose worker never started, since
        # quit() before the thread's loop starts is honoured.
        for t in self._threads:
            t.quit()
            t.wait(ms)

    def _set_running_ui(self, running: bool) -> None:
        # Active from Start until Stop, the source's end or a failure; the
        # threads may need a moment more to finish the frame in hand.
        self._active = running
        self.start_button.setText("Stop" if running else "Start")
        self.source_picker.setEnabled(not running)

    # ----- worker signals (GUI thread)
    def _current(self, worker) -> bool:
        return worker is not None and self.sender() is worker

    def _model_ready(self, detector) -> None:
        if not self._current(self._detect):
            return
        self.detector = detector
        if not self._stop.is_set():
            self._alive.add(self._grab)
            self._threads.append(start_worker(self._grab, "preview-grab"))
        names = list(getattr(detector, "class_names", []) or [])
        spec = getattr(detector, "spec", None)
        size = getattr(detector, "input_size", None)
        arch = getattr(spec, "model", "model")
        self.model_info.setText(f"{arch} at {size} px, {len(names)} classes")
        self._fill_classes(names)
        self._switch_backend(detector)

    def _switch_backend(self, detector) -> None:
        """Convert the model for a faster backend in a worker (once per detector; cached on disk)."""
        if not needs_switch(detector):
            return
        detector._backend_tried = True
        worker = BackendWorker(detector)
        worker.ready.connect(self._backend_ready)
        worker.message.connect(self._info)
        worker.failed.connect(self._backend_failed)
        # Not in self._threads: Stop must not wait for a conversion (app exit does).
        self._backend_thread = start_worker(worker, "preview-backend")

    def _backend_ready(self, name: str, reason: str) -> None:
        self._info(f"Inference backend: {reason}")

    def _backend_failed(self, message: str) -> None:
        self._info(f"Staying on TensorFlow: {message}")

    def _show_result(self, result) -> None:
        if not self._current(self._detect) or self._user_stopped:
            return
        self.last_result = result
        self.stats.frame(result.grab_ms, result.infer_ms, result.dropped, result.backend)
        self.view.show_result(result)

    def _painted(self, draw_ms: float, latency_ms: float) -> None:
        self.stats.painted(draw_ms, latency_ms)
        self.view.hud_lines = self.stats.summary_lines()  # shown on the next paint

    def _source_opened(self, description: str) -> None:
        if self._current(self._grab):
            self._source_desc = description
            self.view.set_message("")
            self._info(f"Playing {description}")

    def _source_ended(self, message: str) -> None:
        if self._current(self._grab):
            self._info(f"{message}. Press Start to play it again.")
            self.view.set_message(message)
            self._set_running_ui(False)

    def _worker_failed(self, message: str) -> None:
        if not (self._current(self._detect) or self._current(self._grab)):
            return
        self.stop()
        self._error(message)

    def _worker_finished(self) -> None:
        # Counted per worker: the thread itself may not have quit yet when this runs.
        self._alive.discard(self.sender())
        if self._alive or self.sender() not in (self._grab, self._detect):
            return
        if self._stop is not None:
            self._stop.set()
        self._set_running_ui(False)
        if self._restart_after_stop:
            self._restart_after_stop = False
            self.start()

    # ----- options, classes, model
    def _options(self) -> DetectOptions:
        hidden = frozenset(self.class_list.item(i).text() for i in range(self.class_list.count())
                           if self.class_list.item(i).checkState() != Qt.CheckState.Checked)
        return DetectOptions(self.score_slider.value(), self.iou_slider.value(), hidden)

    def _push_options(self, *_args) -> None:
        if self._detect is not None:
            self._detect.options = self._options()  # a whole new object: read once per frame

    def _color_for(self, detection):
        """The labeller's colour for the class, so a class looks the same in both rooms."""
        classes = list(getattr(self.context.project, "classes", []) or [])
        if detection.label not in classes:
            classes = list(getattr(self.detector, "class_names", []) or [])
        return labeller_color(detection.label, classes)

    def _display_size_changed(self, size) -> None:
        if self._detect is not None:
            self._detect.display_size = size

    def _fill_classes(self, names: list[str]) -> None:
        hidden = self._options().hidden_classes
        self.class_list.blockSignals(True)
        self.class_list.clear()
        for name in names:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked if name in hidden else Qt.CheckState.Checked)
            self.class_list.addItem(item)
        self.class_list.blockSignals(False)
        self._push_options()

    def set_class_visible(self, name: str, visible: bool) -> None:
        """Show or hide one class's detections from the next frame on."""
        for i in range(self.class_list.count()):
            item = self.class_list.item(i)
            if item.text() == name:
                item.setCheckState(Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked)

    def use_model(self, path) -> None:
        """Switch to the model at ``path`` (context.modelChosen); restarts a running preview."""
        self.model_picker.choose_file(path)  # a new choice restarts through _model_changed
        self.model_picker.remember(path)
        if self._active:  # the same file again: it may have been rewritten by training
            self._restart(path)

    def _model_changed(self) -> None:
        """The model picker changed: detections on screen must come from the model it shows."""
        data = self.model_picker.combo.currentData()
        if data and data[0] == "file":
            self.model_picker.remember(data[1])
        # The frame in hand was detected by the previous model: a snapshot must not
        # save its boxes as if the chosen model had found them.
        had_frame = self.view.image is not None
        self.last_result = None
        self._model_switched = self._model_switched or had_frame
        self.view.detections = []
        self.view.update()
        if self._active:
            self._restart(self.model_picker.combo.currentText())
        elif had_frame:
            self._info("Model changed: press Start to see its detections.")

    def _restart(self, what) -> None:
        name = getattr(what, "name", None) or str(what)
        self._restart_after_stop = True
        self.stop()
        self._info(f"Switching to {name}\u2026")

    def _source_changed(self) -> None:
        # A message about the previous source ("No camera to open") no longer applies.
        if not self._active:
            self._info("")
            self.view.set_message("")

    # ----- session (gui/settings.py)
    def save_session(self) -> None:
        """Remember the source, model and thresholds for the next start."""
        sp = self.source_picker
        kind, path = self.model_picker.combo.currentData() or ("best", None)
        write_settings({"preview/sourceKind": sp.current_kind(), "preview/videoPath": sp.video_path.text(),
                        "preview/folderPath": sp.folder_path.text(), "preview/loop": sp.loop.isChecked(),
                        "preview/modelKind": kind, "preview/modelPath": path or "",
                        "preview/score": self.score_slider.value(), "preview/iou": self.iou_slider.value()})

    def restore_session(self) -> None:
        """Put back what save_session kept (a model file that is gone is left out)."""
        sp = self.source_picker
        kind = read_setting("preview/sourceKind", "")
        if kind in ("camera", "video", "folder"):
            sp.set_kind(kind)
        sp.video_path.setText(read_setting("preview/videoPath", sp.video_path.text()))
        sp.folder_path.setText(read_setting("preview/folderPath", sp.folder_path.text()))
        sp.loop.setChecked(read_setting("preview/loop", sp.loop.isChecked()))
        self.model_picker.select(read_setting("preview/modelKind", ""),
                                 read_setting("preview/modelPath", "") or None)
        self.score_slider.setValue(read_setting("preview/score", self.score_slider.value()))
        self.iou_slider.setValue(read_setting("preview/iou", self.iou_slider.value()))
        self._info("")

    # ----- hidden tab: pause
    def showEvent(self, event) -> None:
        self._paused.clear()
        super().showEvent(event)

    def hideEvent(self, event) -> None:
        # Another tab is shown (or the window minimised): decoding and detecting
        # frames nobody sees only costs CPU, so both threads idle until shown again.
        self._paused.set()
        super().hideEvent(event)

    def is_paused(self) -> bool:
        """True while the panel is hidden and its threads idle."""
        return self._paused.is_set()

    def _project_changed(self, _project) -> None:
        if self._active:
            self.stop()
            self._info("Another project was opened: press Start to preview with it.")

    # ----- snapshot
    def snapshot(self):
        """Save the frame on screen into the project with its detections as pre-labels."""
        result, project = self.last_result, self.context.project
        if result is None:
            self._error("The frame on screen was detected by the previous model: press Start "
                        "to see the chosen model's detections, then save."
                        if self._model_switched else "Nothing to save yet: start the preview first.")
            return None
        if project is None:
            self._error("Open a project first: snapshots are saved into it.")
            return None
        try:
            path, n, skipped, new_classes = _save_snapshot(project, result)
        except (OSError, YoloStudioError) as e:
            self._error(f"Snapshot not saved: {e}")
            return None
        if new_classes:
            self.context.classesChanged.emit()
        self.context.imagesAdded.emit([path])
        self.context.labelsChanged.emit([path])
        text = f"Saved {path.name} with {n} pre-label{'s' if n != 1 else ''} to check"
        if skipped:
            text += f" (left out classes not in the project: {', '.join(skipped)})"
        self._info(text)
        self.context.statusMessage.emit(text)
        return path

    # ----- messages
    def _info(self, text: str) -> None:
        self.message_label.setProperty("kind", "info")
        self.message_area.set_text(text)

    def _error(self, text: str) -> None:
        self.message_label.setProperty("kind", "error")
        self.message_area.set_text(text, error=True)
        self.view.set_message(text)


def _save_snapshot(project, result):
    """Write the frame and its pre-labels: (path, boxes saved, labels left out, classes added)."""
    # A project without classes takes the model's (save_annotation adds them).
    boxes, skipped = snapshot_boxes(result.detections, list(project.classes))
    n_classes = len(project.classes)
    bgr = cv2.cvtColor(result.rgb, cv2.COLOR_RGB2BGR)
    hint = time.strftime("snapshot-%Y%m%d-%H%M%S") + f"-{result.index:05d}"
    path = project.add_image(bgr, hint, boxes=boxes, verified=False)
    return path, len(boxes), skipped, len(project.classes) > n_classes


def _file_key(path):
    """Path plus modification time, so a checkpoint rewritten by training is loaded again."""
    for candidate in (path, checkpoint_files(path)[0]):
        try:
            return (str(path), candidate.stat().st_mtime_ns)
        except OSError:
            continue
    return (str(path), None)


def _group(title: str, *widgets) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    for w in widgets:
        layout.addWidget(w)
    return box


def _wrap_label(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label
