"""Labeller speed, measured on the real widgets offscreen.

1. Open a folder of 10,000 images -> first image painted on the canvas.
2. Switch to the next 1920x1080 JPEG with 20 boxes (median / p95 over ~30
   switches; back to back, and paced like a fast user so the prefetch of the
   next image can finish), against the peer figure of a bare OpenCV decode.
3. Autosave: a box drawn -> the label file on disk holds it.

Run: python bench/bench_labeller.py [--images 10000] [--switches 30]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402


def make_big_folder(folder: Path, n: int, labelled: bool) -> None:
    """``n`` hard links of one 640x480 JPEG (optionally with a LabelImg XML each)."""
    from yolo_studio.core.annotations import Box, ImageAnnotation
    from yolo_studio.core.formats.voc import voc_xml
    folder.mkdir(parents=True)
    img = np.full((480, 640, 3), 120, np.uint8)
    cv2.rectangle(img, (100, 100), (300, 260), (40, 200, 90), -1)
    src = folder / "img_000000.jpg"
    src.write_bytes(cv2.imencode(".jpg", img)[1].tobytes())
    for i in range(1, n):
        os.link(src, folder / f"img_{i:06d}.jpg")
    if labelled:
        for i in range(n):
            image = folder / f"img_{i:06d}.jpg"
            ann = ImageAnnotation(image, 640, 480, [Box(100, 100, 300, 260, "thing")])
            image.with_suffix(".xml").write_text(voc_xml(ann, image.with_suffix(".xml")))


def make_hd_project(root: Path, n: int, boxes: int = 20) -> None:
    """``n`` different 1920x1080 JPEGs with ``boxes`` VOC boxes each."""
    from yolo_studio.core.annotations import Box, ImageAnnotation
    from yolo_studio.core.project import Project
    project = Project.create(root, ["a", "b", "c"])
    rng = np.random.default_rng(0)
    for i in range(n):
        yy, xx = np.mgrid[0:1080, 0:1920]
        img = np.stack([(xx * (i + 1)) % 256, (yy + 3 * i) % 256, (xx + yy) % 256], -1).astype(np.uint8)
        img = cv2.GaussianBlur(img, (0, 0), 3)
        cv2.add(img, rng.integers(0, 30, img.shape, dtype=np.uint8), img)
        bs = []
        for k in range(boxes):
            x, y = rng.integers(0, 1700), rng.integers(0, 900)
            w, h = rng.integers(30, 200), rng.integers(30, 160)
            cv2.rectangle(img, (int(x), int(y)), (int(x + w), int(y + h)), (255, 255, 255), 3)
            bs.append(Box(float(x), float(y), float(x + w), float(y + h), "abc"[k % 3]))
        path = project.image_dirs[0] / f"hd_{i:03d}.jpg"
        path.write_bytes(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes())
        project.save_annotation(ImageAnnotation(path, 1920, 1080, bs))


PAINTS = [0]


def count_paints() -> None:
    """Count canvas paints, so a figure only stops once the image really was painted."""
    from yolo_studio.gui.labeller.canvas import Canvas
    original = Canvas.drawForeground

    def counted(self, painter, rect):
        PAINTS[0] += 1
        original(self, painter, rect)
    Canvas.drawForeground = counted


def paint(app, panel) -> None:
    """Process events until the canvas has painted once more (as on a real screen)."""
    before = PAINTS[0]
    app.processEvents()
    while PAINTS[0] == before:
        panel.canvas.viewport().repaint()


def bench_open(app, folder: Path) -> tuple[float, float]:
    """(seconds in Project.open + listing, seconds until the first image is painted)."""
    from yolo_studio.core.project import Project
    from yolo_studio.gui.context import AppContext
    from yolo_studio.gui.labeller.panel import LabellerPanel
    t0 = time.perf_counter()
    project = Project.open(folder)
    project.image_paths()
    t1 = time.perf_counter()
    panel = LabellerPanel(AppContext(project))
    panel.resize(1400, 900)
    panel.show()
    paint(app, panel)
    t2 = time.perf_counter()
    assert panel.canvas.has_image(), "no image on screen"
    panel.may_close()
    panel.close()
    panel.deleteLater()
    app.processEvents()
    return t1 - t0, t2 - t0


def bench_switch(app, root: Path, switches: int, pause: float) -> tuple[list[float], list[float]]:
    from yolo_studio.core.images import read_image
    from yolo_studio.core.project import Project
    from yolo_studio.gui.context import AppContext
    from yolo_studio.gui.labeller.panel import LabellerPanel
    panel = LabellerPanel(AppContext(Project.open(root)))
    panel.resize(1400, 900)
    panel.show()
    paint(app, panel)
    times = []
    for _ in range(switches):
        time.sleep(pause)
        app.processEvents()
        t0 = time.perf_counter()
        panel.step(1)
        paint(app, panel)
        times.append(time.perf_counter() - t0)
        assert len(panel.annotation().boxes) == 20
    decode = []
    for p in panel.browser.model.paths()[1:switches + 1]:
        t0 = time.perf_counter()
        read_image(p)
        decode.append(time.perf_counter() - t0)
    panel.close()
    return times, decode


def bench_autosave(app, root: Path, edits: int = 5) -> list[float]:
    """Seconds from an edit (a box drawn) until its label file on disk holds it."""
    from PySide6.QtCore import QPointF, QRectF
    from yolo_studio.core.formats.voc import read_voc
    from yolo_studio.core.project import Project
    from yolo_studio.gui.context import AppContext
    from yolo_studio.gui.labeller.panel import LabellerPanel
    panel = LabellerPanel(AppContext(Project.open(root)))
    panel.show()
    paint(app, panel)
    label = panel.project.label_path(panel.current_path())
    times = []
    for k in range(edits):
        n = len(read_voc(label).boxes)
        t0 = time.perf_counter()
        panel.canvas.boxDrawn.emit(QRectF(QPointF(10 + k, 10), QPointF(60 + k, 60)))
        while len(read_voc(label).boxes) == n:
            app.processEvents()
            time.sleep(0.005)
        times.append(time.perf_counter() - t0)
    panel.close()
    return times


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=10_000)
    ap.add_argument("--switches", type=int, default=30)
    args = ap.parse_args(argv)
    from yolo_studio.gui.app import make_app
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["YOLO_STUDIO_HOME"] = str(Path(tmp) / "home")
        app = make_app()
        count_paints()
        tmp = Path(tmp)
        print(f"cpu cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}, "
              f"python {sys.version.split()[0]}")
        for labelled in (False, True):
            folder = tmp / f"big-{labelled}"
            make_big_folder(folder, args.images, labelled)
            kind = "each with a LabelImg XML" if labelled else "no labels"
            for run in ("first in process", "again"):
                t_project, t = bench_open(app, folder)
                print(f"open folder of {args.images:,} images ({kind}, {run}) -> first image on "
                      f"screen: {t * 1000:.0f} ms, of which Project.open + listing "
                      f"{t_project * 1000:.0f} ms, labeller {(t - t_project) * 1000:.0f} ms")
        make_hd_project(tmp / "hd", args.switches + 1)
        for pause, how in ((0.0, "back to back, D held down"), (0.15, "150 ms apart, a fast user")):
            times, decode = bench_switch(app, tmp / "hd", args.switches, pause)
            med, dmed = statistics.median(times), statistics.median(decode)
            print(f"next image (1920x1080 JPEG, 20 boxes), {len(times)} switches {how}: "
                  f"median {med * 1000:.1f} ms, p95 {p95(times) * 1000:.1f} ms, "
                  f"max {max(times) * 1000:.1f} ms")
            print(f"  peer: OpenCV decode alone of the same JPEGs: median {dmed * 1000:.1f} ms "
                  f"-> a switch costs {med / dmed:.2f}x a bare decode")
        saves = bench_autosave(app, tmp / "hd")
        print(f"autosave: edit -> on disk (no Save pressed), {len(saves)} edits: "
              f"median {statistics.median(saves) * 1000:.0f} ms, max {max(saves) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
