"""SuggestDialog: let the model pick the unlabelled images it would learn most from.

The scoring (core/active) runs on a worker thread (gui/workers.py) with a
progress bar and Cancel, which stops within one batch. The dialog can then
pre-label the first suggestions (core/prelabel.py, so a person's boxes are
never touched) so the person corrects boxes instead of drawing them. When it
ends, ``suggested(order)`` carries the images, most useful first.
"""
from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QDialogButtonBox, QFormLayout, QLabel,
                               QProgressBar, QSpinBox, QVBoxLayout)

from yolo_studio.core.defaults import DEFAULT_NMS_IOU, DEFAULT_SCORE_THRESHOLD
from yolo_studio.core.errors import YoloStudioError
from yolo_studio.gui.common.job_dialog import JobDialog
from yolo_studio.gui.common.model_picker import ModelPicker
from yolo_studio.gui.settings import read_setting, write_settings
from yolo_studio.gui.workers import Worker

COUNT_KEY = "labeller/suggestCount"
PRELABEL_KEY = "labeller/suggestPrelabel"
RETRAIN_AFTER_KEY = "labeller/retrainAfterLabels"
DEFAULT_RETRAIN_AFTER = 20


class SuggestWorker(Worker):
    """Scores the project's unlabelled images, then pre-labels the first ``n`` suggestions."""

    progress = Signal(str, int, int)      # phase, done, total
    result = Signal(object)               # core.active.suggest.SuggestResult

    def __init__(self, project, weights: Path, n: int, prelabel: bool, cancel: threading.Event):
        super().__init__()
        self.project, self.weights, self.n, self.prelabel, self.cancel = project, weights, n, prelabel, cancel
        self.prelabelled: list[Path] = []

    def work(self) -> None:
        from yolo_studio.core.active.suggest import suggest

        res = suggest(self.project, self.weights, n=self.n, cancel=self.cancel,
                      progress=lambda d, t: self.progress.emit("Scoring", d, t))
        if self.prelabel and res.order and not self.cancel.is_set():
            self._prelabel([s.image for s in res.order[:self.n]], res)
        self.result.emit(res)

    def _prelabel(self, images, res) -> None:
        from yolo_studio.core.prelabel import prelabel_image
        from yolo_studio.gui.common.model_picker import load_detector

        detector = load_detector(self.weights)
        for i, image in enumerate(images):
            if self.cancel.is_set():
                return
            outcome = prelabel_image(self.project, detector, image, DEFAULT_SCORE_THRESHOLD, DEFAULT_NMS_IOU)
            if outcome.problem:
                res.notes.append(outcome.problem)
            elif outcome.changed:
                self.prelabelled.append(outcome.image)
            self.progress.emit("Pre-labelling", i + 1, len(images))


class SuggestDialog(JobDialog):
    """Model, how many, pre-label or not, when to offer a retrain; then run with progress and Cancel."""

    cancelling_text = "Cancelling after the current batch\u2026"
    suggested = Signal(list)     # [Path] most useful first
    labelsWritten = Signal(list)  # images that got pre-labels

    def __init__(self, context, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Suggest what to label next")
        self.context = context
        self._done = False
        self.model_picker = ModelPicker(context)
        if not getattr(context, "model_path", None):
            self.model_picker.combo.setCurrentIndex(1)     # 'last': what a retrain continues from
        self.count = QSpinBox()
        self.count.setRange(1, 100000)
        self.count.setValue(read_setting(COUNT_KEY, 50))
        self.prelabel = QCheckBox("Pre-label the suggestions (dashed boxes to correct)")
        self.prelabel.setChecked(read_setting(PRELABEL_KEY, True))
        self.retrain_after = QSpinBox()
        self.retrain_after.setRange(0, 100000)
        self.retrain_after.setSpecialValueText("never")
        self.retrain_after.setValue(read_setting(RETRAIN_AFTER_KEY, DEFAULT_RETRAIN_AFTER))
        self.retrain_after.setToolTip("After this many newly labelled images, offer to retrain "
                                      "from the last weights in the Train tab")
        form = QFormLayout()
        form.addRow("Model", self.model_picker)
        form.addRow("Suggest", self.count)
        form.addRow(self.prelabel)
        form.addRow("Offer to retrain after", self.retrain_after)
        self.summary = QLabel("The model scores every unlabelled image (how unsure it is, how much "
                              "its answer changes when the image is mirrored or scaled) and picks "
                              "a varied set. Scores are kept per model, so a second look is quick.")
        self.summary.setWordWrap(True)
        self.bar = QProgressBar()
        self.buttons = QDialogButtonBox()
        self.run_button = self.buttons.addButton("Suggest", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.run_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.bar)
        layout.addWidget(self.buttons)
        self.resize(520, 260)

    def settings(self) -> dict:
        """The dialog's choices, as stored."""
        return {COUNT_KEY: self.count.value(), PRELABEL_KEY: self.prelabel.isChecked(),
                RETRAIN_AFTER_KEY: self.retrain_after.value()}

    def start(self) -> bool:
        """Score (and pre-label) on a worker thread."""
        if self.is_running() or self.context.project is None:
            return False
        try:
            weights = self.model_picker.resolve()
        except YoloStudioError as e:
            self.summary.setText(str(e))
            return False
        write_settings(self.settings())
        self._cancel.clear()
        worker = SuggestWorker(self.context.project, weights, self.count.value(),
                               self.prelabel.isChecked(), self._cancel)
        worker.progress.connect(self._progress)
        worker.result.connect(self._result)
        worker.failed.connect(self.summary.setText)
        self._run(worker, "suggest", f"Loading {weights.name}\u2026")
        return True

    def _progress(self, phase: str, done: int, total: int) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        self.summary.setText(f"{phase} {done:,} of {total:,} images\u2026")

    def _result(self, res) -> None:
        order = [s.image for s in res.order]
        text = (f"{len(order):,} unlabelled images ordered ({res.scored_now:,} scored now, "
                f"{res.from_cache:,} from the cache)")
        if res.cancelled:
            text = "Cancelled: " + text + ", only those scored before Cancel"
        if res.problems:
            text += f"; {len(res.problems)} problem(s), e.g. {res.problems[0]}"
        if res.notes:   # the pool's kind, a cache not written, a pre-label that failed
            text += "; " + "; ".join(map(str, res.notes[:2])) + (" ..." if len(res.notes) > 2 else "")
        self.summary.setText(text + ".")
        self.context.statusMessage.emit(text)
        if order:
            self.suggested.emit(order)

    def _finished(self) -> None:
        if self._done or self._worker is None:
            return
        self._done = True
        if self._worker.prelabelled:
            self.labelsWritten.emit(list(self._worker.prelabelled))
        self.cancel_button.setText("Close")
