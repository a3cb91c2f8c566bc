"""formats/edit: class rename/removal computed per label file, without writing anything."""
from __future__ import annotations

from pathlib import Path

import pytest

from yolo_studio.core.errors import LabelFileError
from yolo_studio.core.formats import edit

VOC = (b"<annotation><filename>a.jpg</filename><pose>Left</pose>"
       b"<object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>"
       b"<object><name>dog</name><bndbox><xmin>2</xmin><ymin>2</ymin><xmax>6</xmax><ymax>6</ymax></bndbox></object>"
       b"</annotation>")


def test_voc_rename_and_remove_keep_what_we_do_not_model():
    renamed, n = edit.voc_relabel(Path("a.xml"), VOC, "cat", "kitten")
    assert n == 1 and b"<name>kitten</name>" in renamed and b"<pose>Left</pose>" in renamed
    removed, n = edit.voc_relabel(Path("a.xml"), VOC, "dog", None)
    assert n == 1 and b"dog" not in removed and b"<name>cat</name>" in removed
    assert edit.voc_relabel(Path("a.xml"), VOC, "bird", "owl") == (None, 0)      # nothing to change


def test_yolo_ids_follow_the_new_class_list_line_by_line():
    data = b"0 0.5 0.5 0.2 0.2\n\n1 0.1 0.1 0.1 0.1\n2 0.3 0.3 0.1 0.1 0.9\n"
    drop_one = {0: 0, 1: None, 2: 1}.get                     # class 1 removed
    out, dropped, line_map = edit.yolo_relabel(Path("a.txt"), data, drop_one)
    assert out == b"0 0.5 0.5 0.2 0.2\n\n1 0.3 0.3 0.1 0.1 0.9\n" and dropped == 1
    assert line_map["1 0.1 0.1 0.1 0.1"] is None
    assert edit.yolo_relabel(Path("a.txt"), data, lambda i: i)[0] is None       # unchanged


@pytest.mark.parametrize("line, why", [("0 0.5 0.5", "3 fields"), ("x 0.5 0.5 0.1 0.1", "not a whole number"),
                                      ("1.5 0.5 0.5 0.1 0.1", "not a whole number")])
def test_a_line_that_is_not_a_label_blocks_the_edit_and_is_named(line, why):
    with pytest.raises(LabelFileError, match=f"a.txt.*line 1.*{why}"):
        edit.yolo_relabel(Path("a.txt"), (line + "\n").encode(), lambda i: i)


def test_counts(tmp_path):
    (tmp_path / "a.xml").write_bytes(VOC)
    (tmp_path / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n0 0.1 0.1 0.1 0.1\n1 0.3 0.3 0.1 0.1\n")
    assert edit.voc_count(tmp_path / "a.xml", "cat") == 1
    assert edit.yolo_count(tmp_path / "a.txt", 0) == 2
