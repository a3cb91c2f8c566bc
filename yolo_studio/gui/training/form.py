"""The training settings form: every TrainConfig field a user should see, with defaults
scaled to the dataset."""
from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QWidget)

from yolo_studio.core.errors import ConfigError
from yolo_studio.core.model_family import FAMILIES, MIN_TRAIN_INPUT_SIZE, check_input_size
from yolo_studio.core.training.device import training_precision
from yolo_studio.core.training.events import TrainConfig
from yolo_studio.core.training.start_defaults import defaults_for, describe

# tiny first: the default, and the one that trains in minutes on a CPU.
MODELS = tuple((FAMILIES[n].label, n) for n in ("yolov3-tiny", "yolov3"))
START_FROM = (("Scratch (random weights)", "scratch"),
              ("Darknet COCO weights file", "darknet"),
              ("Last checkpoint of this project", "last"))
PRECISIONS = (("Auto", "auto"), ("float32", "float32"), ("bfloat16 (mixed)", "bfloat16"),
              ("float16 + loss scaling", "float16"))
PRECISION_TIP = ("Auto trains in float16 with loss scaling on a GPU, in bfloat16 on CPUs with "
                 "AVX-512 BF16 or AMX (recent Xeons), and in float32 elsewhere, where bfloat16 "
                 "is emulated and slower. Weights stay float32 in every mode.")


def defaults_for_dataset(n_train: int, gpu: bool) -> dict:
    """Batch size, epochs, input size and warmup that suit ``n_train`` labelled images."""
    n = max(n_train, 1)
    # A batch of about n/4 (a power of two), so a tiny set still gets a few steps an epoch.
    batch = int(min(16 if gpu else 8, max(2, 2 ** int(math.log2(max(n / 4, 1))))))
    steps_per_epoch = max(1, math.ceil(n / batch))
    # Aim at ~2,000 optimiser steps in all, within 20..200 epochs.
    epochs = int(min(200, max(20, math.ceil(2000 / steps_per_epoch))))
    return {"batch_size": batch, "epochs": epochs, "input_size": 416 if gpu else 320,
            "warmup_epochs": 2.0 if epochs >= 20 else 1.0}


def saved_run_settings(settings: dict | None) -> bool:
    """True when a project's ``train_settings`` hold a whole run's settings.

    A project can carry only a few switches of its own (the digits demo stores
    ``hflip: false``): the dataset-scaled batch, epochs and size still apply then.
    """
    return bool(settings) and "epochs" in settings


def describe_device_text(devices) -> tuple[str, bool]:
    """A plain line naming the device a run will use, and whether it is a GPU."""
    gpus = [d for d in devices if getattr(d, "kind", "") == "GPU"]
    if gpus:
        parts = []
        for d in gpus:
            mem = getattr(d, "memory_mb", None)
            parts.append(f"{d.name} ({mem / 1024:.0f} GB)" if mem else d.name)
        more = f" + {len(gpus) - 1} more" if len(gpus) > 1 else ""
        return f"GPU: {parts[0]}{more}", True
    cpu = next((d for d in devices if getattr(d, "kind", "") == "CPU"), None)
    name = (cpu.name if cpu.name.startswith("CPU") else f"CPU ({cpu.name})") if cpu else "CPU"
    mem = f", {cpu.memory_mb / 1024:.0f} GB RAM" if cpu and cpu.memory_mb else ""
    return f"{name}{mem}. No GPU found: training runs on the CPU, slowly.", False


class SciSpinBox(QDoubleSpinBox):
    """A spin box for small rates that shows 0.0001 as 1e-04 and steps by factors of 2."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setDecimals(12)
        self.setRange(1e-8, 1.0)

    def textFromValue(self, value: float) -> str:
        return f"{value:.3g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text, pos):
        state, _, _ = QDoubleValidator(1e-8, 1.0, 12).validate(text, pos)
        return state, text, pos

    def stepBy(self, steps: int) -> None:
        self.setValue(self.value() * (2.0 ** steps))


class TrainForm(QWidget):
    """Settings for one run; ``config()`` gives the TrainConfig (ConfigError if a field is bad)."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._gpu = False
        self._has_last = False
        layout = QFormLayout(self)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.device_label = QLabel("Looking for a GPU…")
        self.device_label.setWordWrap(True)
        self.device_label.setObjectName("deviceLabel")
        # Room for two lines from the start: the answer ("CPU …. No GPU found: …") wraps, and
        # a label that grew then moved the Start button away from under the user's pointer.
        self.device_label.ensurePolished()
        self.device_label.setMinimumHeight(2 * self.device_label.fontMetrics().lineSpacing() + 2)
        layout.addRow("Device:", self.device_label)
        self.model = QComboBox()
        for text, key in MODELS:
            self.model.addItem(text, key)
        layout.addRow("Model:", self.model)
        self.input_size = _spin(64, 1280, 32, "Network input in pixels (a multiple of 32)")
        self.input_size.setSuffix(" px")
        layout.addRow("Input size:", self.input_size)
        self.batch_size = _spin(1, 256, 1, "Images per optimisation step")
        layout.addRow("Batch size:", self.batch_size)
        self.epochs = _spin(1, 10000, 1, "Passes over the training images")
        layout.addRow("Epochs:", self.epochs)
        self.lr = SciSpinBox()
        self.lr.setToolTip("Initial learning rate after warmup (decays to 1% of it)")
        layout.addRow("Learning rate:", self.lr)
        self.warmup = QDoubleSpinBox()
        self.warmup.setRange(0, 100)
        self.warmup.setSingleStep(0.5)
        self.warmup.setDecimals(1)
        self.warmup.setToolTip("Epochs over which the learning rate ramps up from 0")
        layout.addRow("Warmup epochs:", self.warmup)
        self.start_from = QComboBox()
        for text, key in START_FROM:
            self.start_from.addItem(text, key)
        layout.addRow("Start from:", self.start_from)
        # What the chosen start sets (core/training/start_defaults.py), batch-norm momentum
        # included, which has no field of its own.
        self.start_note = QLabel()
        self.start_note.setWordWrap(True)
        self.start_note.setObjectName("startDefaultsNote")
        layout.addRow("", self.start_note)
        self.weights_edit = QLineEdit()
        self.weights_edit.setPlaceholderText("yolov3-tiny.weights from darknet")
        self.weights_button = QPushButton("Browse…")
        self.weights_button.clicked.connect(self._browse_weights)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.weights_edit, 1)
        row.addWidget(self.weights_button)
        self.weights_row = QWidget()
        self.weights_row.setLayout(row)
        layout.addRow("Weights file:", self.weights_row)
        self.freeze = _spin(0, 10000, 1, "Epochs to keep the backbone frozen (useful with "
                                          "pretrained weights)")
        layout.addRow("Freeze backbone:", self.freeze)
        self.freeze.setSuffix(" epochs")
        self.augment = QCheckBox("Augment (crop, shift, colour)")
        self.hflip = QCheckBox("Mirror left-right")
        self.hflip.setToolTip("Only for classes that stay the same class mirrored (cars, faces); "
                              "leave off for digits, letters, arrows, left/right parts")
        self.multi_anchor = QCheckBox("Several anchors per box")
        self.multi_anchor.setToolTip("Each box also trains every anchor it overlaps with IoU > 0.3 "
                                     "on each scale (more signal per image); off: only its best anchor")
        self.ema = QCheckBox("Average weights (EMA)")
        self.ema.setToolTip("Validation and the saved weights use a running average of the "
                            "weights: a steadier, usually higher mAP; training itself is unchanged")
        self.multiscale = QCheckBox("Multi-scale input sizes")
        self.precision = QComboBox()
        for label, value in PRECISIONS:
            self.precision.addItem(label, value)
        self.xla = QCheckBox("XLA compile")
        layout.addRow("Data:", self.augment)
        layout.addRow("", self.hflip)
        layout.addRow("", self.multiscale)
        layout.addRow("Recipe:", self.multi_anchor)
        layout.addRow("", self.ema)
        layout.addRow("Precision:", self.precision)
        layout.addRow("Speed:", self.xla)
        self._loading = False
        self.start_from.currentIndexChanged.connect(self._start_changed)
        for w in (self.model, self.start_from):
            w.currentIndexChanged.connect(self.changed)
        for w in (self.input_size, self.batch_size, self.epochs, self.freeze):
            w.valueChanged.connect(self.changed)
        self.set_config(TrainConfig())
        self.set_devices([])

    def set_devices(self, devices) -> None:
        """Show the device a run will use; enable GPU-only options accordingly."""
        text, self._gpu = describe_device_text(devices) if devices else ("Looking for a GPU…", False)
        self.device_label.setText(text)
        self.xla.setEnabled(self._gpu)
        self.xla.setToolTip("Compile the train step with XLA" if self._gpu
                            else "XLA needs a GPU here")
        if not self._gpu:
            self.xla.setChecked(False)
        auto = training_precision("auto", gpu=self._gpu)
        self.precision.setItemText(0, f"Auto ({auto} here)")
        self.precision.setToolTip(PRECISION_TIP)

    @property
    def has_gpu(self) -> bool:
        return self._gpu

    @property
    def has_last_checkpoint(self) -> bool:
        return self._has_last

    def set_has_last_checkpoint(self, has: bool) -> None:
        """Allow 'last checkpoint' only when this project has one."""
        self._has_last = has
        item = self.start_from.model().item(2)
        item.setEnabled(has)
        item.setToolTip("" if has else "No run of this project has a checkpoint yet")
        if not has and self.start_from.currentData() == "last":
            self.start_from.setCurrentIndex(0)

    def apply_dataset_defaults(self, n_train: int) -> None:
        """Fill batch, epochs, input size and warmup for a dataset of ``n_train`` images."""
        d = defaults_for_dataset(n_train, self._gpu)
        self.batch_size.setValue(d["batch_size"])
        self.epochs.setValue(d["epochs"])
        self.input_size.setValue(d["input_size"])
        self.warmup.setValue(d["warmup_epochs"])

    def set_config(self, cfg: TrainConfig) -> None:
        """Show ``cfg`` in the fields."""
        self._loading = True     # a saved config's values stay as saved
        try:
            self._show(cfg)
        finally:
            self._loading = False
        self._sync_enabled()

    def _show(self, cfg: TrainConfig) -> None:
        _select(self.model, cfg.model)
        self.input_size.setValue(cfg.input_size)
        self.batch_size.setValue(cfg.batch_size)
        self.epochs.setValue(cfg.epochs)
        self.lr.setValue(cfg.lr_init)
        self.warmup.setValue(cfg.warmup_epochs)
        _select(self.start_from, cfg.start_from)
        self.weights_edit.setText(cfg.darknet_weights or "")
        self.freeze.setValue(cfg.freeze_backbone_epochs)
        self.augment.setChecked(cfg.augment)
        self.hflip.setChecked(cfg.hflip)
        self.multi_anchor.setChecked(cfg.assignment == "multi")
        self.ema.setChecked(cfg.ema_decay > 0)
        self.multiscale.setChecked(cfg.multiscale)
        _select(self.precision, cfg.precision)
        self.xla.setChecked(cfg.xla and self._gpu)
        self._base = cfg

    def config(self) -> TrainConfig:
        """The TrainConfig these fields describe; ConfigError naming the field if one is bad."""
        size = self.input_size.value()
        check_input_size(size, "Input size", MIN_TRAIN_INPUT_SIZE)
        start = self.start_from.currentData()
        weights = self.weights_edit.text().strip() or None
        if start == "darknet":
            if not weights:
                raise ConfigError("Start from darknet weights: choose the .weights file first.")
            if not Path(weights).is_file():
                raise ConfigError(f"Weights file {weights}: no such file.")
        d = self._base.to_dict()
        d.update(model=self.model.currentData(), input_size=size,
                 batch_size=self.batch_size.value(), epochs=self.epochs.value(),
                 lr_init=float(self.lr.value()), lr_end=float(self.lr.value()) / 100,
                 warmup_epochs=float(self.warmup.value()), start_from=start,
                 darknet_weights=weights if start == "darknet" else None,
                 freeze_backbone_epochs=self.freeze.value(), augment=self.augment.isChecked(),
                 multiscale=self.multiscale.isChecked(), precision=self.precision.currentData(),
                 hflip=self.hflip.isChecked(),
                 assignment="multi" if self.multi_anchor.isChecked() else "best",
                 ema_decay=(self._base.ema_decay or TrainConfig().ema_decay) if self.ema.isChecked() else 0.0,
                 xla=self.xla.isChecked() and self._gpu)
        return TrainConfig.from_dict(d)

    def _start_changed(self) -> None:
        """A new start moves the fields still at the other start's defaults to this one's."""
        start = self.start_from.currentData()
        if not self._loading:
            mine = defaults_for(start)
            other = defaults_for("scratch" if start == "darknet" else "darknet")
            for box, key in ((self.lr, "lr_init"), (self.warmup, "warmup_epochs"),
                             (self.freeze, "freeze_backbone_epochs")):
                if math.isclose(box.value(), other[key], rel_tol=1e-9):
                    box.setValue(mine[key])
            if self._base.bn_momentum == other["bn_momentum"]:
                self._base = replace(self._base, bn_momentum=mine["bn_momentum"])
        self._sync_enabled()

    def _sync_enabled(self) -> None:
        start = self.start_from.currentData()
        self.weights_row.setEnabled(start == "darknet")
        default_bn = defaults_for(start)["bn_momentum"]
        bn = self._base.bn_momentum if hasattr(self, "_base") else default_bn
        own = "" if bn == default_bn else \
            f" This run's batch-norm momentum: {'fitted to the epoch' if not bn else f'{bn:g}'}."
        self.start_note.setText(f"{describe(start)}.{own}")

    def _browse_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Darknet weights", self.weights_edit.text(),
                                              "Darknet weights (*.weights);;All files (*)")
        if path:
            self.weights_edit.setText(path)


def _spin(lo: int, hi: int, step: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setSingleStep(step)
    box.setToolTip(tip)
    return box


def _select(combo: QComboBox, key) -> None:
    index = combo.findData(key)
    if index >= 0:
        combo.setCurrentIndex(index)
