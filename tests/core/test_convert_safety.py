"""Hostile COCO files and pylessons lists, and convert into folders that are not its own.

Each test is one row of the reliability review (numbers in the names' comments):
the reader names the problem, never crashes, never relabels or silently drops
a box, never links a file that is not an image into an output, and the summary
counts what reached the disk.
"""
import json
import os

import cv2
import numpy as np
import pytest

from yolo_studio.cli import main
from yolo_studio.core.errors import LabelFileError
from yolo_studio.core.formats.coco import read_coco
from yolo_studio.core.formats.pylessons import read_pylessons
from yolo_studio.core.formats.voc import read_voc
from yolo_studio.core.project import Project


def image(path, w=64, h=48):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((h, w, 3), 90, np.uint8))
    return path


def coco_file(tmp_path, images=None, annotations=None, categories=None):
    """A COCO JSON in tmp_path/ds beside two real images a.png and b.png."""
    root = tmp_path / "ds"
    image(root / "a.png")
    image(root / "b.png")
    data = {"images": images if images is not None else
            [{"id": 1, "file_name": "a.png", "width": 64, "height": 48},
             {"id": 2, "file_name": "b.png", "width": 64, "height": 48}],
            "annotations": annotations if annotations is not None else
            [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 10, 10]},
             {"id": 2, "image_id": 2, "category_id": 2, "bbox": [5, 5, 20, 20]}],
            "categories": categories if categories is not None else
            [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}]}
    path = root / "ds.json"
    path.write_text(json.dumps(data))
    return path


def read_reported(path, **kw):
    problems = []
    anns, names = read_coco(path, report=problems.append, **kw)
    return {a.image_path.name: a.labels() for a in anns}, names, " | ".join(map(str, problems))


def convert(*args):
    return main(["convert", *map(str, args)])


def voc_boxes(folder):
    return sum(len(read_voc(x, x.with_suffix(".png")).boxes) for x in folder.glob("*.xml"))


def test_duplicate_image_id_is_reported_not_moved_to_another_image(tmp_path):     # 36
    path = coco_file(tmp_path, images=[{"id": 1, "file_name": "a.png", "width": 64, "height": 48},
                                       {"id": 1, "file_name": "b.png", "width": 64, "height": 48}],
                     annotations=[{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 10, 10]}])
    boxes, _, problems = read_reported(path)
    assert boxes == {} and "image id 1 is also used by a.png" in problems
    with pytest.raises(LabelFileError, match="image id 1"):
        read_coco(path)


@pytest.mark.parametrize("categories, message", [
    ([{"id": 2, "name": "dog"}, {"id": 2, "name": "bird"}], "category id 2 is used for both 'dog' and 'bird'"),  # 37
    ([{"id": 1, "name": "dog"}, {"id": 2, "name": "dog"}], "category name 'dog' is used by ids 1 and 2"),       # 38
    ([{"id": "1", "name": "cat"}, {"id": 2, "name": "dog"}], "'id' must be a whole number"),                     # 39
    ([{"id": [1], "name": "cat"}], "'id' must be a whole number"),                                               # 39
    ([{"id": 1, "name": "a\u0001b"}], "control characters"),                                                     # 43
    ([{"id": 1, "name": "two\nlines"}], "control characters"),                                                   # 43
    ([{"id": 1, "name": 7}], "must be text"),
])
def test_bad_categories_refuse_the_file_naming_why(tmp_path, capsys, categories, message):
    path = coco_file(tmp_path, categories=categories, annotations=[])
    with pytest.raises(LabelFileError, match=message.replace("(", r"\(")):
        read_coco(path, report=lambda p: None)
    assert convert("--from", "coco", "--to", "voc", path, tmp_path / "out") == 1
    err = capsys.readouterr().err
    assert "ds.json" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("entry", [
    {"id": {"a": 1}, "file_name": "a.png", "width": 64, "height": 48},     # 39
    {"id": 1, "file_name": "a.png", "width": float("nan"), "height": 48},  # 40
    {"id": 1, "file_name": "a.png", "width": float("inf"), "height": 48},  # 40
    {"id": 1, "file_name": "a.png", "width": True, "height": 48},          # 41
    {"id": 1, "file_name": ["a.png"], "width": 64, "height": 48},
])
def test_odd_image_entries_are_reported_not_crashing(tmp_path, entry):
    path = coco_file(tmp_path, images=[entry, {"id": 2, "file_name": "b.png", "width": 64, "height": 48}])
    boxes, _, problems = read_reported(path)
    assert boxes == {"b.png": ["dog"]} and "image 0" in problems


def test_odd_annotation_ids_are_reported_not_crashing(tmp_path):                    # 39
    path = coco_file(tmp_path, annotations=[
        {"id": 1, "image_id": 1, "category_id": [1], "bbox": [1, 2, 10, 10]},
        {"id": 2, "image_id": {"x": 1}, "category_id": 1, "bbox": [1, 2, 10, 10]},
        {"id": 3, "image_id": 2, "category_id": 2, "bbox": [5, 5, 20, True]},
        {"id": 4, "image_id": 2, "category_id": 2, "bbox": [5, 5, 20, 20]}])
    boxes, _, problems = read_reported(path)
    assert boxes == {"a.png": [], "b.png": ["dog"]}
    assert problems.count("skipped") == 3


def test_nan_score_never_reaches_an_output_file(tmp_path, capsys):                # 42
    path = coco_file(tmp_path, annotations=[
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 10, 10], "score": float("nan")}])
    assert convert("--from", "coco", "--to", "voc", path, tmp_path / "out") == 0
    assert "score nan is not a finite number" in capsys.readouterr().out
    assert read_voc(tmp_path / "out" / "a.xml", tmp_path / "out" / "a.png").labels() == ["cat"]


def test_same_file_twice_merges_and_the_summary_matches_the_disk(tmp_path, capsys):  # 44
    path = coco_file(tmp_path, images=[{"id": 1, "file_name": "a.png", "width": 64, "height": 48},
                                       {"id": 2, "file_name": "a.png", "width": 64, "height": 48}])
    assert convert("--from", "coco", "--to", "voc", path, tmp_path / "out") == 0
    out = capsys.readouterr().out
    assert "converted 1 images, 2 boxes" in out and "merged" in out
    assert voc_boxes(tmp_path / "out") == 2


@pytest.mark.parametrize("name", ["/etc/passwd", "../../secret.png", "..\\..\\secret.png", "sub/../../x.png"])
def test_file_names_leaving_the_image_root_are_never_linked(tmp_path, capsys, name):  # 45
    secret = image(tmp_path / "secret.png")
    path = coco_file(tmp_path, images=[{"id": 1, "file_name": name, "width": 64, "height": 48},
                                       {"id": 2, "file_name": "b.png", "width": 64, "height": 48}])
    assert convert("--from", "coco", "--to", "voc", path, tmp_path / "out") == 0
    out = capsys.readouterr().out
    assert "leaves the image root" in out and "converted 1 images, 1 boxes" in out
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")) == \
        ["b.png", "b.xml", "yolo_studio.json"]
    assert os.stat(secret).st_nlink == 1


def pylessons_list(tmp_path, lines, names="cat\ndog\n"):
    (tmp_path / "train.names").write_text(names)
    (tmp_path / "train.txt").write_text("".join(line + "\n" for line in lines))
    return tmp_path / "train.txt"


def test_missing_image_is_left_out_of_coco_with_a_problem_not_size_zero(tmp_path, capsys):  # 48
    image(tmp_path / "a.png")
    lst = pylessons_list(tmp_path, ["a.png 1,1,10,10,0", "missing.png 2,2,9,9,1"])
    assert convert("--from", "pylessons", "--to", "coco", lst, tmp_path / "out.json") == 0
    out = capsys.readouterr().out
    assert "converted 1 images, 1 boxes" in out and "missing.png" in out and "size unknown" in out
    anns, _ = read_coco(tmp_path / "out.json")           # strict: our own output reads back
    assert [a.image_path.name for a in anns] == ["a.png"]


def test_same_image_on_two_lines_keeps_both_lines_boxes(tmp_path, capsys):         # 51
    image(tmp_path / "a.png")
    lst = pylessons_list(tmp_path, ["a.png 1,1,10,10,0", "./a.png 20,20,30,30,1"])
    problems = []
    anns, _ = read_pylessons(lst, report=problems.append)
    assert [a.labels() for a in anns] == [["cat", "dog"]] and "line 2 repeats the image of line 1" in str(problems[0])
    assert convert("--from", "pylessons", "--to", "voc", lst, tmp_path / "out") == 0
    assert "converted 1 images, 2 boxes" in capsys.readouterr().out
    assert voc_boxes(tmp_path / "out") == 2


def test_a_list_line_naming_a_file_that_is_not_an_image_is_refused(tmp_path, capsys):  # 52
    secret = tmp_path / "elsewhere" / "passwd"
    secret.parent.mkdir()
    (tmp_path / "list").mkdir()
    secret.write_text("root:x:0:0")
    fake = tmp_path / "elsewhere" / "fake.jpg"
    fake.write_text("not a jpeg")
    good = image(tmp_path / "elsewhere" / "photo.png")      # absolute paths to real images stay fine
    lst = pylessons_list(tmp_path / "list", [f"{secret} 1,1,5,5,0", f"{fake} 1,1,5,5,0", f"{good} 1,1,5,5,1"])
    assert convert("--from", "pylessons", "--to", "voc", lst, tmp_path / "out") == 0
    out = capsys.readouterr().out
    assert "passwd is not an image file" in out and "fake.jpg" in out
    assert "converted 1 images, 1 boxes" in out
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")) == \
        ["photo.png", "photo.xml", "yolo_studio.json"]
    assert os.stat(secret).st_nlink == 1 and os.stat(fake).st_nlink == 1


def snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_convert_into_an_existing_yolo_project_changes_nothing(small_demo_project, tmp_path, capsys):  # 115
    target = tmp_path / "mine"
    Project.create(target, ["cat", "dog"], ["images"], "yolo").save()
    image(target / "images" / "demo_0000.jpg")
    (target / "images" / "demo_0000.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    before = snapshot(target)
    for extra in ([], ["--overwrite"]):
        assert convert("--from", "voc", "--to", "yolo", *extra, small_demo_project, target) == 1
        err = capsys.readouterr().err
        assert "holds the images and labels of the YOLO Studio project" in err and "Traceback" not in err
    assert convert("--from", "voc", "--to", "yolo", small_demo_project, target / "images") == 1
    assert "holds the images and labels of the YOLO Studio project" in capsys.readouterr().err
    (target / "yolo_studio.json").rename(target / "moved.json")      # a plain YOLO folder, no project file
    assert convert("--from", "voc", "--to", "yolo", "--overwrite", small_demo_project / "images",
                   target / "images") == 1
    assert "demo_0000.txt" in capsys.readouterr().err
    (target / "moved.json").rename(target / "yolo_studio.json")
    assert snapshot(target) == before


def test_convert_writes_beside_other_files_only_with_overwrite_and_reruns_over_its_own(
        small_demo_project, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    args = ["--from", "voc", "--to", "yolo", small_demo_project, out]
    assert convert(*args) == 1 and "notes.txt" in capsys.readouterr().err
    assert convert(*args, "--overwrite") == 0
    assert "converted 48 images" in capsys.readouterr().out
    assert convert(*args) == 1, "notes.txt is still not convert's"
    (out / "notes.txt").unlink()
    assert convert(*args) == 0, "its own earlier output is replaced"
    assert len(Project.open(out).load_all()[0]) == 48


def test_read_only_output_is_one_clear_line(small_demo_project, tmp_path, capsys):  # 70
    if os.geteuid() == 0:
        pytest.skip("root ignores folder permissions")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        assert convert("--from", "voc", "--to", "coco", "--image-root", small_demo_project,
                       small_demo_project, ro / "x.json") == 1
    finally:
        ro.chmod(0o755)
    err = capsys.readouterr().err
    assert "cannot be read or written" in err and "Traceback" not in err


def test_an_oserror_anywhere_in_a_command_is_one_line_naming_the_file(monkeypatch, tmp_path, capsys):  # 70
    import yolo_studio.commands.convert as cmd

    def boom(*a, **k):
        raise PermissionError(13, "Permission denied", str(tmp_path / "x.json"))
    monkeypatch.setattr("yolo_studio.core.formats.dataset.write_dataset", boom)
    assert convert("--from", "coco", "--to", "coco", coco_file(tmp_path), tmp_path / "x.json") == 1
    err = capsys.readouterr().err
    assert err.strip() == f"yolo-studio convert: error: {tmp_path / 'x.json'}: cannot be read or written " \
                          "(Permission denied)"
    assert cmd is not None


def test_a_rerun_leaves_exactly_the_new_dataset(demo_copy, tmp_path, capsys):
    out = tmp_path / "out"
    assert convert("--from", "voc", "--to", "voc", demo_copy / "images", out) == 0
    gone = sorted((demo_copy / "images").glob("*.jpg"))[0]
    gone.unlink()
    gone.with_suffix(".xml").unlink()
    assert convert("--from", "voc", "--to", "voc", demo_copy / "images", out) == 0
    assert "converted 47 images" in capsys.readouterr().out
    assert not (out / gone.name).exists() and not (out / gone.with_suffix(".xml").name).exists()
    assert len(list(out.glob("*.jpg"))) == 47 and len(Project.open(out).load_all()[0]) == 47


def test_a_symlink_to_a_project_folder_is_that_folder(demo_copy, small_demo_project, tmp_path, capsys):
    link = tmp_path / "shortcut"
    link.symlink_to(demo_copy / "images")
    before = snapshot(demo_copy)
    assert convert("--from", "voc", "--to", "voc", "--overwrite", small_demo_project / "images", link) == 1
    assert "holds the images and labels of the YOLO Studio project" in capsys.readouterr().err
    assert snapshot(demo_copy) == before


def test_a_manifest_never_makes_a_file_outside_its_folder_ours(small_demo_project, tmp_path):
    from yolo_studio.core.output_guard import MANIFEST, OutputFolder

    outside = tmp_path / "precious.txt"
    outside.write_text("mine")
    out = tmp_path / "out"
    out.mkdir()
    st = outside.stat()
    (out / MANIFEST).write_text(json.dumps({"files": {"../precious.txt": [st.st_size, st.st_mtime_ns]}}))
    guard = OutputFolder(out, "convert")
    assert not guard.is_own("../precious.txt")
    guard.remove_stale()
    assert outside.read_text() == "mine"
