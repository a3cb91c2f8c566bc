"""An ultralytics dataset whose labels/<split>/ folder does not exist yet (nothing labelled in
that split) can be labelled in place; a data.yaml whose names or paths are not text is refused
with a short message naming the line (docs/reliability-2.md)."""
import pytest

from layout_fixtures import image, write
from yolo_studio.core.annotations import Box, ImageAnnotation
from yolo_studio.core.errors import ConfigError
from yolo_studio.core.project import Project


def test_the_first_label_of_a_split_makes_its_labels_folder(tmp_path):
    write(tmp_path / "data.yaml", "train: images/train\nval: images/val\nnames: [cat]\n")
    image(tmp_path / "images" / "train" / "a.jpg")
    b = image(tmp_path / "images" / "val" / "b.jpg")
    project = Project.open(tmp_path)
    project.save_annotation(ImageAnnotation(b, 64, 48, [Box(1, 1, 20, 20, "cat")], verified=True))
    assert (tmp_path / "labels" / "val" / "b.txt").is_file()
    assert Project.open(tmp_path).load_annotation(b).labels() == ["cat"]


def _yaml(tmp_path, text):
    write(tmp_path / "data.yaml", text)
    image(tmp_path / "images" / "train" / "a.jpg")
    return tmp_path / "data.yaml"


@pytest.mark.parametrize("names", ["[cat, null]", "[cat, [a, b]]", "{0: cat, 1: {x: 1}}"])
def test_a_class_name_that_is_not_text_is_refused_naming_the_line(tmp_path, names):
    f = _yaml(tmp_path, f"train: images/train\nval: images/train\nnames: {names}\n")
    with pytest.raises(ConfigError, match="line 3") as e:
        Project.open(tmp_path)
    assert str(f) in str(e.value) and "class 1" in str(e.value)


@pytest.mark.parametrize("key", ["names", "train", "nc", "path"])
def test_a_yaml_alias_bomb_is_refused_with_a_short_message(tmp_path, key):
    # Aliases share one list, so loading is cheap; turning it into text was not (9^8 items).
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 5)]
    body = {"names": "train: images/train\nval: images/train\nnames: *a4\n",
            "train": "train: *a4\nval: images/train\nnames: [cat]\n",
            "nc": "train: images/train\nval: images/train\nnames: [cat]\nnc: *a4\n",
            "path": "path: *a4\ntrain: images/train\nval: images/train\nnames: [cat]\n"}[key]
    _yaml(tmp_path, "\n".join(lines) + "\n" + body)
    try:
        project = Project.open(tmp_path)
    except ConfigError as e:
        assert len(str(e)) < 400 and key == "names"
        return
    _anns, problems = project.load_all()
    assert key != "names" and any(key in p.message and len(p.message) < 400 for p in problems)


def test_a_segmentation_label_says_it_is_a_polygon_and_is_left_as_it_is(tmp_path):
    write(tmp_path / "data.yaml", "train: images/train\nval: images/train\nnames: [cat]\n")
    a = image(tmp_path / "images" / "train" / "a.jpg")
    txt = write(tmp_path / "labels" / "train" / "a.txt", "0 0.1 0.1 0.3 0.1 0.3 0.3 0.1 0.3\n")
    project = Project.open(tmp_path)
    from yolo_studio.core.errors import LabelFileError
    with pytest.raises(LabelFileError, match="polygon"):
        project.load_annotation(a)
    with pytest.raises(LabelFileError):
        project.save_annotation(ImageAnnotation(a, 64, 48, [Box(1, 1, 20, 20, "cat")]))
    assert txt.read_text() == "0 0.1 0.1 0.3 0.1 0.3 0.3 0.1 0.3\n"


def test_lines_of_boxes_nobody_edited_are_written_back_as_they_were(tmp_path):
    # A box past the border is shown clipped; saving another box of the image rewrote it clipped
    # (and every untouched line to 7 decimals). Now only the edited line changes.
    write(tmp_path / "data.yaml", "train: images/train\nval: images/train\nnames: [cat, dog]\n")
    a = image(tmp_path / "images" / "train" / "a.jpg")
    txt = write(tmp_path / "labels" / "train" / "a.txt", "0 0.5 0.5 0.25 0.25\n1 0.95 0.5 0.2 0.2\n0 0.3 0.3 0.1 0.1 0.75\n")
    project = Project.open(tmp_path)
    ann = project.load_annotation(a)
    ann.boxes[0] = ann.boxes[0].moved(x1=ann.boxes[0].x1 + 1, x2=ann.boxes[0].x2 + 1)
    project.save_annotation(ann)
    lines = txt.read_text().splitlines()
    assert lines[1:] == ["1 0.95 0.5 0.2 0.2", "0 0.3 0.3 0.1 0.1 0.75"] and lines[0] != "0 0.5 0.5 0.25 0.25"
    again = Project.open(tmp_path).load_annotation(a)
    assert [b.label for b in again.boxes] == ["cat", "dog", "cat"] and again.boxes[2].score == 0.75


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["plain", "bom"])
def test_an_edit_keeps_the_files_crlf_and_bom(tmp_path, bom):
    # A label file a Windows tool wrote: moving one box must not rewrite every line ending.
    write(tmp_path / "data.yaml", "train: images/train\nval: images/train\nnames: [cat, dog]\n")
    a = image(tmp_path / "images" / "train" / "a.jpg")
    label = tmp_path / "labels" / "train" / "a.txt"
    label.parent.mkdir(parents=True)
    label.write_bytes(bom + b"0 0.25 0.25 0.1 0.1\r\n1 0.75 0.75 0.2 0.2\r\n")
    project = Project.open(tmp_path)
    ann = project.load_annotation(a)
    ann.boxes[1] = ann.boxes[1].moved(x1=ann.boxes[1].x1 + 1, x2=ann.boxes[1].x2 + 1)
    project.save_annotation(ann)
    data = label.read_bytes()
    assert data.startswith(bom + b"0 0.25 0.25 0.1 0.1\r\n1 ") and data.endswith(b"\r\n")
    assert data.count(b"\r\n") == data.count(b"\n") == 2
    assert Project.open(tmp_path).load_annotation(a).boxes[1].x1 == pytest.approx(ann.boxes[1].x1, abs=1e-3)
