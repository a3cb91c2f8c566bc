"""Screenshot of the Anchors panel after a fit on the demo project -> docs/screenshots/anchors.png.

Run under a real X server so fonts and styles are the ones users get, e.g.
`Xvfb :91 -screen 0 1600x1000x24 & DISPLAY=:91 python scripts/screenshot_anchors.py`
(without DISPLAY it falls back to Qt's offscreen platform).
"""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(REPO / "docs" / "screenshots" / "anchors.png"))
    p.add_argument("--images", type=int, default=300)
    p.add_argument("--linear", action="store_true", help="linear axes (default: log axes, which show "
                   "small boxes and COCO's largest anchor on one screen)")
    args = p.parse_args(argv)
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    import numpy as np

    from yolo_studio.core.demo import generate_demo_project
    from yolo_studio.core.project import Project
    from yolo_studio.gui.anchors.panel import AnchorsPanel
    from yolo_studio.gui.app import make_app
    from yolo_studio.gui.context import AppContext

    app = make_app()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["YOLO_STUDIO_HOME"] = str(Path(tmp) / "home")
        root = generate_demo_project(Path(tmp) / "demo", n_images=args.images, seed=0)
        context = AppContext(Project.open(root))
        panel = AnchorsPanel(context)
        panel.setWindowTitle("YOLO Studio — Anchors")
        panel.resize(1280, 780)
        panel.show()
        _wait(app, lambda: panel.result is not None)     # the boxes load when the panel shows
        panel.log_check.setChecked(not args.linear)
        panel.run()
        _wait(app, lambda: not panel.is_running())
        r = panel.result
        # Ring the box its anchor fits worst: the kind of outlier worth a look in the labeller.
        panel.select_box(int(np.argmin([_iou(r, i) for i in range(len(r.wh))])))
        for _ in range(10):
            app.processEvents()
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        panel.grab().save(str(out))
        print(f"saved {out} ({len(r.wh)} boxes, mean IoU fitted {r.metrics['fitted'].mean_iou:.3f})")
        panel.may_close()
    return 0


def _iou(result, i: int) -> float:
    from yolo_studio.core.anchors import mean_best_iou
    return mean_best_iou(result.wh[i:i + 1], result.sets[result.main_set])


def _wait(app, done, timeout_s: float = 60.0) -> None:
    import time
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the anchors panel did not finish in time")
        app.processEvents()
        time.sleep(0.01)


if __name__ == "__main__":
    raise SystemExit(main())
