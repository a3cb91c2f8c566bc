"""The trainer: one run of YOLOv3 training on a project, reported through a listener.

``run()`` blocks on the calling thread (a QThread in the GUI, the main thread
in the CLI) and checks the stop event between batches. Every epoch writes
``weights/last``, maybe ``weights/best``, the resume state, a results.csv row
and TensorBoard scalars; a stop writes ``last`` and the resume state too, so
a run can always be continued exactly where it ended.
"""
from __future__ import annotations

import math
import threading
import time
from pathlib import Path

import numpy as np

from yolo_studio.core.checkpoint_files import is_checkpoint
from yolo_studio.core.errors import ConfigError, YoloStudioError
from yolo_studio.core.training_data import TrainingData

from . import faults, runs
from .distribute import barrier, tf_config_workers
from .events import BatchReport, EndReport, EpochReport, NullListener, TrainConfig
from .preflight import check_config, config_from_dict
from .progress import Progress
from .schedule import scaled_rates, warmup_cosine
from .setup import PreparedRun, prepare_run
from .summaries import write_scalars

SUMMARY_EVERY = 20        # steps between TensorBoard scalar writes (never a flush per step)
PARTS = ("box", "obj", "cls")


class Trainer:
    """Train ``config.model`` on ``project``; see the module docstring."""

    def __init__(self, project: TrainingData, config: TrainConfig, listener=None, run_dir=None,
                 resume=False):
        self.project = project
        self.listener = listener or NullListener()
        self.resume = bool(resume)
        if self.resume:
            found = Path(run_dir) if run_dir else runs.latest_resumable(project)
            if found is None or not (found / runs.RESUME_DIR / "checkpoint").is_file():
                where = found or runs.runs_dir(project)
                raise ConfigError(f"{where}: no resume state found; nothing to resume "
                                  "(start a new run instead)")
            stored = runs.read_config(found)
            # The stored settings define the run; only the epoch count may be raised.
            if stored:
                config = config_from_dict({**stored, "epochs": config.epochs},
                                          f"{found / runs.CONFIG_FILE}")
            run_dir = found
        check_config(config)
        self.config = config
        self.run_dir: Path | None = Path(run_dir) if run_dir else None
        self.prepared: PreparedRun | None = None
        # The loop's own state: where it is, the compiled step, what it skipped.
        self.epoch = self.batch_in_epoch = self.step = 0
        self.train_step = None
        self._frozen: bool | None = None
        self.progress = Progress(config.batch_size)
        self.bad_images: dict = {}

    # --- set-up -----------------------------------------------------------------

    def prepare(self) -> None:
        """Load data, check it, build the model and optimizer; idempotent. Raises YoloStudioError."""
        if self.prepared is not None:
            return
        p = prepare_run(self.project, self.config, self.run_dir, self.resume, self._say)
        self.prepared, self.run_dir = p, p.run_dir
        self.epoch, self.batch_in_epoch, self.step = p.start

    # --- the prepared run's parts the loop uses (read-only views of self.prepared) ---

    @property
    def model(self):
        """The Keras model being trained."""
        return self.prepared.model

    @property
    def optimizer(self):
        """Its optimizer."""
        return self.prepared.optimizer

    @property
    def ema(self):
        """The weight average (EMA), or None."""
        return self.prepared.ema

    @property
    def strategy(self):
        """The tf.distribute strategy."""
        return self.prepared.strategy

    @property
    def data(self):
        """Classes, anchors, strides and the data sources (RunData)."""
        return self.prepared.data

    @property
    def state(self):
        """The counters the resume checkpoint holds (RunState)."""
        return self.prepared.state

    @property
    def writer(self):
        """The TensorBoard writer."""
        return self.prepared.writer

    @property
    def problems(self) -> list:
        """Files skipped while loading the data ([] before prepare)."""
        return self.prepared.data.problems if self.prepared is not None else []

    def _say(self, text: str) -> None:
        self.listener.on_message(text)

    # --- the loop ----------------------------------------------------------------

    def run(self, stop: threading.Event | None = None) -> EndReport:
        """Train until done, stopped or failed; always ends with ``listener.on_end``."""
        import tensorflow as tf

        stop = stop or threading.Event()
        try:
            self.prepare()
        except YoloStudioError as e:
            self._end("failed", str(e))
            raise
        try:
            return self._loop(stop)
        except faults.TrainingFault as e:    # disk full, a folder gone: see faults.py
            return self._end("failed", str(e))
        except (tf.errors.UnavailableError, tf.errors.DeadlineExceededError) as e:
            if not tf_config_workers():
                raise
            # A cluster peer died or cannot be reached: TF aborts the collectives
            # (its own health check ends a silent hang within about a minute).
            return self._end("failed", f"lost contact with another worker of the cluster at step "
                                       f"{self.step} ({type(e).__name__}); restart every worker "
                                       "with --resume to continue from the last saved epoch")
        except tf.errors.ResourceExhaustedError:
            return self._end("failed", f"out of memory at step {self.step}: lower the batch size "
                                       f"(now {self.config.batch_size}) or the input size "
                                       f"(now {self.config.input_size})")
        except tf.errors.OpError as e:
            # The input pipeline raised inside TensorFlow: say which images, not TF's stack.
            fault = faults.data_fault(self.project.root, (self.data.train_source, self.data.val_source))
            if fault is not None:
                return self._end("failed", str(fault))
            self._end("failed", f"{type(e).__name__}: {e}")
            raise
        except Exception as e:
            self._end("failed", f"{type(e).__name__}: {e}")
            raise
        finally:
            try:
                self.writer.close()
            except Exception:   # noqa: BLE001 - a full disk must not turn the ending into a traceback
                pass

    def _loop(self, stop: threading.Event) -> EndReport:
        cfg = self.config
        self._say(f"training {cfg.model} at {cfg.input_size}px on {len(self.data.train_source)} images "
                  f"({len(self.data.val_source)} for validation), {cfg.epochs} epochs of "
                  f"{self.data.steps_per_epoch} steps; run folder {self.run_dir}")
        for epoch in range(self.epoch, cfg.epochs):
            self._set_frozen(epoch < cfg.freeze_backbone_epochs)
            start = self.batch_in_epoch if epoch == self.epoch else 0
            ended = self._train_epoch(epoch, start, stop)
            if ended is not None:
                return ended
            ended = self._finish_epoch(epoch)
            if ended is not None:
                return ended
            if stop.is_set():
                return self._end("stopped", f"stopped after epoch {epoch + 1}; resume to continue")
        barrier(self.strategy)     # no worker leaves while the others still need it
        return self._end("finished", f"finished {cfg.epochs} epochs")

    def _train_epoch(self, epoch: int, start: int, stop: threading.Event) -> EndReport | None:
        cfg = self.config
        self.epoch, self.batch_in_epoch = epoch, start
        self._epoch_t0 = time.monotonic()
        self._sums = np.zeros(3)
        self._n = 0
        ds = self.data.train_source.dataset(epoch, cfg.batch_size, train=True, start_batch=start)
        self.progress.start()
        for images, targets, truth, _ in self.strategy.experimental_distribute_dataset(ds):
            if stop.is_set():
                return self._stop_mid_epoch()
            parts = self.train_step(images, targets, truth).numpy().astype(float)
            self.step += 1
            self.batch_in_epoch += 1
            bad = [name for name, v in zip(PARTS, parts) if not math.isfinite(v)]
            if bad:
                return self._non_finite(bad, parts)
            self._sums += parts
            self._n += 1
            self.progress.tick()
            self._report_batch(epoch, parts)
        self._report_bad_images()
        return None

    def _report_batch(self, epoch: int, parts) -> None:
        cfg = self.config
        total_steps = cfg.epochs * self.data.steps_per_epoch
        lr = self.lr_at(self.step)
        report = BatchReport(epoch=epoch, step=self.step, steps_per_epoch=self.data.steps_per_epoch,
                             total_steps=total_steps, box_loss=float(parts[0]),
                             obj_loss=float(parts[1]), cls_loss=float(parts[2]),
                             total_loss=float(parts.sum()), lr=lr,
                             images_per_sec=self.progress.images_per_sec,
                             eta_seconds=self.progress.eta(total_steps - self.step,
                                                           cfg.epochs - epoch))
        if self.step % SUMMARY_EVERY == 0:
            scalars = {f"train/{name}_loss": v for name, v in zip(PARTS, parts)}
            write_scalars(self.writer, {**scalars, "train/lr": lr}, self.step)
        self.listener.on_batch(report)

    def lr_at(self, step: int) -> float:
        """Learning rate used for global step ``step`` (1-based)."""
        cfg = self.config
        return warmup_cosine(step, cfg.warmup_epochs * self.data.steps_per_epoch,
                             cfg.epochs * self.data.steps_per_epoch, *scaled_rates(cfg))

    def _report_bad_images(self) -> None:
        for source in (self.data.train_source, self.data.val_source):
            for path, why in source.bad_images.items():
                if path not in self.bad_images:
                    self.bad_images[path] = why
                    self._say(f"skipped {path}: {why}")

    # --- epoch end: validation, checkpoints, history --------------------------------

    def _finish_epoch(self, epoch: int) -> EndReport | None:
        from .validation import validate

        cfg = self.config
        with_map = (epoch + 1) % cfg.map_every == 0 or epoch + 1 == cfg.epochs
        t0 = time.monotonic()
        # Validation and the weights files see the EMA weights (when kept); the
        # resume state below holds the raw ones training continues from.
        with self._eval_weights():
            val = validate(self.data.val_source, self.prepared.eval_steps[with_map], cfg.batch_size, epoch,
                           with_map, self.data.class_names)
            self.progress.val_seconds = time.monotonic() - t0
            self._report_bad_images()
            bad = [name for name, v in zip(PARTS, val.losses) if not math.isfinite(v)]
            if bad:   # weights went bad in the last step: never save them over good ones
                return self._non_finite(bad, np.array(val.losses), "validation ")
            m = val.metrics
            improved = self._is_best(m.map50 if m else None, sum(val.losses))
            spec_extra = {"epoch": epoch + 1, "map50": m.map50 if m else None,
                          "run": self.run_dir.name}
            last = self._save_weights("last", spec_extra)
            if improved:
                self._save_weights("best", spec_extra)
        train = self._sums / max(self._n, 1)
        seconds = time.monotonic() - self._epoch_t0
        row = {"epoch": epoch, "train/box_loss": train[0], "train/obj_loss": train[1],
               "train/cls_loss": train[2], "train/loss": train.sum(),
               "val/box_loss": val.losses[0], "val/obj_loss": val.losses[1],
               "val/cls_loss": val.losses[2], "val/loss": sum(val.losses),
               "metrics/mAP50": m.map50 if m else None,
               "metrics/mAP50-95": m.map50_95 if m else None,
               "lr": self.lr_at(self.step), "seconds": round(seconds, 3)}
        # The row lands before the resume state: a kill between the two redoes the
        # epoch and truncate_history drops the row, so results.csv never has a gap.
        with self._writing(runs.RESULTS_FILE):
            runs.append_history(self.run_dir, row)
        self.epoch, self.batch_in_epoch = epoch + 1, 0
        self._save_resume()
        self._write_epoch_summaries(row)
        self.listener.on_epoch(EpochReport(
            epoch=epoch, epochs=cfg.epochs, train_loss=float(train.sum()),
            val_box_loss=val.losses[0], val_obj_loss=val.losses[1], val_cls_loss=val.losses[2],
            val_total_loss=float(sum(val.losses)), map50=m.map50 if m else None,
            map50_95=m.map50_95 if m else None,
            per_class_ap=dict(m.per_class_ap50) if m else {}, checkpoint=str(last),
            best=improved, seconds=seconds))
        return None

    def _eval_weights(self):
        """The weights to validate and checkpoint: the EMA when the recipe keeps one."""
        from .ema import no_swap
        return self.ema.applied() if self.ema is not None else no_swap()

    def _is_best(self, map50: float | None, val_loss: float) -> bool:
        """Best by val mAP@0.5 once there is one; before that, by val loss."""
        if map50 is not None:
            if map50 > float(self.state.best_map.numpy()):
                self.state.best_map.assign(map50)
                return True
            return False
        if float(self.state.best_map.numpy()) < 0 and val_loss < float(self.state.best_loss.numpy()):
            self.state.best_loss.assign(val_loss)
            return True
        return False

    def _save_weights(self, kind: str, extra: dict) -> Path:
        from yolo_studio.core.model import ModelSpec, save_checkpoint

        spec = ModelSpec(self.config.model, len(self.data.class_names), self.config.input_size,
                         self.data.anchors, list(self.data.class_names), dict(extra))
        with self._writing(f"weights/{kind}"):
            return save_checkpoint(self.model, spec, runs.run_checkpoint(self.run_dir, kind))

    def _writing(self, what: str):
        """Context for one save: folders still there, OSError -> TrainingFault (faults.py)."""
        return faults.writing(self.run_dir, self.project.root, what)

    def _save_resume(self) -> None:
        # CheckpointManager writes a new numbered checkpoint, then swaps the index
        # file atomically and keeps the previous one: a crash mid-write leaves the
        # earlier state readable.
        self.state.epoch.assign(self.epoch)
        self.state.batch.assign(self.batch_in_epoch)
        self.state.step.assign(self.step)
        import tensorflow as tf

        with self._writing(runs.RESUME_DIR):
            try:
                self.prepared.resume_manager.save()
            except tf.errors.OpError as e:   # TensorFlow's own file errors (full disk, folder gone)
                raise OSError(e.message) from None

    def _write_epoch_summaries(self, row: dict) -> None:
        write_scalars(self.writer, {f"epoch/{k}": v for k, v in row.items()
                                    if k not in ("epoch", "seconds") and v is not None}, self.step)
        self.writer.flush()

    # --- endings ----------------------------------------------------------------

    def _stop_mid_epoch(self) -> EndReport:
        with self._eval_weights():
            self._save_weights("last", {"epoch": self.epoch, "step": self.step,
                                        "run": self.run_dir.name})
        self._save_resume()
        self._report_bad_images()
        return self._end("stopped", f"stopped at step {self.step} (epoch {self.epoch + 1}); "
                                    "weights/last and the resume state are saved")

    def _non_finite(self, bad: list[str], parts, where: str = "") -> EndReport:
        last = runs.run_checkpoint(self.run_dir, "last")
        kept = (f"the last good weights stay in {last}.weights.h5" if is_checkpoint(last)
                else "no weights were saved (this happened before the first epoch ended)")
        return self._end("failed", f"the {where}{', '.join(bad)} loss became "
                                   f"{'NaN' if any(math.isnan(v) for v in parts) else 'infinite'} at "
                                   f"step {self.step} (epoch {self.epoch + 1}); {kept}. Try a lower "
                                   f"learning rate (now {self.config.lr_init:g}) and check the labels "
                                   "for broken boxes")

    def _end(self, reason: str, message: str) -> EndReport:
        run_dir = self.run_dir
        last = best = None
        if run_dir is not None:
            for kind in ("last", "best"):
                stem = runs.run_checkpoint(run_dir, kind)
                if is_checkpoint(stem):
                    if kind == "last":
                        last = str(stem)
                    else:
                        best = str(stem)
        best_map = None
        if self.prepared is not None and float(self.state.best_map.numpy()) >= 0:
            best_map = float(self.state.best_map.numpy())
        skipped = tuple(sorted(self.bad_images)) + tuple(p.path for p in self.problems)
        report = EndReport(reason, message, str(run_dir or ""), last, best, best_map, skipped)
        self.listener.on_end(report)
        return report

    # --- freezing -----------------------------------------------------------------

    def _set_frozen(self, frozen: bool) -> None:
        if self._frozen == frozen and self.train_step is not None:
            return
        from yolo_studio.core.model import backbone_layers
        from .steps import make_train_step

        for layer in backbone_layers(self.model):
            layer.trainable = not frozen
        if frozen != self._frozen and self._frozen is not None:
            self._say("backbone frozen" if frozen else "backbone unfrozen: training every layer")
        self._frozen = frozen
        self.train_step = make_train_step(self.strategy, self.model, self.optimizer,
                                          self.model.trainable_variables, self.data.anchors,
                                          self.data.strides, self.config.batch_size, self.config.xla,
                                          ema=self.ema)
