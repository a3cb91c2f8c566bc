"""mAP: hand-checked cases, and agreement with pycocotools on random-ish detections."""
from __future__ import annotations

import numpy as np
import pytest

from yolo_studio.core.annotations import Box, Detection, ImageAnnotation
from yolo_studio.core.evaluation import coco_ap_at, evaluate

CLASSES = ["cat", "dog", "bird"]


def _ann(i, boxes):
    return ImageAnnotation(f"img{i}.jpg", 200, 200, [Box(*b) for b in boxes])


def _det(x1, y1, x2, y2, score, label):
    return Detection(x1, y1, x2, y2, score, CLASSES.index(label), label)


def test_perfect_detections_score_one():
    gt = [_ann(0, [(10, 10, 50, 50, "cat"), (60, 60, 120, 140, "dog")])]
    dets = [[_det(10, 10, 50, 50, 0.9, "cat"), _det(60, 60, 120, 140, 0.8, "dog")]]
    r = evaluate(gt, dets, CLASSES)
    assert r.map50 == pytest.approx(1.0)
    assert r.map50_95 == pytest.approx(1.0)
    # bird has no ground truth: it has no AP rather than a zero dragging the mean down
    assert set(r.per_class_ap50) == {"cat", "dog"}


def test_missed_box_halves_recall_and_duplicate_is_false_positive():
    gt = [_ann(0, [(10, 10, 50, 50, "cat")]), _ann(1, [(10, 10, 50, 50, "cat")])]
    dets = [[_det(10, 10, 50, 50, 0.9, "cat"), _det(11, 11, 50, 50, 0.8, "cat")], []]
    r = evaluate(gt, dets, CLASSES)
    # one hit (precision 1 at recall .5), then a duplicate: all-point AP = 0.5
    assert r.per_class_ap50["cat"] == pytest.approx(0.5)
    curve = r.pr_curves["cat"]
    assert list(curve.recall) == [0.5, 0.5]
    assert list(curve.precision) == [1.0, 0.5]


def test_wrong_class_and_poor_overlap_score_zero():
    gt = [_ann(0, [(10, 10, 50, 50, "cat")])]
    dets = [[_det(10, 10, 50, 50, 0.9, "dog"), _det(40, 40, 90, 90, 0.8, "cat")]]
    r = evaluate(gt, dets, CLASSES)
    assert r.per_class_ap50["cat"] == 0.0
    assert r.map50 == 0.0


def test_difficult_box_is_neither_hit_nor_miss():
    gt = [ImageAnnotation("a.jpg", 100, 100, [Box(10, 10, 50, 50, "cat"),
                                               Box(60, 60, 90, 90, "cat", difficult=True)])]
    with_difficult_hit = [[_det(60, 60, 90, 90, 0.95, "cat"), _det(10, 10, 50, 50, 0.9, "cat")]]
    r = evaluate(gt, with_difficult_hit, CLASSES)
    assert r.per_class_ap50["cat"] == pytest.approx(1.0)
    assert r.num_ground_truth["cat"] == 1


def test_mismatched_lengths_is_an_error():
    with pytest.raises(ValueError):
        evaluate([_ann(0, [])], [], CLASSES)


def _random_case(seed=3, n_images=25):
    rng = np.random.default_rng(seed)
    gts, dets = [], []
    for i in range(n_images):
        boxes, ds = [], []
        for _ in range(rng.integers(0, 6)):
            x, y = rng.uniform(0, 300, 2)
            w, h = rng.uniform(10, 120, 2)
            label = CLASSES[rng.integers(0, 3)]
            boxes.append(Box(x, y, x + w, y + h, label, difficult=bool(rng.random() < 0.15)))
            for _ in range(rng.integers(0, 3)):   # noisy hits, some duplicates
                j = rng.normal(0, 0.12, 4) * [w, h, w, h]
                lab = label if rng.random() < 0.85 else CLASSES[rng.integers(0, 3)]
                ds.append(Detection(x + j[0], y + j[1], x + w + j[2], y + h + j[3],
                                    float(rng.random()), CLASSES.index(lab), lab))
        for _ in range(rng.integers(0, 4)):        # pure false positives
            x, y = rng.uniform(0, 300, 2)
            w, h = rng.uniform(10, 120, 2)
            lab = CLASSES[rng.integers(0, 3)]
            ds.append(Detection(x, y, x + w, y + h, float(rng.random()), CLASSES.index(lab), lab))
        gts.append(ImageAnnotation(f"img{i}.jpg", 400, 400, boxes))
        dets.append(ds)
    return gts, dets


def _pycocotools_ap(gts, dets):
    """Per-class AP@0.5 and AP@[.5:.95] from pycocotools, difficult boxes as ignored crowd."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    from pycocotools import mask as mask_utils

    class PlainIoUEval(COCOeval):
        # Crowd boxes in pycocotools use intersection/detection-area; our difficult
        # boxes are only "ignored", so compare with plain IoU for every box.
        def computeIoU(self, img_id, cat_id):
            gt, dt = self._gts[img_id, cat_id], self._dts[img_id, cat_id]
            if not gt and not dt:
                return []
            order = np.argsort([-d["score"] for d in dt], kind="mergesort")
            dt = [dt[i] for i in order][: self.params.maxDets[-1]]
            return mask_utils.iou([d["bbox"] for d in dt], [g["bbox"] for g in gt], [0] * len(gt))

    images, anns, results = [], [], []
    for i, (g, ds) in enumerate(zip(gts, dets), start=1):
        images.append({"id": i, "width": g.width, "height": g.height})
        for b in g.boxes:
            w, h = b.x2 - b.x1, b.y2 - b.y1
            anns.append({"id": len(anns) + 1, "image_id": i, "category_id": CLASSES.index(b.label) + 1,
                         "bbox": [b.x1, b.y1, w, h], "area": w * h, "iscrowd": int(b.difficult)})
        for d in ds:
            results.append({"image_id": i, "category_id": d.class_id + 1, "score": d.score,
                            "bbox": [d.x1, d.y1, d.x2 - d.x1, d.y2 - d.y1]})
    coco = COCO()
    coco.dataset = {"images": images, "annotations": anns,
                    "categories": [{"id": k + 1, "name": n} for k, n in enumerate(CLASSES)]}
    coco.createIndex()
    ev = PlainIoUEval(coco, coco.loadRes(results), "bbox")
    ev.evaluate()
    ev.accumulate()
    prec = ev.eval["precision"][:, :, :, 0, -1]     # T, R, K at area 'all', maxDets 100
    ap = {}
    for k, name in enumerate(CLASSES):
        p = prec[:, :, k]
        if (p > -1).any():
            ap[name] = (float(np.mean(p[0])), float(np.mean(p)))
    return ap


def test_agrees_with_pycocotools_on_random_detections():
    gts, dets = _random_case()
    ours = evaluate(gts, dets, CLASSES)
    ours50 = coco_ap_at(gts, dets, CLASSES, 0.5)
    ref = _pycocotools_ap(gts, dets)
    assert set(ref) == set(ours.per_class_ap)
    for name, (ref50, ref5095) in ref.items():
        assert ours50[name] == pytest.approx(ref50, abs=1e-9), name
        assert ours.per_class_ap[name] == pytest.approx(ref5095, abs=1e-9), name
    assert ours.map50_95 == pytest.approx(np.mean([v[1] for v in ref.values()]), abs=1e-9)
    # the case must be non-trivial for the comparison to mean anything
    assert 0.1 < ours.map50_95 < 0.9
    # VOC all-point at 0.5 differs from COCO's 101 points only by interpolation
    assert ours.map50 == pytest.approx(np.mean([v[0] for v in ref.values()]), abs=0.03)
