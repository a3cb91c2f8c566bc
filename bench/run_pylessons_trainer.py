"""Run the real pylessons TensorFlow-2.x-YOLOv3 trainer on bench_recipe's digits project.

A side-by-side check of bench_recipe's "tutorial recipe" row (issue 11): the
tutorial's own train.py, YOLOv3-tiny from scratch on the same digits images
and split, then its own evaluate_mAP and our evaluator on its detections.
Two Pythons take part: ours (yolo_studio importable) writes the lists and
scores the detections; the tutorial's (tensorflow + tf-keras + tensorboard +
opencv, run with TF_USE_LEGACY_KERAS=1) trains and detects.

Usage (from our repository root, PYTHONPATH=. ):
  python bench/run_pylessons_trainer.py run TUTORIAL_CHECKOUT WORK_DIR TUTORIAL_PYTHON \
      [--images 480 --size 192 --glyph-px 12 80 --epochs 8 --warmup 2 --lr 1e-4 --score 0.001]
TUTORIAL_CHECKOUT is a copy of the tutorial's files (train.py, evaluate_mAP.py, yolov3/);
it is copied to WORK_DIR/tut-lrX, whose yolov3/configs.py is the only file edited.
The subcommands `lists`, `detect` and `score` are the steps `run` chains.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

# numpy >= 1.24 removed np.float, which the tutorial's dataset.py uses; nothing else changes.
SHIM = "import numpy as np, runpy, sys; np.float = float; sys.argv = sys.argv[1:]; " \
       "runpy.run_path(sys.argv[0], run_name='__main__')"


def lists(out: Path, images: int, size: int, glyph_px) -> None:
    """bench_recipe's digits project (same generator, arguments, seed 0, split) as pylessons lists."""
    from yolo_studio.core import demo_digits
    from yolo_studio.core.demo import generate_demo_project
    from yolo_studio.core.formats.pylessons import write_pylessons
    from yolo_studio.core.project import Project

    root = out / "digits"
    if not (root / "yolo_studio.json").is_file():
        demo_digits.REFERENCE_SIDE = size  # as bench_recipe does with --glyph-px
        demo_digits.GLYPH_HEIGHT = tuple(glyph_px)
        generate_demo_project(root, n_images=images, seed=0, min_size=size, max_size=size,
                              kind="digits")
    project = Project.open(root)
    for split, imgs in zip(("train", "val"), project.split()):
        anns = [project.load_annotation(i) for i in imgs]
        write_pylessons(anns, list(project.classes), out / f"{split}.txt", out / "digits.names",
                        absolute=True)
        print(f"{split}: {len(anns)} images, {sum(len(a.boxes) for a in anns)} boxes")


def configure(tut: Path, data: Path, size: int, epochs: int, warmup: float, lr: float) -> None:
    """Edit the copy's configs.py: tiny, from scratch, our data; its own defaults otherwise."""
    cfg = tut / "yolov3" / "configs.py"
    text = cfg.read_text()
    values = {"YOLO_INPUT_SIZE": size, "TRAIN_INPUT_SIZE": size, "TEST_INPUT_SIZE": size,
              "TRAIN_YOLO_TINY": True, "TRAIN_TRANSFER": False, "TRAIN_FROM_CHECKPOINT": False,
              "TRAIN_EPOCHS": epochs, "TRAIN_WARMUP_EPOCHS": warmup, "TRAIN_LR_INIT": lr,
              "TRAIN_BATCH_SIZE": 4, "TRAIN_CLASSES": str(data / "digits.names"),
              "TRAIN_ANNOT_PATH": str(data / "train.txt"), "TEST_ANNOT_PATH": str(data / "val.txt")}
    for key, value in values.items():
        text, n = re.subn(rf"^({key}[ \t]*=[ \t]*)[^#\n]*?(?=[ \t]*(#|$))",
                          lambda m: f"{m.group(1)}{value!r}", text, flags=re.M)
        if n != 1:
            raise SystemExit(f"{cfg}: expected one line setting {key}, found {n}")
    cfg.write_text(text)


def detect(weights: str, score: float, out: str) -> None:
    """(tutorial's Python, cwd = its copy) its get_mAP, then its detections on every val image."""
    import cv2
    import numpy as np
    import tensorflow as tf
    np.float = float  # as SHIM does for train.py
    sys.path.insert(0, os.getcwd())
    from evaluate_mAP import get_mAP
    from yolov3.configs import (TEST_ANNOT_PATH, TEST_INPUT_SIZE, TEST_IOU_THRESHOLD,
                                TRAIN_CLASSES, YOLO_INPUT_SIZE)
    from yolov3.dataset import Dataset
    from yolov3.utils import image_preprocess, nms, postprocess_boxes
    from yolov3.yolov4 import Create_Yolo

    model = Create_Yolo(input_size=YOLO_INPUT_SIZE, CLASSES=TRAIN_CLASSES)
    model.load_weights(weights)
    m = get_mAP(model, Dataset("test", TEST_INPUT_SIZE=TEST_INPUT_SIZE), score_threshold=score,
                iou_threshold=TEST_IOU_THRESHOLD)
    print(f"tutorial get_mAP, score threshold {score}, NMS IoU {TEST_IOU_THRESHOLD}: {m:.2f}%")
    dets = {}
    for line in Path(TEST_ANNOT_PATH).read_text().splitlines():
        path = line.split()[0]
        img = cv2.imread(path)  # BGR, as its Dataset feeds the model (its cvtColor is commented out)
        x = image_preprocess(np.copy(img), [TEST_INPUT_SIZE] * 2)[None].astype(np.float32)
        pred = tf.concat([tf.reshape(t, (-1, tf.shape(t)[-1])) for t in model(x)], axis=0)
        boxes = nms(postprocess_boxes(pred, img, TEST_INPUT_SIZE, score), TEST_IOU_THRESHOLD)
        dets[path] = [[float(v) for v in b[:5]] + [int(b[5])] for b in boxes]
    Path(out).write_text(json.dumps({"tutorial_map50_percent": m, "score_threshold": score,
                                     "detections": dets}))


def score(data: Path, det_json: Path) -> None:
    """Our evaluator (VOC all-point mAP@0.5) on the tutorial's detections, every val image."""
    from yolo_studio.core.annotations import Detection
    from yolo_studio.core.evaluation import evaluate
    from yolo_studio.core.project import Project

    project = Project.open(data / "digits")
    found = json.loads(det_json.read_text())
    by_path = {Path(p).resolve(): v for p, v in found["detections"].items()}
    names = list(project.classes)
    val = project.split()[1]
    dets = [[Detection(*d[:5], int(d[5]), names[int(d[5])])
             for d in by_path.get(Path(i).resolve(), [])] for i in val]
    r = evaluate([project.load_annotation(i) for i in val], dets, names)
    print(f"our evaluator on {len(val)} val images, score threshold {found['score_threshold']}: "
          f"mAP@0.5 {r.map50:.4f}, mAP@[.5:.95] {r.map50_95:.4f}")


def run(args) -> None:
    """Lists, a configured copy of the tutorial, its train.py timed, then both mAPs."""
    work = Path(args.work).absolute()
    data = work / "data"
    lists(data, args.images, args.size, args.glyph_px)
    tut = work / f"tut-lr{args.lr:g}"
    if tut.exists():
        shutil.rmtree(tut)
    shutil.copytree(Path(args.tutorial), tut, ignore=shutil.ignore_patterns(
        "checkpoints", "log", "mAP", "IMAGES", "*.mp4", "*.pyc", "__pycache__"))
    configure(tut, data, args.size, args.epochs, args.warmup, args.lr)
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("PYTHONPATH", None)  # the tutorial's Python must not see our package
    t0, c0 = time.monotonic(), os.times()
    with open(tut / "train.log", "w") as log:
        subprocess.run([args.tutorial_python, "-c", SHIM, "train.py"], cwd=tut, env=env,
                       stdout=log, stderr=subprocess.STDOUT, check=True)
    c1 = os.times()
    cpu = c1.children_user - c0.children_user + c1.children_system - c0.children_system
    print(f"train.py: wall {time.monotonic() - t0:.0f} s, CPU {cpu:.0f} s (log {tut / 'train.log'})")
    det = tut / "detections.json"
    subprocess.run([args.tutorial_python, os.path.abspath(__file__), "detect",
                    "checkpoints/yolov3_custom_Tiny", str(args.score), str(det)],
                   cwd=tut, env=env, check=True)
    score(data, det)


def main() -> int:
    """Dispatch the subcommands."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="everything, in order")
    r.add_argument("tutorial", help="folder holding the tutorial's files")
    r.add_argument("work", help="folder for the data, the configured copy, logs and detections")
    r.add_argument("tutorial_python", help="a Python with the tutorial's dependencies")
    for q in (r, sub.add_parser("lists", help="only the digits lists")):
        q.add_argument("--images", type=int, default=480)
        q.add_argument("--size", type=int, default=192)
        q.add_argument("--glyph-px", type=int, nargs=2, default=(12, 80))
    r.add_argument("--epochs", type=int, default=8)
    r.add_argument("--warmup", type=float, default=2)
    r.add_argument("--lr", type=float, default=1e-4)
    r.add_argument("--score", type=float, default=0.001)
    sub.choices["lists"].add_argument("out")
    d = sub.add_parser("detect", help="(tutorial's Python, in its copy) its mAP and detections")
    d.add_argument("weights")
    d.add_argument("score", type=float)
    d.add_argument("out")
    s = sub.add_parser("score", help="our evaluator on detect's JSON")
    s.add_argument("data")
    s.add_argument("detections")
    a = p.parse_args()
    if a.cmd == "run":
        run(a)
    elif a.cmd == "lists":
        lists(Path(a.out).absolute(), a.images, a.size, a.glyph_px)
    elif a.cmd == "detect":
        detect(a.weights, a.score, a.out)
    else:
        score(Path(a.data), Path(a.detections))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
