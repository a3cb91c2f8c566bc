"""YOLOv3 target encoding, in numpy (runs inside the tf.data map).

Which anchors answer for a truth box ("assignment"):

- ``best``: the one anchor, among all anchors of all scales, whose (w, h) has
  the best IoU with the box (darknet's original rule);
- ``multi``: that best anchor, plus on every scale each anchor whose (w, h)
  IoU with the box exceeds ``assign_iou`` (0.3 in the pylessons trainer).
  More positives per box means more gradient per image for box and class,
  which matters most early in training from scratch.

Each responsible anchor is set at the cell of its scale holding the box centre.
Cells without a box are negatives. A padded list of every truth box per image
travels beside the grids: the loss uses it to ignore predictions that already
overlap some truth well (YOLOv3's ignore mask).

Class targets may be smoothed: ``(1 - e) * onehot + e / num_classes``, so the
class logits are not pushed towards +-infinity on classes that look alike.
"""
from __future__ import annotations

import numpy as np

from yolo_studio.core.boxes import as_boxes, wh_iou
from yolo_studio.core.errors import ConfigError

MAX_BOXES = 100   # per image; the rest are dropped from the ignore list only
ASSIGNMENTS = ("best", "multi")


def target_shapes(input_size: int, strides: list[int], num_anchors: int,
                  num_classes: int) -> list[tuple[int, int, int, int]]:
    """Shape of each scale's target grid: (H, W, anchors, 5 + C)."""
    return [(input_size // s, input_size // s, num_anchors, 5 + num_classes) for s in strides]


def class_target(class_id: int, num_classes: int, smoothing: float = 0.0) -> np.ndarray:
    """The class part of a positive's target: one-hot, smoothed towards uniform by ``smoothing``."""
    onehot = np.zeros(num_classes, dtype=np.float32)
    onehot[class_id] = 1.0
    if smoothing > 0:
        onehot = onehot * (1.0 - smoothing) + smoothing / num_classes
    return onehot


def responsible_anchors(wh: np.ndarray, anchors, assignment: str = "best",
                        assign_iou: float = 0.3) -> list[list[tuple[int, int]]]:
    """For each box (w, h): the (scale, anchor) pairs that answer for it.

    The best anchor over all scales always answers (so no box is left without
    one); ``multi`` adds every anchor of any scale with IoU above ``assign_iou``.
    """
    if assignment not in ASSIGNMENTS:
        raise ConfigError(f"anchor assignment '{assignment}' is unknown; choose one of "
                          f"{', '.join(ASSIGNMENTS)}")
    num_anchors = len(anchors[0])
    flat = np.asarray([a for scale in anchors for a in scale], dtype=np.float64)
    ious = wh_iou(wh, flat)
    best = np.argmax(ious, axis=1)
    out = []
    for i in range(len(wh)):
        chosen = {int(best[i])}
        if assignment == "multi":
            chosen.update(int(k) for k in np.flatnonzero(ious[i] > assign_iou))
        out.append([divmod(k, num_anchors) for k in sorted(chosen)])
    return out


def encode_targets(boxes, class_ids, input_size: int, anchors: list[list[tuple[float, float]]],
                   strides: list[int], num_classes: int, max_boxes: int = MAX_BOXES,
                   assignment: str = "best", assign_iou: float = 0.3,
                   label_smoothing: float = 0.0) -> tuple[list[np.ndarray], np.ndarray]:
    """Grids per scale ``(H, W, A, [cx, cy, w, h, obj, classes...])`` and a (max_boxes, 4) xyxy list.

    ``boxes`` are xyxy in network-input pixels (already letterboxed).
    """
    boxes = as_boxes(boxes)
    class_ids = np.asarray(class_ids, dtype=np.int64).reshape(-1)
    num_anchors = len(anchors[0])
    grids = [np.zeros(s, dtype=np.float32)
             for s in target_shapes(input_size, strides, num_anchors, num_classes)]
    truth = np.zeros((max_boxes, 4), dtype=np.float32)
    if len(boxes) == 0:
        return grids, truth
    truth[:min(len(boxes), max_boxes)] = boxes[:max_boxes]
    wh = boxes[:, 2:] - boxes[:, :2]
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    owners = responsible_anchors(wh, anchors, assignment, assign_iou)
    for i in range(len(boxes)):
        if wh[i, 0] <= 0 or wh[i, 1] <= 0:
            continue
        classes = class_target(int(class_ids[i]), num_classes, label_smoothing)
        for scale, a in owners[i]:
            grid = grids[scale]
            # A centre exactly on the far edge belongs to the last cell, not one past it.
            gx = min(int(centre[i, 0] // strides[scale]), grid.shape[1] - 1)
            gy = min(int(centre[i, 1] // strides[scale]), grid.shape[0] - 1)
            cell = grid[gy, gx, a]
            cell[0:2] = centre[i]
            cell[2:4] = wh[i]
            cell[4] = 1.0
            cell[5:] = classes
    return grids, truth
