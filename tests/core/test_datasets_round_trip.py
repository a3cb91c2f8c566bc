"""convert and File > Export write the tools' layouts; every pair round-trips every box."""
import itertools
import json

import numpy as np
import pytest
import yaml

from layout_fixtures import coco_dataset, image, snapshot, ultralytics_dataset, voc_devkit, write
from yolo_studio.cli import main
from yolo_studio.core.formats.dataset import export_project, read_dataset, write_dataset
from yolo_studio.core.project import Project

LAYOUTS = ("ultralytics", "voc-devkit", "coco-dataset")


def _boxes(ds):
    return {a.image_path.name: (a.labels(), a.boxes_array()) for a in ds.annotations}


def _splits(ds):
    return {p.name: s for p, s in ds.splits.items()}


@pytest.mark.parametrize("first,second", list(itertools.permutations(LAYOUTS, 2)))
def test_every_pair_of_layouts_round_trips_every_box_and_the_split(tmp_path, first, second):
    src = read_dataset("ultralytics", ultralytics_dataset(tmp_path / "src"))
    write_dataset(first, src, tmp_path / "a")
    a = read_dataset(first, tmp_path / "a")
    write_dataset(second, a, tmp_path / "b")
    b = read_dataset(second, tmp_path / "b")
    write_dataset(first, b, tmp_path / "c")
    c = read_dataset(first, tmp_path / "c")
    for ds in (a, b, c):
        assert ds.problems == [] and ds.class_names == ["cat", "dog"]
        assert _splits(ds) == {"a.jpg": "train", "b.jpg": "train", "c.jpg": "val"}
        got, want = _boxes(ds), _boxes(src)
        assert got.keys() == want.keys()
        for name, (labels, arr) in want.items():
            assert got[name][0] == labels
            # VOC keeps whole pixels, its own rounding; YOLO txt 7 decimals; COCO floats
            np.testing.assert_allclose(got[name][1], arr, atol=0.51 if "voc-devkit" in (first, second) else 1e-3)


def test_the_data_yaml_written_is_what_ultralytics_reads(tmp_path):
    ds = read_dataset("voc-devkit", voc_devkit(tmp_path / "voc"))
    write_dataset("ultralytics", ds, tmp_path / "u")
    data = yaml.safe_load((tmp_path / "u" / "data.yaml").read_text())
    assert data["names"] == {0: "dog", 1: "person"} and data["nc"] == 2
    assert (data["train"], data["val"], data["test"]) == ("images/train", "images/val", "images/test")
    for split in ("train", "val", "test"):
        for img in (tmp_path / "u" / "images" / split).iterdir():
            assert (tmp_path / "u" / "labels" / split / f"{img.stem}.txt").is_file()


def test_convert_cli_reads_coco_in_place_and_writes_a_voc_devkit(tmp_path, capsys):
    coco_dataset(tmp_path / "coco")
    before = snapshot(tmp_path / "coco")
    assert main(["convert", "--from", "coco-dataset", "--to", "voc-devkit",
                 str(tmp_path / "coco"), str(tmp_path / "voc")]) == 0
    assert "converted 3 images, 3 boxes, 2 classes" in capsys.readouterr().out
    assert (tmp_path / "voc" / "ImageSets" / "Main" / "val.txt").read_text() == "000000000139\n"
    assert snapshot(tmp_path / "coco") == before


def test_export_from_a_project_writes_a_coco_dataset_with_the_split(tmp_path):
    ultralytics_dataset(tmp_path / "ds")
    project = Project.open(tmp_path / "ds")
    written = export_project(project, "coco-dataset", tmp_path / "out")
    assert (written.images, written.boxes) == (3, 4)
    val = json.loads((tmp_path / "out" / "annotations" / "instances_val.json").read_text())
    assert [i["file_name"] for i in val["images"]] == ["c.jpg"] and (tmp_path / "out" / "val" / "c.jpg").is_file()
    # A folder with someone's data.yaml is their dataset: refused before anything is written.
    with pytest.raises(Exception, match="did not write|not written by|part of the dataset"):
        write(tmp_path / "out2" / "data.yaml", "mine\n")
        export_project(project, "ultralytics", tmp_path / "out2")
    assert (tmp_path / "out2" / "data.yaml").read_text() == "mine\n"


def test_createml_and_labelme_rectangles_are_read_and_other_shapes_reported(tmp_path):
    image(tmp_path / "c" / "a.jpg")
    write(tmp_path / "c" / "ann.json", json.dumps([{"image": "a.jpg", "annotations": [
        {"label": "dog", "coordinates": {"x": 32, "y": 24, "width": 20, "height": 10}}]}]))
    ds = read_dataset("createml", tmp_path / "c" / "ann.json")
    assert ds.class_names == ["dog"] and ds.annotations[0].boxes[0].xyxy() == (22, 19, 42, 29)
    image(tmp_path / "m" / "b.jpg")
    shapes = [{"label": "cat", "points": [[40, 30], [10, 5]], "group_id": None, "shape_type": "rectangle",
               "flags": {}},
              {"label": "cat", "points": [[1, 1], [9, 1], [5, 8]], "shape_type": "polygon", "flags": {}}]
    label = write(tmp_path / "m" / "b.json", json.dumps({"version": "5.4.1", "flags": {}, "shapes": shapes,
                                                         "imagePath": "b.jpg", "imageData": None,
                                                         "imageHeight": 48, "imageWidth": 64}))
    before = label.read_bytes()
    ds = read_dataset("labelme", tmp_path / "m")
    assert ds.annotations[0].boxes[0].xyxy() == (10, 5, 40, 30)
    assert any("shape 1: a polygon" in str(p) and "untouched" in str(p) for p in ds.problems)
    assert label.read_bytes() == before
