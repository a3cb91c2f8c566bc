"""Throughput and time-left estimates for the per-batch reports."""
from __future__ import annotations

import time


class Progress:
    """Smoothed seconds per step; the first step (tracing, compiling) is left out."""

    def __init__(self, batch_size: int, smoothing: float = 0.1):
        self.batch_size = batch_size
        self.smoothing = smoothing
        self.step_seconds: float | None = None
        self.val_seconds = 0.0
        self._last: float | None = None
        self._skip = 1

    def start(self) -> None:
        """Call before each epoch's first step: time spent between epochs is not step time."""
        self._last = time.monotonic()
        self._skip = 1

    def tick(self) -> None:
        """Call after each step."""
        now = time.monotonic()
        dt = now - (self._last or now)
        self._last = now
        if self._skip:
            self._skip -= 1
            if self.step_seconds is None:
                self.step_seconds = dt
            return
        s = self.smoothing if self.step_seconds is not None else 1.0
        self.step_seconds = dt if self.step_seconds is None else (1 - s) * self.step_seconds + s * dt

    @property
    def images_per_sec(self) -> float:
        return self.batch_size / self.step_seconds if self.step_seconds else 0.0

    def eta(self, steps_left: int, epochs_left: int) -> float:
        """Seconds to the end: steps left at the current pace plus the validations left."""
        return steps_left * (self.step_seconds or 0.0) + epochs_left * self.val_seconds
