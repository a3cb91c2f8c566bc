"""``export --overwrite`` replaces the export it names and its own side files, nothing else.

Attack review 2026-12-01: ``--overwrite`` was taken as consent for the side
files too, so ``export --format tflite --out data/train.tflite --overwrite``
replaced a person's ``data/train.json`` (COCO labels) with the model's spec,
``--out proj/yolo_studio.tflite`` replaced a project's file, and
``--format darknet --out x.weights`` replaced a hand-written ``x.names``.
"""
from __future__ import annotations

import pytest

from yolo_studio.core.export import export_model
from yolo_studio.core.model import ModelSpec, build_model, save_checkpoint
from yolo_studio.core.output_guard import OutputRefused
from yolo_studio.core.project import Project


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    d = tmp_path_factory.mktemp("m")
    save_checkpoint(build_model("yolov3-tiny", 2, 64), ModelSpec("yolov3-tiny", 2, 64, class_names=["a", "b"]),
                    d / "model")
    return d / "model"


def test_overwrite_never_replaces_a_persons_file_that_shares_the_exports_stem(tmp_path, weights):
    coco = tmp_path / "train.json"
    coco.write_text('{"images": [], "annotations": [], "categories": []}')
    with pytest.raises(OutputRefused, match="train.json"):
        export_model(weights, "tflite", tmp_path / "train.tflite", overwrite=True)
    names = tmp_path / "x.names"
    names.write_text("my hand-sorted classes\n")
    with pytest.raises(OutputRefused, match="x.names"):
        export_model(weights, "darknet", tmp_path / "x.weights", overwrite=True)
    assert names.read_text() == "my hand-sorted classes\n"
    assert coco.read_text().startswith('{"images"')
    assert not (tmp_path / "x.weights").exists() and not (tmp_path / "train.tflite").exists()


def test_overwrite_never_replaces_a_projects_file(tmp_path, weights):
    p = Project.create(tmp_path / "p", ["cat"])
    before = p.project_file.read_bytes()
    with pytest.raises(OutputRefused, match="yolo_studio.json"):
        export_model(weights, "onnx", p.root / "yolo_studio.onnx", overwrite=True)
    assert p.project_file.read_bytes() == before


def test_overwrite_still_replaces_an_earlier_export_with_its_side_files(tmp_path, weights):
    first = export_model(weights, "darknet", tmp_path / "m.weights").paths
    again = export_model(weights, "darknet", tmp_path / "m.weights", overwrite=True).paths
    assert sorted(first) == sorted(again)
