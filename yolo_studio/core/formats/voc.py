"""Pascal VOC XML, exactly as LabelImg writes it (one .xml per image).

Layout: <annotation [verified="yes"]> folder, filename, path, source/database,
size/width/height/depth, segmented, then one <object> per box with name,
pose, truncated, difficult and bndbox/xmin,ymin,xmax,ymax. LabelImg writes
integer pixels (the format's rounding); we read floats too.

Boxes a model wrote carry two extra children of <object>, <predicted>1</predicted>
and <score>0.87</score>, which LabelImg and other VOC readers ignore, so
pre-labels survive a save/load round trip.

<path> holds the image path relative to the XML (LabelImg writes an absolute
one and never reads it back): a project folder stays valid when moved.
"""
from __future__ import annotations

import os
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from ..annotations import Box, ImageAnnotation
from ..atomic import atomic_write_text
from ..errors import LabelFileError
from .checks import Report, check_boxes, parse_float

EXTENSION = ".xml"


def parse_voc_tree(data: bytes, path: Path) -> Element:
    """Parse XML bytes safely: external entities, DTD entities and entity bombs are refused."""
    try:
        root = DET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as e:
        raise LabelFileError(path, f"refused: the XML declares entities or external references "
                                   f"({type(e).__name__}); remove the DOCTYPE") from None
    except ParseError as e:
        raise LabelFileError(path, f"malformed XML ({e})") from None
    if root.tag != "annotation":
        raise LabelFileError(path, f"not a Pascal VOC file: root element is <{root.tag}>, "
                                   "expected <annotation>")
    return root


def read_voc(path: str | Path, image_path: str | Path | None = None,
             report: Report = None) -> ImageAnnotation:
    """Read a VOC XML file; LabelFileError if it is unreadable or malformed."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise LabelFileError(path, f"cannot be read ({e.strerror or e})") from None
    return parse_voc(data, path, image_path, report)


def parse_voc(data: bytes, path: Path, image_path: str | Path | None = None,
              report: Report = None) -> ImageAnnotation:
    """Parse VOC XML bytes read from ``path`` (``image_path`` defaults to <filename> next to it)."""
    root = parse_voc_tree(data, path)
    if image_path is None:
        name = (root.findtext("filename") or "").strip()
        image_path = path.parent / name if name else path.with_suffix(".jpg")
    width = _size_field(root, "width", path)
    height = _size_field(root, "height", path)
    boxes = [_read_object(obj, i, path) for i, obj in enumerate(root.iter("object"), 1)]
    boxes = check_boxes(boxes, width, height, path, report)
    verified = root.get("verified", "").strip().lower() in ("yes", "true", "1")
    return ImageAnnotation(Path(image_path), width, height, boxes, verified)


def _size_field(root: Element, name: str, path: Path) -> int:
    text = root.findtext(f"size/{name}")
    if text is None or not text.strip():
        return 0  # some tools omit <size>: the caller takes it from the image
    value = parse_float(text, path, f"<size><{name}>")
    if value < 0:
        raise LabelFileError(path, f"<size><{name}> is negative ({text.strip()})")
    return int(round(value))


def _read_object(obj: Element, i: int, path: Path) -> Box:
    name = (obj.findtext("name") or "").strip()
    if not name:
        raise LabelFileError(path, f"<object> {i} has no <name>")
    bnd = obj.find("bndbox")
    if bnd is None:
        raise LabelFileError(path, f"<object> {i} ({name!r}) has no <bndbox>")
    coords = []
    for tag in ("xmin", "ymin", "xmax", "ymax"):
        text = bnd.findtext(tag)
        if text is None:
            raise LabelFileError(path, f"<object> {i} ({name!r}) has no <{tag}>")
        coords.append(parse_float(text, path, f"<object> {i} <{tag}>"))
    difficult = _flag(obj.findtext("difficult"))
    predicted = _flag(obj.findtext("predicted"))
    score_text = obj.findtext("score")
    score = parse_float(score_text, path, f"<object> {i} <score>") if score_text else None
    return Box(*coords, label=name, difficult=difficult, predicted=predicted, score=score)


def _flag(text: str | None) -> bool:
    text = (text or "").strip().lower()
    if text in ("true", "yes"):
        return True
    try:
        return float(text) != 0
    except ValueError:
        return False


def voc_xml(ann: ImageAnnotation, xml_path: str | Path) -> str:
    """The VOC XML text LabelImg would write for ``ann`` (saved at ``xml_path``)."""
    xml_path = Path(xml_path)
    image = Path(ann.image_path)
    rel = _relative(image, xml_path.parent)
    head = '<annotation verified="yes">' if ann.verified else "<annotation>"
    lines = [head,
             f"\t<folder>{escape(image.parent.name)}</folder>",
             f"\t<filename>{escape(image.name)}</filename>",
             f"\t<path>{escape(rel)}</path>",
             "\t<source>", "\t\t<database>Unknown</database>", "\t</source>",
             "\t<size>", f"\t\t<width>{int(ann.width)}</width>",
             f"\t\t<height>{int(ann.height)}</height>", "\t\t<depth>3</depth>", "\t</size>",
             "\t<segmented>0</segmented>"]
    for b in ann.boxes:
        lines.extend(_object_lines(b, ann.width, ann.height))
    lines.append("</annotation>")
    return "\n".join(lines) + "\n"


def _relative(image: Path, folder: Path) -> str:
    try:
        return Path(os.path.relpath(image.absolute(), folder.absolute())).as_posix()
    except ValueError:  # another drive on Windows: no relative path exists
        return image.name


def _object_lines(b: Box, width: int, height: int) -> list[str]:
    x1, y1, x2, y2 = (int(round(v)) for v in b.xyxy())
    # LabelImg's rule: a box touching the image border is 'truncated'.
    truncated = int(x1 <= 1 or y1 <= 1 or x2 >= width or y2 >= height)
    lines = ["\t<object>", f"\t\t<name>{escape(b.label)}</name>", "\t\t<pose>Unspecified</pose>",
             f"\t\t<truncated>{truncated}</truncated>", f"\t\t<difficult>{int(b.difficult)}</difficult>",
             "\t\t<bndbox>", f"\t\t\t<xmin>{x1}</xmin>", f"\t\t\t<ymin>{y1}</ymin>",
             f"\t\t\t<xmax>{x2}</xmax>", f"\t\t\t<ymax>{y2}</ymax>", "\t\t</bndbox>"]
    if b.predicted:
        lines.append("\t\t<predicted>1</predicted>")
    if b.score is not None:
        lines.append(f"\t\t<score>{float(b.score)!r}</score>")
    lines.append("\t</object>")
    return lines


def write_voc(ann: ImageAnnotation, xml_path: str | Path) -> None:
    """Save ``ann`` as VOC XML at ``xml_path`` atomically."""
    atomic_write_text(xml_path, voc_xml(ann, xml_path))


def element_text(root: Element) -> str:
    """Serialise a parsed VOC tree back to text (used to edit files in place)."""
    import xml.etree.ElementTree as ET
    return ET.tostring(root, encoding="unicode") + "\n"


__all__ = ["EXTENSION", "read_voc", "parse_voc", "parse_voc_tree", "voc_xml", "write_voc",
           "element_text"]
