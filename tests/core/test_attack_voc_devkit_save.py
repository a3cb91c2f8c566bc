"""Saving a box into a VOC devkit XML changes that box's numbers and nothing else: comments,
declaration, BOM, CRLF and the last newline stay as the user's file had them (docs/reliability-2.md)."""
import pytest

from layout_fixtures import DEVKIT_XML, image, voc_devkit, write
from yolo_studio.core.project import Project

PROLOG = "<?xml version='1.0' encoding='UTF-8'?>\n<!-- checked by Anna, 2021-03 -->\n"


@pytest.mark.parametrize("bom,newline,last", [("", "\n", "\n"), ("\ufeff", "\r\n", ""), ("", "\r\n", "\r\n")])
def test_moving_a_box_changes_only_its_numbers(tmp_path, bom, newline, last):
    dev = voc_devkit(tmp_path)
    xml = dev / "VOC2007" / "Annotations" / "000001.xml"
    body = DEVKIT_XML.format(stem="000001").replace("<segmented>0</segmented>",
                                                    "<segmented>0</segmented>\n\t<!-- the dog is hard -->")
    text = bom + PROLOG + body.rstrip("\n") + last
    xml.write_bytes(text.replace("\n", newline).replace("\r\r", "\r").encode("utf-8"))
    before = xml.read_bytes()
    project = Project.open(tmp_path)
    ann = project.load_annotation(dev / "VOC2007" / "JPEGImages" / "000001.jpg")
    person = next(i for i, b in enumerate(ann.boxes) if b.label == "person")
    ann.boxes[person] = ann.boxes[person].moved(x1=ann.boxes[person].x1 + 1, x2=ann.boxes[person].x2 + 1)
    project.save_annotation(ann)
    expected = before.replace(b"<xmin>8</xmin>", b"<xmin>9</xmin>").replace(b"<xmax>40</xmax>", b"<xmax>41</xmax>")
    assert xml.read_bytes() == expected


def test_a_plain_voc_project_keeps_what_another_tool_wrote_in_the_xml(tmp_path):
    # Annotations copied beside their images from a VOC devkit, CVAT or Label Studio export.
    Project.create(tmp_path, ["person", "dog"])
    image(tmp_path / "images" / "000001.jpg")
    xml = write(tmp_path / "images" / "000001.xml",
                PROLOG + DEVKIT_XML.format(stem="000001").replace("<pose>Left</pose>",
                                                                  "<pose>Left</pose>\n\t\t<occluded>1</occluded>"))
    before = xml.read_bytes()
    project = Project.open(tmp_path)
    ann = project.load_annotation(tmp_path / "images" / "000001.jpg")
    ann.boxes[0] = ann.boxes[0].moved(x1=ann.boxes[0].x1 + 1, x2=ann.boxes[0].x2 + 1)
    project.save_annotation(ann)
    assert xml.read_bytes() == before.replace(b"<xmin>8</xmin>", b"<xmin>9</xmin>").replace(
        b"<xmax>40</xmax>", b"<xmax>41</xmax>")


def test_an_edit_in_place_writes_the_images_real_size_where_size_was_wrong(tmp_path):
    # LabelImg sometimes wrote <width>0</width>; the reader uses the image's size and says so,
    # so a save makes the file agree (tools that normalise by <size> would misplace every box).
    Project.create(tmp_path, ["person", "dog"])
    image(tmp_path / "images" / "000001.jpg")
    xml = write(tmp_path / "images" / "000001.xml", DEVKIT_XML.format(stem="000001").replace(
        "<width>64</width>", "<width>0</width>"))
    project = Project.open(tmp_path)
    ann = project.load_annotation(tmp_path / "images" / "000001.jpg")
    ann.boxes[0] = ann.boxes[0].moved(x1=ann.boxes[0].x1 + 1, x2=ann.boxes[0].x2 + 1)
    project.save_annotation(ann)
    assert "<width>64</width>" in xml.read_text() and "<height>48</height>" in xml.read_text()


def test_accepting_a_pre_label_drops_its_score_from_the_xml(tmp_path):
    from yolo_studio.core.annotations import Box, ImageAnnotation
    project = Project.create(tmp_path, ["dog"])
    img = image(tmp_path / "images" / "a.jpg")
    project.save_annotation(ImageAnnotation(img, 64, 48, [Box(1, 1, 20, 20, "dog", predicted=True, score=0.87)]))
    ann = project.load_annotation(img)
    ann.boxes = [b.moved(predicted=False, score=None) for b in ann.boxes]      # the labeller's accept
    project.save_annotation(ann)
    again = Project.open(tmp_path).load_annotation(img).boxes[0]
    assert not again.predicted and again.score is None


def test_renaming_a_class_changes_only_the_name_in_each_file(tmp_path):
    Project.create(tmp_path, ["person", "dog"])
    image(tmp_path / "images" / "000001.jpg")
    text = PROLOG + DEVKIT_XML.format(stem="000001").replace("<segmented>", "<!-- hard -->\n\t<segmented>")
    xml = tmp_path / "images" / "000001.xml"
    xml.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    before = xml.read_bytes()
    Project.open(tmp_path).rename_class("dog", "hound")
    assert xml.read_bytes() == before.replace(b"<name>dog</name>", b"<name>hound</name>")
