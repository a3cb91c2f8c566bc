"""No writer adds files to another tool's dataset, even with --overwrite (an annotated copy in
images/train would become a training image with boxes burned in)."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from yolo_studio.cli import main
from yolo_studio.core.model import ModelSpec, build_model, save_checkpoint
from yolo_studio.core.output_guard import OutputFolder, OutputRefused


def _image(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((48, 64, 3), 90, np.uint8))


def _ultralytics(root):
    for split in ("train", "val"):
        _image(root / "images" / split / "a.jpg")
        (root / "labels" / split).mkdir(parents=True)
        (root / "labels" / split / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (root / "data.yaml").write_text("path: .\ntrain: images/train\nval: images/val\nnames: [cat, dog]\n")
    return ["images/train", "labels/val", "."]


def _voc(root):
    year = root / "VOCdevkit" / "VOC2007"
    _image(year / "JPEGImages" / "a.jpg")
    (year / "Annotations").mkdir(parents=True)
    (year / "Annotations" / "a.xml").write_text("<annotation><filename>a.jpg</filename></annotation>")
    (year / "ImageSets" / "Main").mkdir(parents=True)
    (year / "ImageSets" / "Main" / "train.txt").write_text("a\n")
    return ["VOCdevkit/VOC2007/JPEGImages", "VOCdevkit/VOC2007/Annotations", "VOCdevkit/VOC2007"]


def _coco(root):
    _image(root / "val2017" / "a.jpg")
    (root / "annotations").mkdir()
    (root / "annotations" / "instances_val2017.json").write_text(json.dumps(
        {"images": [{"id": 1, "file_name": "a.jpg", "width": 64, "height": 48}],
         "annotations": [], "categories": [{"id": 1, "name": "cat"}]}))
    return ["val2017", "annotations", "."]


@pytest.mark.parametrize("make", [_ultralytics, _voc, _coco], ids=["ultralytics", "voc", "coco"])
def test_overwrite_never_writes_into_a_datasets_folders_but_beside_them(tmp_path, make):
    root = tmp_path / "ds"
    for rel in make(root):
        guard = OutputFolder(root / rel, "detect", overwrite=True)
        with pytest.raises(OutputRefused, match="part of the dataset"):
            guard.check(["new.jpg"])
    # A new folder beside the data (runs/) is fine, and so is a folder of our own outputs there.
    runs = OutputFolder(root / "runs" / "detect", "detect", overwrite=True)
    runs.check(["new.jpg"])
    # A folder the user filled with their own photos inside the dataset is theirs too.
    _image(root / "extra" / "photo.jpg")
    with pytest.raises(OutputRefused, match="part of the dataset"):
        OutputFolder(root / "extra", "detect", overwrite=True).check(["new.jpg"])


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "model"
    save_checkpoint(build_model("yolov3-tiny", 2, 64), ModelSpec("yolov3-tiny", 2, 64, class_names=["cat", "dog"]),
                    path)
    return path


def test_detect_overwrite_into_a_datasets_image_folder_is_refused_and_adds_nothing(tmp_path, model, capsys):
    root = tmp_path / "ds"
    _ultralytics(root)
    new = tmp_path / "new"
    _image(new / "x.jpg")
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    for out in (root / "images" / "train", root / "labels" / "train", root):
        assert main(["detect", str(new), "--weights", str(model), "--out", str(out),
                     "--save-labels", "yolo", "--overwrite"]) == 1
        assert "part of the dataset" in capsys.readouterr().err
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before
    # Beside the data it still works, and again with --overwrite (its own outputs).
    for _ in range(2):
        assert main(["detect", str(new), "--weights", str(model), "--out", str(root / "runs" / "d"),
                     "--save-labels", "yolo", "--overwrite"]) == 0
    assert (root / "runs" / "d" / "x.txt").is_file()


@pytest.mark.parametrize("to", ["ultralytics", "voc-devkit", "coco-dataset"])
def test_convert_may_write_again_over_the_dataset_it_wrote_itself(small_demo_project, tmp_path, to):
    out = tmp_path / "exported"
    for _ in range(2):
        assert main(["convert", "--from", "voc", "--to", to, "--overwrite", str(small_demo_project / "images"),
                     str(out)]) == 0
    assert any(out.rglob("*.jpg"))
