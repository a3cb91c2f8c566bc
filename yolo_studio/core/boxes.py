"""Box maths in numpy. Boxes are float arrays of shape (N, 4).

Conventions used across the app:
- ``xyxy``: pixel corners (x1, y1, x2, y2), x2/y2 exclusive-style floats.
- ``cxcywh``: centre and size.
- letterbox: resize keeping aspect ratio so the image fits a ``size x size``
  square, centred, padded with grey (as the pylessons/darknet trainers do).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


def as_boxes(boxes) -> np.ndarray:
    """Return ``boxes`` as a float64 (N, 4) array (an empty list gives (0, 4))."""
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.size == 0:
        return np.zeros((0, 4), dtype=np.float64)
    return arr.reshape(-1, 4)


def area(boxes) -> np.ndarray:
    """Area of each xyxy box (0 for inverted boxes)."""
    b = as_boxes(boxes)
    return np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)


def iou(a, b) -> np.ndarray:
    """Pairwise IoU of xyxy boxes: (N, 4) x (M, 4) -> (N, M)."""
    a, b = as_boxes(a), as_boxes(b)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = area(a)[:, None] + area(b)[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def iou_aligned(a, b) -> np.ndarray:
    """IoU of row i of ``a`` with row i of ``b`` (both (N, 4) xyxy) -> (N,); 0 where no union."""
    a, b = as_boxes(a), as_boxes(b)
    wh = np.clip(np.minimum(a[:, 2:], b[:, 2:]) - np.maximum(a[:, :2], b[:, :2]), 0, None)
    inter = wh[:, 0] * wh[:, 1]
    union = area(a) + area(b) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def wh_iou(wh_a, wh_b) -> np.ndarray:
    """IoU of (w, h) pairs aligned at a common corner: (N, 2) x (M, 2) -> (N, M)."""
    a = np.asarray(wh_a, dtype=np.float64).reshape(-1, 2)
    b = np.asarray(wh_b, dtype=np.float64).reshape(-1, 2)
    inter = np.minimum(a[:, None, 0], b[None, :, 0]) * np.minimum(a[:, None, 1], b[None, :, 1])
    union = (a[:, 0] * a[:, 1])[:, None] + (b[:, 0] * b[:, 1])[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def xyxy_to_cxcywh(boxes) -> np.ndarray:
    """(x1, y1, x2, y2) -> (cx, cy, w, h)."""
    b = as_boxes(boxes)
    return np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2,
                     b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], axis=1)


def cxcywh_to_xyxy(boxes) -> np.ndarray:
    """(cx, cy, w, h) -> (x1, y1, x2, y2)."""
    b = as_boxes(boxes)
    return np.stack([b[:, 0] - b[:, 2] / 2, b[:, 1] - b[:, 3] / 2,
                     b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2], axis=1)


def clip(boxes, width: float, height: float) -> np.ndarray:
    """Clip xyxy boxes to the image rectangle [0, width] x [0, height]."""
    b = as_boxes(boxes).copy()
    b[:, [0, 2]] = np.clip(b[:, [0, 2]], 0, width)
    b[:, [1, 3]] = np.clip(b[:, [1, 3]], 0, height)
    return b


class Letterbox(NamedTuple):
    """How an image of (width, height) maps into a ``size x size`` letterbox."""

    scale: float
    dx: float
    dy: float
    new_w: int
    new_h: int


def letterbox_params(width: int, height: int, size: int | tuple[int, int]) -> Letterbox:
    """Scale and padding offsets that fit (width, height) into ``size`` keeping aspect."""
    tw, th = (size, size) if isinstance(size, int) else size
    scale = min(tw / width, th / height)
    new_w, new_h = int(round(width * scale)), int(round(height * scale))
    return Letterbox(scale, (tw - new_w) // 2, (th - new_h) // 2, new_w, new_h)


def letterbox_boxes(boxes, lb: Letterbox) -> np.ndarray:
    """Map xyxy boxes from original image pixels into letterboxed network pixels."""
    b = as_boxes(boxes).copy()
    b[:, [0, 2]] = b[:, [0, 2]] * lb.scale + lb.dx
    b[:, [1, 3]] = b[:, [1, 3]] * lb.scale + lb.dy
    return b


def unletterbox_boxes(boxes, lb: Letterbox, width: int | None = None,
                      height: int | None = None) -> np.ndarray:
    """Inverse of :func:`letterbox_boxes`; clips to the image when its size is given."""
    b = as_boxes(boxes).copy()
    b[:, [0, 2]] = (b[:, [0, 2]] - lb.dx) / lb.scale
    b[:, [1, 3]] = (b[:, [1, 3]] - lb.dy) / lb.scale
    if width is not None and height is not None:
        b = clip(b, width, height)
    return b
