"""Projects: opening plain folders, the project file, split, classes, images, anchors."""
import json

import cv2
import numpy as np
import pytest

from yolo_studio.core.annotations import Box, ImageAnnotation
from yolo_studio.core.model_family import family
from yolo_studio.core.errors import ConfigError
from yolo_studio.core.formats.voc import write_voc
from yolo_studio.core.formats.yolo_txt import sidecar_path
from yolo_studio.core.project import PROJECT_FILE, Project


def _image(path, w=64, h=48):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((h, w, 3), 90, np.uint8))
    return path


def _labelimg_folder(root):
    """A folder as a LabelImg user leaves it: images with XMLs next to them."""
    for name, label in [("b.jpg", "zebra"), ("a.png", "cat"), ("c.jpg", None)]:
        img = _image(root / name)
        if label:
            write_voc(ImageAnnotation(img, 64, 48, [Box(1, 2, 30, 40, label)]), img.with_suffix(".xml"))
    (root / "notes.md").write_text("not an image")
    (root / ".hidden.jpg").write_bytes(b"")
    return root


def test_plain_labelimg_folder_just_works(tmp_path):
    project = Project.open(_labelimg_folder(tmp_path / "pics"))
    assert project.label_format == "voc"
    assert project.classes == ["cat", "zebra"]
    assert [p.name for p in project.image_paths()] == ["a.png", "b.jpg", "c.jpg"]
    assert [project.has_labels(p) for p in project.image_paths()] == [True, True, False]
    anns, problems = project.load_all()
    assert problems == [] and [a.image_path.name for a in anns] == ["a.png", "b.jpg"]
    assert not (tmp_path / "pics" / PROJECT_FILE).exists()       # opening writes nothing


def test_plain_yolo_folder_just_works(tmp_path):
    root = tmp_path / "yolo"
    _image(root / "x.jpg", 100, 50)
    (root / "x.txt").write_text("1 0.5 0.5 0.2 0.4\n")
    (root / "classes.txt").write_text("cat\ndog\n")
    project = Project.open(root)
    assert (project.label_format, project.classes) == ("yolo", ["cat", "dog"])
    ann = project.load_annotation(root / "x.jpg")
    assert ann.boxes == [Box(40, 15, 60, 35, "dog")]


def test_images_subfolder_of_a_plain_folder(tmp_path):
    _image(tmp_path / "ds" / "images" / "p.jpg")
    assert Project.open(tmp_path / "ds").image_paths() == [tmp_path / "ds" / "images" / "p.jpg"]


def test_create_save_open_round_trip(tmp_path):
    project = Project.create(tmp_path / "proj", ["a", "b"], label_format="yolo")
    project.val_fraction = 0.3
    project.anchors = [[(10, 12), (20, 22), (30, 35)], [(50, 60), (80, 90), (120, 150)]]
    project.anchors_size = 320
    project.train_settings = {"model": "yolov3-tiny", "epochs": 5}
    project.save()
    text = (tmp_path / "proj" / PROJECT_FILE).read_text()
    assert str(tmp_path) not in text                           # portable: no absolute paths
    again = Project.open(tmp_path / "proj" / PROJECT_FILE)
    assert (again.classes, again.label_format, again.val_fraction) == (["a", "b"], "yolo", 0.3)
    assert again.anchors == [[(10.0, 12.0), (20.0, 22.0), (30.0, 35.0)], [(50.0, 60.0), (80.0, 90.0), (120.0, 150.0)]]
    assert (again.anchors_size, again.train_settings) == (320, {"model": "yolov3-tiny", "epochs": 5})
    assert again.image_dirs == [tmp_path / "proj" / "images"]
    assert (tmp_path / "proj" / "images" / "classes.txt").read_text() == "a\nb\n"
    with pytest.raises(ConfigError, match="already exists"):
        Project.create(tmp_path / "proj", ["c"])


@pytest.mark.parametrize("content,what", [
    ("{oops", "not valid JSON"),
    ('{"classes": "cat"}', "list of class names"),
    ('{"label_format": "xml"}', "label_format"),
    ('{"val_fraction": 1.5}', "val_fraction"),
    ('{"anchors": [[1, 2]]}', "anchors"),
    ('{"classes": ["a", "a"]}', "twice"),
])
def test_broken_project_file_names_file_and_setting(tmp_path, content, what):
    (tmp_path / PROJECT_FILE).write_text(content)
    with pytest.raises(ConfigError) as err:
        Project.open(tmp_path)
    assert PROJECT_FILE in str(err.value) and what in str(err.value)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        Project.open(tmp_path / "nowhere")


def test_split_is_stable_when_images_are_added(tmp_path):
    project = Project.create(tmp_path / "s", ["x"])
    folder = project.image_dirs[0]
    for i in range(200):
        (folder / f"{i:03d}.jpg").write_bytes(b"")  # the split never opens the images
    train, val = project.split()
    assert 20 < len(val) < 60 and len(train) + len(val) == 200 and not set(train) & set(val)
    before = {p: project.split_of(p) for p in project.image_paths()}
    for i in range(200, 500):
        (folder / f"{i:03d}.jpg").write_bytes(b"")
    assert len(project.refresh()) == 300
    reopened = Project.open(tmp_path / "s")
    assert all(reopened.split_of(p) == s for p, s in before.items())
    train2, val2 = reopened.split()
    assert set(val) <= set(val2) and set(train) <= set(train2)


def test_split_does_not_depend_on_where_the_project_lives(tmp_path):
    a = Project.create(tmp_path / "one", ["x"])
    b = Project.create(tmp_path / "other" / "two", ["x"])
    for p in (a, b):
        for i in range(50):
            (p.image_dirs[0] / f"{i}.jpg").write_bytes(b"")
    assert [s.name for s in a.split()[1]] == [s.name for s in b.split()[1]]


def test_tiny_project_still_gets_a_validation_image(tmp_path):
    project = Project.create(tmp_path / "t", ["x"])
    for name in ("a.jpg", "b.jpg"):
        (project.image_dirs[0] / name).write_bytes(b"")
    train, val = project.split()
    assert len(val) == 1 and len(train) == 1
    assert project.split_of(val[0]) == "val"


def test_save_annotation_adds_new_classes_and_round_trips(tmp_path):
    project = Project.create(tmp_path / "p", ["cat"])
    img = _image(project.image_dirs[0] / "i.jpg")
    ann = ImageAnnotation(img, 64, 48, [Box(1, 1, 20, 20, "cat"), Box(30, 5, 60, 40, "owl", predicted=True, score=0.6)],
                          verified=True)
    project.save_annotation(ann)
    assert project.classes == ["cat", "owl"]
    assert json.loads((tmp_path / "p" / PROJECT_FILE).read_text())["classes"] == ["cat", "owl"]
    back = project.load_annotation(img)
    assert back.boxes == ann.boxes and back.verified


def test_unlabelled_image_loads_empty_with_its_size(tmp_path):
    project = Project.create(tmp_path / "p", ["cat"])
    img = _image(project.image_dirs[0] / "u.png", 33, 22)
    ann = project.load_annotation(img)
    assert (ann.width, ann.height, ann.boxes, ann.verified) == (33, 22, [], False)


@pytest.mark.parametrize("fmt", ["voc", "yolo"])
def test_rename_merge_and_remove_classes(tmp_path, fmt):
    project = Project.create(tmp_path / fmt, ["cat", "dog", "owl"], label_format=fmt)
    for i, labels in enumerate([["cat", "dog"], ["owl"], ["dog", "dog", "owl"]]):
        img = _image(project.image_dirs[0] / f"{i}.jpg", 100, 100)
        boxes = [Box(5 + 30 * j, 5, 25 + 30 * j, 25, lab) for j, lab in enumerate(labels)]
        project.save_annotation(ImageAnnotation(img, 100, 100, boxes, verified=True))
    assert project.class_usage("dog") == (3, 2)
    changed = project.rename_class("dog", "hound")
    assert project.classes == ["cat", "hound", "owl"]
    assert len(changed) == (2 if fmt == "voc" else 0)         # YOLO stores ids, not names
    assert project.class_usage("hound") == (3, 2)
    project.rename_class("cat", "owl")                         # merge into an existing class
    assert project.classes == ["hound", "owl"]
    assert project.class_usage("owl") == (3, 3)
    assert project.remove_class("hound") == 3
    assert project.classes == ["owl"]
    reopened = Project.open(tmp_path / fmt)
    anns, problems = reopened.load_all()
    assert problems == [] and [a.labels() for a in anns] == [["owl"], ["owl"], ["owl"]]
    assert all(a.verified for a in anns)                       # the sidecar followed (YOLO)
    with pytest.raises(ConfigError, match="'hound' is not in"):
        reopened.remove_class("hound")


def test_add_image_never_overwrites(tmp_path):
    project = Project.create(tmp_path / "p", ["cat"])
    frame = np.zeros((40, 60, 3), np.uint8)
    first = project.add_image(frame, "webcam frame")
    second = project.add_image(frame, "webcam frame", boxes=[Box(1, 1, 10, 10, "dog")], verified=True)
    assert first != second and first.exists() and second.exists()
    assert first.name == "webcam_frame.jpg" and second.name == "webcam_frame_1.jpg"
    assert project.image_paths() == sorted([first, second], key=str)
    assert not project.has_labels(first) and project.has_labels(second)
    assert project.classes == ["cat", "dog"]
    assert project.load_annotation(second).boxes == [Box(1, 1, 10, 10, "dog")]


def test_model_anchors_scale_or_fall_back(tmp_path):
    project = Project.create(tmp_path / "p", ["x"])
    assert project.model_anchors("yolov3-tiny", 320) == [[tuple(map(float, a)) for a in g]
                                                        for g in family("yolov3-tiny").default_anchors]
    project.anchors = [[(10, 10), (20, 20), (30, 30)], [(40, 40), (50, 50), (60, 60)]]
    project.anchors_size = 416
    scaled = project.model_anchors("yolov3-tiny", 208)
    assert scaled == [[(5.0, 5.0), (10.0, 10.0), (15.0, 15.0)], [(20.0, 20.0), (25.0, 25.0), (30.0, 30.0)]]
    assert project.model_anchors("yolov3", 416) == [[tuple(map(float, a)) for a in g]
                                                   for g in family("yolov3").default_anchors]   # 6 != 9


def test_runs_dir(tmp_path):
    assert Project.create(tmp_path / "p", []).runs_dir == tmp_path / "p" / "runs"


def test_yolo_project_uses_a_hidden_sidecar(tmp_path):
    project = Project.create(tmp_path / "y", ["a"], label_format="yolo")
    img = _image(project.image_dirs[0] / "s.jpg")
    project.save_annotation(ImageAnnotation(img, 64, 48, [], verified=True))
    assert sidecar_path(project.label_path(img)).exists()
    assert project.image_paths() == [img]
    assert project.load_all()[1] == []          # neither classes.txt nor the sidecar is an orphan label


def test_format_detection_prefers_the_majority_and_voc_on_a_tie(tmp_path):
    root = tmp_path / "mixed"
    img = _image(root / "a.jpg")
    write_voc(ImageAnnotation(img, 64, 48, [Box(1, 1, 9, 9, "cat")]), root / "a.xml")
    (root / "a.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    (root / "classes.txt").write_text("dog\n")
    assert Project.open(root).label_format == "voc"
    _image(root / "b.jpg")
    (root / "b.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    assert Project.open(root).label_format == "yolo"
    assert Project.open(root, label_format="voc").classes == ["cat"]
