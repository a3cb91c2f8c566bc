"""YOLO txt labels with classes.txt, and the sidecar that keeps what txt cannot."""
import numpy as np
import pytest

from yolo_studio.core.annotations import Box, ImageAnnotation
from yolo_studio.core.errors import LabelFileError
from yolo_studio.core.formats.yolo_txt import read_classes, read_yolo, sidecar_path, write_classes, write_yolo

CLASSES = ["person", "car", "dog"]


def test_reads_a_darknet_label_file(tmp_path):
    (tmp_path / "classes.txt").write_text("person\ncar\ndog\n")
    (tmp_path / "a.txt").write_text("1 0.5 0.5 0.25 0.5\n\n2 0.125 0.25 0.25 0.5\n")
    ann = read_yolo(tmp_path / "a.txt", 400, 200, read_classes(tmp_path / "classes.txt"), tmp_path / "a.jpg")
    assert ann.boxes == [Box(150, 50, 250, 150, "car"), Box(0, 0, 100, 100, "dog")]
    assert ann.verified is False and not sidecar_path(tmp_path / "a.txt").exists()


def test_round_trip_precision_and_no_sidecar_for_plain_labels(tmp_path):
    rng = np.random.default_rng(1)
    w, h = 4000, 3000   # large images still keep 1/1000 px
    boxes = []
    for i in range(40):
        x1, y1 = rng.uniform(0, 3000, 2)
        bw, bh = rng.uniform(1, 900, 2)
        boxes.append(Box(x1, y1, min(x1 + bw, w), min(y1 + bh, h), CLASSES[i % 3]))
    ann = ImageAnnotation(tmp_path / "big.jpg", w, h, boxes)
    write_yolo(ann, tmp_path / "big.txt", CLASSES)
    back = read_yolo(tmp_path / "big.txt", w, h, CLASSES, tmp_path / "big.jpg")
    np.testing.assert_allclose(back.boxes_array(), ann.boxes_array(), atol=1e-3)
    assert back.labels() == ann.labels()
    assert not sidecar_path(tmp_path / "big.txt").exists()


def test_sidecar_keeps_verified_difficult_predicted_and_score(tmp_path):
    boxes = [Box(10, 10, 50, 50, "dog", predicted=True, score=0.91), Box(60, 10, 90, 30, "car", difficult=True),
             Box(5, 60, 25, 90, "person")]
    write_yolo(ImageAnnotation(tmp_path / "s.jpg", 100, 100, boxes, verified=True), tmp_path / "s.txt", CLASSES)
    assert sidecar_path(tmp_path / "s.txt").name.startswith(".")            # hidden from other tools
    assert len((tmp_path / "s.txt").read_text().splitlines()) == 3          # the txt stays plain
    back = read_yolo(tmp_path / "s.txt", 100, 100, CLASSES, tmp_path / "s.jpg")
    assert back.verified is True
    assert [(b.label, b.predicted, b.score, b.difficult) for b in back.boxes] == \
        [("dog", True, 0.91, False), ("car", False, None, True), ("person", False, None, False)]
    np.testing.assert_allclose(back.boxes_array(), [b.xyxy() for b in boxes], atol=1e-3)


def test_sidecar_follows_lines_when_another_tool_edits_the_txt(tmp_path):
    boxes = [Box(10, 10, 50, 50, "dog", predicted=True, score=0.5), Box(60, 10, 90, 30, "car")]
    write_yolo(ImageAnnotation(tmp_path / "e.jpg", 100, 100, boxes), tmp_path / "e.txt", CLASSES)
    lines = (tmp_path / "e.txt").read_text().splitlines()
    (tmp_path / "e.txt").write_text("0 0.5 0.9 0.1 0.1\n" + lines[1] + "\n" + lines[0] + "\n")
    back = read_yolo(tmp_path / "e.txt", 100, 100, CLASSES)
    assert [(b.label, b.predicted) for b in back.boxes] == [("person", False), ("car", False), ("dog", True)]


def test_saving_plain_labels_removes_a_stale_sidecar(tmp_path):
    write_yolo(ImageAnnotation(tmp_path / "r.jpg", 10, 10, [], verified=True), tmp_path / "r.txt", CLASSES)
    assert sidecar_path(tmp_path / "r.txt").exists()
    write_yolo(ImageAnnotation(tmp_path / "r.jpg", 10, 10, [], verified=False), tmp_path / "r.txt", CLASSES)
    assert not sidecar_path(tmp_path / "r.txt").exists()
    assert read_yolo(tmp_path / "r.txt", 10, 10, CLASSES).verified is False


def test_confidence_column_is_read_as_a_prediction(tmp_path):
    (tmp_path / "c.txt").write_text("2 0.5 0.5 0.2 0.2 0.75\n")
    box = read_yolo(tmp_path / "c.txt", 100, 100, CLASSES).boxes[0]
    assert (box.label, box.predicted, box.score) == ("dog", True, 0.75)


def test_unknown_class_id_raises_or_is_reported(tmp_path):
    (tmp_path / "u.txt").write_text("0 0.5 0.5 0.2 0.2\n7 0.5 0.5 0.2 0.2\n")
    with pytest.raises(LabelFileError, match=r"u.txt.*class id 7 is not in classes.txt"):
        read_yolo(tmp_path / "u.txt", 100, 100, CLASSES)
    problems = []
    ann = read_yolo(tmp_path / "u.txt", 100, 100, CLASSES, report=problems.append)
    assert ann.labels() == ["person"] and "line 2" in str(problems[0])


@pytest.mark.parametrize("text,what", [
    ("0 0.5 0.5 0.2\n", "line 1 has 4 fields"),
    ("0 0.5 0.5 0.2 0.2\nzero 0.5 0.5 0.2 0.2\n", "line 2 class id"),
    ("1.5 0.5 0.5 0.2 0.2\n", "not a whole number"),
    ("0 0.5 nan 0.2 0.2\n", "not a finite number"),
    ("0 0.5 0.5 0.2 0.2 0.1 0.3 0.4\n", "has 8 fields"),
])
def test_malformed_lines_name_file_and_line(tmp_path, text, what):
    (tmp_path / "m.txt").write_text(text)
    with pytest.raises(LabelFileError) as err:
        read_yolo(tmp_path / "m.txt", 100, 100, CLASSES)
    assert "m.txt" in str(err.value) and what in str(err.value)


def test_zero_size_and_outside_boxes_are_reported(tmp_path):
    (tmp_path / "z.txt").write_text("0 0.5 0.5 0 0.2\n1 0.95 0.5 0.3 0.2\n")
    problems = []
    ann = read_yolo(tmp_path / "z.txt", 100, 100, CLASSES, report=problems.append)
    assert [b.xyxy() for b in ann.boxes] == [pytest.approx((80, 40, 100, 60))]
    assert len(problems) == 2


def test_classes_file(tmp_path):
    write_classes(tmp_path / "classes.txt", CLASSES)
    assert read_classes(tmp_path / "classes.txt") == CLASSES
    (tmp_path / "dupe.txt").write_text("a\nb\na\n")
    with pytest.raises(LabelFileError, match="dupe.txt.*twice: a"):
        read_classes(tmp_path / "dupe.txt")
