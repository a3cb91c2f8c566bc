"""What the trainer reports, and how it is configured.

Listener payloads are plain Python floats in frozen dataclasses, never
tensors: they cross threads (GUI worker -> Qt signal) and processes (CLI).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Protocol

from yolo_studio.core.defaults import DEFAULT_NMS_IOU, EVAL_SCORE_THRESHOLD


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of one training run; stored as JSON in the run folder."""

    model: str = "yolov3-tiny"            # 'yolov3' | 'yolov3-tiny'
    input_size: int = 416                 # divisible by 32
    batch_size: int = 8
    epochs: int = 30
    lr_init: float = 1e-3
    lr_end: float = 1e-5
    warmup_epochs: float = 2.0
    weight_decay: float = 0.0
    start_from: str = "scratch"           # 'scratch' | 'darknet' | 'last'
    darknet_weights: str | None = None    # path, when start_from == 'darknet'
    freeze_backbone_epochs: int = 0
    augment: bool = True
    multiscale: bool = False
    # 'auto' | 'float32' | 'bfloat16' | 'float16' (see device.training_precision);
    # replaces the old ``mixed_precision`` flag, which from_dict still reads.
    precision: str = "auto"
    xla: bool = False
    map_every: int = 1                    # compute val mAP every N epochs
    score_threshold: float = EVAL_SCORE_THRESHOLD   # for mAP (0.001: the same as `eval`)
    iou_threshold: float = DEFAULT_NMS_IOU          # NMS IoU for mAP
    seed: int = 0
    # --- the recipe (issue 11); each switchable so bench/bench_recipe.py can ablate it ---
    assignment: str = "multi"             # 'best': one anchor of all scales; 'multi': + IoU > assign_iou per scale
    assign_iou: float = 0.3               # anchor-box (w, h) IoU that makes an extra positive ('multi')
    label_smoothing: float = 0.0          # class targets become (1 - e) * onehot + e / classes
    conv_init: str = "normal"             # 'normal': kernels ~ N(0, 0.01); 'keras': Keras' glorot-uniform
    bn_momentum: float = 0.0              # 0: fit to the epoch length (0.9..0.99); else this value
    prior_bias: bool = True               # output biases from a prior: few objects, uniform classes
    ema_decay: float = 0.999              # > 0: evaluate and checkpoint an EMA of the weights
    lr_reference_batch: int = 0           # > 0: lr_init is for this batch; scaled linearly to batch_size
    hflip: bool = True                    # mirror left-right when augmenting (off for digits, text, arrows)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """Build from a dict, ignoring unknown keys (older/newer run files)."""
        known = {f.name for f in fields(cls)}
        if "precision" not in d and "mixed_precision" in d:
            # Files written before 'precision' existed keep their meaning: False was
            # float32, True was float16 on a GPU and bfloat16 on a CPU.
            from .device import legacy_precision
            d = {**d, "precision": legacy_precision(bool(d["mixed_precision"]))}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass(frozen=True)
class BatchReport:
    """One optimisation step."""

    epoch: int            # 0-based
    step: int             # global step, 1-based
    steps_per_epoch: int
    total_steps: int
    box_loss: float
    obj_loss: float
    cls_loss: float
    total_loss: float
    lr: float
    images_per_sec: float
    eta_seconds: float


@dataclass(frozen=True)
class EpochReport:
    """End of one epoch: validation and checkpoints."""

    epoch: int                                  # 0-based
    epochs: int
    train_loss: float
    val_box_loss: float
    val_obj_loss: float
    val_cls_loss: float
    val_total_loss: float
    map50: float | None                         # None when not computed this epoch
    map50_95: float | None
    per_class_ap: dict[str, float] = field(default_factory=dict)
    checkpoint: str | None = None               # path of 'last' written this epoch
    best: bool = False                          # True when this epoch became 'best'
    seconds: float = 0.0


@dataclass(frozen=True)
class EndReport:
    """Why the run ended."""

    reason: str                   # 'finished' | 'stopped' | 'failed'
    message: str = ""
    run_dir: str = ""
    last_checkpoint: str | None = None
    best_checkpoint: str | None = None
    best_map50: float | None = None
    # Files left out of training: undecodable images, unreadable labels.
    skipped: tuple[str, ...] = ()


class TrainListener(Protocol):
    """Receives the trainer's reports. All methods are called on the trainer's thread."""

    def on_message(self, text: str) -> None: ...
    def on_batch(self, report: BatchReport) -> None: ...
    def on_epoch(self, report: EpochReport) -> None: ...
    def on_end(self, report: EndReport) -> None: ...


class NullListener:
    """A listener that ignores everything (the default)."""

    def on_message(self, text: str) -> None:
        pass

    def on_batch(self, report: BatchReport) -> None:
        pass

    def on_epoch(self, report: EpochReport) -> None:
        pass

    def on_end(self, report: EndReport) -> None:
        pass
