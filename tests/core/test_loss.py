"""The loss: near zero for a perfect prediction, large for a wrong one, parts separate."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from yolo_studio.core.model_family import FAMILIES
from yolo_studio.core.training.loss import box_giou, yolo_loss
from yolo_studio.core.training.targets import encode_targets

YOLOV3_TINY_ANCHORS = FAMILIES["yolov3-tiny"].default_anchors

STRIDES = [16, 32]
SIZE = 64
C = 2


def _targets():
    boxes = np.array([[4, 6, 30, 30], [10, 8, 60, 62]], dtype=np.float64)
    grids, truth = encode_targets(boxes, [1, 0], SIZE, YOLOV3_TINY_ANCHORS, STRIDES, C)
    return [g[None] for g in grids], truth[None]


def _perfect_raw(grids, confident=12.0):
    """Raw heads that decode exactly to the targets with confident obj/classes."""
    raws = []
    for g, anchors, stride in zip(grids, YOLOV3_TINY_ANCHORS, STRIDES):
        raw = np.zeros(g.shape, dtype=np.float32)
        raw[..., 4] = -confident
        raw[..., 5:] = -confident
        for b, y, x, a in zip(*np.nonzero(g[..., 4])):
            cx, cy, w, h = g[b, y, x, a, :4]
            fx, fy = cx / stride - x, cy / stride - y
            raw[b, y, x, a, 0:2] = np.log([fx / (1 - fx), fy / (1 - fy)])
            raw[b, y, x, a, 2:4] = np.log([w / anchors[a][0], h / anchors[a][1]])
            raw[b, y, x, a, 4] = confident
            raw[b, y, x, a, 5:] = np.where(g[b, y, x, a, 5:] > 0, confident, -confident)
        raws.append(raw.reshape(g.shape[:3] + (-1,)))
    return raws


def _loss(raws, grids, truth):
    parts = yolo_loss([tf.constant(r) for r in raws], [tf.constant(g) for g in grids],
                      tf.constant(truth), YOLOV3_TINY_ANCHORS, STRIDES, SIZE)
    return [float(p.numpy()[0]) for p in parts]


def test_perfect_prediction_has_near_zero_loss():
    grids, truth = _targets()
    box, obj, cls = _loss(_perfect_raw(grids), grids, truth)
    assert box < 1e-4 and obj < 1e-4 and cls < 1e-3


def test_wrong_prediction_has_large_loss_in_each_part():
    grids, truth = _targets()
    raws = _perfect_raw(grids)
    good = _loss(raws, grids, truth)
    bad_box = [r.copy() for r in raws]
    for r in bad_box:
        r.reshape(r.shape[:3] + (3, -1))[..., 0:4] += 2.5     # shifted and stretched
    bad_obj = [-r for r in raws]                               # confident the wrong way
    box, _, _ = _loss(bad_box, grids, truth)
    _, obj, cls = _loss(bad_obj, grids, truth)
    assert box > 0.5 and box > 1000 * good[0]
    assert obj > 1.0 and cls > 1.0


def test_prediction_overlapping_a_truth_is_not_pushed_to_background():
    grids, truth = _targets()
    raws = _perfect_raw(grids)
    # Make a non-responsible anchor at the same cell predict the same box with
    # high objectness: ignored (best IoU > 0.5), so the obj loss stays ~0.
    g = grids[0][0]
    y, x, a = [int(v[0]) for v in np.nonzero(g[..., 4])]
    r = raws[0].reshape(raws[0].shape[:3] + (3, -1))
    other = (a + 1) % 3
    r[0, y, x, other, :4] = r[0, y, x, a, :4]
    r[0, y, x, other, 2:4] += np.log(np.array(YOLOV3_TINY_ANCHORS[0][a]) /
                                     np.array(YOLOV3_TINY_ANCHORS[0][other]))
    r[0, y, x, other, 4] = 12.0
    _, obj_ignored, _ = _loss(raws, grids, truth)
    assert obj_ignored < 1e-3
    # ...while a confident prediction far from any truth is penalised.
    r[0, y, x, other, 2:4] = -6.0
    _, obj_far, _ = _loss(raws, grids, truth)
    assert obj_far > 5.0


def test_giou_of_disjoint_boxes_is_negative_and_identical_is_one():
    a = tf.constant([[0.0, 0, 10, 10], [0, 0, 10, 10]])
    b = tf.constant([[0.0, 0, 10, 10], [20, 0, 30, 10]])
    g = box_giou(a, b).numpy()
    np.testing.assert_allclose(g, [1.0, -1 / 3], atol=1e-6)
