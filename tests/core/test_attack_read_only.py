"""A label file the user made read-only is never replaced by a save (docs/reliability-2.md).

An atomic save renames a new file over the old one, which the folder's
permissions allow even when the file's own forbid writing.
"""
import json
import os

import pytest

from layout_fixtures import coco_dataset, image, ultralytics_dataset
from yolo_studio.core.annotations import Box, ImageAnnotation
from yolo_studio.core.errors import YoloStudioError
from yolo_studio.core.project import Project


def _plain_voc(root):
    project = Project.create(root, ["cat"])
    img = image(root / "images" / "a.jpg")
    project.save_annotation(ImageAnnotation(img, 64, 48, [Box(1, 1, 20, 20, "cat")]))
    return img


def _ultralytics(root):
    ultralytics_dataset(root)
    return root / "images" / "train" / "a.jpg"


def _coco(root):
    coco_dataset(root)
    return root / "train2017" / "000000000009.jpg"


@pytest.mark.parametrize("make", [_plain_voc, _ultralytics, _coco])
def test_a_save_refuses_a_read_only_label_file_and_says_so(tmp_path, make):
    img = make(tmp_path)
    project = Project.open(tmp_path)
    label = project.label_path(img)
    os.chmod(label, 0o444)
    before = label.read_bytes()
    ann = project.load_annotation(img)
    ann.boxes.append(Box(30, 30, 40, 40, ann.boxes[0].label))
    with pytest.raises(YoloStudioError, match="read-only") as e:
        project.save_annotation(ann)
    assert str(label) in str(e.value)
    assert label.read_bytes() == before and not [p for p in label.parent.iterdir() if p.name.endswith(".tmp")]
    os.chmod(label, 0o644)
    project.save_annotation(ann)           # writable again: the same save goes through
    assert label.read_bytes() != before
