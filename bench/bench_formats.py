"""Write and read N labelled images in every label format; print boxes/s.

Usage: python bench/bench_formats.py [--n 10000] [--boxes 4]

No images are decoded: sizes are fixed (the formats that need a size get it
from the caller). Writes go through the real atomic writers (temp file, fsync,
rename), so per-file formats pay one fsync per image. Ratios are against VOC,
measured in the same process. Also times a project scan of N image files.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from yolo_studio.core.annotations import Box, ImageAnnotation
from yolo_studio.core.formats.coco import read_coco, write_coco
from yolo_studio.core.formats.pylessons import read_pylessons, write_pylessons
from yolo_studio.core.formats.voc import read_voc, write_voc
from yolo_studio.core.formats.yolo_txt import read_yolo, write_yolo
from yolo_studio.core.project import Project

CLASSES = ["circle", "square", "triangle", "person", "car"]
W, H = 640, 480


def make_annotations(folder: Path, n: int, boxes_per_image: int) -> list[ImageAnnotation]:
    """N annotations with random integer boxes (so every format round-trips them exactly)."""
    rng = np.random.default_rng(0)
    anns = []
    for i in range(n):
        xy = rng.integers(0, [W - 140, H - 140], size=(boxes_per_image, 2))
        wh = rng.integers(8, 140, size=(boxes_per_image, 2))
        boxes = [Box(float(x), float(y), float(x + w), float(y + h), CLASSES[int(c)])
                 for (x, y), (w, h), c in zip(xy, wh, rng.integers(0, len(CLASSES), boxes_per_image))]
        anns.append(ImageAnnotation(folder / f"img_{i:05d}.jpg", W, H, boxes))
    return anns


def per_file(anns, folder: Path, ext: str, write, read):
    t0 = time.perf_counter()
    for a in anns:
        write(a, folder / f"{a.image_path.stem}{ext}")
    t1 = time.perf_counter()
    back = [read(folder / f"{a.image_path.stem}{ext}", a.image_path) for a in anns]
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, back


def run_all(anns, tmp: Path):
    results = {}
    results["voc"] = per_file(anns, tmp, ".xml", write_voc, lambda p, img: read_voc(p, img))
    results["yolo"] = per_file(anns, tmp, ".txt", lambda a, p: write_yolo(a, p, CLASSES),
                               lambda p, img: read_yolo(p, W, H, CLASSES, img))
    t0 = time.perf_counter()
    write_coco(anns, CLASSES, tmp / "all.json")
    t1 = time.perf_counter()
    back, _ = read_coco(tmp / "all.json")
    results["coco"] = (t1 - t0, time.perf_counter() - t1, back)
    t0 = time.perf_counter()
    write_pylessons(anns, CLASSES, tmp / "train.txt")
    t1 = time.perf_counter()
    back, _ = read_pylessons(tmp / "train.txt", size_of=lambda p: (W, H))
    results["pylessons"] = (t1 - t0, time.perf_counter() - t1, back)
    return results


def scan_project(tmp: Path, n: int) -> tuple[float, float]:
    folder = tmp / "scan"
    folder.mkdir()
    for i in range(n):
        (folder / f"img_{i:05d}.jpg").touch()
    project = Project(tmp, CLASSES, [folder])
    t0 = time.perf_counter()
    paths = project.image_paths()
    t1 = time.perf_counter()
    labelled = sum(project.has_labels(p) for p in paths)
    t2 = time.perf_counter()
    assert len(paths) == n and labelled == 0
    return t1 - t0, t2 - t1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="images (default 10000)")
    ap.add_argument("--boxes", type=int, default=4, help="boxes per image (default 4)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-formats-") as d:
        tmp = Path(d)
        anns = make_annotations(tmp, args.n, args.boxes)
        n_boxes = args.n * args.boxes
        results = run_all(anns, tmp)
        voc_w, voc_r = results["voc"][0], results["voc"][1]
        print(f"{args.n} images, {n_boxes} boxes, {W}x{H}")
        print(f"{'format':<10} {'write boxes/s':>14} {'read boxes/s':>14} {'write vs voc':>13} {'read vs voc':>12}")
        for fmt, (tw, tr, back) in results.items():
            got = np.concatenate([a.boxes_array() for a in back])
            want = np.concatenate([a.boxes_array() for a in anns])
            assert np.abs(got - want).max() < 1e-3, f"{fmt} changed boxes"
            print(f"{fmt:<10} {n_boxes / tw:>14,.0f} {n_boxes / tr:>14,.0f} {voc_w / tw:>12.2f}x {voc_r / tr:>11.2f}x")
        scan, has = scan_project(tmp, args.n)
        print(f"project scan: image_paths() of {args.n} files {scan * 1e3:.1f} ms; "
              f"has_labels() on all {has * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
