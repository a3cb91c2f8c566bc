"""The Anchors panel: scatter of box sizes, fitted anchors and their fit metrics.

Loading the labels and fitting both run on a worker thread (``AnchorsJob``);
the panel only draws results. A job that finishes after the project changed
is ignored (each job carries a generation number).
"""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QProgressBar, QPushButton, QScrollArea, QSpinBox, QSplitter,
                               QVBoxLayout, QWidget)

from yolo_studio.core import anchors as A
from yolo_studio.core.model_family import MODEL_NAMES, check_input_size, family
from yolo_studio.core.errors import YoloStudioError
from yolo_studio.core.training.events import TrainConfig
from yolo_studio.core.anchor_fit import FitRequest
from yolo_studio.gui.anchors.job import AnchorsJob
from yolo_studio.gui.anchors.plot import SizePlot
from yolo_studio.gui.anchors.tables import AnchorsTable, MetricsTable
from yolo_studio.gui.anchors.thumbnail import box_thumbnail
from yolo_studio.gui.workers import start_worker

MAX_PROBLEMS_IN_TIP = 15


class AnchorsPanel(QWidget):
    """Fit anchors to the project's boxes and show how well they fit."""

    def __init__(self, context, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.result = None              # AnchorsResult on screen
        self._labels = None             # LoadedLabels cached between runs (None = read again)
        self._job = self._thread = None
        self._threads: list = []        # every thread started, to wait for at close
        self._busy = False
        self._generation = 0
        self._selected: int | None = None
        self._build()
        self._wire()
        self._project_changed(context.project)

    # ----- layout -------------------------------------------------------------------------
    def _build(self) -> None:
        self.plot = SizePlot()
        self.box_label = QLabel("Click a point to see which image and box it is.")
        self.box_label.setObjectName("hint")
        self.box_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.show_button = QPushButton("Show in labeller")
        self.show_button.setToolTip("Open this image in the Label tab (or double-click the point)")
        self.show_button.setEnabled(False)
        # The clicked box in its image: the text alone did not say what the box shows.
        self.thumb = QLabel()
        self.thumb.setObjectName("boxThumbnail")
        self.thumb.setFixedSize(180, 135)
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumb.setToolTip("The clicked box in its image; double-click the point to edit it")
        # Always there (blank until a click): appearing, it would shrink the plot and
        # move the point under the cursor between the two clicks of a double-click.
        self.thumb.setStyleSheet("QLabel#boxThumbnail { background: rgba(0, 0, 0, 12); }")
        self.log_check = QCheckBox("Log axes")
        self.log_check.setToolTip("Spread out small boxes (log10 scale on both axes)")
        under = QHBoxLayout()
        under.addWidget(self.thumb)
        under.addWidget(self.box_label, 1)
        under.addWidget(self.log_check)
        under.addWidget(self.show_button)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(4, 4, 4, 4)
        right_layout.addWidget(self.plot, 1)
        right_layout.addLayout(under)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self._build_side())
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([330, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

    def _build_side(self) -> QWidget:
        self.model_box = QComboBox()
        self.model_box.addItems(MODEL_NAMES)
        self.k_spin = QSpinBox()
        self.k_spin.setRange(1, 30)
        self.k_spin.setToolTip("Number of anchors: 9 for yolov3 (3 per scale), 6 for yolov3-tiny")
        self.size_spin = QSpinBox()
        self.size_spin.setRange(64, 1280)
        self.size_spin.setSingleStep(32)
        self.size_spin.setSuffix(" px")
        self.size_spin.setToolTip("Network input size the boxes are letterboxed to (a multiple of 32)")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2 ** 31 - 1)
        self.genetic_check = QCheckBox("Genetic refinement")
        self.genetic_check.setChecked(True)
        self.genetic_check.setToolTip("After k-means, mutate the anchors and keep changes that raise the mean IoU")
        form = QFormLayout()
        form.addRow("Model", self.model_box)
        form.addRow("Anchors (k)", self.k_spin)
        form.addRow("Input size", self.size_spin)
        form.addRow("Seed", self.seed_spin)
        form.addRow("", self.genetic_check)
        self.run_button = QPushButton("Run")
        self.run_button.setDefault(True)
        self.run_button.setToolTip("Fit anchors to every labelled box (IoU k-means)")
        self.cancel_button = QPushButton("Cancel")
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setObjectName("hint")
        fit_group = QGroupBox("Fit anchors")
        fit_layout = QVBoxLayout(fit_group)
        fit_layout.addLayout(form)
        fit_layout.addLayout(buttons)
        fit_layout.addWidget(self.progress)
        fit_layout.addWidget(self.status)

        self.metrics_table = MetricsTable()
        metrics_group = QGroupBox("How well the anchors fit")
        QVBoxLayout(metrics_group).addWidget(self.metrics_table)
        self.anchors_table = AnchorsTable()
        anchors_group = QGroupBox("Anchors (w × h, network px)")
        QVBoxLayout(anchors_group).addWidget(self.anchors_table)
        self.apply_button = QPushButton("Apply to project")
        self.apply_button.setToolTip("Save the fitted anchors in the project; training uses them")
        self.apply_button.setEnabled(False)

        side = QWidget()
        side_layout = QVBoxLayout(side)
        for w in (fit_group, metrics_group, anchors_group):
            side_layout.addWidget(w)
        side_layout.addWidget(self.apply_button)
        side_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(side)
        scroll.setMinimumWidth(320)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        return scroll

    def _wire(self) -> None:
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.apply_button.clicked.connect(self.apply)
        self.show_button.clicked.connect(self.show_selected_in_labeller)
        self.model_box.currentTextChanged.connect(self._model_changed)
        self.log_check.toggled.connect(self.plot.set_log)
        self.plot.describe = self._describe
        self.plot.pointClicked.connect(self._point_clicked)
        self.plot.pointActivated.connect(self._point_activated)
        self.context.projectChanged.connect(self._project_changed)
        self.context.labelsChanged.connect(self._labels_changed)
        self.context.imagesAdded.connect(self._labels_changed)
        self.context.classesChanged.connect(lambda: self._labels_changed([]))

    # ----- actions ------------------------------------------------------------------------
    def run(self) -> None:
        """Fit anchors with the current settings on a worker thread."""
        self._start(fit=True)

    def load(self) -> None:
        """Read the boxes and measure the project's and COCO's anchors, without fitting."""
        self._start(fit=False)

    def cancel(self) -> None:
        """Ask the running job to stop (it checks between k-means iterations)."""
        if self._job is not None:
            self._job.stop.set()
            self.status.setText("Cancelling…")

    def apply(self) -> None:
        """Write the fitted anchors into the project file."""
        project, result = self.context.project, self.result
        if project is None or result is None or A.FITTED not in result.sets:
            return
        req = result.request
        try:
            groups = A.apply_to_project(project, result.sets[A.FITTED], req.model, req.input_size)
        except (YoloStudioError, OSError) as e:
            self._error(f"Could not apply the anchors: {e}")
            return
        result.sets[A.CURRENT] = A.flatten_anchors(project.model_anchors(req.model, req.input_size))
        result.sets = {n: result.sets[n] for n in (A.FITTED, A.CURRENT, A.DEFAULTS) if n in result.sets}
        result.metrics = {n: A.fit_metrics(result.wh, a) for n, a in result.sets.items()}
        self._show(result)
        n = sum(len(g) for g in groups)
        self.context.statusMessage.emit(
            f"{n} anchors fitted at {req.input_size} px saved to {project.project_file.name}; "
            f"training uses them from the next run")

    def show_selected_in_labeller(self) -> None:
        """Jump the labeller to the image of the selected box, with that box selected."""
        if self._selected is not None and self.result is not None:
            path, box_index = self.result.refs[self._selected]
            self.context.showBoxRequested.emit(str(path), int(box_index))

    def is_running(self) -> bool:
        """True while a job for the open project is loading or fitting."""
        return self._busy

    def may_close(self) -> bool:
        """Stop a running job and let its thread end (the window is closing)."""
        self.cancel()
        self.wait_for_worker()
        return True

    def wait_for_worker(self, timeout_s: float = 30.0) -> bool:
        """Process events until the job's thread has ended (its quit arrives as an event)."""
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            while thread.isRunning():
                if time.monotonic() > deadline:
                    return False
                QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
                thread.wait(20)
        self._threads = [t for t in self._threads if t.isRunning()]
        return True

    # ----- the job ------------------------------------------------------------------------
    def _request(self, fit: bool) -> FitRequest:
        old = self.result
        if not fit and old is not None and A.FITTED in old.sets:
            # Re-reading to check a fit on screen: read at the fit's own settings.
            return replace(old.request, fit=False)
        return FitRequest(model=self.model_box.currentText(), input_size=self.size_spin.value(),
                          k=self.k_spin.value(), seed=self.seed_spin.value(),
                          genetic=self.genetic_check.isChecked(), fit=fit)

    def _start(self, fit: bool) -> None:
        project = self.context.project
        if project is None:
            self._error("Open a project first.")
            return
        if self.is_running():
            return
        try:
            check_input_size(self.size_spin.value())
        except YoloStudioError as e:
            self._error(f"Input size: {e}")
            return
        self._generation += 1
        job = AnchorsJob(project, self._request(fit), self._labels, self._generation)
        job.progressed.connect(self._progressed)
        job.done.connect(self._done)
        job.error.connect(self._failed)
        job.cancelled.connect(self._cancelled)
        self._job = job
        self.progress.setValue(0)
        self.status.setText("Fitting anchors…" if fit else "Reading labels…")
        self.status.setStyleSheet("")
        self._set_busy(True)
        self._threads = [t for t in self._threads if t.isRunning()]
        self._thread = start_worker(job, "anchors")
        self._threads.append(self._thread)

    def _progressed(self, fraction: float, generation: int) -> None:
        if generation == self._generation:
            self.progress.setValue(int(round(100 * fraction)))

    def _done(self, result, generation: int) -> None:
        if generation != self._generation:
            return
        self._end_job()
        self._labels = result.labels
        old = self.result
        if not result.request.fit and old is not None and A.FITTED in old.sets:
            # A re-read after the user came back: keep the fit on screen, say if it is out of date.
            self._status_for(old)
            if not _same_boxes(old, result):
                self._mark_stale()
            return
        self._show(result)
        self.progress.setValue(100)
        self._status_for(result)

    def _failed(self, message: str, generation: int) -> None:
        if generation == self._generation:
            self._end_job()
            self._error(message)

    def _cancelled(self, generation: int) -> None:
        if generation == self._generation:
            self._end_job()
            self.status.setText("Cancelled; the previous result is still shown.")
            self.progress.setValue(0)

    def _end_job(self) -> None:
        self._job = None
        self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.run_button.setEnabled(not busy and self.context.project is not None)
        self.cancel_button.setEnabled(busy)
        self._update_apply()

    # ----- showing results ----------------------------------------------------------------
    def _show(self, result) -> None:
        self.result = result
        self._select(None)
        if len(result.wh) == 0:
            self.plot.clear_data()
        else:
            self.plot.show_result(result)
        self.metrics_table.show_metrics(result.metrics)
        self.anchors_table.show_sets(result.sets, list(family(result.request.model).strides))
        self._update_apply()

    def _status_for(self, result) -> None:
        n, images = len(result.wh), result.images_with_boxes
        problems = result.labels.problems + result.skipped
        if n == 0:
            text = "No labelled boxes yet: label some images in the Label tab, then Run."
        else:
            text = f"{n} boxes in {images} images at {result.request.input_size} px."
            if A.FITTED not in result.sets:
                text += " Press Run to fit anchors to them."
            elif len(result.sets[A.FITTED]) != family(result.request.model).n_anchors:
                text += (f" {result.request.model} needs k = {family(result.request.model).n_anchors}"
                         f" to apply these anchors.")
        if problems:
            text += f" {len(problems)} problem(s) reading labels (hover for the list)."
        self.status.setText(text)
        self.status.setToolTip("\n".join(str(p) for p in problems[:MAX_PROBLEMS_IN_TIP]))

    def _update_apply(self) -> None:
        r = self.result
        ok = (r is not None and not self.is_running() and A.FITTED in r.sets
              and len(r.sets[A.FITTED]) == family(r.request.model).n_anchors)
        self.apply_button.setEnabled(ok)

    def _error(self, message: str) -> None:
        self.status.setText(message)
        self.status.setStyleSheet("color: #b3261e;")
        self.progress.setValue(0)

    # ----- clicks on points -----------------------------------------------------------------
    def select_box(self, index: int | None) -> None:
        """Show box ``index`` of the result (ringed, with its image and size under the plot)."""
        self._select(index)

    def _point_clicked(self, index: int) -> None:
        self._select(index)

    def _point_activated(self, index: int) -> None:
        self._select(index)
        self.show_selected_in_labeller()

    def _describe(self, index: int) -> str:
        r = self.result
        if r is None or index >= len(r.refs):
            return ""
        path, box_index = r.refs[index]
        w, h = r.wh[index]
        return f"{Path(path).name}, box {box_index + 1} ({r.classes[index]}): {w:.0f}×{h:.0f} px"

    def _select(self, index: int | None) -> None:
        self._selected = index
        self.plot.select(index)
        self.show_button.setEnabled(index is not None)
        if index is None or self.result is None:
            self.box_label.setText("Click a point to see which image and box it is.")
            self.thumb.setPixmap(QPixmap())
            return
        self._show_thumbnail(*self.result.refs[index])
        r = self.result
        path, box_index = r.refs[index]
        w, h = r.wh[index]
        text = (f"<b>{Path(path).name}</b> — box {box_index + 1} ({r.classes[index]}), "
                f"{w:.0f}×{h:.0f} px at {r.request.input_size}")
        if r.clusters is not None and r.sets:
            anchor = r.sets[r.main_set][r.clusters[index]]
            iou = A.mean_best_iou([(w, h)], [anchor])
            text += f"; best anchor {anchor[0]:g}×{anchor[1]:g}, IoU {iou:.2f}"
        self.box_label.setText(text)
        self.box_label.setToolTip(str(path))

    def _show_thumbnail(self, path, box_index: int) -> None:
        pixmap = None
        project = self.context.project
        try:
            box = project.load_annotation(path).boxes[box_index] if project is not None else None
        except (YoloStudioError, OSError, IndexError):
            box = None  # changed since the fit: the text still names it
        if box is not None:
            pixmap = box_thumbnail(path, box.xyxy())
        self.thumb.setPixmap(pixmap or QPixmap())
        self.thumb.setText("" if pixmap else "(cannot be shown)")

    # ----- context signals ----------------------------------------------------------------
    def _project_changed(self, project) -> None:
        if self._job is not None:
            self._job.stop.set()
        self._generation += 1        # results of a job still running are for the old project
        self._job = self._thread = None
        self._labels = None
        self.result = None
        self._select(None)
        self.plot.clear_data()
        self.metrics_table.show_metrics({})
        self.anchors_table.show_sets({}, [])
        self._set_defaults(project)
        self._set_busy(False)
        self.status.setStyleSheet("")
        self.status.setText("Open a project to fit anchors." if project is None else
                            "Press Run to fit anchors to this project's boxes.")
        if project is not None and self.isVisible():
            self.load()

    def _labels_changed(self, _paths) -> None:
        self._labels = None
        if self.result is not None:
            self._mark_stale()

    def _mark_stale(self) -> None:
        self.status.setStyleSheet("")
        self.status.setText("Labels changed since these boxes were read: press Run to fit the new boxes.")

    def _set_defaults(self, project) -> None:
        settings = (project.train_settings if project is not None else {}) or {}
        model = settings.get("model") if settings.get("model") in MODEL_NAMES else TrainConfig().model
        self.model_box.setCurrentText(model)
        size = settings.get("input_size")
        try:
            size = check_input_size(size, minimum=self.size_spin.minimum(), maximum=self.size_spin.maximum())
        except YoloStudioError:
            size = project.anchors_size if project is not None and project.anchors else 416
        self.size_spin.setValue(int(size))
        self.k_spin.setValue(family(model).n_anchors)

    def _model_changed(self, model: str) -> None:
        if model in MODEL_NAMES:
            self.k_spin.setValue(family(model).n_anchors)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        # Labelling in the Label tab changes files without a signal: re-read them each
        # time the panel is shown (off the GUI thread), and compare with what is drawn.
        if self.context.project is not None and not self.is_running():
            self._labels = None
            self.load()


def _same_boxes(a, b) -> bool:
    """Whether two results hold the same boxes at the same size (so a fit is still current)."""
    return (a.request.input_size == b.request.input_size and a.refs == b.refs
            and a.wh.shape == b.wh.shape and bool((a.wh == b.wh).all()))
