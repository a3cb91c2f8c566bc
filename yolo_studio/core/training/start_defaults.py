"""Recipe defaults that depend on where a run's weights start: from scratch or from darknet weights.

TrainConfig's own defaults are the from-scratch recipe. Pretrained darknet
weights already hold good features and batch-norm statistics, and the
from-scratch rate and fitted batch-norm momentum are measured to hurt them
(README, "Training recipe", transfer table: bench/bench_recipe.py --weights).
Measured on our own proxy weights, the from-scratch values
were also the best from darknet weights, so today both starts use them.
This module is the one place that decision lives: the CLI's ``train`` and
the Train panel both call :func:`with_start_defaults` when a run's start is
chosen, and the panel shows the values it will use.
"""
from __future__ import annotations

from dataclasses import replace

from .events import TrainConfig

# The fields whose default depends on the start, with their from-scratch values.
SCRATCH = {"lr_init": TrainConfig.lr_init, "lr_end": TrainConfig.lr_end,
           "warmup_epochs": TrainConfig.warmup_epochs,
           "freeze_backbone_epochs": TrainConfig.freeze_backbone_epochs,
           "bn_momentum": TrainConfig.bn_momentum}
# From darknet weights (start_from == "darknet"): measured the same as from scratch. Against
# them, lr 1e-4, a backbone frozen for 2 epochs, BN momentum 0.99 and 1 warmup epoch each
# ended lower after 8 epochs (README, transfer table; the weights were our own proxy, not
# COCO's). Change them here and the CLI and the Train panel follow.
TRANSFER = dict(SCRATCH)


def defaults_for(start_from: str) -> dict:
    """The start-dependent defaults of a run starting from ``start_from``."""
    return dict(TRANSFER if start_from == "darknet" else SCRATCH)


def with_start_defaults(config: TrainConfig, keep=()) -> TrainConfig:
    """``config`` with the defaults of its own start.

    A field still at the other start's default moves to this start's (so a
    project's saved from-scratch settings do not carry the scratch rate into a
    darknet run, nor back); a field set to anything else, or named in ``keep``
    (set by the user for this run), stays as it is.
    """
    mine = defaults_for(config.start_from)
    other = defaults_for("scratch" if config.start_from == "darknet" else "darknet")
    changes = {k: v for k, v in mine.items()
               if k not in keep and getattr(config, k) == other[k] and other[k] != v}
    return replace(config, **changes) if changes else config


def describe(start_from: str) -> str:
    """One line naming what a start's defaults are, for the Train panel and the CLI log."""
    d = defaults_for(start_from)
    bn = "fitted to the epoch" if d["bn_momentum"] == 0 else f"{d['bn_momentum']:g}"
    frozen = (f", backbone frozen for {d['freeze_backbone_epochs']} epochs"
              if d["freeze_backbone_epochs"] else "")
    where = "from darknet weights" if start_from == "darknet" else "from scratch"
    return (f"Defaults {where}: learning rate {d['lr_init']:g}, warmup {d['warmup_epochs']:g} "
            f"epochs{frozen}, batch-norm momentum {bn}")
