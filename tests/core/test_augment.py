"""augment: every training augmentation keeps each box on the same pixels it labelled."""
from __future__ import annotations

import numpy as np
import pytest

from yolo_studio.core.training import augment as aug


def _scene(h=60, w=80):
    image = np.full((h, w, 3), 30, np.uint8)
    image[10:30, 20:50] = 220                      # one bright object
    return image, np.array([[20.0, 10.0, 50.0, 30.0]])


def _inside_is_bright(image, box):
    x1, y1, x2, y2 = np.rint(box).astype(int)
    patch = image[y1 + 1:y2 - 1, x1 + 1:x2 - 1]
    return patch.size and patch.mean() > 180 and image.mean() < 150


def test_mirror_moves_the_box_with_the_pixels():
    image, boxes = _scene()
    flipped, out = aug.mirror(image, boxes)
    assert out.tolist() == [[30.0, 10.0, 60.0, 30.0]] and _inside_is_bright(flipped, out[0])


@pytest.mark.parametrize("seed", range(5))
def test_crop_and_translate_never_cut_a_box(seed):
    rng = np.random.default_rng(seed)
    image, boxes = _scene()
    for step in (aug.random_crop, aug.random_translate):
        out_image, out = step(image, boxes, rng)
        h, w = out_image.shape[:2]
        assert 0 <= out[0, 0] and 0 <= out[0, 1] and out[0, 2] <= w and out[0, 3] <= h
        assert _inside_is_bright(out_image, out[0]), step.__name__


def test_without_hflip_nothing_is_mirrored_and_every_other_random_choice_stays_the_same():
    image, boxes = _scene()
    for seed in range(8):
        coin = np.random.default_rng(seed).random()
        kept, kept_boxes = aug.augment(image, boxes, np.random.default_rng(seed), hflip=False)
        maybe, maybe_boxes = aug.augment(image, boxes, np.random.default_rng(seed), hflip=True)
        inside = kept_boxes[0].round().astype(int)
        assert kept[inside[1]:inside[3], inside[0]:inside[2]].mean() > 1.5 * kept.mean()   # on the object
        if coin >= 0.5:      # the flip coin said no: the same picture either way
            assert np.array_equal(kept, maybe) and np.allclose(kept_boxes, maybe_boxes)
        else:
            assert not np.allclose(kept_boxes, maybe_boxes)
    assert {np.random.default_rng(s).random() >= 0.5 for s in range(8)} == {True, False}
