"""Screenshot of the training panel mid-training on the demo project -> docs/screenshots/training.png.

Run under a real X server so fonts and styles are the ones users get, e.g.
`Xvfb :92 -screen 0 1600x1000x24 & DISPLAY=:92 python scripts/screenshot_training.py`.
It trains YOLOv3-tiny for real on a fresh demo project and grabs the window
once a few epochs (with mAP points) are on the plots.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    """Train on a fresh demo project and save the window mid-training."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(REPO / "docs" / "screenshots" / "training.png"))
    p.add_argument("--epochs-before-shot", type=int, default=4)
    p.add_argument("--input-size", type=int, default=128)
    args = p.parse_args(argv)

    from PySide6.QtCore import QEventLoop, QTimer

    from yolo_studio.core.demo import generate_demo_project
    from yolo_studio.core.project import Project
    from yolo_studio.core.training.events import TrainConfig
    from yolo_studio.gui.app import make_app
    from yolo_studio.gui.context import AppContext

    app = make_app()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["YOLO_STUDIO_HOME"] = str(Path(tmp) / "home")   # no recent-files litter
        root = generate_demo_project(Path(tmp) / "demo", n_images=96, seed=7,
                                     min_size=160, max_size=320)
        context = AppContext(Project.open(root))
        window, panel = _window(context)
        window.resize(1440, 900)
        window.show()
        panel.form.set_config(TrainConfig(model="yolov3-tiny", input_size=args.input_size,
                                          batch_size=8, epochs=30, warmup_epochs=1,
                                          lr_init=1e-3, augment=True))
        loop = QEventLoop()
        epochs = []
        panel.runEnded.connect(lambda r: loop.quit())

        def on_epoch(report):
            epochs.append(report)
            if len(epochs) >= args.epochs_before_shot:
                # a few more batches so the progress bar and loss show mid-epoch
                QTimer.singleShot(4000, loop.quit)

        panel.epochReported.connect(on_epoch)
        panel.start()
        loop.exec()
        panel.plots.flush()
        app.processEvents()
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        ok = window.grab().save(str(out))
        panel.stop()
        panel.wait_for_workers()
        window.close()
    print(f"{'saved' if ok else 'FAILED to save'} {out} after {len(epochs)} epochs")
    return 0 if ok else 1


def _window(context):
    """The full main window on its Train tab if it can be built, else the panel alone."""
    try:
        from yolo_studio.gui.main_window import MainWindow
        window = MainWindow(context)
        panel = next(p for p in window.panels if type(p).__name__ == "TrainingPanel")
        window.tabs.setCurrentWidget(panel)
        return window, panel
    except Exception as e:  # noqa: BLE001 - another room's window still being built
        print(f"main window unavailable ({e}); shooting the panel alone", file=sys.stderr)
        from yolo_studio.gui.training.panel import TrainingPanel
        panel = TrainingPanel(context)
        return panel, panel


if __name__ == "__main__":
    sys.exit(main())
