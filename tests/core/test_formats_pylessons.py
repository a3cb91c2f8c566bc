"""The pylessons training list (path x1,y1,x2,y2,class ...) and its .names file."""
import numpy as np
import pytest

from yolo_studio.core.annotations import Box, ImageAnnotation
from yolo_studio.core.errors import LabelFileError
from yolo_studio.core.formats.pylessons import read_pylessons, write_pylessons

NAMES = ["circle", "square"]


def _sizes(path):
    return (320, 240)


def test_reads_a_hand_written_list_with_spaces_in_paths(tmp_path):
    (tmp_path / "train.names").write_text("circle\nsquare\n")
    (tmp_path / "train.txt").write_text(
        "images/my  photo 1.jpg 10,20,110,220,0 5,6,7,8,1\n"
        "images/empty.jpg\n"
        "\n"
        "images/floats.jpg 1.5,2.5,30.5,40.5,1\n")
    anns, names = read_pylessons(tmp_path / "train.txt", size_of=_sizes)
    assert names == NAMES
    assert [a.image_path for a in anns] == [tmp_path / "images" / "my  photo 1.jpg",
                                            tmp_path / "images" / "empty.jpg", tmp_path / "images" / "floats.jpg"]
    assert anns[0].boxes == [Box(10, 20, 110, 220, "circle"), Box(5, 6, 7, 8, "square")]
    assert anns[1].boxes == [] and anns[2].boxes[0].xyxy() == (1.5, 2.5, 30.5, 40.5)
    assert (anns[0].width, anns[0].height) == (320, 240)


def test_round_trip_within_integer_rounding(tmp_path):
    rng = np.random.default_rng(2)
    anns = []
    for i in range(20):
        xy = rng.uniform(0, 200, size=(3, 2))
        boxes = [Box(x, y, x + 50.3, y + 20.7, NAMES[j % 2]) for j, (x, y) in enumerate(xy)]
        anns.append(ImageAnnotation(tmp_path / "data set" / f"im {i}.jpg", 320, 240, boxes))
    write_pylessons(anns, NAMES, tmp_path / "out" / "list.txt")
    assert (tmp_path / "out" / "list.names").read_text() == "circle\nsquare\n"
    line = (tmp_path / "out" / "list.txt").read_text().splitlines()[0]
    assert line.startswith("../data set/im 0.jpg ") and "." not in line.split("jpg ")[1]  # integers only
    back, names = read_pylessons(tmp_path / "out" / "list.txt", size_of=_sizes)
    assert [a.image_path.resolve() for a in back] == [a.image_path.resolve() for a in anns]
    for a, b in zip(anns, back):
        np.testing.assert_allclose(b.boxes_array(), np.round(a.boxes_array()), atol=1e-3)
        assert b.labels() == a.labels()


def test_bad_lines_are_reported_with_their_numbers(tmp_path):
    (tmp_path / "l.names").write_text("circle\nsquare\n")
    (tmp_path / "l.txt").write_text("a.jpg 1,2,3,4,0\nb.jpg 1,2,3,4\nc.jpg 1,2,3,4,5\nd.jpg 1,x,3,4,0\n"
                                    "e.jpg 9,9,3,4,0\n")
    problems = []
    anns, _ = read_pylessons(tmp_path / "l.txt", report=problems.append, size_of=_sizes)
    assert [a.image_path.name for a in anns] == ["a.jpg", "c.jpg", "e.jpg"]
    text = "\n".join(map(str, problems))
    assert "line 2, box 1" in text and "class id 5" in text and "line 4" in text and "zero or negative" in text
    with pytest.raises(LabelFileError, match="l.txt.*line 2"):
        read_pylessons(tmp_path / "l.txt", size_of=_sizes)


def test_missing_image_is_reported_not_fatal(tmp_path):
    (tmp_path / "m.names").write_text("circle\n")
    (tmp_path / "m.txt").write_text("gone.jpg 1,2,3,4,0\n")
    problems = []
    anns, _ = read_pylessons(tmp_path / "m.txt", report=problems.append)
    assert len(anns) == 1 and anns[0].boxes[0].xyxy() == (1, 2, 3, 4)
    assert "gone.jpg" in problems[0].path and "not found" in problems[0].message


def test_missing_names_file_is_a_clear_error(tmp_path):
    (tmp_path / "n.txt").write_text("a.jpg\n")
    with pytest.raises(LabelFileError, match="n.names"):
        read_pylessons(tmp_path / "n.txt")
