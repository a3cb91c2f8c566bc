"""Rolling preview figures: frames shown per second and per-frame latencies (no Qt)."""
from __future__ import annotations

import time
from collections import deque

import numpy as np


class PreviewStats:
    """FPS over the last ``window_s`` seconds and latency percentiles over recent frames."""

    def __init__(self, window_s: float = 2.0, recent: int = 120):
        self.window_s = window_s
        self._shown = deque()
        self._recent = {k: deque(maxlen=recent) for k in ("grab", "infer", "draw", "latency")}
        self.backend = ""
        self.frames_shown = 0
        self.dropped = 0
        # Whole-session grab->paint latencies, for the bench's percentiles.
        self.all_latency_ms: list[float] = []

    def reset(self) -> None:
        """Forget everything (a new Start)."""
        self.__init__(self.window_s, self._recent["grab"].maxlen)

    def frame(self, grab_ms: float, infer_ms: float, dropped: int, backend: str = "") -> None:
        """A detected frame reached the GUI (``backend``: the runtime that ran it)."""
        self.backend = backend or self.backend
        self._recent["grab"].append(grab_ms)
        self._recent["infer"].append(infer_ms)
        self.dropped = dropped

    def painted(self, draw_ms: float, latency_ms: float, now: float | None = None) -> None:
        """A new frame was painted: its draw time and grab->paint latency."""
        now = time.perf_counter() if now is None else now
        self._shown.append(now)
        while self._shown and now - self._shown[0] > self.window_s:
            self._shown.popleft()
        self._recent["draw"].append(draw_ms)
        self._recent["latency"].append(latency_ms)
        self.all_latency_ms.append(latency_ms)
        self.frames_shown += 1

    def fps(self) -> float:
        """Frames painted per second over the recent window."""
        if len(self._shown) < 2:
            return 0.0
        span = self._shown[-1] - self._shown[0]
        return (len(self._shown) - 1) / span if span > 0 else 0.0

    def median(self, key: str) -> float:
        """Median of a recent series ('grab', 'infer', 'draw', 'latency'), 0 when empty."""
        values = self._recent[key]
        return float(np.median(values)) if values else 0.0

    def summary_lines(self) -> list[str]:
        """The on-screen figures, one short line each."""
        return [f"{self.fps():5.1f} fps shown   dropped {self.dropped}",
                f"grab+prep {self.median('grab'):.1f} ms   model {self.median('infer'):.1f} ms"
                f"{' (' + self.backend + ')' if self.backend else ''}   draw {self.median('draw'):.1f} ms",
                f"grab-to-paint {self.median('latency'):.0f} ms"]
