"""TrainingData: a project folder and a pylessons list answer the trainer's questions the same way."""
from __future__ import annotations

import cv2
import numpy as np

from yolo_studio.core.model_family import family
from yolo_studio.core.project import Project
from yolo_studio.core.project_checks import project_warnings
from yolo_studio.core.training import runs
from yolo_studio.core.training.list_project import ListProject
from yolo_studio.core.training_data import TrainingData


def _list_project(tmp_path):
    (tmp_path / "images").mkdir(parents=True)
    for name in ("a.png", "b.png"):
        cv2.imwrite(str(tmp_path / "images" / name), np.zeros((40, 60, 3), np.uint8))
    (tmp_path / "train.names").write_text("cat\n")
    (tmp_path / "train.txt").write_text("images/a.png 1,2,30,20,0\nimages/b.png\n")
    return ListProject(tmp_path / "train.txt", val_fraction=0.0)


def test_both_kinds_of_project_are_training_data_with_the_same_answers(tmp_path):
    folder = Project.create(tmp_path / "p", ["cat"])
    listed = _list_project(tmp_path / "l")
    for project in (folder, listed):
        assert isinstance(project, TrainingData)
        assert project.model_anchors("yolov3-tiny", 416) == family("yolov3-tiny").default_anchors
        assert runs.runs_dir(project) == project.root / "runs"
        assert project_warnings(project, "yolov3-tiny") == []
    train, val = listed.split()
    assert [p.name for p in train] == ["a.png", "b.png"] and val == []
    assert listed.load_annotation(train[0]).boxes[0].label == "cat" and listed.has_labels(train[1])
    assert listed.project_file.name == "train.txt" and listed.image_dirs == []


def test_a_project_whose_anchors_do_not_fit_the_model_is_warned_about_by_its_file(tmp_path):
    folder = Project.create(tmp_path / "p", ["cat"])
    folder.anchors = [[(10, 10), (20, 20), (30, 30)], [(40, 40), (50, 50), (60, 60)]]
    (note,) = project_warnings(folder, "yolov3")
    assert str(folder.project_file) in note and "has 6 anchors but yolov3 needs 9" in note
