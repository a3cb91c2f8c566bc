"""Pre-labels merge into annotations without touching a person's boxes."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from yolo_studio.core.annotations import Box, Detection, ImageAnnotation
from yolo_studio.core.prelabel import (detections_for_project, merge_predictions,
                                       prelabel_image, snapshot_boxes)
from yolo_studio.core.project import Project


def det(x1, y1, x2, y2, label="circle", score=0.8, cid=0):
    return Detection(x1, y1, x2, y2, score, cid, label)


def test_merge_keeps_human_boxes_and_replaces_old_predictions():
    human = Box(10, 10, 50, 50, "circle")
    old = Box(60, 60, 90, 90, "square", predicted=True, score=0.4)
    ann = ImageAnnotation("img.jpg", 128, 128, [human, old], verified=True)
    out = merge_predictions(ann, [det(100, 5, 120, 30, "square", 0.9, 1)])
    assert out.annotation.boxes[0] == human
    assert old not in out.annotation.boxes
    new = out.annotation.boxes[1]
    assert (new.label, new.predicted, new.score) == ("square", True, pytest.approx(0.9))
    assert not out.annotation.verified  # it now holds unreviewed boxes
    assert (out.added, out.replaced, out.kept_human) == (1, 1, 1)
    assert ann.boxes == [human, old]  # the input is not modified


def test_detection_repeating_a_human_box_is_not_added_but_other_class_is():
    human = Box(10, 10, 50, 50, "circle")
    ann = ImageAnnotation("img.jpg", 128, 128, [human])
    out = merge_predictions(ann, [det(11, 11, 51, 50, "circle"), det(11, 11, 51, 50, "square")])
    assert out.duplicates == 1
    assert [b.label for b in out.annotation.boxes] == ["circle", "square"]
    assert out.annotation.boxes[0] is human


def test_no_detections_clears_old_predictions_only():
    human = Box(1, 1, 5, 5, "circle")
    ann = ImageAnnotation("i.jpg", 8, 8, [Box(2, 2, 6, 6, "circle", predicted=True), human], True)
    out = merge_predictions(ann, [])
    assert out.annotation.boxes == [human] and out.annotation.verified


def test_classes_outside_the_project_are_left_out_unless_it_has_none():
    dets = [det(0, 0, 5, 5, "circle"), det(0, 0, 5, 5, "person"), det(0, 0, 5, 5, "dog")]
    kept, skipped = detections_for_project(dets, ["circle", "square"])
    assert [d.label for d in kept] == ["circle"] and skipped == ["dog", "person"]
    assert detections_for_project(dets, [])[0] == dets
    boxes, _ = snapshot_boxes(dets, ["dog"])
    assert boxes == [Box(0, 0, 5, 5, "dog", predicted=True, score=0.8)]


class FixedDetector:
    """A model whose detections are known, to check what lands on disk.

    The real Detector is exercised in tests/gui (preview, pre-label dialog);
    here the point is the file-level rules.
    """

    def __init__(self, detections):
        self.detections = detections
        self.calls = []

    def detect(self, image, score_threshold=0.25, iou_threshold=0.45, **_):
        self.calls.append((image.shape, score_threshold, iou_threshold))
        return list(self.detections)

    def detect_batch(self, images, **kw):
        return [self.detect(image, **kw) for image in images]


@pytest.fixture
def project(tmp_path):
    proj = Project.create(tmp_path / "p", ["circle", "square"])
    img = np.full((96, 128, 3), 120, np.uint8)
    proj.image_dirs[0].mkdir(parents=True, exist_ok=True)
    paths = []
    for name in ("a.jpg", "b.jpg"):
        cv2.imwrite(str(proj.image_dirs[0] / name), img)
        paths.append(proj.image_dirs[0] / name)
    proj.refresh()
    return proj, paths


def test_prelabel_image_writes_unverified_predicted_boxes_and_keeps_human_ones(project):
    proj, (a, _b) = project
    human = Box(5, 5, 40, 40, "square")
    proj.save_annotation(ImageAnnotation(a, 128, 96, [human], verified=True))
    model = FixedDetector([det(60, 20, 100, 70, "circle", 0.7), det(5, 50, 30, 90, "person", 0.9)])
    outcome = prelabel_image(proj, model, a, score_threshold=0.3, iou_threshold=0.5)
    assert model.calls == [((96, 128, 3), 0.3, 0.5)]
    assert outcome.added == 1 and outcome.unknown_classes == ["person"]
    back = Project.open(proj.root).load_annotation(a)
    assert back.boxes[0] == human
    assert back.boxes[1].predicted and back.boxes[1].label == "circle"
    assert back.boxes[1].score == pytest.approx(0.7)
    assert not back.verified
    assert "person" not in Project.open(proj.root).classes

    # A second pass (another model) replaces the pre-label, never the person's box.
    prelabel_image(proj, FixedDetector([det(70, 30, 110, 80, "square", 0.6)]), a)
    back = proj.load_annotation(a)
    assert [(b.label, b.predicted) for b in back.boxes] == [("square", False), ("square", True)]


def test_malformed_label_file_is_reported_and_left_byte_for_byte(project):
    proj, (_a, b) = project
    label = proj.label_path(b)
    label.write_text("<annotation><object><name>circle</name><bndbox>broken")
    before = label.read_bytes()
    outcome = prelabel_image(proj, FixedDetector([det(1, 1, 9, 9)]), b)
    assert outcome.problem and label.name in outcome.problem
    assert not outcome.changed
    assert label.read_bytes() == before


def test_missing_image_is_reported_not_raised(project):
    proj, (a, _b) = project
    a.unlink()
    outcome = prelabel_image(proj, FixedDetector([det(1, 1, 9, 9)]), a)
    assert outcome.problem and "a.jpg" in outcome.problem
