"""A folder where a label file should be is named, not read as "no labels".

Attack review 2026-12-01: with ``a.xml`` a folder, load_annotation returned an
empty annotation (the labeller showed the image as unlabelled) and the next
save failed with a raw ``IsADirectoryError`` naming a temporary file.
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from yolo_studio.core.annotations import Box, ImageAnnotation
from yolo_studio.core.errors import LabelFileError
from yolo_studio.core.project import Project


def test_a_folder_in_place_of_the_label_file_is_a_label_file_error_naming_it(tmp_path):
    p = Project.create(tmp_path / "p", ["cat"])
    image = p.image_dirs[0] / "a.jpg"
    cv2.imwrite(str(image), np.zeros((40, 40, 3), np.uint8))
    (p.image_dirs[0] / "a.xml").mkdir()
    (p.image_dirs[0] / "a.xml" / "keep.txt").write_text("mine")
    with pytest.raises(LabelFileError, match="a.xml: is not a file"):
        p.load_annotation(image)
    with pytest.raises(LabelFileError, match="a.xml: is not a file"):
        p.save_annotation(ImageAnnotation(image, 40, 40, [Box(1, 1, 20, 20, "cat")]))
    assert (p.image_dirs[0] / "a.xml" / "keep.txt").read_text() == "mine"
