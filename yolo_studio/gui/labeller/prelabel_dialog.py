"""PrelabelDialog: run the current model over images and save its detections as pre-labels.

Work happens on a worker thread (gui/workers.py) with a progress bar and
Cancel; core/prelabel.py decides what is written (a person's boxes are never
touched). When it ends, ``context.labelsChanged(paths)`` tells the labeller
which label files changed.
"""
from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QDialogButtonBox, QFormLayout, QLabel, QPlainTextEdit,
                               QProgressBar, QVBoxLayout)

from yolo_studio.core.defaults import DEFAULT_NMS_IOU
from yolo_studio.core.errors import YoloStudioError
from yolo_studio.core.prelabel import PrelabelOutcome, prelabel_images
from yolo_studio.core.runtime import FOLDER_BATCH
from yolo_studio.gui.common.job_dialog import JobDialog
from yolo_studio.gui.common.backend_worker import BackendWorker, needs_switch
from yolo_studio.gui.common.model_picker import ModelPicker
from yolo_studio.gui.common.model_picker import load_detector
from yolo_studio.gui.common.sliders import ThresholdSlider
from yolo_studio.gui.workers import Worker, start_worker


class PrelabelWorker(Worker):
    """Loads the model, then pre-labels image after image until done or cancelled."""

    modelLoaded = Signal(str)
    detectorLoaded = Signal(object)  # the Detector, so the dialog can switch its backend
    progress = Signal(int, object)   # images done, PrelabelOutcome

    def __init__(self, project, model_path, images, score, iou, cancel: threading.Event):
        super().__init__()
        self.project, self.model_path, self.images = project, model_path, list(images)
        self.score, self.iou, self.cancel = score, iou, cancel
        # Also kept here (appends are atomic): a dialog closed mid-run reads
        # them after the thread ends, when queued signals can no longer reach it.
        self.outcomes: list[PrelabelOutcome] = []

    def work(self) -> None:
        detector = load_detector(self.model_path)
        self.modelLoaded.emit(self.model_path.name)
        self.detectorLoaded.emit(detector)
        done = 0
        for start in range(0, len(self.images), FOLDER_BATCH):    # one model call per batch
            if self.cancel.is_set():
                return
            chunk = self.images[start:start + FOLDER_BATCH]
            try:
                outcomes = list(prelabel_images(self.project, detector, chunk, self.score, self.iou))
            except Exception as e:  # one bad batch must not end the run
                outcomes = [PrelabelOutcome(Path(image), problem=f"{image}: {type(e).__name__}: {e}")
                            for image in chunk]
            for outcome in outcomes:
                done += 1
                self.outcomes.append(outcome)
                self.progress.emit(done, outcome)


class PrelabelDialog(JobDialog):
    """Pick the model and threshold, run, watch progress, cancel at any time."""

    cancelling_text = "Cancelling after the current batch of images\u2026"

    def __init__(self, context, image_paths=None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Pre-label with model")
        self.context = context
        self.images = self._images_to_do(image_paths)
        self.changed: list[Path] = []
        self.problems: list[str] = []
        self.added = 0
        self._reported = False
        self._classes_before = len(getattr(context.project, "classes", []) or [])
        self._build()

    def _images_to_do(self, image_paths) -> list[Path]:
        """The given images, or every image of the project that has no label file yet."""
        if image_paths:
            return [Path(p) for p in image_paths]
        project = self.context.project
        if project is None:
            return []
        return [p for p in project.image_paths() if not project.has_labels(p)]

    def _build(self) -> None:
        self.model_picker = ModelPicker(self.context)
        self.score_slider = ThresholdSlider("Score", 0.3)
        self.iou_slider = ThresholdSlider("NMS IoU", DEFAULT_NMS_IOU)
        form = QFormLayout()
        form.addRow("Model", self.model_picker)
        form.addRow(self.score_slider)
        form.addRow(self.iou_slider)
        self.summary = QLabel(self._intro())
        self.summary.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, max(1, len(self.images)))
        self.progress.setValue(0)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(500)
        self.log.setPlaceholderText("Problems, if any, are listed here.")
        self.buttons = QDialogButtonBox()
        self.run_button = self.buttons.addButton("Pre-label", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.run_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.run_button.setEnabled(bool(self.images) and self.context.project is not None)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.progress)
        layout.addWidget(self.log, 1)
        layout.addWidget(self.buttons)
        self.resize(520, 360)

    def _intro(self) -> str:
        if self.context.project is None:
            return "Open a project first."
        if not self.images:
            return "Every image already has labels: select the images to pre-label in the list."
        return (f"{len(self.images)} image{'s' if len(self.images) != 1 else ''} will get the "
                "model's detections as unverified boxes. Boxes you drew are never changed.")

    def start(self) -> bool:
        """Load the model and pre-label every image on a worker thread."""
        if self.is_running() or not self.images or self.context.project is None:
            return False
        try:
            model_path = self.model_picker.resolve()
        except YoloStudioError as e:
            self._problem(str(e))
            return False
        self.model_picker.remember(model_path)
        self._cancel.clear()
        self._reported = False
        worker = PrelabelWorker(self.context.project, model_path, self.images,
                                self.score_slider.value(), self.iou_slider.value(), self._cancel)
        worker.modelLoaded.connect(self._model_loaded)
        worker.detectorLoaded.connect(self._switch_backend)
        worker.progress.connect(self._progress)
        worker.failed.connect(self._failed)
        self._run(worker, "prelabel", f"Loading {model_path.name}\u2026")
        return True

    def _switch_backend(self, detector) -> None:
        """Convert for a faster backend in its own worker; the batches switch when it is ready."""
        if not needs_switch(detector):
            return
        detector._backend_tried = True
        self._backend_thread = start_worker(BackendWorker(detector), "prelabel-backend")

    def _model_loaded(self, name: str) -> None:
        self.summary.setText(f"Pre-labelling with {name}\u2026")

    def _progress(self, done: int, outcome) -> None:
        self.progress.setValue(done)
        if outcome.problem:
            self._problem(outcome.problem)

    def _failed(self, message: str) -> None:
        self._problem(message)

    def _problem(self, message: str) -> None:
        self.problems.append(message)
        self.log.appendPlainText(message)

    def _finished(self) -> None:
        if self._reported:
            return
        self._reported = True
        cancelled = self._cancel.is_set()
        done = [o for o in self._worker.outcomes if o.changed]
        self.changed = [o.image for o in done]
        self.added = sum(o.added for o in done)
        if self.changed:
            if len(self.context.project.classes) > self._classes_before:
                self.context.classesChanged.emit()
            self.context.labelsChanged.emit(list(self.changed))
        text = (f"{'Cancelled: ' if cancelled else 'Done: '}{self.added} pre-label"
                f"{'s' if self.added != 1 else ''} written to {len(self.changed)} image"
                f"{'s' if len(self.changed) != 1 else ''}")
        left_out = left_out_classes(self._worker.outcomes)
        if left_out:
            # As the preview's snapshot does: a class the project lacks (renamed, or
            # never added) must not look like a model that found nothing.
            names = ", ".join(f"{name} ({n} image{'s' if n != 1 else ''})"
                              for name, n in left_out.items())
            text += f"; left out classes not in the project: {names}"
            self.log.appendPlainText(
                f"Detections of classes this project does not have were not saved: {names}. "
                "Add the class (Classes > +) or rename yours to the model's name, then run again.")
        if self.problems:
            text += f"; {len(self.problems)} problem{'s' if len(self.problems) != 1 else ''} below"
        self.summary.setText(text + ".")
        self.context.statusMessage.emit(text)
        self.cancel_button.setText("Close")
        self.run_button.setEnabled(False)


def left_out_classes(outcomes) -> dict[str, int]:
    """Each class the model found but the project lacks, with the number of images it was in."""
    counts: dict[str, int] = {}
    for outcome in outcomes:
        for name in outcome.unknown_classes:
            counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))
