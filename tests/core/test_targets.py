"""Target encoding: each box lands on its best anchor's scale, at its centre cell."""
from __future__ import annotations

import numpy as np

from yolo_studio.core.defaults import YOLOV3_ANCHORS, YOLOV3_TINY_ANCHORS
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
