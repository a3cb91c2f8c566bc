"""Open a COCO-train2017-sized dataset in place; print open, memory, list and anchor figures.

Usage: nice -n 10 python bench/bench_coco_scale.py [--fraction 1.0] [--keep DIR]

Generates a synthetic COCO dataset (COCO train2017's sizes: 118,287 images,
860,001 boxes, 80 categories with COCO's ids 1-90, polygon segmentations of
about COCO's length, so the instances JSON is about 450 MB at fraction 1.0)
with one tiny JPEG hard-linked per image. Each measurement runs in a fresh
child process, so its peak memory (ru_maxrss) is its own:

* open (cold): Project.open + image list + first image's boxes + its pixels,
  with an empty per-user cache (the JSON is walked); open (cached): the same
  again, from the columns the first open cached;
* labeller (cold) and (cached): the real LabellerPanel, offscreen, from
  Project.open to its first image shown with its boxes, with an empty
  per-user cache and then from the columns cached;
* scroll: load_annotation for 30 consecutive rows (one screen), median of 20;
* jump: row of a path + its annotation, median of 50;
* filter by class: what the labeller's class filter does (browser.apply_filter:
  the model's class index, then the real ImageFilter proxy over all rows),
  for two classes, then clearing it; and the index's answer alone;
* anchors: what ``yolo-studio anchors`` and the Anchors panel run
  (anchor_fit.load_boxes from the dataset's box columns, then fit_and_measure,
  k=9) on every box; beside it, its peer the Box-object road (load_all +
  collect_box_sizes), as a ratio;
* save: one box of the first image moved by a pixel and saved (the JSON
  spliced; the first save also finds each annotation's place in the text),
  then moved back and saved again;
* stream: the trainer's load_samples over the train split, then the tf.data
  pipeline (DataSource, 416 px, batch 16): time to the first batch, images/s
  over the next 20 batches, and peak memory (images are read as batches need
  them, never all at once).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

IMAGES, BOXES = 118_287, 860_001
COCO_IDS = [i for i in range(1, 91) if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]


def generate(root: Path, fraction: float, seed: int = 0) -> tuple[int, int]:
    """The dataset under ``root``; returns (images, boxes)."""
    n_img, n_box = max(2, int(IMAGES * fraction)), max(2, int(BOXES * fraction))
    rng = random.Random(seed)
    folder = root / "train2017"
    folder.mkdir(parents=True, exist_ok=True)
    pixels = np.full((48, 64, 3), 120, np.uint8)
    tinies = []
    (root / "annotations").mkdir(exist_ok=True)
    with open(root / "annotations" / "instances_train2017.json", "w") as f:
        f.write('{"info": {"description": "synthetic COCO-sized"}, "licenses": [], "images": [')
        for i in range(n_img):
            name = f"{i + 1:012d}.jpg"
            if i % 50_000 == 0:     # file systems cap the links to one file (ext4: 65,000)
                tinies.append(root / f"tiny{i}.jpg")
                cv2.imwrite(str(tinies[-1]), pixels)
            os.link(tinies[-1], folder / name)
            f.write(("," if i else "") + json.dumps({"license": 1, "file_name": name, "height": 480,
                                                     "width": 640, "id": i + 1}))
        f.write('], "annotations": [')
        for k in range(n_box):
            x, y = rng.uniform(0, 500), rng.uniform(0, 380)
            w, h = rng.uniform(4, 140), rng.uniform(4, 100)
            seg = [round(rng.uniform(x, x + w), 2) for _ in range(46)]
            f.write(("," if k else "") + json.dumps(
                {"segmentation": [seg], "area": round(w * h, 2), "iscrowd": int(k % 100 == 0),
                 "image_id": rng.randrange(n_img) + 1, "bbox": [round(x, 2), round(y, 2), round(w, 2),
                                                                 round(h, 2)],
                 "category_id": rng.choice(COCO_IDS), "id": k + 1}))
        f.write('], "categories": [')
        f.write(",".join(json.dumps({"supercategory": "s", "id": c, "name": f"class{c}"}) for c in COCO_IDS))
        f.write("]}")
    for tiny in tinies:
        tiny.unlink()
    return n_img, n_box


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def labeller(root: Path) -> dict:
    """The real labeller panel (offscreen) from Project.open to its first image shown with its boxes."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication
    from yolo_studio.core.project import Project
    from yolo_studio.gui.context import AppContext
    from yolo_studio.gui.labeller.panel import LabellerPanel
    app = QApplication.instance() or QApplication([])
    t, c = time.perf_counter(), time.process_time()
    panel = LabellerPanel(AppContext(Project.open(root)))
    panel.resize(1000, 650)
    panel.show()
    while panel.current_path() is None or panel.annotation() is None:
        app.processEvents()
    app.processEvents()
    return {"labeller_first_image_s": time.perf_counter() - t, "labeller_cpu_s": time.process_time() - c,
            "labeller_boxes": len(panel.annotation().boxes), "labeller_rss_mb": _rss_mb()}


def measure(root: Path, what: str) -> dict:
    """One measurement in this (fresh) process."""
    if what == "labeller":
        return labeller(root)
    from yolo_studio.core.images import read_image
    from yolo_studio.core.project import Project
    t0, c0 = time.perf_counter(), time.process_time()
    project = Project.open(root)
    paths = project.image_paths()
    first = project.load_annotation(paths[0])
    read_image(paths[0])
    out = {"open_s": time.perf_counter() - t0, "open_cpu_s": time.process_time() - c0,
           "open_rss_mb": _rss_mb(), "images": len(paths),
           "first_boxes": len(first.boxes)}
    if what == "open":
        return out
    if what == "list":
        rng = random.Random(1)
        scroll, jump = [], []
        for _ in range(20):
            start = rng.randrange(len(paths) - 30)
            t = time.perf_counter()
            for p in paths[start:start + 30]:
                project.has_labels(p)
                project.load_annotation(p)
            scroll.append(time.perf_counter() - t)
        index = {p: i for i, p in enumerate(paths)}
        for _ in range(50):
            p = paths[rng.randrange(len(paths))]
            t = time.perf_counter()
            index[p]
            project.load_annotation(p)
            jump.append(time.perf_counter() - t)
        out.update(scroll_ms=statistics.median(scroll) * 1e3, jump_ms=statistics.median(jump) * 1e3,
                   **_class_filter(project))
    if what == "anchors":
        from yolo_studio.core.anchor_fit import FitRequest, LoadedLabels, fit_and_measure, load_boxes
        from yolo_studio.core.anchors import collect_box_sizes
        t, c = time.perf_counter(), time.process_time()
        result = load_boxes(project, FitRequest("yolov3", 416, 9))
        t_load = time.perf_counter() - t
        fit_and_measure(project, result)
        out.update(anchors_boxes=len(result.wh), anchors_load_s=t_load,
                   anchors_total_s=time.perf_counter() - t, anchors_cpu_s=time.process_time() - c)
        t = time.perf_counter()
        sizes = collect_box_sizes(LoadedLabels(*project.load_all()).annotations, 416)
        peer = time.perf_counter() - t
        assert np.array_equal(sizes.wh, result.wh)
        out.update(box_objects_load_s=peer, load_speedup=peer / t_load, anchors_rss_mb=_rss_mb())
    if what == "save":
        ann = project.load_annotation(paths[0])
        for step in (1.0, -1.0):      # one box moved by a pixel, then back
            ann.boxes[0] = ann.boxes[0].moved(x1=ann.boxes[0].x1 + step, x2=ann.boxes[0].x2 + step)
            t, c = time.perf_counter(), time.process_time()
            project.save_annotation(ann)
            which = "first_save" if step > 0 else "second_save"
            out[f"{which}_s"], out[f"{which}_cpu_s"] = time.perf_counter() - t, time.process_time() - c
        out["save_rss_mb"] = _rss_mb()
    if what == "stream":
        from yolo_studio.core.model_family import family
        from yolo_studio.core.training.pipeline import DataSource, load_samples
        train, _val = project.split()
        t = time.perf_counter()
        samples, _problems = load_samples(project, train, project.classes)
        t_samples = time.perf_counter() - t
        source = DataSource(samples, len(project.classes), 416, family("yolov3").default_anchors,
                            list(family("yolov3").strides))
        it = iter(source.dataset(0, 16, train=True))
        t = time.perf_counter()
        next(it)
        first = time.perf_counter() - t
        t = time.perf_counter()
        for _ in range(20):
            next(it)
        out.update(samples=len(samples), samples_s=t_samples, first_batch_s=first,
                   images_per_s=20 * 16 / (time.perf_counter() - t), stream_rss_mb=_rss_mb())
    return out


def _class_filter(project) -> dict:
    """The labeller's class filter on every row, timed as browser.apply_filter runs it."""
    from PySide6.QtCore import QCoreApplication
    from yolo_studio.gui.labeller.image_filter import ImageFilter
    from yolo_studio.gui.labeller.image_list import ImageListModel
    _app = QCoreApplication.instance() or QCoreApplication([])
    model, proxy = ImageListModel(), ImageFilter()
    model.set_project(project)
    proxy.setSourceModel(model)
    out = {}
    for name in ("class1", "class2", ""):
        t, c = time.perf_counter(), time.process_time()
        if name:
            model.class_index(name)              # apply_filter asks which rows need reading
        proxy.set_filter(cls=name)
        shown = proxy.rowCount()
        out[f"filter_{name or 'cleared'}_ms"] = (time.perf_counter() - t) * 1e3
        out[f"filter_{name or 'cleared'}_cpu_ms"] = (time.process_time() - c) * 1e3
        out[f"filter_{name or 'cleared'}_rows"] = shown
    t = time.perf_counter()
    project.images_with_class("class3")
    out["class_index_ms"] = (time.perf_counter() - t) * 1e3
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fraction", type=float, default=1.0, help="of COCO train2017's size (default 1.0)")
    ap.add_argument("--keep", help="generate into (or reuse) this folder instead of a temporary one")
    ap.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(Path(args.measure[0]), args.measure[1])))
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep or tmp)
        t = time.perf_counter()
        if not (root / "annotations").is_dir():
            n_img, n_box = generate(root, args.fraction)
            size = (root / "annotations" / "instances_train2017.json").stat().st_size / 1e6
            print(f"generated {n_img} images, {n_box} boxes, instances JSON {size:.0f} MB "
                  f"in {time.perf_counter() - t:.0f} s (fraction {args.fraction} of train2017)")
        home = Path(tmp) / "home"     # an empty per-user folder: the first open is cold
        for what, label in (("labeller", "labeller (cold)"), ("open", "open (cold)"), ("open", "open (cached)"),
                            ("labeller", "labeller (cached)"), ("list", "list"),
                            ("anchors", "anchors"), ("save", "save"),
                            ("stream", "stream")):
            # the cold labeller gets a folder of its own; the cold open fills ``home``, which
            # every later run reads (before, "open (cached)" was the first run in ``home``: cold)
            here = Path(tmp) / "home-cold" if label == "labeller (cold)" else home
            r = subprocess.run([sys.executable, __file__, "--measure", str(root), what],
                               capture_output=True, text=True, env={**os.environ, "YOLO_STUDIO_HOME": str(here)})
            if r.returncode:
                print(f"{label}: failed\n{r.stderr[-2000:]}")
                continue
            print(label, json.dumps({k: round(v, 3) if isinstance(v, float) else v
                                    for k, v in json.loads(r.stdout).items()}))


if __name__ == "__main__":
    main()
