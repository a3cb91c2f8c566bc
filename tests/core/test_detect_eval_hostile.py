"""``detect`` on a folder and ``eval`` go on past an image whose header lies (review row 56)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from yolo_studio.cli import main
from yolo_studio.core.model import ModelSpec, build_model, save_checkpoint
from yolo_studio.core.project import Project


def _model(path, classes):
    model = build_model("yolov3-tiny", len(classes), 64)
    save_checkpoint(model, ModelSpec("yolov3-tiny", len(classes), 64, class_names=list(classes)), path)
    return path


@pytest.fixture(scope="module")
def demo_with_model(small_demo_project, tmp_path_factory):
    return _model(tmp_path_factory.mktemp("m") / "model", Project.open(small_demo_project).classes)


def test_detect_on_a_folder_skips_the_forged_image_names_it_and_goes_on(tmp_path, capsys,
                                                                        forge_header_size,
                                                                        demo_with_model):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        cv2.imwrite(str(folder / name), np.full((64, 80, 3), 100, np.uint8))
    forge_header_size(folder / "b.jpg", 60000, 60000)
    out = tmp_path / "out"
    assert main(["detect", str(folder), "--weights", str(demo_with_model), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "b.jpg" in text and "60000x60000" in text
    assert sorted(p.name for p in out.glob("*.jpg")) == ["a.jpg", "c.jpg"]


def test_eval_skips_the_forged_image_names_it_and_still_scores(demo_copy, capsys, forge_header_size,
                                                               demo_with_model):
    project = Project.open(demo_copy)
    _, val = project.split()
    liar = next(p for p in val if project.has_labels(p))
    forge_header_size(liar, 60000, 60000)
    assert main(["eval", str(demo_copy), "--weights", str(demo_with_model)]) == 0
    captured = capsys.readouterr()
    assert liar.name in captured.err and "60000x60000" in captured.err
    assert "mAP@0.5" in captured.out
