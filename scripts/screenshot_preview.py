"""Screenshot of the preview panel playing a video with live detections -> docs/screenshots/preview.png.

Runs under an X server: the one in $DISPLAY, or an Xvfb this script starts on
--display (and stops again). The model is a real one: pass --model with a
checkpoint trained on the demo project, or let the script train yolov3-tiny
on a fresh demo project first (about 15 minutes on 2 CPU cores at the
defaults). The video is written here: the demo's shapes moving over a
low-saturation background.

    python scripts/screenshot_preview.py [--model runs/.../weights/best] [--out ...]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from xdisplay import settle, start_xvfb  # noqa: E402
# The demo project's colours (BGR), so a model trained on it recognises them.
RED, GREEN, BLUE = (40, 40, 215), (45, 185, 45), (215, 105, 30)



def write_demo_video(path: Path, n: int = 150, size=(640, 480), fps: int = 15) -> Path:
    """Shapes in the demo's colours drifting over a soft, low-saturation background."""
    w, h = size
    rng = np.random.default_rng(5)
    base = cv2.GaussianBlur(rng.integers(120, 200, (h, w, 3), dtype=np.uint8), (0, 0), 25)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    for i in range(n):
        img = base.copy()
        cv2.circle(img, (110 + i, 130), 55, RED, -1)
        cv2.rectangle(img, (400, 60 + i // 2), (520, 180 + i // 2), GREEN, -1)
        tri = np.array([[200, 440], [290, 290], [380, 440]]) + [i // 2, -i // 4]
        cv2.fillPoly(img, [tri.astype(np.int32)], BLUE)
        cv2.circle(img, (560 - i // 2, 380), 35, RED, -1)
        writer.write(img)
    writer.release()
    return path


def train_demo_model(root: Path, epochs: int, input_size: int) -> Path:
    """Train yolov3-tiny on a fresh demo project; returns its best checkpoint."""
    from yolo_studio.core.demo import generate_demo_project
    from yolo_studio.core.project import Project
    from yolo_studio.core.training import runs
    from yolo_studio.core.training.events import TrainConfig
    from yolo_studio.core.training.trainer import Trainer

    project = Project.open(generate_demo_project(root, n_images=160, seed=3,
                                                 min_size=160, max_size=320))
    config = TrainConfig(model="yolov3-tiny", input_size=input_size, batch_size=8,
                         epochs=epochs, warmup_epochs=1, lr_init=1e-3, map_every=5)
    print(f"training yolov3-tiny at {input_size} px for {epochs} epochs ...", flush=True)
    Trainer(project, config).run()
    return runs.latest_checkpoint(project, "best")



def shoot(args, model: Path, video: Path, project_root: Path | None) -> None:
    from yolo_studio.core.project import Project
    from yolo_studio.gui.app import make_app
    from yolo_studio.gui.context import AppContext
    from yolo_studio.gui.preview.panel import PreviewPanel

    app = make_app()
    project = Project.open(project_root) if project_root else None
    panel = PreviewPanel(AppContext(project))
    panel.setWindowTitle("YOLO Studio \u2014 Preview")
    w, h = (int(v) for v in args.size.split("x"))
    panel.resize(w, h)
    panel.show()
    panel.source_picker.set_kind("video")
    panel.source_picker.video_path.setText(str(video))
    panel.source_picker.loop.setChecked(True)
    panel.model_picker.choose_file(model)
    panel.score_slider.setValue(args.score)
    panel.start()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (
            panel.stats.frames_shown >= 25 and len(panel.view.detections) >= 3):
        settle(app, 0.1)
    settle(app, 0.2)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not panel.grab().save(str(out)):
        sys.exit(f"screenshot_preview: could not write {out}")
    print(f"wrote {out} ({w}x{h}), {len(panel.view.detections)} detections on screen")
    panel.shutdown()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(REPO / "docs" / "screenshots" / "preview.png"))
    ap.add_argument("--model", help="checkpoint to use (default: train one on the demo project)")
    ap.add_argument("--epochs", type=int, default=30, help="training epochs when no --model")
    ap.add_argument("--input-size", type=int, default=192, help="training input size")
    ap.add_argument("--score", type=float, default=0.4, help="score threshold on screen")
    ap.add_argument("--display", default=":93", help="Xvfb display to start if $DISPLAY is unset")
    ap.add_argument("--size", default="1280x720", help="panel size, WxH")
    args = ap.parse_args(argv)
    xvfb = start_xvfb(args.display, "1600x1000", "screenshot_preview")
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    tmp = tempfile.TemporaryDirectory()
    os.environ["YOLO_STUDIO_HOME"] = str(Path(tmp.name) / "home")
    try:
        root = Path(tmp.name) / "demo"
        model = Path(args.model) if args.model else train_demo_model(root, args.epochs,
                                                                      args.input_size)
        video = write_demo_video(Path(tmp.name) / "shapes.avi")
        shoot(args, model, video, root if root.exists() else None)
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(timeout=10)
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
