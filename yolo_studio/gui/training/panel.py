"""The training panel: settings form, Start/Stop/Resume, live plots, runs and results."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop, Qt, QTimer, Signal
from PySide6.QtWidgets import (QGroupBox, QHBoxLayout, QMessageBox, QPlainTextEdit,
                               QProgressBar, QPushButton, QScrollArea, QSplitter, QTabWidget,
                               QVBoxLayout, QWidget)

from yolo_studio.core.errors import YoloStudioError
from yolo_studio.core.training.events import TrainConfig
from yolo_studio.gui.training.form import TrainForm, saved_run_settings
from yolo_studio.gui.training.message_bar import MessageBar
from yolo_studio.gui.training.plots import TrainingPlots, row_map50
from yolo_studio.gui.training.progress import progress_text
from yolo_studio.gui.training.project_info import (checkpoint_in, count_labelled_train,
                                                   has_last_checkpoint, list_runs,
                                                   weights_file)
from yolo_studio.gui.training.results import ResultsView
from yolo_studio.gui.training.runs_view import RunsView
from yolo_studio.gui.training.worker import DeviceWorker, EvalWorker, RunsWorker, TrainWorker
from yolo_studio.gui.workers import start_worker


class TrainingPanel(QWidget):
    """Train a detector on the open project and watch it learn."""

    epochReported = Signal(object)  # EpochReport, after the plots took it
    runEnded = Signal(object)       # EndReport, after the panel has shown it

    def __init__(self, context, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self._thread = self._worker = None
        self._eval_thread = None
        self._device_thread = None
        self._devices_known = False       # the device check has answered (or failed)
        self._start_pending = False       # Start (or Retrain) was pressed while that check ran
        self._pending_from: str | None = None
        self._runs_thread = None
        self._runs_again: tuple | None = None
        self._run_over = True             # the live run has ended (its thread may still wind down)
        self._last_batch = None
        self._run_dir: str | None = None
        self._build()
        self._wire()
        self._set_running(False)
        self._load_project(context.project)

    # ----- layout -------------------------------------------------------------------------
    def _build(self) -> None:
        self.form = TrainForm()
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Train a new run with these settings")
        self.retrain_button = QPushButton("Retrain")
        self.retrain_button.setToolTip("A new run that starts from the last checkpoint of this "
                                       "project (after more labelling)")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue the selected run where it stopped")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the current batch; a checkpoint is written")
        buttons = QHBoxLayout()
        for b in (self.start_button, self.retrain_button, self.resume_button, self.stop_button):
            buttons.addWidget(b)
        settings = QGroupBox("Settings")
        box = QVBoxLayout(settings)
        box.addWidget(self.form)
        box.addLayout(buttons)
        self.runs_view = RunsView()
        runs = QGroupBox("Runs")
        QVBoxLayout(runs).addWidget(self.runs_view)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(settings)
        left_layout.addWidget(runs, 1)
        self.settings_scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(left)
        scroll.setMinimumWidth(400)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(scroll)
        self.splitter.addWidget(self._build_right())
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([430, 1000])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.splitter)

    def _build_right(self) -> QWidget:
        self.message_bar = MessageBar()
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("Not training")
        self.plots = TrainingPlots()
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)
        self.log.setPlaceholderText("The trainer's messages appear here.")
        live = QSplitter(Qt.Orientation.Vertical)
        live.addWidget(self.plots)
        live.addWidget(self.log)
        live.setStretchFactor(0, 5)
        live.setStretchFactor(1, 1)
        live.setSizes([600, 120])
        self.results = ResultsView()
        self.tabs = QTabWidget()
        self.tabs.addTab(live, "Live")
        self.tabs.addTab(self.results, "Results")
        right = QWidget()
        layout = QVBoxLayout(right)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.message_bar)
        layout.addWidget(self.progress)
        layout.addWidget(self.tabs, 1)
        return right

    def _wire(self) -> None:
        # clicked(bool) would land in start()'s argument: each button gets its own slot.
        self.start_button.clicked.connect(self._start_clicked)
        self.retrain_button.clicked.connect(self._retrain_clicked)
        self.resume_button.clicked.connect(self._resume_clicked)
        self.stop_button.clicked.connect(self._stop_clicked)
        self.runs_view.runSelected.connect(self.show_run)
        self.results.useInPreview.connect(self._use_in_preview)
        self.results.evaluateRequested.connect(self.evaluate)
        self.context.projectChanged.connect(self._load_project)
        self.context.retrainRequested.connect(self._retrain_clicked)
        self._progress_timer = QTimer(self)
        self._progress_timer.setInterval(200)
        self._progress_timer.timeout.connect(self._update_progress)

    # ----- project ------------------------------------------------------------------------
    def _load_project(self, project) -> None:
        self.form.setEnabled(project is not None)
        self.runs_view.set_runs([])
        if not self.is_running():     # another project: the last one's curves do not belong
            self.plots.clear()
        if project is None:
            self.results.clear()
            self._set_running(self.is_running())
            return
        saved = project.train_settings or {}
        try:
            self.form.set_config(TrainConfig.from_dict(saved) if saved else TrainConfig())
        except (TypeError, ValueError) as e:   # a hand-edited project file
            saved = {}
            self.form.set_config(TrainConfig())
            self.message_bar.show_error(f"The training settings in {project.project_file} "
                                        f"cannot be read ({e}); showing defaults instead.")
        if not saved_run_settings(saved):
            self.form.apply_dataset_defaults(count_labelled_train(project))
        self._refresh_runs()
        self._set_running(self.is_running())

    def _refresh_runs(self, select: str | None = None) -> None:
        project = self.context.project
        if project is None:
            return
        runs, problem = list_runs(project)
        self._show_runs(project, (runs, problem, has_last_checkpoint(project)), select)

    def _refresh_runs_later(self, select: str | None = None) -> None:
        """The same as _refresh_runs, read on a worker: an epoch end must not wait for the disk."""
        project = self.context.project
        if project is None:
            return
        if self._runs_thread is not None and self._runs_thread.isRunning():
            self._runs_again = (select,)      # once more when this one is done
            return
        worker = RunsWorker(project)
        worker.done.connect(self._runs_listed)
        worker.finished.connect(self._runs_worker_ended)
        self._runs_select = select
        self._runs_thread = start_worker(worker, "runs")

    def _runs_listed(self, result) -> None:
        worker = self.sender()
        if worker is not None and getattr(worker, "project", None) is not self.context.project:
            return        # listed for a project that is no longer open
        self._show_runs(self.context.project, result, self._runs_select)

    def _runs_worker_ended(self) -> None:
        if self._runs_again is not None:
            (select,), self._runs_again = self._runs_again, None
            QTimer.singleShot(0, lambda: self._refresh_runs_later(select))

    def _show_runs(self, project, result, select: str | None) -> None:
        runs, problem, has_last = result
        if problem:
            self._log(problem)
        self.runs_view.set_runs(runs, select=select)
        self.form.set_has_last_checkpoint(has_last)
        self._set_running(self.is_running())

    def showEvent(self, event) -> None:
        super().showEvent(event)
        # Asking for devices imports TensorFlow (seconds of CPU): only once the panel is seen.
        if self._device_thread is None:
            self._detect_devices()

    def _detect_devices(self) -> None:
        worker = DeviceWorker()
        worker.done.connect(self._devices_found)
        # Bound methods, never lambdas, for a worker's signals: PySide6 runs a lambda on
        # the emitting (worker) thread, and widgets must only be touched on this one.
        worker.failed.connect(self._device_failed)
        self._device_thread = start_worker(worker, "devices")

    def _device_failed(self, message: str) -> None:
        self.form.device_label.setText(f"Device unknown: {message}")
        self._devices_answered()

    def _devices_found(self, devices) -> None:
        self.form.set_devices(devices)
        project = self.context.project
        # Not over what the user saw when pressing Start: those are the values to train with.
        if (project is not None and not saved_run_settings(project.train_settings)
                and not self.is_running() and not self._start_pending):
            self.form.apply_dataset_defaults(count_labelled_train(project))
        self._devices_answered()

    def _devices_answered(self) -> None:
        self._devices_known = True
        if self._start_pending:
            self._start_pending = False
            self.start_button.setText("Start")
            self.start(start_from=self._pending_from)
        self._set_running(self.is_running())

    def _detecting_devices(self) -> bool:
        return (not self._devices_known and self._device_thread is not None
                and self._device_thread.isRunning())

    # ----- actions ------------------------------------------------------------------------
    def _start_clicked(self) -> None:
        self._request_start(None)

    def _request_start(self, start_from: str | None) -> None:
        if self._detecting_devices():
            # The form's defaults depend on the device (GPU or CPU): start once it is known,
            # and say so now, so the click visibly did something.
            self._start_pending = True
            self._pending_from = start_from
            self.start_button.setText("Starting…")
            self._set_running(False)          # Start disabled, its tooltip says why
            self.progress.setRange(0, 0)
            text = "Starting as soon as the device check ends (TensorFlow is loading)…"
            self.progress.setFormat(text)
            self.context.statusMessage.emit(text)
            return
        self.start(start_from=start_from)

    def _retrain_clicked(self) -> None:
        self._request_start("last")

    def _resume_clicked(self) -> None:
        self.resume()

    def _stop_clicked(self) -> None:
        self.stop()

    def start(self, start_from: str | None = None) -> bool:
        """Start a new run with the form's settings; False (and a message) if it cannot."""
        project = self.context.project
        if project is None:
            self.message_bar.show_error("Open a project first (File ▸ Open).")
            return False
        try:
            cfg = self.form.config()
        except YoloStudioError as e:
            self.message_bar.show_error(str(e))
            return False
        if start_from:
            cfg = TrainConfig.from_dict({**cfg.to_dict(), "start_from": start_from})
        self._save_settings(project, cfg)
        self.plots.clear()
        self.results.clear()
        return self._launch(project, cfg, run_dir=None, resume=False)

    def retrain(self) -> bool:
        """A new run that starts from the project's last checkpoint."""
        return self.start(start_from="last")

    def resume(self) -> bool:
        """Continue the selected run (its own settings, optimizer state and step)."""
        run = self.runs_view.selected_run()
        project = self.context.project
        if run is None or project is None:
            self.message_bar.show_error("Select the run to resume in the Runs list.")
            return False
        cfg = run.config if isinstance(run.config, TrainConfig) else TrainConfig.from_dict(run.config)
        self.show_run(run)
        return self._launch(project, cfg, run_dir=str(run.path), resume=True)

    def stop(self) -> None:
        """Ask the trainer to stop after the current batch (it writes a checkpoint)."""
        if self._worker is not None and self.is_running():
            self._worker.stop_event.set()
            self.stop_button.setEnabled(False)
            self.progress.setFormat("Stopping after this batch…")
            self._log("Stopping: the trainer finishes this batch and writes a checkpoint.")

    def is_running(self) -> bool:
        """True while a training run's thread is alive."""
        return self._thread is not None and self._thread.isRunning()

    def _launch(self, project, cfg: TrainConfig, run_dir, resume: bool) -> bool:
        if self.is_running():
            return False
        self.message_bar.dismiss()
        self._run_dir = run_dir
        self.plots.source = run_dir
        self._run_over = False
        self._last_batch = None
        worker = TrainWorker(project, cfg, run_dir=run_dir, resume=resume)
        worker.message.connect(self._log)
        worker.batch.connect(self._on_batch)
        worker.epoch.connect(self._on_epoch)
        worker.ended.connect(self._on_end)
        self._worker = worker
        self._log(f"{'Resuming' if resume else 'Starting'} {cfg.model} at {cfg.input_size} px, "
                  f"batch {cfg.batch_size}, {cfg.epochs} epochs, from {cfg.start_from}.")
        self._thread = start_worker(worker, "training")
        self._thread.finished.connect(self._thread_finished)
        self.tabs.setCurrentIndex(0)
        self._set_running(True)
        self.progress.setRange(0, 0)          # busy until the first batch says how many
        self.progress.setFormat("Preparing data and building the model…")
        return True

    def _thread_finished(self) -> None:
        self._set_running(False)

    def _save_settings(self, project, cfg: TrainConfig) -> None:
        project.train_settings = cfg.to_dict()
        try:
            project.save()
        except (OSError, YoloStudioError) as e:  # training can go on; say why it was not kept
            self._log(f"Could not save the settings to the project file: {e}")

    # ----- reports from the worker (GUI thread) -------------------------------------------
    def _on_batch(self, report) -> None:
        self.plots.add_batch(report)
        self._last_batch = report

    def _on_epoch(self, report) -> None:
        self.plots.add_epoch(report)
        if report.checkpoint and not self._run_dir:
            self._run_dir = str(Path(report.checkpoint).parent.parent)
        self.plots.source = self._run_dir
        if report.map50 is not None and (report.best or not self.results.table.rowCount()):
            self.results.show_scores(report.map50, report.per_class_ap,
                                     map50_95=report.map50_95,
                                     where=f" (best so far, epoch {report.epoch + 1})")
            if report.best and self._run_dir:
                self.results.set_checkpoint(checkpoint_in(self._run_dir, "best"))
        self._refresh_runs_later(select=Path(self._run_dir).name if self._run_dir else None)
        self.epochReported.emit(report)

    def _on_end(self, report) -> None:
        self._update_progress()
        self._run_over = True      # the progress bar now says how it ended, not the last batch
        self.plots.flush()            # the last epoch's points, without waiting for a tick
        self._run_dir = report.run_dir or self._run_dir
        self.plots.source = self._run_dir
        best = weights_file(report.best_checkpoint) or (
            checkpoint_in(self._run_dir, "best") if self._run_dir else None)
        last = weights_file(report.last_checkpoint)
        self.results.set_checkpoint(best or last)
        if report.reason == "failed":
            self.message_bar.show_error(f"Training failed: {report.message}")
            self.progress.setFormat("Failed")
        elif report.reason == "stopped":
            self.message_bar.show_info(f"Stopped. Checkpoint: {last or 'none written'}. "
                                       "Select the run and press Resume to continue.")
            self.progress.setFormat("Stopped")
        else:
            score = f", best mAP@0.5 {report.best_map50:.3f}" if report.best_map50 is not None else ""
            self.message_bar.show_info(f"Finished{score}. Best checkpoint: {best or '–'}"
                                       + _skipped_note(report))
            self.progress.setFormat("Finished")
        for path in getattr(report, "skipped", ()):
            self._log(f"Skipped (cannot be read): {path}")
        self._log(f"Run ended ({report.reason}). {report.message}".strip())
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)
        self._refresh_runs(select=Path(self._run_dir).name if self._run_dir else None)
        self.context.statusMessage.emit(f"Training {report.reason}")
        self.runEnded.emit(report)

    def _update_progress(self) -> None:
        r = self._last_batch
        if r is None or not self.is_running() or self._run_over:
            return
        if self.progress.maximum() != r.total_steps:
            self.progress.setRange(0, max(r.total_steps, 1))
        self.progress.setValue(min(r.step, r.total_steps))
        self.progress.setFormat(progress_text(r))

    def _log(self, text: str) -> None:
        self.log.appendPlainText(text)

    def _set_running(self, running: bool) -> None:
        running = running and self.is_running()
        has_project = self.context.project is not None
        self.start_button.setEnabled(has_project and not running and not self._start_pending)
        # A disabled button says why (its tooltip; the status bar when it is pressed anyway).
        self.start_button.setToolTip(
            "Open a project first (File ▸ Open)" if not has_project
            else "A run is training: Stop it first (or wait for it to end)" if running
            else "Starts when the device check ends" if self._start_pending
            else "Train a new run with these settings")
        self.retrain_button.setEnabled(has_project and not running and not self._start_pending
                                       and self.form.has_last_checkpoint)
        self.resume_button.setEnabled(has_project and not running and self.runs_view.selected_run() is not None)
        self.stop_button.setEnabled(running)
        self.form.setEnabled(has_project and not running)
        if running:
            self._progress_timer.start()
        else:
            self._progress_timer.stop()

    # ----- runs and results ---------------------------------------------------------------
    def show_run(self, run) -> None:
        """Re-plot a past run from its results.csv (and per-batch history if kept)."""
        self._set_running(self.is_running())
        if self.is_running():
            return  # the live run owns the plots
        # Picking the run the plots already hold (the panel does so itself when a run
        # ends) must not swap its per-batch points for results.csv's per-epoch means.
        if self.plots.source and Path(self.plots.source) == Path(run.path):
            return
        self.plots.load_history(list(run.history or []))
        self.plots.source = str(run.path)
        rows = [r for r in run.history or [] if row_map50(r) is not None]
        best = checkpoint_in(run.path, "best")
        self.results.clear()
        self.results.set_checkpoint(best or checkpoint_in(run.path, "last"))
        if rows:
            top = max(rows, key=row_map50)
            # results.csv keeps no per-class AP: "Compute PR curves" fills the table.
            self.results.show_scores(row_map50(top), {},
                                     where=f" (run {run.name}, epoch {int(top['epoch']) + 1})")

    def evaluate(self, checkpoint: str) -> None:
        """Compute mAP and PR curves of ``checkpoint`` on the validation images, in a worker."""
        project = self.context.project
        if not checkpoint or project is None:
            return
        if self._eval_thread is not None and self._eval_thread.isRunning():
            return
        worker = EvalWorker(project, checkpoint)
        worker.done.connect(self._show_evaluation)
        worker.failed.connect(self._evaluation_failed)
        worker.finished.connect(self._evaluation_ended)
        self.results.evaluate_button.setEnabled(False)
        self._log(f"Evaluating {checkpoint} on the validation images…")
        self._eval_thread = start_worker(worker, "evaluate")

    def _evaluation_failed(self, message: str) -> None:
        self.message_bar.show_error(f"Evaluation failed: {message}")

    def _evaluation_ended(self) -> None:
        self.results.evaluate_button.setEnabled(self.results.checkpoint is not None)

    def _show_evaluation(self, result) -> None:
        self.results.show_scores(result.map50, result.per_class_ap50, result.per_class_ap,
                                 result.map50_95, where=" (validation images)")
        self.results.show_pr_curves({name: (c.recall, c.precision)
                                     for name, c in result.pr_curves.items()})
        self.tabs.setCurrentWidget(self.results)

    def _use_in_preview(self, path: str) -> None:
        if path:
            self.context.modelChosen.emit(path)
            self.context.statusMessage.emit(f"Preview uses {Path(path).name}")

    # ----- shutdown -----------------------------------------------------------------------
    def may_close(self) -> bool:
        """True when the window may close; asks first if a run is training, then stops it cleanly."""
        if self.is_running():
            answer = QMessageBox.question(
                self, "Training is running",
                "Stop training and close? The run stops after the current batch and keeps a "
                "checkpoint you can resume.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return False
            self.stop()
        self.wait_for_workers()
        return True

    def wait_for_workers(self, timeout_s: float = 600.0) -> bool:
        """Let every thread of this panel end (events keep flowing so each thread's quit arrives)."""
        import time
        deadline = time.monotonic() + timeout_s
        for thread in (self._thread, self._eval_thread, self._device_thread, self._runs_thread):
            while thread is not None and thread.isRunning():
                if time.monotonic() > deadline:
                    return False
                # worker.finished -> thread.quit is queued to this thread, so a bare
                # thread.wait() here would never return.
                QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
                thread.wait(20)
        return True


def _skipped_note(report) -> str:
    """A sentence naming the images training had to skip, so the user can fix them."""
    skipped = list(getattr(report, "skipped", ()))
    if not skipped:
        return ""
    names = ", ".join(Path(p).name for p in skipped[:3]) + (" …" if len(skipped) > 3 else "")
    return (f" {len(skipped)} image(s) could not be read and were skipped ({names});"
            " see the log for their paths.")
