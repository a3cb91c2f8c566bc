"""The anchors use case both front ends call: load, fit, measure; clear errors when there is nothing."""
from __future__ import annotations

import numpy as np
import pytest

from yolo_studio.core import anchors as A
from yolo_studio.core.anchor_fit import FitRequest, fit_and_measure, fit_project_anchors, load_boxes
from yolo_studio.core.annotations import Box
from yolo_studio.core.errors import ConfigError
from yolo_studio.core.project import Project


def _project(tmp_path, n_images=6):
    project = Project.create(tmp_path / "p", ["a"])
    rng = np.random.default_rng(0)
    for i in range(n_images):
        boxes = []
        for _ in range(3):
            x, y = rng.integers(0, 100, 2)
            w, h = rng.integers(8, 90, 2)
            boxes.append(Box(float(x), float(y), float(x + w), float(y + h), "a"))
        project.add_image(np.zeros((208, 208, 3), np.uint8), f"im{i}.jpg", boxes)
    return project


def test_fit_measures_the_fitted_set_against_coco_on_the_same_boxes(tmp_path):
    project = _project(tmp_path)
    result = fit_project_anchors(project, FitRequest("yolov3-tiny", 416, 6, genetic=False))
    assert len(result.wh) == 18 and result.images_with_boxes == 6
    assert list(result.sets) == [A.FITTED, A.DEFAULTS]
    assert result.sets[A.FITTED].shape == (6, 2)
    # fitted to these boxes, the new set covers them at least as well as COCO's
    assert result.metrics[A.FITTED].mean_iou >= result.metrics[A.DEFAULTS].mean_iou
    assert len(result.clusters) == 18


def test_loading_never_fails_on_an_empty_project_but_fitting_says_why(tmp_path):
    project = Project.create(tmp_path / "p", ["a"])
    result = load_boxes(project, FitRequest("yolov3", 416, 9))
    assert len(result.wh) == 0
    with pytest.raises(ConfigError, match="no labelled boxes to fit anchors to; label some images first"):
        fit_and_measure(project, result)
    assert fit_and_measure(project, load_boxes(project, FitRequest("yolov3", 416, 9, fit=False))).sets == {}


def test_a_missing_image_folder_is_named_in_the_error(tmp_path):
    project = Project.create(tmp_path / "p", ["a"], image_dirs=[tmp_path / "gone"])
    (tmp_path / "gone").rmdir()      # created with the project, removed since
    with pytest.raises(ConfigError, match="gone .*does not exist"):
        fit_project_anchors(project, FitRequest("yolov3", 416, 9))
