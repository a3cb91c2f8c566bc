"""An ultralytics dataset whose labels/<split>/ folder does not exist yet (nothing labelled in
that split) can be labelled in place (docs/reliability-2.md)."""
from layout_fixtures import image, write
from yolo_studio.core.annotations import Box, ImageAnnotation
from yolo_studio.core.project import Project


def test_the_first_label_of_a_split_makes_its_labels_folder(tmp_path):
    write(tmp_path / "data.yaml", "train: images/train\nval: images/val\nnames: [cat]\n")
    image(tmp_path / "images" / "train" / "a.jpg")
    b = image(tmp_path / "images" / "val" / "b.jpg")
    project = Project.open(tmp_path)
    project.save_annotation(ImageAnnotation(b, 64, 48, [Box(1, 1, 20, 20, "cat")], verified=True))
    assert (tmp_path / "labels" / "val" / "b.txt").is_file()
    assert Project.open(tmp_path).load_annotation(b).labels() == ["cat"]
