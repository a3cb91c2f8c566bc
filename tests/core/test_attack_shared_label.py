"""Two images whose labels go to one file (a.jpg and a.png: a.xml, labels/a.txt): a save of
one never replaces the other's labels, and opening says so (docs/reliability-2.md)."""
import pytest

from layout_fixtures import image, ultralytics_dataset, voc_devkit
from yolo_studio.core.annotations import Box, ImageAnnotation
from yolo_studio.core.errors import LabelFileError
from yolo_studio.core.project import Project


def _plain(root):
    Project.create(root, ["cat", "dog"])
    image(root / "images" / "a.jpg")
    project = Project.open(root)
    project.save_annotation(ImageAnnotation(root / "images" / "a.jpg", 64, 48, [Box(1, 1, 20, 20, "cat")]))
    image(root / "images" / "a.png")
    return Project.open(root), root / "images" / "a.jpg", root / "images" / "a.png"


def _ultralytics(root):
    ultralytics_dataset(root)
    image(root / "images" / "train" / "a.png")
    return Project.open(root), root / "images" / "train" / "a.jpg", root / "images" / "train" / "a.png"


def _devkit(root):
    year = voc_devkit(root) / "VOC2007" / "JPEGImages"
    image(year / "000001.png")
    return Project.open(root), year / "000001.jpg", year / "000001.png"


@pytest.mark.parametrize("make", [_plain, _ultralytics, _devkit])
def test_saving_one_of_two_images_sharing_a_label_file_is_refused(tmp_path, make):
    project, first, second = make(tmp_path)
    label = project.label_path(first)
    before = label.read_bytes()
    with pytest.raises(LabelFileError, match=first.name) as e:
        project.save_annotation(ImageAnnotation(second, 64, 48, [Box(5, 5, 30, 30, "dog")]))
    assert str(label) in str(e.value)
    assert label.read_bytes() == before
    _anns, problems = project.load_all()
    assert any(p.path == str(label) and second.name in p.message for p in problems)
