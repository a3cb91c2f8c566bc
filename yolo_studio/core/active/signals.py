"""Per-image signals from decoded predictions: uncertainty and flip/scale consistency.

Both are sums over an image's candidate objects, each weighted by its score
so a faint 0.05 blob counts little: an image of clutter holds dozens of
faint candidates, and an unweighted sum is little more than their count
(rank correlation 0.97-0.99 with it on the hard demo, against 0.82-0.87
weighted). They are compared only by rank (see :mod:`select`), so their
scales never need to match.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from yolo_studio.core.boxes import iou, unletterbox_boxes
from yolo_studio.core.defaults import DEFAULT_NMS_IOU, DEFAULT_SCORE_THRESHOLD

LOW_SCORE = 0.05          # candidates below this are background to every signal
MAX_CANDIDATES = 100


@dataclass
class Candidates:
    """One image's candidate objects after class-agnostic NMS, in original image pixels."""

    boxes: np.ndarray      # (K, 4) xyxy
    scores: np.ndarray     # (K,) objectness x best class probability
    classes: np.ndarray    # (K,) int
    probs: np.ndarray      # (K, C) class probabilities


def candidates(decoded: np.ndarray, lb, width: int, height: int, low: float = LOW_SCORE) -> Candidates:
    """Candidates of one image's decoded rows (N, 5 + C); class-agnostic so a confused object stays one."""
    probs = decoded[:, 5:]
    scores = decoded[:, 4] * probs.max(axis=1)
    order = np.argsort(-scores, kind="stable")
    order = order[scores[order] >= low][:MAX_CANDIDATES * 4]
    boxes = decoded[order, :4]
    keep: list[int] = []
    suppressed = np.zeros(len(order), bool)
    overlap = iou(boxes, boxes) if len(order) else np.zeros((0, 0))
    for i in range(len(order)):
        if suppressed[i]:
            continue
        keep.append(i)
        if len(keep) >= MAX_CANDIDATES:
            break
        suppressed |= overlap[i] > DEFAULT_NMS_IOU
    idx = order[keep]
    out_boxes = unletterbox_boxes(decoded[idx, :4], lb, width, height) if len(idx) else np.zeros((0, 4))
    return Candidates(out_boxes, scores[idx], probs[idx].argmax(axis=1) if len(idx) else np.zeros(0, int),
                      probs[idx])


def uncertainty(c: Candidates, threshold: float = DEFAULT_SCORE_THRESHOLD) -> float:
    """Score-weighted sum over candidates of (class entropy + closeness of the score to the threshold) / 2.

    Class entropy is of the normalised class probabilities, over log(C), so 1
    is "could be any class"; closeness is 1 at the threshold and 0 at 0 or 1.
    Each candidate counts with its score, as in :func:`disagreement`.
    """
    if not len(c.scores):
        return 0.0
    n_cls = c.probs.shape[1]
    if n_cls > 1:
        p = c.probs / np.maximum(c.probs.sum(axis=1, keepdims=True), 1e-9)
        entropy = -(p * np.log(np.maximum(p, 1e-12))).sum(axis=1) / np.log(n_cls)
    else:
        entropy = np.zeros(len(c.scores))
    near = 1.0 - np.abs(c.scores - threshold) / max(threshold, 1.0 - threshold)
    return float(np.sum(c.scores * 0.5 * (entropy + np.clip(near, 0.0, 1.0))))


def disagreement(a: Candidates, b: Candidates) -> float:
    """Score-weighted boxes of each side that the other side does not repeat (same class, by IoU)."""
    return _unmatched(a, b) + _unmatched(b, a)


def _unmatched(a: Candidates, b: Candidates) -> float:
    if not len(a.scores):
        return 0.0
    if not len(b.scores):
        return float(a.scores.sum())
    overlap = iou(a.boxes, b.boxes) * (a.classes[:, None] == b.classes[None, :])
    return float(np.sum(a.scores * (1.0 - overlap.max(axis=1))))


def consistency(plain: Candidates, flipped: Candidates, rescaled: Candidates) -> float:
    """How much the predictions change under a horizontal flip and a second scale (higher: less stable)."""
    return disagreement(plain, flipped) + disagreement(plain, rescaled)
