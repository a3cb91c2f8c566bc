"""A COCO dataset's boxes as columns: the class filter and anchors read them, not Box objects."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from layout_fixtures import coco_dataset, synthetic_coco

from yolo_studio.core.anchor_fit import FitRequest, LoadedLabels, fit_and_measure, load_boxes
from yolo_studio.core.datasets import coco_index
from yolo_studio.core.project import Project


@pytest.mark.parametrize("dataset", ["one file", "train and val"])
def test_class_filter_from_the_columns_equals_reading_every_image(tmp_path, dataset):
    if dataset == "one file":
        synthetic_coco(tmp_path / "ds")
    else:      # two instances files; val numbers the same classes the other way round
        coco_dataset(tmp_path / "ds")
        f = tmp_path / "ds" / "annotations" / "instances_val2017.json"
        f.write_text(f.read_text().replace('"id": 17, "name": "cat"', '"id": 17, "name": "dog"')
                     .replace('"id": 18, "name": "dog"', '"id": 18, "name": "cat"'))
    project = Project.open(tmp_path / "ds")
    paths = project.image_paths()
    for name in [*project.classes, "not a class"]:
        expected = [name in project.load_annotation(p).labels() for p in paths]
        assert project.images_with_class(name).tolist() == expected
    first = project.classes[0]
    assert 0 < sum(project.images_with_class(first)) or dataset != "one file"


def test_class_filter_follows_a_save(tmp_path):
    project = Project.open(synthetic_coco(tmp_path / "ds"))
    paths = project.image_paths()
    i = next(i for i, p in enumerate(paths) if project.images_with_class("car")[i])
    ann = project.load_annotation(paths[i])
    ann.boxes = [b.moved(label="person") if b.label == "car" else b for b in ann.boxes]
    project.save_annotation(ann)
    assert not project.images_with_class("car")[i] and project.images_with_class("person")[i]
    reopened = Project.open(tmp_path / "ds")      # from the cache the save stored
    assert reopened.images_with_class("car").tolist() == project.images_with_class("car").tolist()


def test_anchor_boxes_from_the_columns_equal_those_from_box_objects(tmp_path):
    project = Project.open(synthetic_coco(tmp_path / "ds"))
    request = FitRequest("yolov3-tiny", 128, 6, genetic=False)
    columns = load_boxes(project, request)
    objects = load_boxes(project, request, LoadedLabels(*project.load_all()))
    assert columns.labels.table is not None and objects.labels.table is None
    assert len(columns.wh) > 100 and np.array_equal(columns.wh, objects.wh)
    assert columns.refs == objects.refs and columns.classes == objects.classes
    assert sorted(map(str, columns.labels.problems)) == sorted(map(str, objects.labels.problems))
    assert any("clipped" in str(p) for p in columns.labels.problems)
    assert columns.labels.images_with_boxes() == objects.labels.images_with_boxes()
    fit_and_measure(project, columns)
    fit_and_measure(project, objects)
    assert np.array_equal(columns.sets["fitted"], objects.sets["fitted"])


def test_the_cache_is_walked_again_when_the_json_changes(tmp_path, monkeypatch):
    project = Project.open(synthetic_coco(tmp_path / "ds"))
    f = tmp_path / "ds" / "annotations" / "instances_train2017.json"
    walked = []
    real = coco_index.parse
    monkeypatch.setattr(coco_index, "parse", lambda f: walked.append(f.name) or real(f))
    assert Project.open(tmp_path / "ds").images_with_class("car").tolist() == \
        project.images_with_class("car").tolist() and walked == []
    data = json.loads(f.read_text())
    for a in data["annotations"]:
        a["category_id"] = 1 if a["category_id"] == 3 else a["category_id"]
    f.write_text(json.dumps(data))
    again = Project.open(tmp_path / "ds")
    assert walked == ["instances_train2017.json"] and not again.images_with_class("car").any()


def test_a_file_restored_with_the_same_size_and_time_is_walked_again(tmp_path, monkeypatch):
    # cp -p (or a backup tool) brings back another file with the size and modification time of
    # the one the cache came from: the cache must not show the old boxes on it.
    project = Project.open(synthetic_coco(tmp_path / "ds"))
    f = tmp_path / "ds" / "annotations" / "instances_train2017.json"
    st = f.stat()
    data = json.loads(f.read_text())
    for a in data["annotations"]:
        a["category_id"] = 1 if a["category_id"] == 3 else 3 if a["category_id"] == 1 else a["category_id"]
    text = json.dumps(data)
    text += " " * (st.st_size - len(text.encode()))      # the same size, padded like a restore would be
    assert len(text.encode()) == st.st_size
    f.write_text(text)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    walked = []
    real = coco_index.parse
    monkeypatch.setattr(coco_index, "parse", lambda f: walked.append(f.name) or real(f))
    again = Project.open(tmp_path / "ds")
    assert walked == ["instances_train2017.json"]
    assert again.images_with_class("car").tolist() != project.images_with_class("car").tolist()


@pytest.mark.parametrize("foreign", [b"PK\x03\x04 not really a zip", b"\x93NUMPY garbage", "npz"])
def test_a_foreign_or_corrupt_cache_file_is_ignored_and_left_as_it_is(tmp_path, foreign):
    synthetic_coco(tmp_path / "ds")
    f = tmp_path / "ds" / "annotations" / "instances_train2017.json"
    cache = coco_index._cache_file(f)
    cache.parent.mkdir(parents=True, exist_ok=True)
    if foreign == "npz":      # a well-formed file that is not ours, claiming to be for this JSON
        np.savez(cache, meta=np.asarray(json.dumps({"version": coco_index.CACHE_VERSION,
                                                    "stamp": list(coco_index.stamp(f))})),
                 x=np.zeros(3))
    else:
        cache.write_bytes(foreign)
    before = cache.read_bytes()
    project = Project.open(tmp_path / "ds")
    fresh = [project.load_annotation(p).boxes for p in project.image_paths()]
    assert sum(map(len, fresh)) > 100 and cache.read_bytes() == before


@pytest.mark.parametrize("style", ["compact", "indented", "ragged", "prelabels", "no ids", "no annotations"])
def test_the_typed_read_gives_the_columns_and_places_the_walk_gives(tmp_path, style):
    from yolo_studio.core.datasets import coco_typed
    synthetic_coco(tmp_path / "ds", n_images=12)
    f = tmp_path / "ds" / "annotations" / "instances_train2017.json"
    data = json.loads(f.read_text())
    if style == "compact":
        f.write_text(json.dumps(data, separators=(",", ":")))
    elif style == "indented":
        f.write_text(json.dumps(data, indent=2))
    elif style == "ragged":   # separators of different lengths: the places cannot be a running sum
        f.write_text(json.dumps(data).replace("]]}, {", "]]},\n {", 7))
    elif style == "prelabels":   # YOLO Studio's marks: some with a score, one without
        for i, a in enumerate(data["annotations"][:5]):
            a["predicted"] = True
            if i:
                a["score"] = 0.1 * i
        data["annotations"][5].update(predicted=False, score=0.3)   # a score on a person's box: not kept
        f.write_text(json.dumps(data))
    elif style == "no ids":
        f.write_text(json.dumps({**data, "annotations": [{k: v for k, v in a.items() if k != "id"}
                                                         for a in data["annotations"]]}))
    else:
        f.write_text(json.dumps({**data, "annotations": []}))
    walked, typed = coco_index._walked(f), coco_index.parse(f)
    assert typed["starts"] is None                # found when a save needs them
    for key in (*coco_index.ANN_COLUMNS, *coco_index.IMG_COLUMNS, "img_name", "bad", "next_id", "categories"):
        assert np.array_equal(typed[key], walked[key], equal_nan=key == "score"), key
    coco_index.ensure_spans(f, typed, f.read_bytes())
    for key in ("starts", "ends", "array"):
        assert np.array_equal(typed[key], walked[key]), key
    assert (typed["sep"], tuple(typed["seps"])) == (walked["sep"], tuple(walked["seps"]))
    assert coco_typed.columns(json.dumps(data).replace('"iscrowd": 0', '"iscrowd": false', 1).encode()) is None


def test_a_file_the_typed_read_refuses_is_walked_and_its_problems_reported(tmp_path):
    synthetic_coco(tmp_path / "ds", n_images=12)
    f = tmp_path / "ds" / "annotations" / "instances_train2017.json"
    data = json.loads(f.read_text())
    data["annotations"][0]["bbox"] = "not a box"
    f.write_text(json.dumps(data))
    project = Project.open(tmp_path / "ds")
    assert any("annotations[0]" in str(p) for p in project.dataset.problems)
    ann = project.load_annotation(project.image_paths()[0])
    ann.boxes = ann.boxes[1:]
    project.save_annotation(ann)                  # the walk's places: the save splices as before
    assert json.loads(f.read_text())["annotations"][0]["bbox"] == "not a box"


def test_boxes_of_image_ids_the_file_does_not_list_are_reported_and_skipped(tmp_path):
    synthetic_coco(tmp_path / "ds", n_images=12)
    f = tmp_path / "ds" / "annotations" / "instances_train2017.json"
    data = json.loads(f.read_text())
    n = len(data["annotations"])
    for image_id in (999, -5, 0):
        data["annotations"].append({**data["annotations"][0], "id": 5000 + image_id, "image_id": image_id})
    f.write_text(json.dumps(data))
    project = Project.open(tmp_path / "ds")
    assert any("3 annotation(s) belong to an image id" in str(p) for p in project.dataset.problems)
    anns, _problems = project.load_all()
    refs = {b.ref for a in anns for b in a.boxes}
    assert not refs & {4999, 5000, 5999} and len(project.dataset._ann_id) == n


def test_a_top_level_key_written_twice_anywhere_is_left_to_the_walk(tmp_path):
    """The one-scan check answers as counting each key would: a second "images" (as a key, or in
    any string) sends the file to the walk, which refuses it by name; one of each is read by type."""
    from yolo_studio.core.datasets import coco_typed
    synthetic_coco(tmp_path / "ds", n_images=6)
    text = (tmp_path / "ds" / "annotations" / "instances_train2017.json").read_text()
    twice = [text[:-1] + ', "images": []}', text.replace('"annotations"', '"images": [], "annotations"', 1),
             text.replace('"images": [', '"images": [], "note": "categories", "x": [', 1),
             '"categories"' + text[len('"categories"'):]]        # at the very start: still counted
    for doc in [text, *twice]:
        data = doc.encode()
        expected = any(data.count(k) > 1 for k in (b'"images"', b'"annotations"', b'"categories"'))
        assert coco_typed._key_twice(data) == expected == (doc != text), doc[:60]
        assert coco_typed._key_twice(data, most=2) == expected    # many 's"' hits: the counts decide
    assert coco_typed.columns(text.encode()) is not None
    assert all(coco_typed.columns(doc.encode()) is None for doc in twice)


def test_boxes_are_ordered_by_image_as_a_stable_sort_orders_them():
    from yolo_studio.core.datasets.coco import _stable_order
    rng = np.random.default_rng(3)
    for rows in (rng.integers(0, 200_000, 5000), rng.integers(0, 3, 50), np.zeros(0, np.int64),
                 np.array([2 ** 40, 1, -5, 1])):                 # out of the radix range: argsort
        assert np.array_equal(_stable_order(rows), np.argsort(rows, kind="stable"))


def test_the_key_scan_finds_every_pair_a_plain_search_finds_across_chunk_edges(monkeypatch):
    """The key check's numpy search must miss no ``s"`` (a missed one could hide a second
    "annotations" key): against a plain search, at every offset and across chunk edges."""
    import random

    from yolo_studio.core.datasets import coco_typed
    rng = random.Random(1)
    for chunk in (4, 6, coco_typed._CHUNK):
        monkeypatch.setattr(coco_typed, "_CHUNK", chunk)
        for _ in range(1500):
            data = bytes(rng.choice(b's"xa') for _ in range(rng.randrange(0, 40)))
            expected = [i for i in range(len(data) - 1) if data[i:i + 2] == b's"']
            assert coco_typed._pair_places(data, b's"', 10 ** 6).tolist() == expected, data
            assert (coco_typed._pair_places(data, b's"', len(expected) - 1) is None) == bool(expected)
        doc = b'{"x": "' + b"a" * (chunk - 3) + b'", "images": [], "images": []}'     # a key across an edge
        assert coco_typed._key_twice(doc) and not coco_typed._key_twice(doc.replace(b'"images": [], ', b"", 1))


def test_prelabels_in_the_typed_read_are_what_the_walk_reads(tmp_path):
    synthetic_coco(tmp_path / "ds", n_images=12)
    f = tmp_path / "ds" / "annotations" / "instances_train2017.json"
    data = json.loads(f.read_text())
    data["annotations"][0].update(predicted=True, score=0.75)
    data["annotations"][1].update(predicted=True)
    f.write_text(json.dumps(data))
    typed = coco_index.parse(f)
    assert typed["starts"] is None                # the typed read answered, not the walk
    assert typed["pred"][:3].tolist() == [True, True, False]
    assert typed["score"][0] == 0.75 and np.isnan(typed["score"][1:3]).all()
