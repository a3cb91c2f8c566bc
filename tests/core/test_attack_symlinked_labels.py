"""A label file that is a symbolic link (to a shared copy, a dotfiles folder) stays a link
through a save, and the file it points at gets the edit (docs/reliability-2.md)."""
import os

import pytest

from layout_fixtures import coco_dataset, image, ultralytics_dataset
from yolo_studio.core.annotations import Box
from yolo_studio.core.project import Project


def _ultralytics(root):
    ultralytics_dataset(root)
    return root / "images" / "train" / "a.jpg"


def _coco(root):
    coco_dataset(root)
    return root / "train2017" / "000000000009.jpg"


def _plain_voc(root):
    from yolo_studio.core.annotations import ImageAnnotation
    project = Project.create(root, ["cat"])
    img = image(root / "images" / "a.jpg")
    project.save_annotation(ImageAnnotation(img, 64, 48, [Box(1, 1, 20, 20, "cat")]))
    return img


@pytest.mark.parametrize("make", [_ultralytics, _coco, _plain_voc])
def test_a_symlinked_label_file_stays_a_link_and_its_target_is_saved(tmp_path, make):
    img = make(tmp_path / "ds")
    project = Project.open(tmp_path / "ds")
    label = project.label_path(img)
    shared = tmp_path / "shared" / label.name
    shared.parent.mkdir()
    label.rename(shared)
    label.symlink_to(shared)
    project = Project.open(tmp_path / "ds")
    ann = project.load_annotation(img)
    ann.boxes.append(Box(30, 30, 40, 40, ann.boxes[0].label))
    project.save_annotation(ann)
    assert label.is_symlink() and os.readlink(label) == str(shared)
    assert len(Project.open(tmp_path / "ds").load_annotation(img).boxes) == len(ann.boxes)
