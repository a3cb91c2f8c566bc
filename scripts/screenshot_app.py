"""Screenshot of the labeller on the demo project, for the README.

Runs the real app window under an X server: the one in $DISPLAY, or an Xvfb
this script starts on --display (and stops again). The demo project is built
in a throwaway user folder unless --home is given, so the picture does not
depend on anyone's settings.

    python scripts/screenshot_app.py [--out docs/screenshots/labeller.png]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def start_xvfb(display: str, size: str) -> subprocess.Popen | None:
    """Start Xvfb on ``display`` unless an X server is already given in $DISPLAY."""
    if os.environ.get("DISPLAY"):
        return None
    if not shutil.which("Xvfb"):
        sys.exit("screenshot_app: no $DISPLAY and no Xvfb on PATH; install xvfb or set DISPLAY")
    proc = subprocess.Popen(["Xvfb", display, "-screen", "0", f"{size}x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.environ["DISPLAY"] = display
    time.sleep(1.0)  # Xvfb needs a moment before it accepts clients
    if proc.poll() is not None:
        sys.exit(f"screenshot_app: Xvfb {display} did not start (display in use?)")
    return proc


def pick_image(panel, min_boxes: int = 4):
    """The first image with at least ``min_boxes`` boxes of two or more classes."""
    project = panel.project
    for path in project.image_paths():
        boxes = project.load_annotation(path).boxes
        if len(boxes) >= min_boxes and len({b.label for b in boxes}) >= 2:
            return path
    return project.image_paths()[0]


def settle(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Save a screenshot of the labeller.")
    ap.add_argument("--out", default=str(REPO / "docs" / "screenshots" / "labeller.png"))
    ap.add_argument("--display", default=":90", help="Xvfb display to start if $DISPLAY is unset")
    ap.add_argument("--size", default="1400x900", help="window size, WxH")
    ap.add_argument("--home", help="user data folder (default: a temporary one)")
    args = ap.parse_args(argv)
    w, h = (int(v) for v in args.size.split("x"))
    xvfb = start_xvfb(args.display, f"{w + 200}x{h + 200}")
    tmp = tempfile.TemporaryDirectory()
    os.environ["YOLO_STUDIO_HOME"] = args.home or tmp.name
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    try:
        from yolo_studio.core.demo import ensure_demo_project
        from yolo_studio.core.project import Project
        from yolo_studio.gui.app import make_app
        from yolo_studio.gui.context import AppContext
        from yolo_studio.gui.main_window import MainWindow
        app = make_app()
        window = MainWindow(AppContext(Project.open(ensure_demo_project())))
        window.resize(w, h)
        window.show()
        settle(app, 0.5)
        panel = window.labeller
        panel.show_image(pick_image(panel))
        panel.canvas.select([1])
        panel.canvas.setFocus()
        settle(app, 0.5)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(out)):
            sys.exit(f"screenshot_app: could not write {out}")
        print(f"wrote {out} ({w}x{h})")
        window.close()
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(timeout=10)
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
