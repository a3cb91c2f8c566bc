"""Decode and NMS on hand-made head outputs whose boxes are known."""
from __future__ import annotations

import numpy as np
import pytest

from yolo_studio.core.errors import ConfigError
from yolo_studio.core.model import decode_predictions, nms

ANCHORS = [[(10, 14), (23, 27), (37, 58)], [(81, 82), (135, 169), (344, 319)]]   # tiny
C = 3


def empty_heads(size=64):
    """Raw tiny heads where nothing is an object (objectness logit -20)."""
    heads = []
    for stride in (16, 32):
        g = size // stride
        h = np.zeros((1, g, g, 3, 5 + C), np.float32)
        h[..., 4] = -20.0
        h[..., 5:] = -20.0
        heads.append(h)
    return heads


def plant(heads, scale, gx, gy, anchor, tx=0.0, ty=0.0, tw=0.0, th=0.0, cls=0, obj=20.0, cls_logit=20.0):
    cell = heads[scale][0, gy, gx, anchor]
    cell[:5] = tx, ty, tw, th, obj
    cell[5 + cls] = cls_logit


def flat(heads):
    return [h.reshape(h.shape[:3] + (-1,)) for h in heads]


def test_decode_places_box_from_grid_cell_and_anchor():
    heads = empty_heads()
    # cell (2, 1) of the stride-16 grid, anchor 1 (23x27), width doubled: exp(log 2).
    plant(heads, 0, gx=2, gy=1, anchor=1, tw=np.log(2.0), cls=2)
    dec = decode_predictions(flat(heads), ANCHORS, C).numpy()
    assert dec.shape == (1, (4 * 4 + 2 * 2) * 3, 5 + C)
    row = (1 * 4 + 2) * 3 + 1                     # (y, x, anchor) row-major, stride-16 first
    cx, cy, w, h = 2.5 * 16, 1.5 * 16, 46.0, 27.0
    np.testing.assert_allclose(dec[0, row, :4], [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], atol=1e-4)
    assert dec[0, row, 4] > 0.999 and dec[0, row, 7] > 0.999 and dec[0, row, 5] < 1e-6
    assert (np.delete(dec[0, :, 4], row) < 1e-6).all()


def test_sigmoid_offsets_and_multi_label_classes():
    heads = empty_heads()
    plant(heads, 1, gx=1, gy=0, anchor=0, tx=np.log(3.0), ty=-np.log(3.0), cls=0)   # sigmoid 0.75 / 0.25
    heads[1][0, 0, 1, 0, 6] = 0.0                                                   # class 1: p = 0.5
    dec = decode_predictions(flat(heads), ANCHORS, C).numpy()
    row = 16 * 3 + (0 * 2 + 1) * 3 + 0
    cx, cy = (1 + 0.75) * 32, (0 + 0.25) * 32
    # anchor 0 of the stride-32 scale is 81x82
    np.testing.assert_allclose(dec[0, row, :4], [cx - 40.5, cy - 41, cx + 40.5, cy + 41], atol=1e-4)
    np.testing.assert_allclose(dec[0, row, 5:], [1.0, 0.5, 0.0], atol=1e-6)


def test_nms_keeps_best_of_overlapping_same_class_boxes_only():
    heads = empty_heads()
    plant(heads, 0, 1, 1, 0, obj=3.0, cls=0)              # score sigmoid(3) = 0.953
    # anchor 1 (23x27) shrunk to 10x14: the same box, lower score: suppressed
    plant(heads, 0, 1, 1, 1, tw=np.log(10 / 23), th=np.log(14 / 27), obj=2.0, cls=0)
    plant(heads, 0, 1, 1, 2, obj=1.0, cls=1)              # same place, other class: kept
    plant(heads, 0, 3, 3, 0, obj=-3.0, cls=2)             # below the score threshold
    boxes, scores, classes, valid = (t.numpy() for t in nms(
        decode_predictions(flat(heads), ANCHORS, C), 0.25, 0.45, 10))
    assert valid[0] == 2
    np.testing.assert_allclose(scores[0, :2], [1 / (1 + np.exp(-3)), 1 / (1 + np.exp(-1))], rtol=1e-5)
    assert classes[0, :2].tolist() == [0, 1]
    np.testing.assert_allclose(boxes[0, 0], [24 - 5, 24 - 7, 24 + 5, 24 + 7], atol=1e-4)


def test_nms_iou_threshold_and_cap():
    heads = empty_heads()
    for gx in range(4):                                   # four separate boxes of class 0
        plant(heads, 0, gx, 0, 0, obj=float(gx))
    dec = decode_predictions(flat(heads), ANCHORS, C)
    *_, valid = nms(dec, 0.1, 0.45, 10)
    assert int(valid[0]) == 4
    boxes, scores, _, valid = nms(dec, 0.1, 0.45, 2)
    assert int(valid[0]) == 2 and scores[0, 0] > scores[0, 1]
    assert boxes.numpy()[0, 0, 0] == pytest.approx(3.5 * 16 - 5, abs=1e-4)   # the best one first


def test_score_is_objectness_times_class_probability():
    heads = empty_heads()
    plant(heads, 0, 0, 0, 0, obj=0.0, cls_logit=0.0)      # 0.5 * 0.5
    _, scores, _, valid = nms(decode_predictions(flat(heads), ANCHORS, C), 0.2, 0.45, 5)
    assert int(valid[0]) == 1 and float(scores[0, 0]) == pytest.approx(0.25, abs=1e-6)
    *_, valid = nms(decode_predictions(flat(heads), ANCHORS, C), 0.3, 0.45, 5)
    assert int(valid[0]) == 0


def test_huge_width_logits_do_not_make_inf_boxes():
    heads = empty_heads()
    plant(heads, 0, 0, 0, 0, tw=500.0, th=500.0)
    dec = decode_predictions(flat(heads), ANCHORS, C).numpy()
    assert np.isfinite(dec).all()


def test_channel_count_mismatch_is_explained():
    with pytest.raises(ConfigError, match="3 anchors and 5 classes need 30"):
        decode_predictions(flat(empty_heads()), ANCHORS, 5)
