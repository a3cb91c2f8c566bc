"""Detection metrics: VOC mAP@0.5 (all-point) and COCO mAP@[.5:.95] (101-point).

Difficult boxes are neither hits nor misses: a detection that matches one is
dropped, and they do not count towards recall. For the COCO figure this is
pycocotools' crowd/ignore rule (an ignored box may absorb several detections,
and only when no ordinary box matches), so our numbers can be checked against
pycocotools on the same data.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from yolo_studio.core.annotations import Detection, ImageAnnotation
from yolo_studio.core.boxes import iou

COCO_IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
COCO_RECALL_POINTS = np.linspace(0.0, 1.0, 101)
COCO_MAX_DETS = 100


@dataclass(frozen=True)
class PRCurve:
    """Precision against recall at IoU 0.5 for one class (detections in score order)."""

    precision: np.ndarray
    recall: np.ndarray


@dataclass(frozen=True)
class EvalResult:
    """mAPs over the classes that have ground truth, and the per-class figures behind them."""

    map50: float                                   # VOC, all-point interpolation
    map50_95: float                                # COCO, 101 points, mean over 10 IoUs
    per_class_ap50: dict[str, float] = field(default_factory=dict)
    per_class_ap: dict[str, float] = field(default_factory=dict)    # COCO @[.5:.95]
    pr_curves: dict[str, PRCurve] = field(default_factory=dict)
    num_ground_truth: dict[str, int] = field(default_factory=dict)  # non-difficult boxes


@dataclass
class _ImageClass:
    """Ground truth and detections of one class in one image."""

    gt: np.ndarray          # (G, 4)
    ignore: np.ndarray      # (G,) bool, difficult
    det: np.ndarray         # (D, 4), score-descending
    scores: np.ndarray      # (D,)


def _group(ground_truth, detections, class_names) -> list[dict[int, _ImageClass]]:
    index = {n: i for i, n in enumerate(class_names)}
    out = []
    for ann, dets in zip(ground_truth, detections):
        per: dict[int, _ImageClass] = {}
        for c in range(len(class_names)):
            gts = [b for b in ann.boxes if index.get(b.label) == c]
            ds = [d for d in dets if _class_of(d, index) == c]
            if not gts and not ds:
                continue
            scores = np.array([d.score for d in ds], dtype=np.float64)
            order = np.argsort(-scores, kind="mergesort")
            det = np.array([[d.x1, d.y1, d.x2, d.y2] for d in ds], dtype=np.float64).reshape(-1, 4)
            per[c] = _ImageClass(
                gt=np.array([b.xyxy() for b in gts], dtype=np.float64).reshape(-1, 4),
                ignore=np.array([b.difficult for b in gts], dtype=bool),
                det=det[order], scores=scores[order])
        out.append(per)
    return out


def _class_of(d: Detection, index: dict[str, int]) -> int:
    return index.get(d.label, d.class_id)


def _voc_match(item: _ImageClass, thr: float) -> tuple[np.ndarray, np.ndarray]:
    """VOC rule: each detection takes its best-IoU box; a second hit on a box is a false positive."""
    tp = np.zeros(len(item.scores))
    keep = np.ones(len(item.scores), dtype=bool)
    if len(item.gt) == 0:
        return tp, keep
    ious = iou(item.det, item.gt)
    used = np.zeros(len(item.gt), dtype=bool)
    for d in range(len(item.scores)):
        g = int(np.argmax(ious[d]))
        if ious[d, g] < thr:
            continue
        if item.ignore[g]:
            keep[d] = False
        elif not used[g]:
            used[g] = True
            tp[d] = 1
    return tp, keep


def _coco_match(item: _ImageClass, thr: float) -> tuple[np.ndarray, np.ndarray]:
    """pycocotools' greedy rule, with difficult boxes playing the part of crowd boxes."""
    n = min(len(item.scores), COCO_MAX_DETS)
    tp = np.zeros(n)
    keep = np.ones(n, dtype=bool)
    if len(item.gt) == 0 or n == 0:
        return tp, keep
    order = np.argsort(item.ignore, kind="mergesort")   # ordinary boxes first
    ignore = item.ignore[order]
    ious = iou(item.det[:n], item.gt[order])
    used = np.zeros(len(order), dtype=bool)
    for d in range(n):
        best, m = min(thr, 1 - 1e-10), -1
        for g in range(len(order)):
            if used[g] and not ignore[g]:
                continue
            if m > -1 and not ignore[m] and ignore[g]:
                break
            if ious[d, g] < best:
                continue
            best, m = ious[d, g], g
        if m == -1:
            continue
        used[m] = True
        if ignore[m]:
            keep[d] = False
        else:
            tp[d] = 1
    return tp, keep


def _pr(tp_list, keep_list, score_list, n_gt) -> tuple[np.ndarray, np.ndarray]:
    if not tp_list:
        return np.zeros(0), np.zeros(0)
    tp = np.concatenate(tp_list)
    keep = np.concatenate(keep_list)
    scores = np.concatenate(score_list)
    order = np.argsort(-scores, kind="mergesort")
    tp, keep = tp[order], keep[order]
    tp = tp[keep]
    ctp = np.cumsum(tp)
    cfp = np.cumsum(1 - tp)
    recall = ctp / max(n_gt, 1)
    precision = ctp / np.maximum(ctp + cfp, np.finfo(np.float64).eps)
    return precision, recall


def voc_ap(precision: np.ndarray, recall: np.ndarray) -> float:
    """Area under the monotone precision envelope, all recall points (VOC 2010+)."""
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


def coco_ap(precision: np.ndarray, recall: np.ndarray) -> float:
    """Mean interpolated precision at 101 recall points, as pycocotools computes it."""
    if len(precision) == 0:
        return 0.0
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    idx = np.searchsorted(recall, COCO_RECALL_POINTS, side="left")
    q = np.where(idx < len(envelope), envelope[np.minimum(idx, len(envelope) - 1)], 0.0)
    return float(np.mean(q))


def _class_ap(items: list[_ImageClass], n_gt: int, match, thr: float, cap: int | None):
    tps, keeps, scores = [], [], []
    for it in items:
        tp, keep = match(it, thr)
        tps.append(tp)
        keeps.append(keep)
        scores.append(it.scores[:cap] if cap else it.scores)
    return _pr(tps, keeps, scores, n_gt)


def evaluate(ground_truth: list[ImageAnnotation], detections: list[list[Detection]],
             class_names: list[str]) -> EvalResult:
    """mAP of ``detections`` (one list per image, same order) against ``ground_truth``."""
    if len(ground_truth) != len(detections):
        raise ValueError(f"{len(ground_truth)} images of ground truth but "
                         f"{len(detections)} lists of detections")
    grouped = _group(ground_truth, detections, class_names)
    ap50, ap, curves, counts = {}, {}, {}, {}
    for c, name in enumerate(class_names):
        items = [g[c] for g in grouped if c in g]
        n_gt = int(sum(int((~it.ignore).sum()) for it in items))
        counts[name] = n_gt
        if n_gt == 0:
            continue  # no truth: the class has no AP (as in pycocotools), not a zero
        prec, rec = _class_ap(items, n_gt, _voc_match, 0.5, None)
        ap50[name] = voc_ap(prec, rec)
        curves[name] = PRCurve(prec, rec)
        ap[name] = float(np.mean([coco_ap(*_class_ap(items, n_gt, _coco_match, t, COCO_MAX_DETS))
                                  for t in COCO_IOU_THRESHOLDS]))
    return EvalResult(
        map50=float(np.mean(list(ap50.values()))) if ap50 else 0.0,
        map50_95=float(np.mean(list(ap.values()))) if ap else 0.0,
        per_class_ap50=ap50, per_class_ap=ap, pr_curves=curves, num_ground_truth=counts)


def coco_ap_at(ground_truth, detections, class_names, thr: float) -> dict[str, float]:
    """COCO-style (101-point) AP per class at one IoU threshold; for checks and reports."""
    grouped = _group(ground_truth, detections, class_names)
    out = {}
    for c, name in enumerate(class_names):
        items = [g[c] for g in grouped if c in g]
        n_gt = int(sum(int((~it.ignore).sum()) for it in items))
        if n_gt:
            out[name] = coco_ap(*_class_ap(items, n_gt, _coco_match, thr, COCO_MAX_DETS))
    return out
