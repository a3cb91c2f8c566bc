"""A video-like pool for bench_active_learning.py: several near-identical consecutive frames per scene.

The hard demo's images are all independent, so nothing there shows what
k-center (diversity) exists for: a batch of twenty near-identical frames of
one scene, which every per-image score ranks side by side. Here each scene
is one hard-demo image drawn a little larger, and its frames are crops of it
along a slow camera pan (a few pixels a frame), each with its own sensor
noise and a slight change of exposure: the same objects, boxes shifted with
the crop. A person labelling such a pool learns little from a scene's
second frame.
"""
from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np


def make_video_pool(root, n_images: int, frames: int, seed: int, min_size: int, max_size: int) -> Path:
    """Write a labelled project of ``n_images`` frames, ``frames`` consecutive ones per scene, into ``root``."""
    from yolo_studio.core import demo, demo_hard
    from yolo_studio.core.annotations import ImageAnnotation
    from yolo_studio.core.project import Project

    project = Project.create(Path(root), demo_hard.HARD_CLASSES, ["images"], "voc")
    margin = max(4, round(0.05 * min_size))            # the pan's reach: ~6 px at 128 px
    written = 0
    for scene in range(math.ceil(n_images / frames)):
        rng = np.random.default_rng([seed, scene])
        canvas, boxes = demo_hard.hard_image(rng, min_size + 2 * margin, max_size + 2 * margin,
                                             demo._background)
        for t, (ox, oy) in enumerate(_pan(rng, frames, margin)):
            if written == n_images:
                break
            h, w = canvas.shape[0] - 2 * margin, canvas.shape[1] - 2 * margin
            frame = canvas[oy:oy + h, ox:ox + w].astype(np.float32) * rng.uniform(0.95, 1.05)
            frame = np.clip(frame + rng.normal(0, 2.0, frame.shape), 0, 255).astype(np.uint8)
            path = project.image_dirs[0] / f"video_{scene:03d}_{t:02d}.jpg"
            ok, data = cv2.imencode(".jpg", frame, demo._JPEG_PARAMS)
            path.write_bytes(data.tobytes())
            project.save_annotation(ImageAnnotation(path, w, h, _shifted(boxes, ox, oy, w, h), verified=True))
            written += 1
    return Path(root)


def _pan(rng, frames: int, margin: int) -> list[tuple[int, int]]:
    """Crop offsets in [0, 2 * margin] along a straight line: a slow, steady pan through the frames."""
    x0, y0 = rng.uniform(0, 2 * margin, size=2)
    x1, y1 = rng.uniform(0, 2 * margin, size=2)
    steps = max(frames - 1, 1)
    return [(int(round(x0 + (x1 - x0) * t / steps)), int(round(y0 + (y1 - y0) * t / steps)))
            for t in range(frames)]


def _shifted(boxes, ox: int, oy: int, w: int, h: int):
    """The scene's boxes in the crop's pixels, clipped; an object less than half inside is dropped."""
    from yolo_studio.core.annotations import Box

    out = []
    for b in boxes:
        x1, y1 = max(b.x1 - ox, 0.0), max(b.y1 - oy, 0.0)
        x2, y2 = min(b.x2 - ox, float(w)), min(b.y2 - oy, float(h))
        if x2 - x1 < 2 or y2 - y1 < 2:
            continue
        if (x2 - x1) * (y2 - y1) < 0.5 * (b.x2 - b.x1) * (b.y2 - b.y1):
            continue
        out.append(Box(x1, y1, x2, y2, b.label))
    return out
