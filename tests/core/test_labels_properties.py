"""Property-based tests (Hypothesis) with hostile label files, project files and class names.

For each format: reading never raises anything but YoloStudioError; read, save,
read never loses a box or changes a class; a file the reader refuses is never
rewritten by a save.
"""
from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xml.sax.saxutils import escape

from yolo_studio.core.annotations import Box, ImageAnnotation
from yolo_studio.core.class_names import class_name_problem
from yolo_studio.core.errors import LabelFileError, YoloStudioError
from yolo_studio.core.formats.voc import parse_voc, voc_xml
from yolo_studio.core.formats.yolo_txt import (classes_text, read_classes, read_yolo, sidecar_path,
                                               yolo_files)
from yolo_studio.core.project import Project

W, H = 64, 48
FAST = settings(max_examples=int(os.environ.get("LABEL_PROPERTY_EXAMPLES", "200")), deadline=None, suppress_health_check=[HealthCheck.too_slow])

names = st.one_of(st.sampled_from(["cat", "dog", "bird", " cat", "a b", "é", "&amp;", "<x>"]),
                  st.text(max_size=6))
numbers = st.one_of(st.integers(-100, 300).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr),
                    st.sampled_from(["nan", "inf", "", "0x10", "1e30", "-0", " 7 ", "abc"]))


def xml_text(s: str) -> str:
    return escape("".join(c for c in s if c in "\t\n\r" or (c >= " " and c not in "\ufffe\uffff"
                                                          and not "\ud800" <= c <= "\udfff")))


@st.composite
def voc_files(draw) -> bytes:
    parts = ["<annotation>"]
    if draw(st.booleans()):
        parts.append(f"<size><width>{xml_text(draw(numbers))}</width>"
                     f"<height>{xml_text(draw(numbers))}</height></size>")
    for _ in range(draw(st.integers(0, 4))):
        obj = [f"<name>{xml_text(draw(names))}</name>"]
        if draw(st.integers(0, 9)):
            coords = draw(st.lists(st.one_of(st.integers(-20, 90).map(str), numbers), min_size=4, max_size=4))
            obj.append("<bndbox>" + "".join(f"<{t}>{xml_text(v)}</{t}>" for t, v in
                                            zip(("xmin", "ymin", "xmax", "ymax"), coords)) + "</bndbox>")
        if draw(st.booleans()):
            obj.append(f"<score>{xml_text(draw(numbers))}</score>")
        parts.append("<object>" + "".join(obj) + "</object>")
    parts.append("</annotation>")
    text = "".join(parts)
    if draw(st.integers(0, 9)) == 0:          # now and then: truncate or inject bytes
        cut = draw(st.integers(0, len(text)))
        return text[:cut].encode() + draw(st.binary(max_size=8))
    return text.encode("utf-8")


def project(tmp: Path, fmt: str, classes) -> tuple[Project, Path]:
    p = Project.create(tmp / "p", classes, label_format=fmt)
    img = p.image_dirs[0] / "a.jpg"
    cv2.imwrite(str(img), np.zeros((H, W, 3), np.uint8))
    return p, img


def summary(ann: ImageAnnotation) -> Counter:
    return Counter([b.label for b in ann.boxes] + [h.label for h in ann.hidden])


def test_voc_read_never_crashes_and_a_save_keeps_every_box_or_refuses_untouched(tmp_path):
    p, img = project(tmp_path, "voc", ["cat"])
    label = p.label_path(img)

    @FAST
    @given(voc_files())
    def check(data):
        label.write_bytes(data)
        try:
            first = p.load_annotation(img)
        except YoloStudioError:
            try:
                p.save_annotation(ImageAnnotation(img, W, H, [Box(1, 1, 9, 9, "cat")]))
            except YoloStudioError:
                pass
            assert label.read_bytes() == data     # a refused file is never rewritten
            return
        p.save_annotation(first)
        again = p.load_annotation(img)
        assert summary(again) == summary(first)
        # Hidden boxes come back as they were (a visible box rounded to zero size may join them).
        assert not Counter(h.raw for h in first.hidden) - Counter(h.raw for h in again.hidden)
        assert again.verified == first.verified
    check()


def test_voc_parse_of_bytes_alone_raises_only_our_errors():
    @FAST
    @given(st.binary(max_size=200) | voc_files())
    def check(data):
        try:
            parse_voc(data, Path("x.xml"))
        except YoloStudioError:
            pass
    check()


yolo_numbers = st.one_of(st.floats(-0.5, 1.5).map(lambda v: f"{v:.4f}"), numbers)


@st.composite
def yolo_texts(draw) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 5))):
        cid = draw(st.one_of(st.integers(0, 3).map(str), st.sampled_from(["-1", "1.5", "x", "2.0"])))
        fields = [cid] + draw(st.lists(yolo_numbers, min_size=3, max_size=6))
        lines.append(" ".join(fields))
    return draw(st.sampled_from(["\n", "\r\n"])).join(lines)


sidecars = st.one_of(st.none(), st.just("{not json"),
                     st.builds(lambda v, b: json.dumps({"verified": v, "boxes": b}), st.booleans(),
                               st.lists(st.fixed_dictionaries({"line": st.text(max_size=5),
                                                               "predicted": st.booleans()}), max_size=2)))


def test_yolo_read_never_crashes_and_a_save_keeps_every_box_or_refuses_untouched(tmp_path):
    p, img = project(tmp_path, "yolo", ["cat", "dog", "bird"])
    label = p.label_path(img)

    @FAST
    @given(yolo_texts(), sidecars)
    def check(text, side):
        label.write_bytes(text.encode())
        sidecar_path(label).unlink(missing_ok=True)
        if side is not None:
            sidecar_path(label).write_text(side)
        try:
            first = p.load_annotation(img)
        except YoloStudioError:
            try:
                p.save_annotation(ImageAnnotation(img, W, H, [Box(1, 1, 9, 9, "cat")]))
            except YoloStudioError:
                pass
            assert label.read_bytes() == text.encode()
            return
        p.save_annotation(first)
        again = p.load_annotation(img)
        assert summary(again) == summary(first)
        assert [h.raw for h in again.hidden] == [h.raw for h in first.hidden]
        assert again.verified == first.verified
    check()


@FAST
@given(st.lists(st.tuples(st.sampled_from(["cat", "dog", "bird"]),
                          st.floats(0, W), st.floats(0, H), st.floats(0, W), st.floats(0, H),
                          st.booleans()), max_size=5), st.booleans())
def test_yolo_write_then_read_keeps_classes_and_flags(rows, verified):
    classes = ["cat", "dog", "bird"]
    boxes = [Box(min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2), c, predicted=pred)
             for c, x1, y1, x2, y2, pred in rows]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.txt"
        for file, data in yolo_files(ImageAnnotation(Path(tmp) / "a.jpg", W, H, boxes, verified),
                                     path, classes).items():
            file.write_bytes(data) if data is not None else file.unlink(missing_ok=True)
        ann = read_yolo(path, W, H, classes)
        assert summary(ann) == Counter(b.label for b in boxes)
        assert ann.verified == verified
        assert sorted(b.predicted for b in ann.boxes) == sorted(
            b.predicted for b in boxes if b.x2 - b.x1 > W * 1e-7 and b.y2 - b.y1 > H * 1e-7)


@FAST
@given(st.text(max_size=40))
def test_classes_txt_reads_only_valid_names_or_says_why(text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "classes.txt"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            found = read_classes(path)
        except YoloStudioError:
            return
        assert all(class_name_problem(n) == "" for n in found)
        path.write_text(classes_text(found))
        assert read_classes(path) == found


@FAST
@given(st.text(max_size=12))
def test_a_name_is_accepted_everywhere_or_nowhere_and_survives_every_format(name):
    if class_name_problem(name):
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        xml = voc_xml(ImageAnnotation(tmp / "a.jpg", W, H, [Box(1, 1, 9, 9, name)]), tmp / "a.xml")
        assert parse_voc(xml.encode(), tmp / "a.xml").labels() == [name.strip()] == [name]
        (tmp / "classes.txt").write_text(classes_text(["x", name] if name != "x" else [name]))
        assert name in read_classes(tmp / "classes.txt")


json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-5, 500), st.floats(allow_nan=False),
                                     st.text(max_size=6)),
                           lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=4),
                                                                                      kids, max_size=3),
                           max_leaves=8)
project_keys = st.sampled_from(["version", "classes", "image_dirs", "label_format", "val_fraction",
                                "anchors", "anchors_size", "train_settings", "plugin"])


@FAST
@given(st.dictionaries(project_keys, json_values, max_size=6), st.booleans())
def test_project_file_opens_or_says_why_and_a_save_keeps_what_it_had(data, as_text):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        body = json.dumps(data) if as_text else json.dumps(data)[:-1]
        (root / "yolo_studio.json").write_text(body)
        try:
            p = Project.open(root)
        except YoloStudioError:
            assert (root / "yolo_studio.json").read_text() == body
            return
        if not p.image_dirs[0].is_relative_to(root):
            return
        before = p.to_dict()
        p.save()
        assert Project.open(root).to_dict() == before
        if "plugin" in data:
            assert json.loads((root / "yolo_studio.json").read_text())["plugin"] == data["plugin"]


def test_a_label_file_that_cannot_be_read_stays_byte_identical(tmp_path):
    p, img = project(tmp_path, "voc", ["cat"])
    label = p.label_path(img)
    label.write_bytes(b"<annotation><object>")
    try:
        p.save_annotation(ImageAnnotation(img, W, H, [Box(1, 1, 9, 9, "cat")]))
    except LabelFileError:
        pass
    assert label.read_bytes() == b"<annotation><object>"
