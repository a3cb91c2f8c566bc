"""Pascal VOC XML as LabelImg writes it: reading, writing, round trips, hostile XML."""
import numpy as np
import pytest

from yolo_studio.core.annotations import Box, ImageAnnotation
from yolo_studio.core.errors import LabelFileError
from yolo_studio.core.formats.voc import read_voc, voc_xml, write_voc

# Exactly LabelImg's layout: tabs, no XML declaration, absolute <path>, verified attribute.
LABELIMG_XML = """<annotation verified="yes">
\t<folder>dogs</folder>
\t<filename>dog 1.jpg</filename>
\t<path>/home/someone/dogs/dog 1.jpg</path>
\t<source>
\t\t<database>Unknown</database>
\t</source>
\t<size>
\t\t<width>640</width>
\t\t<height>480</height>
\t\t<depth>3</depth>
\t</size>
\t<segmented>0</segmented>
\t<object>
\t\t<name>dog</name>
\t\t<pose>Unspecified</pose>
\t\t<truncated>0</truncated>
\t\t<difficult>0</difficult>
\t\t<bndbox>
\t\t\t<xmin>48</xmin>
\t\t\t<ymin>240</ymin>
\t\t\t<xmax>195</xmax>
\t\t\t<ymax>371</ymax>
\t\t</bndbox>
\t</object>
\t<object>
\t\t<name>person &amp; bike</name>
\t\t<pose>Unspecified</pose>
\t\t<truncated>1</truncated>
\t\t<difficult>1</difficult>
\t\t<bndbox>
\t\t\t<xmin>8</xmin>
\t\t\t<ymin>12</ymin>
\t\t\t<xmax>352</xmax>
\t\t\t<ymax>480</ymax>
\t\t</bndbox>
\t</object>
</annotation>
"""


def test_reads_a_labelimg_file(tmp_path):
    path = tmp_path / "dog 1.xml"
    path.write_text(LABELIMG_XML)
    ann = read_voc(path)
    assert ann.image_path == tmp_path / "dog 1.jpg"          # from <filename>, next to the XML
    assert (ann.width, ann.height, ann.verified) == (640, 480, True)
    assert ann.boxes == [Box(48, 240, 195, 371, "dog"),
                         Box(8, 12, 352, 480, "person & bike", difficult=True)]


def test_writes_what_labelimg_writes(tmp_path):
    """Our output for the same boxes is LabelImg's file, except <path> (kept relative)."""
    ann = ImageAnnotation(tmp_path / "dogs" / "dog 1.jpg", 640, 480,
                          [Box(48, 240, 195, 371, "dog"), Box(8, 12, 352, 480, "person & bike", difficult=True)],
                          verified=True)
    text = voc_xml(ann, tmp_path / "dogs" / "dog 1.xml")
    expected = LABELIMG_XML.replace("/home/someone/dogs/dog 1.jpg", "dog 1.jpg")
    assert text == expected


def test_unverified_file_has_no_attribute_and_reads_unverified(tmp_path):
    path = tmp_path / "a.xml"
    write_voc(ImageAnnotation(tmp_path / "a.png", 10, 10, []), path)
    assert path.read_text().startswith("<annotation>\n")
    ann = read_voc(path)
    assert ann.verified is False and ann.boxes == [] and ann.image_path == tmp_path / "a.png"


def test_float_coordinates_and_missing_size_are_read(tmp_path):
    path = tmp_path / "f.xml"
    path.write_text("<annotation><filename>f.jpg</filename><object><name>cat</name>"
                    "<bndbox><xmin>1.25</xmin><ymin>2.5</ymin><xmax>30.75</xmax><ymax>40</ymax>"
                    "</bndbox></object></annotation>")
    ann = read_voc(path)
    assert (ann.width, ann.height) == (0, 0)                      # caller fills it from the image
    assert ann.boxes[0].xyxy() == (1.25, 2.5, 30.75, 40.0)


def test_round_trip_within_the_formats_integer_rounding(tmp_path):
    rng = np.random.default_rng(3)
    boxes = []
    for i in range(50):
        x1, y1 = rng.uniform(0, 500, 2)
        w, h = rng.uniform(1, 120, 2)
        boxes.append(Box(x1, y1, min(x1 + w, 640), min(y1 + h, 600), f"class{i % 4}", difficult=bool(i % 3 == 0)))
    ann = ImageAnnotation(tmp_path / "img.jpg", 640, 600, boxes, verified=True)
    write_voc(ann, tmp_path / "img.xml")
    back = read_voc(tmp_path / "img.xml")
    assert [b.label for b in back.boxes] == [b.label for b in boxes]
    assert [b.difficult for b in back.boxes] == [b.difficult for b in boxes]
    np.testing.assert_allclose(back.boxes_array(), np.round(ann.boxes_array()), atol=1e-3)


def test_predicted_boxes_and_scores_survive(tmp_path):
    ann = ImageAnnotation(tmp_path / "p.jpg", 100, 100,
                          [Box(10, 10, 50, 50, "cat", predicted=True, score=0.8734567891),
                           Box(60, 60, 90, 90, "dog")])
    write_voc(ann, tmp_path / "p.xml")
    text = (tmp_path / "p.xml").read_text()
    assert "<predicted>1</predicted>" in text and "<score>0.8734567891</score>" in text
    back = read_voc(tmp_path / "p.xml")
    assert back.boxes == ann.boxes


def test_external_entity_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    path = tmp_path / "xxe.xml"
    path.write_text(f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file://{secret}">]>'
                    "<annotation><object><name>&x;</name><bndbox><xmin>1</xmin><ymin>1</ymin>"
                    "<xmax>5</xmax><ymax>5</ymax></bndbox></object></annotation>")
    with pytest.raises(LabelFileError, match="xxe.xml.*refused"):
        read_voc(path)


def test_entity_bomb_is_refused(tmp_path):
    lol = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, 10)]
    path = tmp_path / "bomb.xml"
    path.write_text(f'<?xml version="1.0"?><!DOCTYPE annotation [{"".join(lol)}]>'
                    "<annotation><folder>&lol9;</folder></annotation>")
    with pytest.raises(LabelFileError, match="bomb.xml.*refused"):
        read_voc(path)


@pytest.mark.parametrize("body,what", [
    ("<annotation><object><name>x</name>", "malformed XML"),
    ("<labels/>", "root element is <labels>"),
    ("<annotation><object><bndbox/></object></annotation>", "has no <name>"),
    ("<annotation><object><name>x</name></object></annotation>", "has no <bndbox>"),
    ("<annotation><object><name>x</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax>"
     "</bndbox></object></annotation>", "has no <ymax>"),
    ("<annotation><object><name>x</name><bndbox><xmin>one</xmin><ymin>1</ymin><xmax>5</xmax>"
     "<ymax>5</ymax></bndbox></object></annotation>", "xmin> is 'one'"),
])
def test_malformed_files_name_the_file_and_the_fault(tmp_path, body, what):
    path = tmp_path / "bad.xml"
    path.write_text(body)
    with pytest.raises(LabelFileError) as err:
        read_voc(path)
    assert "bad.xml" in str(err.value) and what in str(err.value)


def test_boxes_outside_the_image_are_clipped_and_reported(tmp_path):
    path = tmp_path / "o.xml"
    write_voc(ImageAnnotation(tmp_path / "o.jpg", 100, 80,
                              [Box(-10, 5, 50, 90, "a"), Box(20, 20, 20, 40, "b"), Box(200, 10, 300, 20, "c")]),
              path)
    problems = []
    ann = read_voc(path, report=problems.append)
    assert [b.xyxy() for b in ann.boxes] == [(0, 5, 50, 80)]
    text = "\n".join(map(str, problems))
    assert "clipped" in text and "zero or negative size" in text and "entirely outside" in text
    assert all("o.xml" in p.path for p in problems)
