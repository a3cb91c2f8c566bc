"""The short screenshot walk (scripts/walk_training.py --short) under a real X server.

It opens the app as `yolo-studio PROJECT` does, clicks the Train tab and Start
with xdotool at the widgets' on-screen positions, screenshots the screen at
two moments of training, after Stop and after a restart, and judges the PNGs:
the per-batch plots' curve pixels must span the plot and their x range must
cover the data. Skipped where Xvfb, xdotool or ImageMagick's `import` is missing.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS = ("Xvfb", "xdotool", "import")

pytestmark = pytest.mark.skipif(not all(shutil.which(t) for t in TOOLS),
                                reason="needs Xvfb, xdotool and ImageMagick (import)")


def _free_display() -> str:
    for n in range(150, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return f":{n}"
    pytest.skip("no free X display number")


def test_short_walk_shows_curves_across_the_plots(tmp_path):
    out = tmp_path / "walk"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "QT_QPA_PLATFORM")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "walk_training.py"), str(out),
                           "--short", "--display", _free_display()],
                          env=env, capture_output=True, text=True, timeout=900)
    report = json.loads((out / "walk.json").read_text()) if (out / "walk.json").is_file() else {}
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert report["problems"] == []
    names = {shot["png"] for shot in report["shots"]}
    assert {"02-train-tab.png", "04-training-early.png", "05-training-later.png",
            "06-after-stop.png", "07-restart-history.png"} <= names
    for shot in report["shots"]:
        assert (out / shot["png"]).stat().st_size > 10_000      # a real screen, not a blank
    later = [s for s in report["shots"] if s["png"] in ("05-training-later.png", "06-after-stop.png")]
    for shot in later:                              # by then there are many batches
        for plot in ("loss", "lr"):
            pixels = shot["pixels"][plot]
            assert pixels["first"] < 0.1 and pixels["last"] > 0.85, (shot["png"], plot, pixels)
