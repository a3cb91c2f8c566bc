"""Shared by the screenshot scripts: an X server to draw on, and a way to let Qt settle."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time


def start_xvfb(display: str, size: str, who: str = "screenshot") -> subprocess.Popen | None:
    """Start Xvfb on ``display`` unless an X server is already given in $DISPLAY."""
    if os.environ.get("DISPLAY"):
        return None
    if not shutil.which("Xvfb"):
        sys.exit(f"{who}: no $DISPLAY and no Xvfb on PATH; install xvfb or set DISPLAY")
    proc = subprocess.Popen(["Xvfb", display, "-screen", "0", f"{size}x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.environ["DISPLAY"] = display
    time.sleep(1.0)  # Xvfb needs a moment before it accepts clients
    if proc.poll() is not None:
        sys.exit(f"{who}: Xvfb {display} did not start (display in use?)")
    return proc


def settle(app, seconds: float) -> None:
    """Run Qt's event loop for ``seconds`` so pending paints and signals land."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)
