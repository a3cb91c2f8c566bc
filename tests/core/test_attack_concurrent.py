"""Two windows on one project never relabel each other's boxes.

Attack review 2026-12-01: instance A saved a "dog" box (adding the class,
id 1 in a YOLO project); instance B, opened before, then saved a "bird" box
with its stale class list [cat, bird]. classes.txt became [cat, bird], so A's
dog silently became a bird, and "dog" left the project.
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from yolo_studio.core.annotations import Box, ImageAnnotation
from yolo_studio.core.errors import ConfigError
from yolo_studio.core.project import Project


@pytest.mark.parametrize("fmt", ["yolo", "voc"])
def test_a_save_with_a_stale_class_list_is_refused_and_changes_nothing(tmp_path, fmt):
    p = Project.create(tmp_path / "p", ["cat"], label_format=fmt)
    d = p.image_dirs[0]
    for n in "ab":
        cv2.imwrite(str(d / f"{n}.jpg"), np.zeros((50, 50, 3), np.uint8))
    a, b = Project.open(p.root), Project.open(p.root)
    a.save_annotation(ImageAnnotation(d / "a.jpg", 50, 50, [Box(1, 1, 20, 20, "dog")]))
    with pytest.raises(ConfigError, match="changed by another window"):
        b.save_annotation(ImageAnnotation(d / "b.jpg", 50, 50, [Box(1, 1, 20, 20, "bird")]))
    with pytest.raises(ConfigError, match="changed by another window"):
        b.add_class("fish")
    with pytest.raises(ConfigError, match="changed by another window"):
        b.remove_class("cat")
    now = Project.open(p.root)
    assert now.classes == ["cat", "dog"]
    assert now.load_annotation(d / "a.jpg").labels() == ["dog"]
    assert not now.has_labels(d / "b.jpg")
