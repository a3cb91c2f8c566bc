"""A built-in demo project: coloured shapes drawn with OpenCV, labelled exactly.

Designed to be learnable in minutes by the tiny model on a CPU: each class has
its own silhouette AND its own colour (red circles, green squares, blue
triangles) on low-saturation backgrounds; objects never overlap; object sizes
are a fraction of the image's longer side, so even small ones stay >= ~16 px
after letterboxing to 256-320; every box is the exact pixel extent of the
filled shape (drawn without anti-aliasing, so the mask and the pixels agree).
Each image has its own random stream seeded by (seed, index): same seed, same
bytes.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import cv2
import numpy as np

from .annotations import Box, ImageAnnotation
from .demo_digits import object_size, place_objects
from .errors import ConfigError
from .paths import demo_project_dir
from .project import PROJECT_FILE, Project

DEMO_CLASSES = ["circle", "square", "triangle"]
_COLOURS_BGR = {"circle": (40, 40, 215), "square": (45, 185, 45), "triangle": (215, 105, 30)}
# (probability, min, max) of object size as a fraction of the image's longer side.
_SCALES = [(0.35, 0.08, 0.13), (0.40, 0.13, 0.25), (0.25, 0.25, 0.45)]
_EMPTY_FRACTION = 0.1
# Full-resolution colour (4:4:4): with the usual 4:2:0 subsampling a shape's
# colour bleeds a pixel or two past its edge, blurring the tight boxes.
_JPEG_PARAMS = [cv2.IMWRITE_JPEG_QUALITY, 92,
                cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]


DEMO_KINDS = ("shapes", "digits", "hard")


def generate_demo_project(root, n_images: int = 300, seed: int = 0, min_size: int = 256,
                          max_size: int = 640, label_format: str = "voc",
                          kind: str = "shapes") -> Path:
    """Write a labelled demo project into the (new or empty) folder ``root``; returns it.

    ``kind`` 'shapes': three coloured shapes (learnable in minutes); 'digits':
    ten Hershey-font digits that look alike (see :mod:`demo_digits`); 'hard':
    six shape classes of every aspect ratio in clutter, occlusion and uneven
    light (see :mod:`demo_hard`).
    """
    from . import demo_digits, demo_hard

    root = Path(root)
    if kind not in DEMO_KINDS:
        raise ConfigError(f"demo kind '{kind}' is unknown; choose one of {', '.join(DEMO_KINDS)}")
    if n_images < 1:
        raise ConfigError(f"number of demo images must be at least 1, not {n_images}")
    if not 32 <= min_size <= max_size:
        raise ConfigError(f"demo image sizes need 32 <= min_size <= max_size, got {min_size}, {max_size}")
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{root}: is a file; choose a new folder for the demo project")
    if root.exists() and any(root.iterdir()):
        # Same rule as every writer (core.output_guard), with no --overwrite: a demo is always new.
        raise ConfigError(f"{root}: folder is not empty; choose a new folder for the demo project")
    digits = kind == "digits"
    classes = {"digits": demo_digits.DIGIT_CLASSES, "hard": demo_hard.HARD_CLASSES}.get(kind, DEMO_CLASSES)
    project = Project.create(root, classes, ["images"], label_format)
    if digits:
        project.train_settings = dict(demo_digits.TRAIN_SETTINGS)
        project.save()
    for i in range(n_images):
        rng = np.random.default_rng([seed, i])
        if digits:
            image, boxes = demo_digits.digit_image(rng, min_size, max_size, _background)
        elif kind == "hard":
            image, boxes = demo_hard.hard_image(rng, min_size, max_size, _background)
        else:
            image, boxes = _demo_image(rng, min_size, max_size)
        path = project.image_dirs[0] / f"{'demo' if kind == 'shapes' else kind}_{i:04d}.jpg"
        ok, data = cv2.imencode(".jpg", image, _JPEG_PARAMS)
        path.write_bytes(data.tobytes())
        project.save_annotation(ImageAnnotation(path, image.shape[1], image.shape[0], boxes, verified=True))
    return root


def ensure_demo_project() -> Path:
    """The demo project in the user data folder, generated on first use."""
    target = demo_project_dir()
    if (target / PROJECT_FILE).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Build beside the target and rename, so an interrupted first run never
    # leaves a half-made demo that looks finished.
    building = target.with_name(f".{target.name}-building-{os.getpid()}")
    if building.exists():
        import shutil
        shutil.rmtree(building)  # our own leftover from this very process id
    generate_demo_project(building)
    if target.exists():  # a folder without a project file: keep it, out of the way
        n = 1
        while target.with_name(f"{target.name}.old-{n}").exists():
            n += 1
        os.replace(target, target.with_name(f"{target.name}.old-{n}"))
    os.replace(building, target)
    return target


def _demo_image(rng: np.random.Generator, min_size: int, max_size: int) -> tuple[np.ndarray, list[Box]]:
    w, h = (int(v) for v in rng.integers(min_size, max_size + 1, size=2))
    image = _background(rng, w, h)
    n = 0 if rng.random() < _EMPTY_FRACTION else int(rng.integers(1, 6))
    boxes = place_objects(n, lambda placed: _place_shape(rng, image, placed))
    noise = rng.normal(0, 3, image.shape)
    image = np.clip(image.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    return image, boxes


def _background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    base = rng.uniform(50, 205) + rng.uniform(-18, 18, size=3)    # greyish, slight tint
    kind = int(rng.integers(3))
    if kind == 0:   # linear gradient to a second grey
        other = rng.uniform(50, 205) + rng.uniform(-18, 18, size=3)
        angle = rng.uniform(0, 2 * math.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        t = xx * math.cos(angle) + yy * math.sin(angle)
        t = (t - t.min()) / max(float(t.max() - t.min()), 1.0)
        img = base[None, None, :] * (1 - t[..., None]) + other[None, None, :] * t[..., None]
    elif kind == 1:  # blurred noise
        img = base[None, None, :] + rng.normal(0, rng.uniform(8, 22), size=(h, w, 3))
        img = cv2.GaussianBlur(img.astype(np.float32), (3, 3), 0)
    else:           # clutter of grey strokes and blocks
        img = np.empty((h, w, 3), np.float32)
        img[:] = base
        for _ in range(int(rng.integers(15, 40))):
            grey = float(np.clip(base.mean() + rng.uniform(-45, 45), 0, 255))
            p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            p2 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            if rng.random() < 0.6:
                cv2.line(img, p1, p2, (grey, grey, grey), int(rng.integers(1, 4)))
            else:
                cv2.rectangle(img, p1, p2, (grey, grey, grey), -1)
        img = cv2.GaussianBlur(img, (5, 5), 0)
    return np.clip(img, 0, 255).astype(np.uint8)


def _place_shape(rng: np.random.Generator, image: np.ndarray, boxes: list[Box]) -> Box | None:
    h, w = image.shape[:2]
    size = max(object_size(rng, _SCALES, w, h), 10)
    label = DEMO_CLASSES[int(rng.integers(len(DEMO_CLASSES)))]
    mask = _shape_mask(rng, label, size)
    ys, xs = np.nonzero(mask)
    mask = mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    mh, mw = mask.shape
    if mw >= w or mh >= h:
        return None
    x0, y0 = int(rng.integers(0, w - mw + 1)), int(rng.integers(0, h - mh + 1))
    box = Box(float(x0), float(y0), float(x0 + mw), float(y0 + mh), label)
    gap = 3  # keep shapes apart so each box holds exactly one object
    if any(box.x1 < b.x2 + gap and b.x1 < box.x2 + gap and box.y1 < b.y2 + gap and b.y1 < box.y2 + gap
           for b in boxes):
        return None
    colour = np.clip(np.array(_COLOURS_BGR[label]) + rng.integers(-25, 26, size=3), 0, 255)
    region = image[y0:y0 + mh, x0:x0 + mw]
    region[mask > 0] = colour.astype(np.uint8)
    return box


def _shape_mask(rng: np.random.Generator, label: str, size: int) -> np.ndarray:
    canvas = np.zeros((size + 4, size + 4), np.uint8)
    c = (size + 4) / 2.0
    if label == "circle":
        axes = (int(size / 2), int(size / 2 * rng.uniform(0.85, 1.0)))
        cv2.ellipse(canvas, (int(c), int(c)), axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
        return canvas
    if label == "square":
        angle = rng.uniform(-20, 20)
        # shrink so the rotated square still fits the canvas
        half = size / 2 / (abs(math.cos(math.radians(angle))) + abs(math.sin(math.radians(angle))))
        corners = [(-half, -half), (half, -half), (half, half), (-half, half)]
    else:
        angle = rng.uniform(-15, 15)
        half = size / 2
        corners = [(0.0, -half), (half, half * 0.8), (-half, half * 0.8)]
    a = math.radians(angle)
    pts = np.array([[c + x * math.cos(a) - y * math.sin(a), c + x * math.sin(a) + y * math.cos(a)]
                    for x, y in corners])
    cv2.fillPoly(canvas, [np.round(pts).astype(np.int32)], 255)
    return canvas
