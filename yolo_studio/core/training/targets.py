"""YOLOv3 target encoding, in numpy (runs inside the tf.data map).

Each truth box goes to the one anchor, among all anchors of all scales, whose
(w, h) has the best IoU with it, at the cell of that anchor's scale holding
the box centre. Cells without a box are negatives. A padded list of every
truth box per image travels beside the grids: the loss uses it to ignore
predictions that already overlap some truth well (YOLOv3's ignore mask).
"""
from __future__ import annotations

import numpy as np

from yolo_studio.core.boxes import as_boxes, wh_iou

MAX_BOXES = 100   # per image; the rest are dropped from the ignore list only


def target_shapes(input_size: int, strides: list[int], num_anchors: int,
                  num_classes: int) -> list[tuple[int, int, int, int]]:
    """Shape of each scale's target grid: (H, W, anchors, 5 + C)."""
    return [(input_size // s, input_size // s, num_anchors, 5 + num_classes) for s in strides]


def encode_targets(boxes, class_ids, input_size: int, anchors: list[list[tuple[float, float]]],
                   strides: list[int], num_classes: int,
                   max_boxes: int = MAX_BOXES) -> tuple[list[np.ndarray], np.ndarray]:
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
    flat_anchors = np.asarray([a for scale in anchors for a in scale], dtype=np.float64)
    best = np.argmax(wh_iou(wh, flat_anchors), axis=1)
    for i in range(len(boxes)):
        if wh[i, 0] <= 0 or wh[i, 1] <= 0:
            continue
        scale, a = divmod(int(best[i]), num_anchors)
        grid = grids[scale]
        gx = min(int(centre[i, 0] // strides[scale]), grid.shape[1] - 1)
        gy = min(int(centre[i, 1] // strides[scale]), grid.shape[0] - 1)
        cell = grid[gy, gx, a]
        cell[:] = 0
        cell[0:2] = centre[i]
        cell[2:4] = wh[i]
        cell[4] = 1.0
        cell[5 + class_ids[i]] = 1.0
    return grids, truth
