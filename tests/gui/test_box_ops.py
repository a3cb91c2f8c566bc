"""box_ops: the labeller's pure edits; each returns a new list and leaves the old one as it was."""
from __future__ import annotations

from yolo_studio.core.annotations import Box
from yolo_studio.gui.labeller import box_ops as ops

PRED = Box(10, 10, 50, 40, "cat", predicted=True, score=0.9)
DOG = Box(60, 5, 90, 30, "dog")


def test_edits_return_new_lists_and_an_edited_prelabel_becomes_a_persons_box():
    boxes = [PRED, DOG]
    moved = ops.set_rect(boxes, 0, (0, 0, 20, 20))
    assert boxes == [PRED, DOG]                                   # undo keeps the old list
    assert moved[0] == Box(0, 0, 20, 20, "cat") and moved[1] is DOG
    assert ops.relabel(boxes, [0], "dog")[0] == Box(10, 10, 50, 40, "dog")
    assert ops.delete(boxes, [0]) == [DOG]
    assert ops.accept(boxes) == [Box(10, 10, 50, 40, "cat"), DOG]
    assert ops.set_difficult(boxes, [1], True)[1].difficult


def test_nudge_and_duplicate_stop_at_the_image_edge():
    assert ops.nudge([DOG], [0], 50, -50, 100, 80)[0].xyxy() == (70, 0, 100, 25)
    copy = ops.duplicate([DOG], [0], 20, 100, 80)
    assert len(copy) == 2 and copy[1].xyxy() == (70, 25, 100, 50)


def test_copy_onto_clips_to_the_image_and_skips_duplicates_and_slivers():
    source = [DOG, Box(95, 70, 140, 120, "cat"), Box(-30, 0, 0.5, 10, "cat")]
    out = ops.copy_onto([DOG], source, 100, 80)
    assert out == [DOG, Box(95, 70, 100, 80, "cat")]
    assert ops.clip_box(Box(-5, -5, 0.5, 10, "x"), 100, 80) is None
