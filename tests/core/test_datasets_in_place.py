"""Datasets other tools wrote open in place; a save changes only the edited image's label file."""
import json

import pytest

from layout_fixtures import changed, coco_dataset, snapshot, ultralytics_dataset, voc_devkit, write
from yolo_studio.core.anchors import collect_box_sizes
from yolo_studio.core.errors import ConfigError
from yolo_studio.core.project import PROJECT_FILE, Project


def _names(paths):
    return sorted(p.name for p in paths)


def _move_first_box(project, image):
    ann = project.load_annotation(image)
    ann.boxes[0] = ann.boxes[0].moved(x1=ann.boxes[0].x1 + 2, x2=ann.boxes[0].x2 + 2)
    project.save_annotation(ann)
    return ann


# --- ultralytics ------------------------------------------------------------------

def test_ultralytics_dataset_opens_from_folder_or_yaml_with_its_split_and_names(tmp_path):
    yaml_file = ultralytics_dataset(tmp_path / "ds")
    before = snapshot(tmp_path)
    for path in (tmp_path / "ds", yaml_file):
        project = Project.open(path)
        assert project.classes == ["cat", "dog"] and project.label_format == "yolo"
        train, val = project.split()
        assert (_names(train), _names(val)) == (["a.jpg", "b.jpg"], ["c.jpg"])
        anns, problems = project.load_all()
        assert problems == [] and sum(len(a.boxes) for a in anns) == 4
        a = project.load_annotation(tmp_path / "ds" / "images" / "train" / "a.jpg")
        assert a.labels() == ["cat", "dog"] and a.boxes[0].xyxy() == pytest.approx((24, 18, 40, 30))
    assert changed(before, snapshot(tmp_path)) == set()          # opening wrote nothing


def test_ultralytics_save_writes_only_that_images_txt_in_labels(tmp_path):
    ultralytics_dataset(tmp_path / "ds")
    project = Project.open(tmp_path / "ds")
    before = snapshot(tmp_path)
    _move_first_box(project, tmp_path / "ds" / "images" / "train" / "a.jpg")
    label = tmp_path / "ds" / "labels" / "train" / "a.txt"
    assert changed(before, snapshot(tmp_path)) == {label}
    first = label.read_text().splitlines()[0].split()
    assert first[0] == "0" and float(first[1]) == pytest.approx(34 / 64)
    assert Project.open(tmp_path / "ds" / "data.yaml").load_annotation(label.parent.parent.parent / "images" /
                                                                       "train" / "a.jpg").boxes[0].x1 == 26


def test_ultralytics_bad_input_is_reported_by_file_and_line_and_the_rest_opens(tmp_path):
    root = tmp_path / "ds"
    ultralytics_dataset(root)
    write(root / "train.txt", "./images/train/a.jpg\n./images/train/missing.jpg\n../../etc/x.jpg\n")
    write(root / "labels" / "train" / "orphan.txt", "0 0.5 0.5 0.1 0.1\n")
    write(root / "labels" / "train" / "classes.txt", "dog\ncat\n")       # LabelImg's, another order
    yaml_file = write(root / "data.yaml", "path: .\ntrain: train.txt\nval: ../elsewhere\nnc: 3\n"
                                          "names: [cat, dog]\n")
    before = snapshot(tmp_path)
    project = Project.open(yaml_file)
    _anns, problems = project.load_all()
    said = "\n".join(str(p) for p in problems)
    assert f"{root / 'train.txt'}: line 2: image ./images/train/missing.jpg not found" in said
    assert f"{root / 'train.txt'}: line 3" in said and "leaves the dataset folder" in said
    assert f"{yaml_file}: line 3: val: '../elsewhere' leaves the folder" in said
    assert f"{yaml_file}: line 4: nc is 3 but names lists 2 classes" in said
    assert "orphan.txt: label file for an image that no split of data.yaml lists" in said
    assert "classes.txt: line 1: lists dog, cat, but data.yaml names cat, dog" in said
    train, val = project.split()
    assert (_names(train), val) == (["a.jpg"], [])
    assert changed(before, snapshot(tmp_path)) == set()


def test_a_project_file_beside_the_dataset_points_at_it_and_keeps_settings(tmp_path):
    ultralytics_dataset(tmp_path / "ds")
    project = Project.open(tmp_path / "ds")
    project.anchors_size = 320
    project.save()
    saved = json.loads((tmp_path / "ds" / PROJECT_FILE).read_text())
    assert saved["dataset"] == {"layout": "ultralytics", "path": "data.yaml"}
    again = Project.open(tmp_path / "ds")
    assert again.dataset.kind == "ultralytics" and again.anchors_size == 320
    assert _names(again.split()[1]) == ["c.jpg"]


def test_in_place_classes_are_the_datasets_own(tmp_path):
    ultralytics_dataset(tmp_path / "ds")
    project = Project.open(tmp_path / "ds")
    before = snapshot(tmp_path)
    with pytest.raises(ConfigError, match="data.yaml"):
        project.add_class("owl")
    ann = project.load_annotation(tmp_path / "ds" / "images" / "val" / "c.jpg")
    ann.boxes.append(ann.boxes[0].moved(label="owl"))
    with pytest.raises(ConfigError, match="add class 'owl'"):
        project.save_annotation(ann)
    assert changed(before, snapshot(tmp_path)) == set()


def test_anchor_boxes_come_from_the_dataset_in_place(tmp_path):
    ultralytics_dataset(tmp_path / "ds")
    anns, _ = Project.open(tmp_path / "ds").load_all()
    sizes = collect_box_sizes(anns, 416)
    assert len(sizes.wh) == 4


# --- VOC devkit -------------------------------------------------------------------

def test_voc_devkit_07_plus_12_opens_with_its_imagesets_split(tmp_path):
    voc_devkit(tmp_path)
    project = Project.open(tmp_path)
    assert project.dataset.kind == "voc-devkit" and project.classes == ["dog", "person"]
    train, val = project.split()
    assert _names(train) == ["000001.jpg", "2008_000001.jpg"] and _names(val) == ["000002.jpg"]
    assert len(project.image_paths()) == 4               # test images (000003) can be labelled too
    anns, problems = project.load_all()
    assert problems == [] and sum(len(a.boxes) for a in anns) == 8


def test_voc_devkit_save_edits_the_xml_in_place_keeping_parts_and_owner(tmp_path):
    dev = voc_devkit(tmp_path)
    project = Project.open(dev)
    before = snapshot(tmp_path)
    _move_first_box(project, dev / "VOC2007" / "JPEGImages" / "000001.jpg")
    xml = dev / "VOC2007" / "Annotations" / "000001.xml"
    assert changed(before, snapshot(tmp_path)) == {xml}
    text = xml.read_text()
    for kept in ("<flickrid>Fried Camels</flickrid>", "<pose>Left</pose>", "<name>head</name>",
                 "<difficult>1</difficult>"):
        assert kept in text
    assert "<xmin>10</xmin>" in text and "<xmax>42</xmax>" in text        # moved 2 px; the part unchanged
    old = before[xml].decode()
    assert text.count("\n") == old.count("\n") and text.replace("42", "40").count("<xmin>10<") == 2


def test_voc_devkit_missing_split_files_and_absent_images_are_reported(tmp_path):
    dev = voc_devkit(tmp_path)
    (dev / "VOC2012" / "ImageSets" / "Main" / "trainval.txt").unlink()
    write(dev / "VOC2007" / "ImageSets" / "Main" / "val.txt", "000002\n009999\n")
    write(dev / "VOC2007" / "Annotations" / "000777.xml", "<annotation/>")
    before = snapshot(tmp_path)
    _anns, problems = Project.open(dev).load_all()
    said = "\n".join(str(p) for p in problems)
    assert f"{dev / 'VOC2007/ImageSets/Main/val.txt'}: line 2: image 009999 is not in VOC2007/JPEGImages" in said
    assert f"{dev / 'VOC2012/ImageSets/Main'}: no train.txt" in said
    assert "000777.xml: annotation for an image that is not in JPEGImages" in said
    assert changed(before, snapshot(tmp_path)) == set()


# --- COCO -------------------------------------------------------------------------

def test_coco_opens_with_category_ids_kept_and_crowd_regions_not_trained(tmp_path):
    coco_dataset(tmp_path)
    project = Project.open(tmp_path)
    assert project.dataset.kind == "coco" and project.classes == ["cat", "dog"]
    train, val = project.split()
    assert _names(train) == ["000000000009.jpg", "000000000025.jpg"] and _names(val) == ["000000000139.jpg"]
    anns, problems = project.load_all()
    assert problems == []
    assert [a.labels() for a in anns] == [["cat"], ["cat"], ["cat"]]      # the crowd dog regions are hidden
    assert all(len(a.hidden) == 1 and "iscrowd" in a.hidden[0].problem for a in anns)


def test_coco_save_changes_only_that_images_annotations(tmp_path):
    coco_dataset(tmp_path)
    project = Project.open(tmp_path)
    f = tmp_path / "annotations" / "instances_train2017.json"
    before = snapshot(tmp_path)
    old = json.loads(f.read_text())
    ann = project.load_annotation(tmp_path / "train2017" / "000000000025.jpg")
    ann.boxes[0] = ann.boxes[0].moved(x1=12.0, label="dog")
    ann.boxes.append(ann.boxes[0].moved(x1=1.0, y1=1.0, x2=5.0, y2=5.0, label="cat", ref=None))
    project.save_annotation(ann)
    assert changed(before, snapshot(tmp_path)) == {f}
    new = json.loads(f.read_text())
    assert {k: v for k, v in new.items() if k != "annotations"} == {k: v for k, v in old.items()
                                                                    if k != "annotations"}
    by_id = {a["id"]: a for a in new["annotations"]}
    assert [a for a in old["annotations"] if a["image_id"] == 1] == [a for a in new["annotations"]
                                                                     if a["image_id"] == 1]
    moved = by_id[1002]
    assert moved["bbox"] == [12.0, 10.0, 18.0, 20.0] and moved["category_id"] == 18
    assert moved["segmentation"] == old["annotations"][2]["segmentation"]   # every other key as read
    assert by_id[1003] == old["annotations"][3]                              # the crowd region untouched
    added = by_id[1004]
    assert added["category_id"] == 17 and added["bbox"] == [1.0, 1.0, 4.0, 4.0] and added["image_id"] == 2
    again = Project.open(tmp_path).load_annotation(tmp_path / "train2017" / "000000000025.jpg")
    assert again.labels() == ["dog", "cat"]


def test_coco_categories_differing_between_splits_are_reported(tmp_path):
    coco_dataset(tmp_path)
    f = tmp_path / "annotations" / "instances_val2017.json"
    data = json.loads(f.read_text())
    data["categories"] = [{"id": 17, "name": "cat"}, {"id": 18, "name": "wolf"}]
    data["images"].append({"id": 5, "file_name": "gone.jpg", "width": 64, "height": 48})
    f.write_text(json.dumps(data))
    before = snapshot(tmp_path)
    project = Project.open(tmp_path)
    said = "\n".join(str(p) for p in project.load_all()[1])
    assert f"{f}: its categories (cat, wolf) differ from instances_train2017.json's" in said
    assert f"{f}: images[1]: image" in said and "gone.jpg not found" in said
    assert project.classes == ["cat", "dog", "wolf"]
    assert changed(before, snapshot(tmp_path)) == set()


def test_coco_saves_splice_the_text_so_every_other_byte_stays(tmp_path):
    coco_dataset(tmp_path)
    f = tmp_path / "annotations" / "instances_train2017.json"
    data = json.loads(f.read_text())
    data["images"].append({"id": 3, "file_name": "000000000030.jpg", "width": 64, "height": 48})
    data["info"]["contributor"] = "Zoë Ångström"          # not ASCII: the save splices text, not bytes
    f.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    from layout_fixtures import image
    image(tmp_path / "train2017" / "000000000030.jpg")
    original = f.read_text(encoding="utf-8")
    project = Project.open(tmp_path)
    first, second, empty = (tmp_path / "train2017" / n for n in
                            ("000000000009.jpg", "000000000025.jpg", "000000000030.jpg"))
    for img in (second, first, second, empty):              # later saves use the spans the earlier moved
        _move_first_box(project, img) if project.load_annotation(img).boxes else None
    ann = project.load_annotation(empty)
    ann.boxes.append(project.load_annotation(first).boxes[0].moved(ref=None))
    project.save_annotation(ann)
    text = f.read_text(encoding="utf-8")
    new = json.loads(text)
    assert {k: v for k, v in new.items() if k != "annotations"} == {k: v for k, v in data.items()
                                                                    if k != "annotations"}
    assert text[:original.index('"annotations"')] == original[:original.index('"annotations"')]
    assert text[text.index('"categories"'):] == original[original.index('"categories"'):]
    boxes = {a["id"]: a["bbox"] for a in new["annotations"]}
    assert boxes[1000] == [12.0, 10.0, 20.0, 20.0] and boxes[1002] == [14.0, 10.0, 20.0, 20.0]
    assert boxes[1003] == [40.0, 20.0, 15.0, 12.0] and boxes[1004] == [12.0, 10.0, 20.0, 20.0]
    reopened = Project.open(tmp_path)
    assert [len(reopened.load_annotation(p).boxes) for p in (first, second, empty)] == [1, 1, 1]


def test_coco_save_of_an_ascii_file_keeps_every_other_byte(tmp_path):
    coco_dataset(tmp_path)
    f = tmp_path / "annotations" / "instances_val2017.json"
    before = f.read_bytes()
    project = Project.open(tmp_path)
    _move_first_box(project, tmp_path / "val2017" / "000000000139.jpg")
    after = f.read_bytes()
    cut = before.index(b'"bbox": [10.0')
    assert after[:cut] == before[:cut] and after[cut:].startswith(b'"bbox": [12.0, 10.0, 20.0, 20.0]')
    assert len(after) == len(before)              # the only change: 10.0 -> 12.0 in the one bbox


def test_coco_save_refuses_a_file_another_program_changed(tmp_path):
    coco_dataset(tmp_path)
    project = Project.open(tmp_path)
    f = tmp_path / "annotations" / "instances_train2017.json"
    ann = project.load_annotation(tmp_path / "train2017" / "000000000009.jpg")
    f.write_text(f.read_text().replace("COCO 2017 Dataset", "edited elsewhere"))
    before = f.read_bytes()
    with pytest.raises(Exception, match="changed on disk since it was opened"):
        project.save_annotation(ann)
    assert f.read_bytes() == before


def test_coco_reopens_from_its_cache_and_a_changed_file_is_walked_again(tmp_path, monkeypatch):
    from yolo_studio.core.datasets import coco_index
    coco_dataset(tmp_path / "ds")
    _move_first_box(Project.open(tmp_path / "ds"), tmp_path / "ds" / "train2017" / "000000000009.jpg")
    walked = []
    real = coco_index.parse
    monkeypatch.setattr(coco_index, "parse", lambda f: walked.append(f.name) or real(f))
    again = Project.open(tmp_path / "ds")                  # the save stored the new columns
    assert walked == [] and again.load_annotation(tmp_path / "ds" / "train2017" / "000000000009.jpg"
                                                  ).boxes[0].x1 == 12
    f = tmp_path / "ds" / "annotations" / "instances_val2017.json"
    f.write_text(f.read_text().replace('"bbox": [10.0, 10.0', '"bbox": [11.25, 10.0'))  # size changes too
    val = Project.open(tmp_path / "ds").load_annotation(tmp_path / "ds" / "val2017" / "000000000139.jpg")
    assert walked == ["instances_val2017.json"] and val.boxes[0].x1 == 11.25


def test_coco_load_all_at_once_gives_what_each_image_gives(tmp_path):
    coco_dataset(tmp_path / "ds")
    f = tmp_path / "ds" / "annotations" / "instances_val2017.json"
    data = json.loads(f.read_text())
    data["annotations"].append({"id": 7, "image_id": 100, "category_id": 17, "bbox": [50.0, 40.0, 30.0, 30.0],
                                "area": 900.0, "iscrowd": 0})            # partly outside: clipped
    f.write_text(json.dumps(data))
    project = Project.open(tmp_path / "ds")
    anns, problems = project.load_all()
    one_by_one = [project.load_annotation(p) for p in project.image_paths()]
    assert [(a.image_path, a.boxes, [h.problem for h in a.hidden]) for a in anns] == \
        [(a.image_path, a.boxes, [h.problem for h in a.hidden]) for a in one_by_one]
    assert [b.ref for a in anns for b in a.boxes] == [b.ref for a in one_by_one for b in a.boxes]
    assert any("extends outside the 64x48 image; clipped" in str(p) for p in problems)


def test_coco_polygons_are_skipped_but_every_offset_points_into_the_original_text(tmp_path):
    from yolo_studio.core.datasets.coco_index import _without_polygons
    text = ('{"info": {"d": "a \\"segmentation\\": [[1, 2]] in a string"}, "annotations": ['
            '{"segmentation": [[1.5, 2, 3e2], [4, 5]], "id": 1}, {"segmentation": {"counts": [1, 2]}, "id": 2},'
            ' {"segmentation" : [ [7,8] ], "id": 3}]}')
    stripped, to_original = _without_polygons(text)
    assert json.loads(stripped)["info"] == json.loads(text)["info"]
    assert [a["id"] for a in json.loads(stripped)["annotations"]] == [1, 2, 3]
    for needle in ('"id": 1', '{"segmentation": {"counts"', '"id": 3}', ']}'):
        at = stripped.index(needle)
        assert text[int(to_original([at])[0]):].startswith(needle)
