"""The progress bar's text: epoch, step, speed and time left."""
from __future__ import annotations

import math


def format_duration(seconds: float) -> str:
    """3725 -> '1h 02m', 125 -> '2m 05s', 7 -> '7s'; unknown -> '–'."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "–"
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s}s"


def progress_text(r) -> str:
    """One line for a BatchReport, e.g. 'Epoch 3/30 · step 12/40 · 51.2 img/s · 4m 10s left'."""
    spe = max(r.steps_per_epoch, 1)
    epochs = max(1, math.ceil(r.total_steps / spe))
    in_epoch = r.step - r.epoch * spe
    if not 0 < in_epoch <= spe:
        in_epoch = (r.step - 1) % spe + 1
    return (f"Epoch {r.epoch + 1}/{epochs} · step {in_epoch}/{spe} · "
            f"{r.images_per_sec:.1f} img/s · {format_duration(r.eta_seconds)} left")
