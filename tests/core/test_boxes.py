"""Box maths: IoU, conversions, clipping, letterbox maps."""
import numpy as np
import pytest

from yolo_studio.core import boxes as B


def test_iou_known_values():
    a = [[0, 0, 10, 10]]
    b = [[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 5, 5]]
    np.testing.assert_allclose(B.iou(a, b), [[1.0, 50 / 150, 0.0, 25 / 100]])


def test_iou_is_pairwise_and_symmetric():
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 50, size=(7, 2))
    a = np.concatenate([xy, xy + rng.uniform(1, 30, size=(7, 2))], axis=1)
    m = B.iou(a, a[:4])
    assert m.shape == (7, 4)
    np.testing.assert_allclose(m[:4], m[:4].T)
    np.testing.assert_allclose(np.diag(m[:4]), 1.0)
    assert ((m >= 0) & (m <= 1)).all()


def test_aligned_iou_is_the_diagonal_of_the_pairwise_one():
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 50, size=(9, 2))
    a = np.concatenate([xy, xy + rng.uniform(1, 30, size=(9, 2))], axis=1)
    b = a + rng.uniform(-5, 5, size=a.shape)
    b[-1] = [7, 7, 7, 7]                                      # degenerate: 0, not nan
    np.testing.assert_allclose(B.iou_aligned(a, b), np.diag(B.iou(a, b)))
    assert B.iou_aligned(a, b)[-1] == 0 and B.iou_aligned([], []).shape == (0,)


def test_iou_of_degenerate_boxes_is_zero_not_nan():
    m = B.iou([[5, 5, 5, 5]], [[5, 5, 5, 5], [0, 0, 10, 10]])
    assert np.isfinite(m).all() and (m == 0).all()


def test_empty_inputs_give_empty_results():
    assert B.as_boxes([]).shape == (0, 4)
    assert B.iou([], [[0, 0, 1, 1]]).shape == (0, 1)
    assert B.xyxy_to_cxcywh([]).shape == (0, 4)


def test_area_of_inverted_box_is_zero():
    np.testing.assert_allclose(B.area([[0, 0, 4, 5], [4, 0, 0, 5]]), [20, 0])


def test_wh_iou():
    np.testing.assert_allclose(B.wh_iou([[10, 10]], [[10, 10], [5, 10], [20, 20]]),
                               [[1.0, 0.5, 0.25]])


def test_xyxy_cxcywh_round_trip():
    b = np.array([[1.5, 2.0, 11.5, 22.0], [0, 0, 3, 4]])
    c = B.xyxy_to_cxcywh(b)
    np.testing.assert_allclose(c[0], [6.5, 12.0, 10.0, 20.0])
    np.testing.assert_allclose(B.cxcywh_to_xyxy(c), b)


def test_clip_to_image():
    np.testing.assert_allclose(B.clip([[-5, -1, 50, 8]], 40, 30), [[0, 0, 40, 8]])


@pytest.mark.parametrize("w,h,size", [(640, 480, 416), (300, 900, 320), (128, 128, 256), (1000, 10, (320, 192))])
def test_letterbox_round_trip_and_fit(w, h, size):
    lb = B.letterbox_params(w, h, size)
    tw, th = (size, size) if isinstance(size, int) else size
    assert lb.new_w <= tw and lb.new_h <= th
    assert lb.new_w == tw or lb.new_h == th  # one side fills the square
    boxes = np.array([[0, 0, w, h], [w * 0.25, h * 0.5, w * 0.75, h * 0.9]])
    fwd = B.letterbox_boxes(boxes, lb)
    # the whole image lands inside the padded area, centred
    assert fwd[0, 0] == pytest.approx(lb.dx) and fwd[0, 1] == pytest.approx(lb.dy)
    np.testing.assert_allclose(B.unletterbox_boxes(fwd, lb, w, h), boxes, atol=1e-9)


def test_unletterbox_clips_boxes_in_the_padding():
    lb = B.letterbox_params(200, 100, 200)      # pads 50 px above and below
    back = B.unletterbox_boxes([[10, 0, 50, 60]], lb, 200, 100)
    np.testing.assert_allclose(back, [[10, 0, 50, 10]])
