"""Hostile COCO instances files opened in place (docs/reliability-2.md): a save never
duplicates, merges or renumbers what the file holds, and bad files get a message."""
import json

import pytest

from layout_fixtures import image, write
from yolo_studio.core.annotations import Box
from yolo_studio.core.errors import LabelFileError, YoloStudioError
from yolo_studio.core.project import Project


def _dataset(root, annotations, categories=None, images=("a.jpg", "b.jpg")):
    imgs = []
    for k, name in enumerate(images, 1):
        image(root / "val" / name)
        imgs.append({"id": k, "file_name": name, "width": 64, "height": 48})
    data = {"images": imgs, "annotations": annotations,
            "categories": categories or [{"id": 1, "name": "cat"}, {"id": 3, "name": "dog"}]}
    return write(root / "annotations" / "instances_val.json", json.dumps(data, indent=1))


def _ann(ann_id, image_id, cat=1, bbox=(10, 10, 20, 20), **extra):
    out = {"image_id": image_id, "category_id": cat, "bbox": list(bbox), "area": 400, "iscrowd": 0, **extra}
    if ann_id is not None:
        out["id"] = ann_id
    return out


def _save_moved(project, image_path):
    ann = project.load_annotation(image_path)
    ann.boxes[0] = ann.boxes[0].moved(x1=ann.boxes[0].x1 + 1, x2=ann.boxes[0].x2 + 1)
    project.save_annotation(ann)


def test_an_annotation_without_id_is_not_duplicated_by_saves(tmp_path):
    f = _dataset(tmp_path, [_ann(None, 1), _ann(4, 2)])
    for _ in range(2):
        project = Project.open(tmp_path)
        a = tmp_path / "val" / "a.jpg"
        with pytest.raises(LabelFileError, match="id"):
            project.save_annotation(project.load_annotation(a))
    assert len(json.loads(f.read_text())["annotations"]) == 2


def test_a_visible_box_sharing_its_id_with_a_crowd_region_is_not_merged_into_it(tmp_path):
    f = _dataset(tmp_path, [_ann(9, 1, cat=3, bbox=(1, 1, 5, 5), iscrowd=1), _ann(9, 1, bbox=(30, 10, 10, 10))])
    before = f.read_bytes()
    project = Project.open(tmp_path)
    with pytest.raises(LabelFileError, match="9"):
        _save_moved(project, tmp_path / "val" / "a.jpg")
    assert f.read_bytes() == before


def test_a_new_box_never_reuses_the_id_of_an_annotation_that_could_not_be_read(tmp_path):
    f = _dataset(tmp_path, [_ann(1, 1), {"id": 2, "image_id": 1, "category_id": 1, "bbox": "hand-edited"}])
    project = Project.open(tmp_path)
    ann = project.load_annotation(tmp_path / "val" / "b.jpg")
    ann.boxes.append(Box(5, 5, 30, 30, "dog"))
    project.save_annotation(ann)
    ids = [a["id"] for a in json.loads(f.read_text())["annotations"]]
    assert len(ids) == 3 and len(set(ids)) == 3


def test_moving_a_box_with_escaped_unicode_in_an_ascii_file_saves_it(tmp_path):
    f = _dataset(tmp_path, [_ann(1, 1, note="caf\u00e9")])     # json.dumps writes caf\u00e9
    assert f.read_bytes().isascii()
    _save_moved(Project.open(tmp_path), tmp_path / "val" / "a.jpg")
    saved = json.loads(f.read_text())["annotations"][0]
    assert saved["note"] == "caf\u00e9" and saved["bbox"][0] == 11


@pytest.mark.parametrize("categories", [
    [{"id": 1, "name": "cat"}, {"id": 3, "name": "dog"}, {"id": 3, "name": "bird"}],
    [{"id": 1, "name": "cat"}, {"id": 3, "name": "dog"}, {"id": 4, "name": "dog"}]])
def test_categories_listing_an_id_or_a_name_twice_are_refused_naming_the_file(tmp_path, categories):
    f = _dataset(tmp_path, [_ann(1, 1, cat=3)], categories)
    with pytest.raises(YoloStudioError, match="twice") as e:
        Project.open(tmp_path)
    assert str(f) in str(e.value)


def test_a_byte_order_mark_stays_through_a_save(tmp_path):
    f = _dataset(tmp_path, [_ann(1, 1, note="caf\u00e9"), _ann(2, 2)])
    f.write_bytes(b"\xef\xbb\xbf" + json.dumps(json.loads(f.read_text()), ensure_ascii=False).encode("utf-8"))
    _save_moved(Project.open(tmp_path), tmp_path / "val" / "b.jpg")
    data = f.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and json.loads(data.decode("utf-8-sig"))["annotations"][1]["bbox"][0] == 11


@pytest.mark.parametrize("key", ["annotations", "images"])
def test_a_top_level_key_given_twice_is_refused_naming_the_file(tmp_path, key):
    # json.load and pycocotools keep the last; walking both arrays numbered one's entries as the
    # other's, and a save then spliced an edit into the wrong array.
    f = _dataset(tmp_path, [_ann(1, 1)])
    text = f.read_text().rstrip().rstrip("}")
    f.write_text(text + f',\n "{key}": []\n}}')
    with pytest.raises(YoloStudioError, match="twice") as e:
        Project.open(tmp_path)
    assert str(f) in str(e.value)


@pytest.mark.parametrize("where", ["annotation id", "image id", "category id"])
def test_ids_past_64_bits_are_reported_not_a_crash(tmp_path, where):
    big = 2 ** 64 + 1
    f = _dataset(tmp_path, [_ann(big if where == "annotation id" else 1, 1), _ann(2, 2)])
    data = json.loads(f.read_text())
    if where == "image id":
        data["images"][0]["id"] = data["annotations"][0]["image_id"] = big
    if where == "category id":
        data["categories"][0]["id"] = data["annotations"][0]["category_id"] = big
    f.write_text(json.dumps(data))
    try:
        project = Project.open(tmp_path)
    except YoloStudioError as e:          # a category is the file's class list: refused, named
        assert where == "category id" and str(f) in str(e)
        return
    _anns, problems = project.load_all()
    assert project.load_annotation(tmp_path / "val" / "b.jpg").labels() == ["cat"]
    assert any(p.path == str(f) for p in problems)


def test_a_box_past_the_border_that_was_not_touched_is_not_clipped_in_the_file(tmp_path):
    # The reader clips it for display (and says so); saving another box of the image rewrote it
    # clipped, 20 px wide to 10, though nobody edited it.
    f = _dataset(tmp_path, [_ann(1, 1, bbox=(54, 10, 20, 20)), _ann(2, 1, bbox=(5, 5, 10, 10))])
    before = json.loads(f.read_text())["annotations"][0]
    project = Project.open(tmp_path)
    ann = project.load_annotation(tmp_path / "val" / "a.jpg")
    ann.boxes[1] = ann.boxes[1].moved(x1=ann.boxes[1].x1 + 1, x2=ann.boxes[1].x2 + 1)
    project.save_annotation(ann)
    after = json.loads(f.read_text())["annotations"]
    assert after[0] == before and after[1]["bbox"][0] == 6
