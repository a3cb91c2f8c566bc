"""Settings read from yolo_studio.json that cannot work, or are ignored, are named (review #64, #66, #67)."""
from __future__ import annotations

import json

from yolo_studio.cli import main
from yolo_studio.core.project import PROJECT_FILE


def edit_project(root, **changes):
    path = root / PROJECT_FILE
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def test_missing_image_folder_is_named_not_just_no_boxes(demo_copy, capsys):          # 64
    edit_project(demo_copy, image_dirs=["photos"])
    assert main(["anchors", str(demo_copy)]) == 1
    err = capsys.readouterr().err
    assert "photos" in err and "does not exist" in err and PROJECT_FILE in err


def test_unknown_model_in_train_settings_names_the_project_file(demo_copy, capsys):    # 66
    edit_project(demo_copy, train_settings={"model": "yolov9"})
    assert main(["train", str(demo_copy), "--epochs", "1"]) == 1
    err = capsys.readouterr().err
    assert "model 'yolov9' is unknown" in err and f"train_settings in {demo_copy / PROJECT_FILE}" in err
    edit_project(demo_copy, train_settings={"epochs": "ten"})
    assert main(["train", str(demo_copy)]) == 1
    err = capsys.readouterr().err
    assert "'epochs' is \"ten\"" in err and f"train_settings in {demo_copy / PROJECT_FILE}" in err
    assert "Traceback" not in err


def test_anchors_of_the_wrong_count_are_not_replaced_silently(demo_copy, capsys):     # 67
    edit_project(demo_copy, anchors=[[[10, 10], [20, 20]], [[30, 30], [40, 40]]])
    assert main(["anchors", str(demo_copy), "--model", "yolov3-tiny"]) == 0
    err = capsys.readouterr().err
    assert "has 4 anchors but yolov3-tiny needs 6" in err and PROJECT_FILE in err
    # train prints it before it starts (this run then stops at once on the batch size)
    assert main(["train", str(demo_copy), "--model", "yolov3-tiny", "--size", "64", "--batch", "999"]) == 1
    err = capsys.readouterr().err
    assert "has 4 anchors but yolov3-tiny needs 6" in err and "batch size 999" in err


def test_eval_never_replaces_an_existing_file_with_its_detections(small_demo_project, tmp_path, capsys):
    label = small_demo_project / "images" / "demo_0000.xml"
    before = label.read_bytes()
    assert main(["eval", str(small_demo_project), "--weights", str(tmp_path / "none"),
                 "--save-detections", str(label)]) == 1
    assert "already exists; pass --overwrite" in capsys.readouterr().err and label.read_bytes() == before
