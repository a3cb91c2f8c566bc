"""COCO detection JSON: round trip, compatibility with pycocotools, bad input."""
import json

import numpy as np
import pytest

from yolo_studio.core.annotations import Box, ImageAnnotation
from yolo_studio.core.errors import LabelFileError
from yolo_studio.core.formats.coco import read_coco, write_coco

CLASSES = ["cat", "dog"]


def _anns(root):
    return [ImageAnnotation(root / "img" / "a.jpg", 200, 100,
                            [Box(10.25, 20.5, 60.125, 70, "cat"), Box(0, 0, 200, 100, "dog", difficult=True)],
                            verified=True),
            ImageAnnotation(root / "img" / "b b.png", 50, 60, []),
            ImageAnnotation(root / "img" / "c.jpg", 64, 64, [Box(1, 2, 3, 4, "dog", predicted=True, score=0.25)])]


def test_round_trip_is_exact(tmp_path):
    anns = _anns(tmp_path)
    write_coco(anns, CLASSES, tmp_path / "ds.json")
    back, names = read_coco(tmp_path / "ds.json")
    assert names == CLASSES
    assert [a.image_path for a in back] == [a.image_path for a in anns]
    for a, b in zip(anns, back):
        assert (b.width, b.height, b.verified, b.boxes) == (a.width, a.height, a.verified, a.boxes)


def test_pycocotools_reads_our_file(tmp_path):
    from pycocotools.coco import COCO

    write_coco(_anns(tmp_path), CLASSES, tmp_path / "ds.json", image_root=tmp_path)
    coco = COCO(str(tmp_path / "ds.json"))
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == CLASSES
    img = coco.loadImgs(coco.getImgIds())[0]
    assert img["file_name"] == "img/a.jpg" and (img["width"], img["height"]) == (200, 100)
    boxes = [a["bbox"] for a in coco.loadAnns(coco.getAnnIds(imgIds=[img["id"]]))]
    np.testing.assert_allclose(boxes[0], [10.25, 20.5, 49.875, 49.5])


def test_real_style_file_with_crowd_and_sparse_category_ids(tmp_path):
    data = {"images": [{"id": 42, "file_name": "x.jpg", "width": 100, "height": 80}],
            "annotations": [{"id": 1, "image_id": 42, "category_id": 18, "bbox": [5, 6, 10, 20], "iscrowd": 0},
                            {"id": 2, "image_id": 42, "category_id": 3, "bbox": [0, 0, 50, 50], "iscrowd": 1}],
            "categories": [{"id": 18, "name": "dog"}, {"id": 3, "name": "car"}]}
    (tmp_path / "i.json").write_text(json.dumps(data))
    anns, names = read_coco(tmp_path / "i.json", image_root=tmp_path / "pics")
    assert names == ["car", "dog"]                       # ordered by category id
    assert anns[0].image_path == tmp_path / "pics" / "x.jpg"
    assert anns[0].boxes == [Box(5, 6, 15, 26, "dog"), Box(0, 0, 50, 50, "car", difficult=True)]


def test_bad_entries_are_reported_and_the_rest_loads(tmp_path):
    data = {"images": [{"id": 1, "file_name": "ok.jpg", "width": 100, "height": 100},
                       {"id": 2, "file_name": "nosize.jpg"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20]},
                            {"id": 2, "image_id": 1, "category_id": 9, "bbox": [10, 10, 20, 20]},
                            {"id": 3, "image_id": 1, "category_id": 1, "bbox": [10, 10, 0, 20]},
                            {"id": 4, "image_id": 1, "category_id": 1, "bbox": "oops"},
                            {"id": 5, "image_id": 77, "category_id": 1, "bbox": [1, 1, 2, 2]},
                            {"id": 6, "image_id": 1, "category_id": 1, "bbox": [90, 90, 30, 30]}],
            "categories": [{"id": 1, "name": "cat"}]}
    (tmp_path / "b.json").write_text(json.dumps(data))
    problems = []
    anns, _ = read_coco(tmp_path / "b.json", report=problems.append)
    assert len(anns) == 1 and [b.xyxy() for b in anns[0].boxes] == [(10, 10, 30, 30), (90, 90, 100, 100)]
    text = "\n".join(map(str, problems))
    for what in ("image 1 needs", "category_id 9", "zero or negative", "is not [x, y, w, h]",
                 "image_id 77", "clipped"):
        assert what in text
    with pytest.raises(LabelFileError, match="b.json"):
        read_coco(tmp_path / "b.json")                   # strict without a report callback


@pytest.mark.parametrize("text,what", [("{not json", "malformed JSON"), ("[]", "not a JSON object"),
                                       ('{"images": []}', "'annotations' list is missing")])
def test_unusable_files(tmp_path, text, what):
    (tmp_path / "u.json").write_text(text)
    with pytest.raises(LabelFileError, match=f"u.json.*{what}"):
        read_coco(tmp_path / "u.json", report=lambda p: None)
