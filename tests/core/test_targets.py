"""Target encoding: each box lands on its best anchor's scale, at its centre cell."""
from __future__ import annotations

import numpy as np
import pytest

from yolo_studio.core.model_family import FAMILIES
from yolo_studio.core.training.targets import encode_targets

STRIDES = [8, 16, 32]


def test_small_and_large_boxes_go_to_fine_and_coarse_scales():
    boxes = np.array([[100, 100, 110, 113],      # 10x13: anchor 0 exactly, stride 8
                      [50, 60, 423 - 10, 386],    # ~363x326: anchor 8, stride 32
                      [200, 200, 262, 245]])      # 62x45: anchor 4, stride 16
    grids, truth = encode_targets(boxes, [2, 0, 1], 416, YOLOV3_ANCHORS, STRIDES, 3)
    assert [g.shape for g in grids] == [(52, 52, 3, 8), (26, 26, 3, 8), (13, 13, 3, 8)]
    assert [int(g[..., 4].sum()) for g in grids] == [1, 1, 1]
    small = grids[0][int(106.5 // 8), int(105 // 8), 0]
    np.testing.assert_allclose(small[:5], [105, 106.5, 10, 13, 1])
    np.testing.assert_array_equal(small[5:], [0, 0, 1])
    large = grids[2][int(223 // 32), int(231.5 // 32), 2]
    np.testing.assert_allclose(large[:5], [231.5, 223, 363, 326, 1])
    assert large[5] == 1
    mid = grids[1][int(222.5 // 16), int(231 // 16), 1]
    np.testing.assert_allclose(mid[:5], [231, 222.5, 62, 45, 1])
    assert mid[6] == 1
    np.testing.assert_allclose(truth[:3], boxes)
    assert not truth[3:].any()


def test_negative_image_has_all_zero_targets():
    grids, truth = encode_targets(np.zeros((0, 4)), [], 64, YOLOV3_TINY_ANCHORS, [16, 32], 2)
    assert [g.shape for g in grids] == [(4, 4, 3, 7), (2, 2, 3, 7)]
    assert not any(g.any() for g in grids)
    assert not truth.any()


def test_box_on_the_far_edge_stays_in_the_last_cell():
    grids, _ = encode_targets([[40, 40, 64, 64]], [0], 64, YOLOV3_TINY_ANCHORS, [16, 32], 1)
    assert grids[0][3, 3, 1, 4] == 1    # 24x24 box -> tiny anchor (23, 27), centre (52, 52)


def test_degenerate_box_is_not_a_positive():
    grids, truth = encode_targets([[10, 10, 10, 30]], [0], 64, YOLOV3_TINY_ANCHORS, [16, 32], 1)
    assert not any(g[..., 4].any() for g in grids)


# --- multi-anchor assignment and label smoothing (issue 11) ---------------------------

from yolo_studio.core.boxes import wh_iou  # noqa: E402
from yolo_studio.core.training.targets import class_target, responsible_anchors  # noqa: E402

YOLOV3_ANCHORS = FAMILIES["yolov3"].default_anchors
YOLOV3_TINY_ANCHORS = FAMILIES["yolov3-tiny"].default_anchors


def _positives(grids):
    """(scale, row, col, anchor) of every positive."""
    return sorted((s, *map(int, idx)) for s, g in enumerate(grids) for idx in np.argwhere(g[..., 4] > 0))


def test_multi_puts_a_box_on_every_anchor_above_the_iou_threshold_on_each_scale():
    # 28x40 overlaps the full model's (16, 30), (33, 23) at stride 8 and (30, 61) at stride 16
    # well enough; its best anchor is (30, 61) at stride 16.
    box = np.array([[100, 100, 128, 140]])
    flat = np.asarray([a for s in YOLOV3_ANCHORS for a in s], float)
    ious = wh_iou([[28, 40]], flat)[0]
    expected = {divmod(int(k), 3) for k in np.flatnonzero(ious > 0.3)} | {divmod(int(ious.argmax()), 3)}
    assert len(expected) >= 2 and len({s for s, _ in expected}) >= 2   # a real multi-scale case
    best, _ = encode_targets(box, [1], 416, YOLOV3_ANCHORS, STRIDES, 3)
    multi, _ = encode_targets(box, [1], 416, YOLOV3_ANCHORS, STRIDES, 3, assignment="multi")
    assert _positives(best) == [(1, 120 // 16, 114 // 16, 0)]
    assert {(p[0], p[3]) for p in _positives(multi)} == expected
    for s, row, col, a in _positives(multi):
        cell = multi[s][row, col, a]
        # every responsible anchor sits in the cell of the centre on its own scale, same box
        assert (row, col) == (int(120 // STRIDES[s]), int(114 // STRIDES[s]))
        np.testing.assert_allclose(cell[:5], [114, 120, 28, 40, 1])
        np.testing.assert_array_equal(cell[5:], [0, 1, 0])


def test_multi_keeps_the_best_anchor_even_below_the_threshold():
    # A long thin box matches no anchor above 0.3, yet it must not be lost.
    owners = responsible_anchors(np.array([[200.0, 6.0]]), YOLOV3_ANCHORS, "multi", 0.3)
    assert len(owners[0]) == 1
    grids, _ = encode_targets([[0, 0, 200, 6]], [0], 416, YOLOV3_ANCHORS, STRIDES, 1,
                              assignment="multi")
    assert sum(int(g[..., 4].sum()) for g in grids) == 1


@pytest.mark.parametrize("anchors,strides,size", [(YOLOV3_ANCHORS, [8, 16, 32], 416),
                                                  (YOLOV3_TINY_ANCHORS, [16, 32], 128)])
def test_box_centres_on_cell_borders_go_to_the_cell_they_start(anchors, strides, size):
    # centre exactly on x = y = 32: the border between cells 1 and 2 at stride 16,
    # between 0 and 1 at stride 32, a multiple of 8 too; always the cell starting there.
    grids, _ = encode_targets([[20, 20, 44, 44]], [0], size, anchors, strides, 1, assignment="multi")
    for s, row, col, _a in _positives(grids):
        assert row == col == 32 // strides[s]
    # a centre right on the image's far edge (letterbox rounding can put it there):
    # the last cell, never one past it
    grids, _ = encode_targets([[size - 12, size - 12, size + 12, size + 12]], [0], size, anchors,
                              strides, 1, assignment="multi")
    found = _positives(grids)
    assert found and all(r == c == size // strides[s] - 1 for s, r, c, _a in found)


@pytest.mark.parametrize("anchors,strides", [(YOLOV3_ANCHORS, [8, 16, 32]),
                                             (YOLOV3_TINY_ANCHORS, [16, 32])])
def test_tiny_and_full_image_boxes_are_positives_on_fine_and_coarse_scales(anchors, strides):
    size = 416
    grids, truth = encode_targets([[10, 10, 14, 15], [0, 0, size, size]], [0, 1], size, anchors,
                                  strides, 2, assignment="multi")
    found = _positives(grids)
    tiny_scale = {s for s, *_ in found if grids[s][..., 5].max() > 0}
    full_scale = {s for s, *_ in found if grids[s][..., 6].max() > 0}
    assert tiny_scale == {0}                       # a 4x5 box: finest scale only
    assert full_scale == {len(strides) - 1}        # the whole image: coarsest scale
    np.testing.assert_allclose(truth[:2], [[10, 10, 14, 15], [0, 0, size, size]])


def test_two_boxes_in_one_cell_anchor_keep_the_later_one_whole():
    grids, _ = encode_targets([[0, 0, 10, 13], [1, 1, 11, 14]], [0, 1], 416, YOLOV3_ANCHORS,
                              STRIDES, 2, assignment="multi")
    cell = grids[0][0, 0, 0]
    np.testing.assert_allclose(cell, [6, 7.5, 10, 13, 1, 0, 1])   # no half-mixed classes


def test_label_smoothing_spreads_a_little_mass_over_the_other_classes():
    t = class_target(3, 10, 0.01)
    assert t[3] == pytest.approx(0.99 + 0.001) and t[0] == pytest.approx(0.001)
    assert t.sum() == pytest.approx(1.0)
    np.testing.assert_array_equal(class_target(3, 10, 0.0), np.eye(10)[3])
    grids, _ = encode_targets([[100, 100, 110, 113]], [2], 416, YOLOV3_ANCHORS, STRIDES, 3,
                              label_smoothing=0.3)
    cell = grids[0][106 // 8, 105 // 8, 0]
    np.testing.assert_allclose(cell[4:], [1, 0.1, 0.1, 0.8])     # objectness stays hard


def test_unknown_assignment_is_refused_with_its_name():
    from yolo_studio.core.errors import ConfigError
    with pytest.raises(ConfigError, match="assignment 'all'"):
        encode_targets([[0, 0, 10, 10]], [0], 64, YOLOV3_TINY_ANCHORS, [16, 32], 1, assignment="all")
