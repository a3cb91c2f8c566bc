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
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from xdisplay import settle, start_xvfb  # noqa: E402



def pick_image(panel, min_boxes: int = 4):
    """The first image with at least ``min_boxes`` boxes of two or more classes."""
    project = panel.project
    for path in project.image_paths():
        boxes = project.load_annotation(path).boxes
        if len(boxes) >= min_boxes and len({b.label for b in boxes}) >= 2:
            return path
    return project.image_paths()[0]



def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Save a screenshot of the labeller.")
    ap.add_argument("--out", default=str(REPO / "docs" / "screenshots" / "labeller.png"))
    ap.add_argument("--display", default=":90", help="Xvfb display to start if $DISPLAY is unset")
    ap.add_argument("--size", default="1400x900", help="window size, WxH")
    ap.add_argument("--home", help="user data folder (default: a temporary one)")
    args = ap.parse_args(argv)
    w, h = (int(v) for v in args.size.split("x"))
    xvfb = start_xvfb(args.display, f"{w + 200}x{h + 200}", "screenshot_app")
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
