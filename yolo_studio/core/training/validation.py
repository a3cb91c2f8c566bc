"""Validation of one epoch: losses over the val split and, when due, mAP."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from yolo_studio.core.annotations import Box, Detection, ImageAnnotation
from yolo_studio.core.boxes import Letterbox, unletterbox_boxes
from yolo_studio.core.evaluation import EvalResult, evaluate

from .pipeline import DataSource


@dataclass(frozen=True)
class ValResult:
    """Mean per-image val losses (box, obj, cls) and the mAP result when computed."""

    losses: tuple[float, float, float]
    metrics: EvalResult | None


def ground_truth(source: DataSource, index: int, class_names) -> ImageAnnotation:
    """The val sample ``index`` as an ImageAnnotation (difficult boxes kept for evaluation)."""
    s = source.samples[index]
    boxes = [Box(*map(float, b), label=class_names[c], difficult=bool(d))
             for b, c, d in zip(s.boxes, s.classes, s.difficult)]
    return ImageAnnotation(s.path, 0, 0, boxes)


def to_detections(boxes, scores, classes, valid, meta, class_names) -> list[Detection]:
    """One image's NMS output (network pixels) -> detections in its original pixels."""
    n = int(valid)
    scale, dx, dy, w, h = (float(v) for v in meta[:5])
    lb = Letterbox(scale, dx, dy, 0, 0)
    xyxy = unletterbox_boxes(boxes[:n], lb, int(w), int(h))
    return [Detection(*map(float, b), float(s), int(c), class_names[int(c)])
            for b, s, c in zip(xyxy, scores[:n], classes[:n])]


def validate(source: DataSource, step, batch_size: int, epoch: int, with_map: bool,
             class_names) -> ValResult:
    """Run ``step`` over the whole split (no augmentation)."""
    losses = []
    found: dict[int, list[Detection]] = {}
    for images, targets, truth, meta in source.dataset(epoch, batch_size, train=False):
        per_image, nmsed = step(images, targets, truth)
        meta = meta.numpy()
        real = meta[:, 5] >= 0          # the last batch is padded with repeats
        losses.append(per_image.numpy()[real])
        if not with_map:
            continue
        boxes, scores, classes, valid = (t.numpy() for t in nmsed)
        for i in np.flatnonzero(real):
            found[int(meta[i, 5])] = to_detections(boxes[i], scores[i], classes[i], valid[i],
                                                   meta[i], class_names)
    mean = np.concatenate(losses).mean(axis=0) if losses else np.zeros(3)
    metrics = None
    if with_map and found:
        order = sorted(found)
        metrics = evaluate([ground_truth(source, i, class_names) for i in order],
                           [found[i] for i in order], class_names)
    return ValResult(tuple(float(v) for v in mean), metrics)
