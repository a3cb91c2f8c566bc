"""The short scripted walk (scripts/gui_walk.py): real X server, real mouse and keys.

Runs when Xvfb, xdotool and ImageMagick's import are installed (CI installs
them), skipped otherwise. The walk clicks at coordinates the app reports,
checks the label files after each action, and leaves PNGs and walk.md in the
test's temporary folder.
"""
from __future__ import annotations

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


def test_short_walk_passes_every_check(tmp_path):
    out = tmp_path / "walk"
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)   # the walk's app draws on its own Xvfb, not offscreen
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "gui_walk.py"), "--short",
                             "--out", str(out)], env=env, capture_output=True, text=True,
                            timeout=600)
    report = (out / "walk.md").read_text(encoding="utf-8") if (out / "walk.md").exists() else ""
    assert result.returncode == 0, report + result.stdout[-3000:] + result.stderr[-3000:]
    assert "FAIL" not in report and report.count("| OK |") >= 20
    assert len(list(out.glob("*.png"))) >= 10
